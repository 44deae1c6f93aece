"""import-videos on the Dask engine (train.engine), on the real fixture clips.

- the engine writes exactly the landmarks the single-process path computes;
- a worker process killed mid-file: its file is redone elsewhere, every sequence lands exactly once;
- a second run skips everything (and starts no engine);
- a cluster at an address (DASK_SCHEDULER_ADDRESS) whose workers cannot see SRC gets the bytes
  with --send-files, and without it lists each file with the reason.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from asl_live.formats.gislr import Dataset

pytest.importorskip("distributed", reason='the engine extra: pip install "asl-live[scale]"')

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).parent.parent
CLIPS = {"tractor": FIXTURES / "dpan_tractor.mp4", "cut": FIXTURES / "dpan_cut_small.mp4",
         "good": FIXTURES / "dpan_good_small.mp4"}


def competition_load(path):
    data = pd.read_parquet(path, columns=["x", "y", "z"])
    return data.values.reshape(len(data) // 543, 543, 3).astype(np.float32)


@pytest.fixture(scope="module")
def reference():
    """Each clip through the app's own single-process extraction, in this process."""
    from asl_live.capture.sources import video_landmarks

    return {sign: video_landmarks(path)[0] for sign, path in CLIPS.items()}


@pytest.fixture(scope="module")
def cluster():
    """A real two-worker Dask cluster (worker processes behind nannies, one thread each)."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}, silence_logs=50) as c, \
            Client(c) as client:
        yield c, client


def _src(tmp_path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    for sign, path in CLIPS.items():
        shutil.copy(path, src / f"{sign}.mp4")
    return src


def _check_exactly_once(out: Path, reference):
    rows = Dataset(out).samples()
    assert sorted(s.sign for s in rows) == sorted(reference)          # each video once
    assert len({s.sequence_id for s in rows}) == len(rows)
    files = sorted((out / "train_landmark_files").rglob("*"))
    assert [f.name for f in files if f.is_file()] == sorted(f"{s.sequence_id}.parquet" for s in rows)
    for s in rows:
        np.testing.assert_array_equal(competition_load(out / s.path), reference[s.sign])


def test_engine_writes_the_single_process_landmarks_and_a_second_run_skips_all(tmp_path, reference):
    from train.import_videos import import_videos

    src, out = _src(tmp_path), tmp_path / "ds"
    s = import_videos(src, out, jobs=2, engine="dask", progress=False)
    assert s["engine"].startswith("dask (local cluster, 2 worker")
    assert (s["added"], s["skipped"], s["failed"]) == (3, 0, [])
    assert s["frames"] == sum(len(f) for f in reference.values())
    _check_exactly_once(out, reference)

    before = (out / "train.csv").read_bytes()
    s = import_videos(src, out, jobs=2, engine="dask", progress=False)
    assert (s["added"], s["skipped"], s["failed"], s["engine"]) == (0, 3, [], None)  # nothing started
    assert (out / "train.csv").read_bytes() == before


def test_a_worker_killed_mid_file_is_retried_and_every_sequence_lands_once(tmp_path, reference, cluster):
    from train.import_videos import import_videos

    _, client = cluster
    killed = {}

    def busy(dask_worker):  # runs on each worker's event loop, beside the busy task thread
        return [str(ts.key) for ts in dask_worker.state.executing]

    def kill_one_mid_file():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            running = {a: keys for a, keys in client.run(busy).items() if keys}
            if running:
                addr, keys = next(iter(running.items()))
                pid = client.run(os.getpid, workers=[addr])[addr]
                os.kill(pid, signal.SIGKILL)
                killed.update(addr=addr, pid=pid, keys=keys)
                return
            time.sleep(0.05)

    watcher = threading.Thread(target=kill_one_mid_file, daemon=True)
    watcher.start()
    src, out = _src(tmp_path), tmp_path / "ds"
    s = import_videos(src, out, engine="dask", address=cluster[0].scheduler_address, progress=False)
    watcher.join(5)
    assert killed and killed["keys"][0].startswith("_extract"), killed  # it died inside a video
    assert (s["added"], s["failed"]) == (3, [])  # the scheduler ran its file again elsewhere
    _check_exactly_once(out, reference)
    client.wait_for_workers(2, timeout=60)  # the nanny restarted it
    assert killed["pid"] not in client.run(os.getpid).values()


def test_a_cluster_without_the_input_gets_the_bytes_with_send_files(tmp_path, reference, cluster):
    """SRC given relative to the driver's folder: the workers (another folder) cannot see it."""
    src = _src(tmp_path)
    for sign in ("tractor", "good"):
        (src / f"{sign}.mp4").unlink()
    env = {**os.environ, "DASK_SCHEDULER_ADDRESS": cluster[0].scheduler_address,
           "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "train.import_videos", "src", "--out", "ds", "--quiet"]
    r = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert "not imported: cut.mp4: FileNotFoundError: src/cut.mp4: no such file on worker" in r.stderr
    assert f"on dask ({cluster[0].scheduler_address}, 2 worker threads)" in r.stderr

    r = subprocess.run(cmd + ["--send-files"], cwd=tmp_path, env=env, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    (row,) = Dataset(tmp_path / "ds").samples()
    np.testing.assert_array_equal(competition_load(tmp_path / "ds" / row.path), reference["cut"])


def test_ctrl_c_on_the_engine_is_one_line_keeps_what_is_written_and_leaves_no_worker(tmp_path, reference):
    """A terminal's Ctrl-C reaches the whole process group: the driver and its local workers."""
    src, out = _src(tmp_path), tmp_path / "ds"
    proc = subprocess.Popen([sys.executable, "-m", "train.import_videos", str(src), "--out", str(out),
                             "--jobs", "2", "--engine", "dask"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True, cwd=REPO)  # bytes: keep \r
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and proc.poll() is None:
        if (out / "train.csv").is_file() and Dataset(out).samples():
            break
        time.sleep(0.05)
    assert proc.poll() is None, "import finished before it could be interrupted"
    os.killpg(proc.pid, signal.SIGINT)
    err = proc.communicate(timeout=120)[1].decode()
    assert proc.returncode == 130 and "Traceback" not in err, err
    shown = [line.split("\r")[-1] for line in err.split("\n")]  # what a terminal shows
    assert [line for line in shown if line.strip()] == ["asl-train import-videos: interrupted"], err
    left = []
    for _ in range(100):  # the workers' helper processes may take a moment to notice
        left = subprocess.run(["pgrep", "-a", "-g", str(proc.pid)], capture_output=True,
                              text=True).stdout.splitlines()
        if not left:
            break
        time.sleep(0.1)
    assert not left, f"processes left in the job's group: {left}"
    done = Dataset(out).samples()
    assert 1 <= len(done) < 3
    for s in done:
        np.testing.assert_array_equal(competition_load(out / s.path), reference[s.sign])
