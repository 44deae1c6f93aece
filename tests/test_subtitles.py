"""`asl-live --subtitles OUT.vtt|OUT.srt`: the file read back by independent parsers (webvtt-py,
srt), its cues checked against the JSON lines of the same run; bad paths are one line, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest
import srt
import webvtt
from conftest import CLIP, run_cli, traduttore_sequences

from asl_live.formats.gislr import Dataset


@pytest.fixture(scope="module")
def model_args(tiny_model):
    model, labels = tiny_model
    return ["--model", model, "--labels", labels]


def json_lines(proc) -> list[dict]:
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


def vtt_cues(path: Path) -> list[tuple[float, float, str]]:
    return [(c.start_time.in_milliseconds() / 1000, c.end_time.in_milliseconds() / 1000, c.text)
            for c in webvtt.read(str(path)).captions]


def srt_cues(path: Path) -> list[tuple[float, float, str]]:
    return [(c.start.total_seconds(), c.end.total_seconds(), c.content)
            for c in srt.parse(path.read_text(encoding="utf-8"))]


def assert_cues_match(cues, recs) -> None:
    """One cue per recognised sign, in order, 'unknown' left out, times those of the JSON lines."""
    signs = [r for r in recs if r["sign"] != "unknown"]
    assert [c[2] for c in cues] == [r["sign"] for r in signs]
    for (start, end, _), r in zip(cues, signs):
        # The JSON rounds seconds to 4 decimals, the cues to milliseconds.
        assert start == pytest.approx(r["t_start"], abs=6e-4)
        assert end == pytest.approx(r["t_end"], abs=6e-4)


def test_webvtt_of_a_video_has_one_cue_per_sign_at_the_segments_times(tmp_path, model_args):
    # The real clip twice over: two signs at known, different times.
    video = tmp_path / "twice.mp4"
    cap = cv2.VideoCapture(str(CLIP))
    images = []
    while (got := cap.read())[0]:
        images.append(got[1])
    h, w = images[0].shape[:2]
    out = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 29.97, (w, h))
    for img in images * 2:
        out.write(img)
    out.release()
    subs = tmp_path / "out.vtt"
    recs = json_lines(run_cli("--video", video, "--headless", "--threshold", "0", "--subtitles", subs,
                              *model_args))
    assert len(recs) == 2 and all(r["sign"] != "unknown" for r in recs)
    assert subs.read_text().startswith("WEBVTT")
    cues = vtt_cues(subs)
    assert_cues_match(cues, recs)
    assert [round(c[0], 3) for c in cues] == [round(6 / 29.97, 3), round(115 / 29.97, 3)]
    assert not list(tmp_path.glob(".out.vtt.*"))  # no temporary file left beside it


def test_srt_leaves_unknown_out_and_the_json_keeps_it(tmp_path, model_args):
    # Twelve real traduttore sequences replayed one after another, each classified as one sign.
    ds = Dataset(tmp_path / "ds")
    for i, (sign, frames) in enumerate(traduttore_sequences()[::12]):
        ds.add(frames, sign, participant_id=1 + i % 2)
    everything = json_lines(run_cli("--replay", ds.root, "--headless", "--clip", "--threshold", "0",
                                     *model_args))
    scores = sorted(r["score"] for r in everything)
    threshold = (scores[len(scores) // 2 - 1] + scores[len(scores) // 2]) / 2  # half become "unknown"
    subs = tmp_path / "signs.SRT"  # the extension's case does not matter
    recs = json_lines(run_cli("--replay", ds.root, "--headless", "--clip", "--threshold", f"{threshold:.6f}",
                              "--subtitles", subs, *model_args))
    unknown = [r for r in recs if r["sign"] == "unknown"]
    assert len(recs) == 12 and 0 < len(unknown) < 12
    cues = srt_cues(subs)
    assert len(cues) == 12 - len(unknown)
    assert_cues_match(cues, recs)
    assert [c[2] for c in cues if c[2] == "unknown"] == []


def test_no_sign_still_leaves_a_valid_empty_file(tmp_path, model_args):
    # The first 5 frames of the clip: no hand yet, so no sign.
    video = tmp_path / "no_hands.mp4"
    cap = cv2.VideoCapture(str(CLIP))
    ok, img = cap.read()
    h, w = img.shape[:2]
    out = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 29.97, (w, h))
    for _ in range(5):
        out.write(img)
    out.release()
    subs = tmp_path / "empty.vtt"
    assert json_lines(run_cli("--video", video, "--headless", "--subtitles", subs, *model_args)) == []
    assert vtt_cues(subs) == []


BAD_PATHS = {
    "a folder": ("{dir}", "is a folder"),
    "not .vtt or .srt": ("{dir}/subs.txt", "must be a .vtt or .srt file"),
    "under a file": ("{file}/subs.vtt", "is a file, not a folder"),
    "where nothing can be written": ("/proc/asl-live-subs.srt", "cannot write subtitles there"),
}


@pytest.mark.parametrize("case", list(BAD_PATHS))
def test_a_bad_subtitles_path_is_one_line_and_exit_2(case, tmp_path, model_args):
    (tmp_path / "plain.txt").write_text("x")
    path, expected = BAD_PATHS[case]
    path = path.format(dir=tmp_path, file=tmp_path / "plain.txt")
    proc = run_cli("--video", CLIP, "--headless", "--subtitles", path, *model_args, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == "" and "Traceback" not in proc.stderr
    (line,) = proc.stderr.splitlines()
    assert line.startswith("asl-live: error: ") and expected in line, line
