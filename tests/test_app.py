"""`asl-live` end to end, in fresh processes: real MediaPipe on the real clip, a real TFLite model."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import cv2
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import CLIP, REPO, run_cli

from asl_live.model.classifier import Classifier
from asl_live.formats.gislr import write_parquet

KEYS = ["sign", "score", "top", "start_frame", "end_frame", "t_start", "t_end", "source"]
DATASET_KEYS = KEYS + ["participant_id", "sequence_id", "label"]


def json_lines(proc) -> list[dict]:
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


@pytest.fixture(scope="module")
def model_args(tiny_model):
    model, labels = tiny_model
    return ["--model", model, "--labels", labels]


@pytest.fixture(scope="module")
def video_runs(model_args):
    """The app on the real clip: (segmented run, --clip run)."""
    return (run_cli("--video", CLIP, "--headless", *model_args),
            run_cli("--video", CLIP, "--headless", "--clip", *model_args))


def test_headless_prints_one_json_line_per_sign_and_nothing_else(video_runs, tiny_model, clip_landmarks):
    proc, _ = video_runs
    assert proc.stderr == ""  # MediaPipe/TFLite start-up noise is held back
    (rec,) = json_lines(proc)
    assert list(rec) == KEYS
    assert rec["source"] == str(CLIP)  # the input as it was given on the command line
    assert isinstance(rec["sign"], str) and 0 < rec["score"] <= 1
    assert len(rec["top"]) == 5 and all(isinstance(s, str) and 0 <= p <= 1 for s, p in rec["top"])
    assert rec["top"][0] == [rec["sign"], rec["score"]] or rec["sign"] == "unknown"
    # The hand enters at frame 6 and leaves the picture going down after frame 88 (29.97 fps;
    # MediaPipe sees it once more at 91 on its way out, a flicker: see test_segmenter).
    assert (rec["start_frame"], rec["end_frame"]) == (6, 88)
    assert rec["t_start"] == pytest.approx(6 / 29.97, abs=1e-3)
    assert rec["t_end"] == pytest.approx(88 / 29.97, abs=1e-3)
    # Same answer as classifying the same frames in this process.
    frames, _ = clip_landmarks
    p = Classifier(*tiny_model)(frames[6:89])
    assert rec["sign"] == p.sign and rec["score"] == pytest.approx(p.score, abs=1e-5)


def test_clip_mode_prints_exactly_one_result_for_the_whole_input(video_runs):
    _, proc = video_runs
    (rec,) = json_lines(proc)
    assert (rec["start_frame"], rec["end_frame"], rec["t_start"]) == (0, 108, 0.0)


def test_parquet_replay_gives_the_same_predictions_as_the_video(tmp_path, video_runs, model_args,
                                                                 clip_landmarks):
    frames, _ = clip_landmarks
    path = write_parquet(tmp_path / "tractor.parquet", frames)
    # The competition's own loader reads what was written.
    data = pd_read(path)
    np.testing.assert_array_equal(data, frames)
    for video, flags in zip(video_runs, ([], ["--clip"])):
        replay = run_cli("--replay", path, "--headless", *flags, *model_args)
        a, b = json_lines(video), json_lines(replay)
        assert len(a) == len(b) == 1
        for key in ("sign", "start_frame", "end_frame"):
            assert a[0][key] == b[0][key]
        assert list(b[0]) == KEYS and b[0]["source"] == str(path)
        assert a[0]["score"] == pytest.approx(b[0]["score"], abs=1e-5)
        assert [s for s, _ in a[0]["top"]] == [s for s, _ in b[0]["top"]]


def pd_read(path):
    import pandas as pd

    data = pd.read_parquet(path, columns=["x", "y", "z"])
    return data.values.reshape(len(data) // 543, 543, 3).astype(np.float32)


def test_dataset_folder_replays_sequence_by_sequence(tmp_path, model_args, clip_landmarks):
    from asl_live.formats.gislr import Dataset

    frames, _ = clip_landmarks
    ds = Dataset(tmp_path / "ds")
    samples = [ds.add(frames, sign, participant_id=pid) for pid, sign in ((1, "tractor"), (2, "cut"), (3, "tractor"))]
    recs = json_lines(run_cli("--replay", ds.root, "--headless", "--clip", *model_args))
    assert [(r["start_frame"], r["end_frame"]) for r in recs] == [(0, 108), (109, 217), (218, 326)]
    assert len({r["sign"] for r in recs}) == 1
    # Each line names its sequence and carries the true sign from train.csv: a script can score it.
    assert all(list(r) == DATASET_KEYS for r in recs)
    assert [(r["source"], r["participant_id"], r["sequence_id"], r["label"]) for r in recs] == \
        [(str(ds.root / s.path), s.participant_id, s.sequence_id, s.sign) for s in samples]
    # Segmented replay (no --clip): every line still names the sequence it came from.
    seg = json_lines(run_cli("--replay", ds.root, "--headless", *model_args))
    assert [(r["participant_id"], r["label"]) for r in seg] == [(1, "tractor"), (2, "cut"), (3, "tractor")]


def bad_parquets(tmp_path):
    missing = tmp_path / "missing_columns.parquet"
    pq.write_table(pa.table({"x": [0.1] * 543, "y": [0.2] * 543}), missing)
    ragged = tmp_path / "ragged.parquet"
    n = 543 * 2 + 7
    pq.write_table(pa.table({c: np.full(n, 0.5) for c in ("x", "y", "z")}), ragged)
    return missing, ragged


BAD_INPUTS = {
    "camera that does not open": (["--camera", "57"], "camera 57 does not open"),
    "file that is not a video": (["--video", "{text}"], "not a video"),
    "empty video file": (["--video", "{empty}"], "empty file"),
    "missing video file": (["--video", "{dir}/nothing.mp4"], "no such video"),
    "parquet with missing columns": (["--replay", "{missing}"], "lacks column(s) z"),
    "parquet rows not a multiple of 543": (["--replay", "{ragged}"], "not a positive multiple of 543"),
    "model file that is not TFLite": (["--video", "{clip}", "--model", "{clip}"], "not a TFLite model"),
    "model with another signature": (["--video", "{clip}", "--model", "{wrong}"], "expected signature"),
    "label map of the wrong size": (["--video", "{clip}", "--labels", "{five}"], "5 labels, but"),
    "unknown option": (["--cmaera", "0"], "unrecognized arguments"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_one_line_and_exit_2(case, tmp_path, model_args, wrong_signature_model):
    from asl_live.formats.gislr import write_label_map

    (tmp_path / "text.mp4").write_text("this is not a video\n" * 50)
    (tmp_path / "empty.mp4").write_bytes(b"")
    missing, ragged = bad_parquets(tmp_path)
    five = write_label_map(tmp_path / "five.json", ["a", "b", "c", "d", "e"])
    names = dict(text=tmp_path / "text.mp4", empty=tmp_path / "empty.mp4", dir=tmp_path, missing=missing,
                 ragged=ragged, clip=CLIP, wrong=wrong_signature_model, five=five)
    args, expected = BAD_INPUTS[case]
    args = [a.format(**names) for a in args]
    # --model/--labels given last win over the working defaults
    proc = run_cli(*model_args, "--headless", *args)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("asl-live: error: ") and expected in lines[0], lines


def test_window_without_display_says_how_to_get_one(model_args):
    proc = run_cli("--video", CLIP, *model_args)  # run_cli removes DISPLAY
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    (line,) = proc.stderr.splitlines()
    assert "xvfb-run" in line and "--headless" in line


def test_window_mode_runs_under_xvfb(tmp_path, model_args, clip_landmarks):
    from display import Xvfb

    frames, _ = clip_landmarks
    path = write_parquet(tmp_path / "short.parquet", frames[::3])  # 37 frames, ~1.2 s at 30 fps
    with Xvfb() as x:
        proc = run_cli("--replay", path, *model_args, env=x.env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""


def test_ctrl_c_ends_cleanly_and_keeps_what_was_printed(tmp_path, model_args):
    # The real clip three times over: long enough to interrupt after its first sign.
    long_video = tmp_path / "three_times.mp4"
    cap = cv2.VideoCapture(str(CLIP))
    images = []
    while (got := cap.read())[0]:
        images.append(got[1])
    h, w = images[0].shape[:2]
    out = cv2.VideoWriter(str(long_video), cv2.VideoWriter_fourcc(*"mp4v"), 29.97, (w, h))
    for img in images * 3:
        out.write(img)
    out.release()
    import os

    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    proc = subprocess.Popen([sys.executable, "-m", "asl_live", "--video", str(long_video), "--headless",
                             *map(str, model_args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=REPO, env=env)
    first = proc.stdout.readline()
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=60)
    assert json.loads(first)["end_frame"] == 88
    assert proc.returncode == 130 and "Traceback" not in err
    assert err.strip().splitlines() == ["asl-live: interrupted"]
    assert all(json.loads(line) for line in rest.splitlines())


@pytest.mark.parametrize("command", ["record", "teach"])
def test_record_and_teach_are_dispatched(command):
    proc = run_cli(command, "--help")
    assert proc.returncode == 0 and f"usage: asl-live {command}" in proc.stdout


def test_the_app_never_imports_tensorflow(tiny_model):
    """Importing every app module and running the app on the video loads no TensorFlow or Keras,
    and nothing of the training's distributed engine (Dask, `train.engine`)."""
    model, labels = tiny_model
    code = (
        "import sys\n"
        "import asl_live.cli, asl_live.reading.pipeline, asl_live.capture.sources, asl_live.model.classifier, "
        "asl_live.reading.segmenter, asl_live.view.overlay, asl_live.view.window, asl_live.capture.extract\n"
        "assert 'tensorflow' not in sys.modules\n"
        f"rc = asl_live.cli.main(['--video', {str(CLIP)!r}, '--headless', "
        f"'--model', {str(model)!r}, '--labels', {str(labels)!r}])\n"
        "assert rc == 0, rc\n"
        "loaded = sorted(m for m in sys.modules\n"
        "                if m.split('.')[0] in ('tensorflow', 'keras', 'dask', 'distributed', 'train'))\n"
        "assert not loaded, loaded[:5]\n"
        "print('clean', file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 0 and proc.stderr.strip().endswith("clean"), proc.stderr
    assert json.loads(proc.stdout)["end_frame"] == 88


def test_demo_without_display_prints_json_lines(model_args):
    """The README's first command works on a machine without a screen: JSON lines, a note on stderr."""
    from asl_live.capture.sources import DEMO_PARQUET

    proc = run_cli("--demo", *model_args)  # run_cli removes DISPLAY
    if not DEMO_PARQUET.is_file():  # until the demo is bundled: one clear line
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "demo" in proc.stderr
        return
    assert proc.returncode == 0, proc.stderr
    recs = json_lines(proc)
    assert recs and all(list(r) == KEYS for r in recs)
    assert proc.stderr.splitlines() == ["asl-live: no display, so the demo prints JSON lines "
                                        "(for the window: xvfb-run -a asl-live --demo)"]
