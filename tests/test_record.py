"""asl-live record: real landmarks in, samples the competition's loader reads out; crash safety."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from asl_live.formats.gislr import Dataset, write_parquet
from asl_live.formats.layout import empty_frames, hands_visible
from asl_live.formats.mpdata import to_gislr

FIXTURES = Path(__file__).parent / "fixtures"


def competition_load(path):
    data = pd.read_parquet(path, columns=["x", "y", "z"])
    return data.values.reshape(len(data) // 543, 543, 3).astype(np.float32)


def real_sequences(n: int):
    """n real traduttore sequences (GISLR frames) whose hands are seen in every frame."""
    z = np.load(FIXTURES / "traduttore_mpdata_subset.npz")
    out = []
    for v, s in zip(z["vectors"], z["sign"]):
        f = to_gislr(v)
        if hands_visible(f).any(axis=1).all():
            out.append((str(s), f))
        if len(out) == n:
            break
    return out


def chained_replay(path: Path, seqs, gap: int = 15) -> Path:
    """One parquet: the sequences one after the other, separated by frames without hands."""
    parts = [empty_frames(gap)]
    for _, f in seqs:
        parts += [f, empty_frames(gap)]
    return write_parquet(path, np.concatenate(parts))


def record_cmd(*args):
    return [sys.executable, "-m", "asl_live", "record", *args]


def test_replay_round_trip_one_sample_per_performance(tmp_path):
    seqs = real_sequences(5)
    replay = chained_replay(tmp_path / "session.parquet", seqs)
    out = tmp_path / "ds"
    r = subprocess.run(record_cmd("--sign", "hello", "--out", str(out), "--participant", "42",
                                  "--replay", str(replay), "--headless"),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    rows = Dataset(out).samples()
    assert len(rows) == 5 and {s.sign for s in rows} == {"hello"} and {s.participant_id for s in rows} == {42}
    for s, (_, original) in zip(rows, seqs):
        got = competition_load(out / s.path)  # the competition's own loader
        np.testing.assert_array_equal(got, original)  # each performance, whole and exact
    assert Dataset(out).label_map() == {"hello": 0}

    # --count stops early; a second session appends with new sequence ids
    r = subprocess.run(record_cmd("--sign", "water", "--out", str(out), "--replay", str(replay),
                                  "--headless", "--count", "2"), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    rows = Dataset(out).samples()
    assert [s.sign for s in rows].count("water") == 2 and len({s.sequence_id for s in rows}) == 7
    assert Dataset(out).label_map() == {"hello": 0, "water": 1}


def test_video_round_trip(tmp_path):
    """A real video through the app's own extraction: the sign in it becomes a sample."""
    out = tmp_path / "ds"
    clip = FIXTURES / "dpan_good_small.mp4"
    r = subprocess.run(record_cmd("--sign", "good", "--out", str(out), "--video", str(clip), "--headless"),
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr
    rows = Dataset(out).samples()
    assert len(rows) == 1, r.stderr
    frames = competition_load(out / rows[0].path)
    assert 8 <= len(frames) <= 26  # the clip has 26 frames; the sign is cut out of it
    assert hands_visible(frames).any(axis=1).mean() > 0.7


def test_bad_arguments_are_one_line(tmp_path):
    r = subprocess.run(record_cmd("--out", str(tmp_path / "x"), "--replay", str(tmp_path / "none.parquet"),
                                  "--sign", "hi", "--headless"), capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    r = subprocess.run(record_cmd("--out", str(tmp_path / "x"), "--headless"),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1


def test_killed_recording_leaves_a_consistent_dataset(tmp_path):
    """SIGKILL at random moments (mid-write included), then Ctrl-C: nothing saved is lost or broken."""
    seqs = real_sequences(12) * 6  # 72 performances: several seconds of writing
    replay = chained_replay(tmp_path / "long.parquet", seqs, gap=8)
    # What a whole sample is: the app's segmenter keeps a sequence whole unless its hands come to
    # rest before it ends (one of these 12 does: its end, hands at rest, is not part of the sign).
    from asl_live.formats.gislr import read_parquet
    from asl_live.reading.segmenter import Segmenter

    seg = Segmenter()
    whole = {len(s.frames) for i, f in enumerate(read_parquet(replay)) if (s := seg.push(f, i, 0.0)) is not None}
    assert 20 in whole
    out = tmp_path / "ds"
    rng = random.Random(1)
    counts = []
    for attempt in range(4):
        proc = subprocess.Popen(record_cmd("--sign", "no", "--out", str(out), "--replay", str(replay),
                                           "--headless"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                start_new_session=True)
        # wait until it is writing, then kill it at a random moment
        deadline = time.monotonic() + 60
        before = len(Dataset(out).samples()) if (out / "train.csv").is_file() else 0
        while time.monotonic() < deadline and proc.poll() is None:
            if (out / "train.csv").is_file() and len(Dataset(out).samples()) > before:
                break
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.3))
        sig = signal.SIGINT if attempt == 3 else signal.SIGKILL
        os.killpg(proc.pid, sig)
        rc = proc.wait(timeout=30)
        err = proc.stderr.read().decode()
        if sig == signal.SIGINT:
            assert rc == 130 and "Traceback" not in err, err
        else:
            assert rc == -signal.SIGKILL
        ds = Dataset(out)
        rows = ds.samples()  # train.csv parses: never half-written
        counts.append(len(rows))
        assert len({s.sequence_id for s in rows}) == len(rows)
        for s in rows:  # every row has its parquet, whole
            frames = competition_load(out / s.path)
            assert frames.shape[1:] == (543, 3) and len(frames) in whole
        for p in (out / "train_landmark_files").rglob("*.parquet"):  # no visible file is partial
            f = competition_load(p)
            assert f.shape[1:] == (543, 3) and len(f) in whole
        assert ds.label_map() == {"no": 0}
    assert counts == sorted(counts) and counts[-1] > counts[0] > 0  # each session added, nothing lost


def test_records_with_a_live_window_under_xvfb(tmp_path):
    sys.path.insert(0, str(Path(__file__).parent))
    from display import Xvfb

    seqs = real_sequences(3)
    replay = chained_replay(tmp_path / "session.parquet", seqs)
    out = tmp_path / "ds"
    with Xvfb() as x:
        r = subprocess.run(record_cmd("--sign", "please", "--out", str(out), "--replay", str(replay)),
                           env=x.env(), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "headless" not in r.stderr  # it drew the window
    assert len(Dataset(out).samples()) == 3


def test_live_camera_gets_a_countdown_then_records(tmp_path):
    """A video played as a live camera (real time, frame dropping): countdown banner first, then recording."""
    from asl_live.reading.pipeline import Landmarks
    from asl_live.record import record
    from asl_live.capture.sources import simulated_camera

    banners = []
    source = simulated_camera(FIXTURES / "dpan_good_small.mp4", fps=15)
    landmarks = Landmarks()
    try:
        progress = record(source, Dataset(tmp_path / "ds"), "good", countdown=0.3, landmarks=landmarks,
                          on_frame=lambda item, frame, p: banners.append((item.t, p.status, p.banner)),
                          live=source.live)
    finally:
        source.close()
        landmarks.close()
    assert source.live
    waiting = [b for b in banners if b[1] == "paused"]
    assert waiting and waiting[0][2] == "Sign 'good' in 1..."
    t0 = banners[0][0]
    assert all(t - t0 < 0.3 for t, _, _ in waiting)  # the countdown runs on the source's clock
    assert all(s == "recording" for t, s, _ in banners if t - t0 >= 0.3)
    assert banners[-1][1] == "recording" and banners[-1][2].startswith("Sign 'good' now")
    assert progress.ended
