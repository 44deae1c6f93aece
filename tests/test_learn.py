"""`asl-live --learn`: a labelled replay answered, every wrong answer corrected with its label, learned at once.

Real landmarks (one webcam person's `cat` and `food`, signs the bundled model does not know),
the real bundled encoder and TFLite runtime, the CLI in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from asl_live.formats.gislr import Dataset
from test_teach import NEW, base_without_new_signs, new_sign_recordings


def alternating(root: Path) -> Dataset:
    """cat, food, cat, food, ...: 12 of each in one replay, person 103."""
    seqs = new_sign_recordings()
    ds = Dataset(root)
    for i in range(min(len(v) for v in seqs.values())):
        for sign in NEW:
            ds.add(seqs[sign][i], sign, 103)
    return ds


def run(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "asl_live", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)


def answers(r) -> list[dict]:
    assert r.returncode == 0, r.stderr[-2000:]
    return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]


def test_learn_corrects_wrong_answers_and_the_next_ones_are_right(tmp_path):
    model, _ = base_without_new_signs(tmp_path)
    ds = alternating(tmp_path / "replay")
    out = tmp_path / "learned"

    plain = answers(run("--replay", ds.root, "--headless", "--clip", "--model", model))
    assert all(x["sign"] != x["label"] for x in plain)   # it knows neither sign

    r = run("--replay", ds.root, "--headless", "--clip", "--model", model, "--learn", "--out", out)
    lines = answers(r)
    assert [x["label"] for x in lines] == [x["label"] for x in plain]   # one line per sequence, in order
    wrong = [x for x in lines if x["sign"] != x["label"]]
    # The lines show the answer before any correction: the first of each sign is wrong ...
    assert lines[0]["sign"] != "cat" and lines[1]["sign"] != "food"
    # ... each wrong one became a sample of the right sign, in the user's dataset, in order ...
    rows = Dataset(out / "data").samples()
    assert [s.sign for s in rows] == [x["label"] for x in wrong]
    assert {s.participant_id for s in rows} == {103}
    assert all(len(Dataset(out / "data").read(s)) == 30 for s in rows)
    assert r.stderr.count("asl-live: learned ") == len(wrong)
    # ... and what followed was answered with the extended model: the second half right.
    second = lines[len(lines) // 2:]
    assert sum(x["sign"] == x["label"] for x in second) >= 0.9 * len(second), lines
    assert len(wrong) <= len(lines) // 2

    # --out keeps a model that --model (label map beside it) and a pack take, and its card says what it learned.
    card = json.loads((out / "model" / "card.json").read_text())
    assert card["samples"] == len(rows) and set(card["signs"]) == set(NEW)
    assert card["learning_seconds"] > 0
    again = answers(run("--replay", ds.root, "--headless", "--clip", "--model", out / "model" / "model.tflite"))
    assert sum(x["sign"] == x["label"] for x in again) >= 0.9 * len(again)

    # A second session in the same folder goes on from its samples (no correction needed now).
    r = run("--replay", ds.root, "--headless", "--clip", "--model", model, "--learn", "--out", out)
    assert "going on from" in r.stderr
    assert len(Dataset(out / "data").samples()) <= len(rows) + 2


def test_learner_undo_takes_the_last_correction_back(tmp_path):
    from asl_live.model.learning import Learner

    model, labels = base_without_new_signs(tmp_path)
    seqs = new_sign_recordings()
    learner = Learner(tmp_path / "l", model, labels)
    learner.correct(seqs["cat"][0], "cat", 103)
    learned = learner.correct(seqs["food"][0], "food", 103)
    assert "food" in learned.classes and learner.classifier().labels[-1] == "food"
    undone = learner.undo()
    assert undone.sign == "food" and not (learner.dataset.root / undone.path).exists()
    assert [s.sign for s in learner.samples()] == ["cat"]
    assert "food" not in learner.classifier().labels and "cat" in learner.classifier().labels
    learner.undo()
    assert learner.samples() == [] and learner.undo() is None
    assert learner.model == (model, labels)   # back to the model it started with


@pytest.mark.parametrize("name", ["", "a,b", "../x", "x" * 41, "---", "hello world!"])
def test_a_name_that_is_not_a_sign_name_is_one_clear_line(name):
    from asl_live.errors import UserError
    from asl_live.model.learning import sign_name

    with pytest.raises(UserError, match="not a sign name"):
        sign_name(name)


def test_sign_names_take_their_gislr_spelling():
    from asl_live.model.learning import is_right, sign_name

    assert sign_name("thank you") == "thankyou" and sign_name("see-you-later") == "see-you-later"
    assert sign_name("IDLE") == "unknown" and is_right("unknown", "-") and not is_right("hello", "-")


@pytest.mark.parametrize("args, says", [
    (["--demo", "--headless", "--learn"], "labelled replay"),
    (["--demo", "--headless", "--out", "x"], "--out keeps what --learn learned"),
    (["--demo", "--headless", "--letters", "--learn"], "not letters"),
])
def test_learn_bad_input_is_one_line(tmp_path, args, says):
    r = run(*args, timeout=120)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and says in r.stderr, r.stderr
    assert r.stdout == ""


def test_learn_headless_from_a_camera_is_one_line_before_the_camera_opens():
    r = run("--camera", "7", "--headless", "--learn", timeout=60)
    assert r.returncode == 2 and "needs a labelled replay" in r.stderr and "camera" not in r.stderr.split("replay")[0]
