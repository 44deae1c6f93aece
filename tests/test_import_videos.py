"""import-videos on real DPAN clips: layout, names, failures reported, resume after a kill."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from asl_live.formats.gislr import Dataset
from asl_live.formats.layout import FACE, RIGHT_HAND

FIXTURES = Path(__file__).parent / "fixtures"
CLIPS = {"cut": FIXTURES / "dpan_cut_small.mp4", "good": FIXTURES / "dpan_good_small.mp4"}


def competition_load(path):
    data = pd.read_parquet(path, columns=["x", "y", "z"])
    return data.values.reshape(len(data) // 543, 543, 3).astype(np.float32)


def _import(src, out, *extra, timeout=240):
    return subprocess.run([sys.executable, "-m", "train.import_videos", str(src), "--out", str(out),
                           "--quiet", *extra], capture_output=True, text=True, timeout=timeout)


def test_import_layout_names_and_failures(tmp_path):
    src = tmp_path / "src"
    (src / "thank you").mkdir(parents=True)
    shutil.copy(CLIPS["cut"], src / "cut.mp4")                    # <sign>.mp4
    shutil.copy(CLIPS["good"], src / "thank you" / "take1.mp4")   # <sign>/<anything>.mp4, everyday spelling
    (src / "broken.mp4").write_bytes(b"not a video at all")
    out = tmp_path / "ds"
    r = _import(src, out, "--jobs", "2")
    assert r.returncode == 1, r.stderr  # some files could not be imported
    assert "not imported: broken.mp4" in r.stderr and "Traceback" not in r.stderr
    rows = Dataset(out).samples()
    assert sorted(s.sign for s in rows) == ["cut", "thankyou"]
    for s in rows:
        frames = competition_load(out / s.path)
        assert frames.shape[1:] == (543, 3) and 20 <= len(frames) <= 30
        # the signer faces the camera: face and dominant (right) hand seen in most frames
        assert np.isfinite(frames[:, FACE, 0]).all(axis=1).mean() > 0.8
        assert np.isfinite(frames[:, RIGHT_HAND, 0]).all(axis=1).mean() > 0.3
        xy = frames[..., :2][np.isfinite(frames[..., 0])]
        assert 0.0 < np.median(xy) < 1.0  # normalised image coordinates
    assert set(Dataset(out).label_map()) == {"cut", "thankyou"}

    # every 2nd video from the 2nd in name order (broken, cut, thank you/...) -> cut, relabelled,
    # its landmarks reused from the first import instead of running MediaPipe again
    other = tmp_path / "unknown"
    r = _import(src, other, "--shard", "1/2", "--sign", "unknown", "--reuse", str(out))
    assert r.returncode == 0, r.stderr
    (row,) = Dataset(other).samples()
    first = next(s for s in rows if s.sign == "cut")
    assert row.sign == "unknown" and row.sequence_id == first.sequence_id
    np.testing.assert_array_equal(competition_load(other / row.path), competition_load(out / first.path))

    # bad SRC: one line, exit 2
    r = _import(tmp_path / "missing", out)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1


def test_killed_import_resumes_without_duplicates(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for i in range(3):
        shutil.copy(CLIPS["cut" if i % 2 == 0 else "good"], src / f"sign{i}.mp4")
    out = tmp_path / "ds"
    # on the engine (an embedded Dask cluster with one worker): driver and worker killed together
    proc = subprocess.Popen([sys.executable, "-m", "train.import_videos", str(src), "--out", str(out),
                             "--quiet", "--jobs", "1", "--engine", "dask"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 180
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if (out / "train.csv").is_file() and len(Dataset(out).samples()) >= 1:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "import finished before it could be interrupted"
        os.killpg(proc.pid, signal.SIGKILL)  # the whole group: driver and its worker, no clean-up
    finally:
        proc.wait()
    done = Dataset(out).samples()
    assert 1 <= len(done) < 3
    for s in done:  # what was committed is whole
        assert competition_load(out / s.path).shape[1:] == (543, 3)

    r = _import(src, out, "--jobs", "1")
    assert r.returncode == 0, r.stderr
    assert f"{len(done)} already there" in r.stderr
    rows = Dataset(out).samples()
    assert sorted(s.sign for s in rows) == ["sign0", "sign1", "sign2"]
    assert len({s.sequence_id for s in rows}) == 3
    for s in rows:
        assert len(competition_load(out / s.path)) > 0
