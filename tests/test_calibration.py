"""The per-model "unknown" rule: scores, the choice on real model outputs, the sidecar, the fallbacks."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from conftest import run_cli
from datasets import build

from asl_live.model.unknown_rule import (choose_rule, class_count_rule, kept_and_rejected, read_sidecar, score,
                                  sidecar_path)
from asl_live.model.classifier import Classifier
from asl_live.errors import UserError
from asl_live.formats.gislr import Dataset


def test_scores_on_known_vectors():
    p = np.array([[0.7, 0.2, 0.1, 0.0], [0.25, 0.25, 0.25, 0.25], [1.0, 0.0, 0.0, 0.0]])
    np.testing.assert_allclose(score("max_prob", p), [0.7, 0.25, 1.0])
    np.testing.assert_allclose(score("margin", p), [0.5, 0.0, 1.0])
    h = -(0.7 * np.log(0.7) + 0.2 * np.log(0.2) + 0.1 * np.log(0.1))
    np.testing.assert_allclose(score("certainty", p), [1 - h / np.log(4), 0.0, 1.0], atol=1e-9)
    with pytest.raises(ValueError):
        score("entropy?", p)


def test_class_count_rule_lies_between_chance_and_certainty():
    assert class_count_rule(250).threshold == pytest.approx(0.25, abs=1e-3)  # issue 10: 0.955 kept / 0.50 rejected
    for n in (2, 7, 50, 250, 1000):
        t = class_count_rule(n).threshold
        assert 1.0 / n < t < 1.0
    assert class_count_rule(2).threshold > 0.5  # a threshold at or below 0.5 rejects nothing for 2 classes
    assert [class_count_rule(n).threshold for n in (2, 7, 250)] == sorted(
        [class_count_rule(n).threshold for n in (2, 7, 250)], reverse=True)


@pytest.fixture(scope="module")
def tiny_outputs(tiny_model, clip_landmarks):
    """Real outputs of the real 6-sign model: traduttore signer 102 (in vocabulary), tractor (outside)."""
    clf = Classifier(*tiny_model)
    from datasets import fixture_sequences

    frames, signs, people = fixture_sequences()
    inside = [(f, s) for f, s, p in zip(frames, signs, people) if p == 102]
    p_in = np.stack([clf.probabilities(f) for f, _ in inside])
    truth = np.array([clf.labels.index(s) for _, s in inside])
    f, _ = clip_landmarks
    p_out = np.stack([clf.probabilities(f[a:b]) for a, b in ((6, 92), (0, 109), (10, 60), (40, 100))])
    return clf, p_in, truth, p_out


def test_choice_keeps_what_it_promises_and_rejects_at_least_as_much_as_the_keep_limit(tiny_outputs):
    clf, p_in, truth, p_out = tiny_outputs
    rule, t, every = choose_rule(p_in, truth, p_out, keep=0.95)
    assert set(every) == {"max_prob", "margin", "certainty"} and every[rule]["threshold"] == t
    for name, r in every.items():
        assert r["kept"] >= 0.95
        assert r["threshold"] <= r["threshold_keep_limit"]
        # the middle of the gap rejects exactly what the keep limit itself rejects
        at_limit = kept_and_rejected(name, r["threshold_keep_limit"], p_in, truth, p_out)
        assert r["rejected"] == at_limit["rejected"]
    assert every[rule]["rejected"] == max(r["rejected"] for r in every.values())
    # kept/rejected recomputed by hand for the chosen rule
    right = p_in.argmax(1) == truth
    kept = (right & (score(rule, p_in) >= t)).sum() / right.sum()
    assert every[rule]["kept"] == pytest.approx(kept, abs=1e-4)
    assert every[rule]["rejected"] == pytest.approx((score(rule, p_out) < t).mean(), abs=1e-4)


def test_calibrate_writes_the_sidecar_the_app_reads_and_threshold_overrides(tmp_path, tiny_model, clip_landmarks):
    from train.cli import main

    model, labels = tiny_model
    mdir = tmp_path / "m"
    mdir.mkdir()
    model, labels = shutil.copy(model, mdir / "model.tflite"), shutil.copy(labels, mdir / "labels.json")
    held = build(tmp_path / "held", signs=None)  # both signers: in-vocabulary sequences
    other = Dataset(tmp_path / "other")
    f, _ = clip_landmarks
    other.add(f[6:92], "tractor", 0)
    other.add(f, "tractor", 0)
    assert main(["calibrate", str(model), "--labels", str(labels), "--data", str(held.root),
                 "--data", str(other.root), "--keep", "0.9"]) == 0
    side = read_sidecar(sidecar_path(model), 6)
    assert side["measured"]["in_vocabulary"] == 144 and side["measured"]["out_of_vocabulary"] == 2
    assert side["measured"]["kept"] >= 0.9

    clf = Classifier(model, labels)
    assert (clf.rule.rule, clf.rule.threshold, clf.rule.source) == (side["rule"], side["threshold"],
                                                                    "model.unknown.json")
    assert Classifier(model, labels, threshold=0.5).rule.describe() == "max_prob >= 0.5 (--threshold)"

    # The app follows the sidecar: a rule nothing passes makes every answer "unknown", and
    # --threshold 0 overrides it.
    side["rule"], side["threshold"] = "max_prob", 1.0
    sidecar_path(model).write_text(json.dumps(side))
    proc = run_cli("--replay", held.root, "--headless", "--clip", "--model", model, "--labels", labels)
    assert proc.returncode == 0, proc.stderr
    assert {json.loads(line)["sign"] for line in proc.stdout.splitlines()} == {"unknown"}
    proc = run_cli("--replay", held.root, "--headless", "--clip", "--model", model, "--labels", labels,
                   "--threshold", "0")
    assert "unknown" not in {json.loads(line)["sign"] for line in proc.stdout.splitlines()}


def test_model_without_sidecar_gets_the_class_count_rule(tiny_model):
    clf = Classifier(*tiny_model)
    assert not sidecar_path(tiny_model[0]).exists()
    assert clf.rule == class_count_rule(6)


def test_a_sidecar_of_another_model_is_ignored_with_a_warning(tmp_path, tiny_model):
    model = shutil.copy(tiny_model[0], tmp_path / "model.tflite")
    sidecar_path(model).write_text(json.dumps({"rule": "margin", "threshold": 0.9, "classes": 6,
                                               "model_sha256": "0" * 64}))
    warned = []
    clf = Classifier(model, tiny_model[1], warn=warned.append)
    assert clf.rule == class_count_rule(6) and len(warned) == 1 and "another model" in warned[0]


BAD_SIDECARS = {
    "not JSON": ("{rule: margin", "not a JSON calibration file"),
    "a list": ("[0.3]", "is a JSON object"),
    "unknown rule": ('{"rule": "entropy", "threshold": 0.3}', '"rule" must be one of'),
    "threshold out of range": ('{"rule": "margin", "threshold": 3}', '"threshold" must be a number'),
    "threshold not a number": ('{"rule": "margin", "threshold": "high"}', '"threshold" must be a number'),
    "other class count": ('{"rule": "margin", "threshold": 0.3, "classes": 250}', "250 classes"),
}


@pytest.mark.parametrize("case", list(BAD_SIDECARS))
def test_bad_sidecar_is_one_line_and_exit_2(case, tmp_path, tiny_model):
    model = shutil.copy(tiny_model[0], tmp_path / "model.tflite")
    text, expected = BAD_SIDECARS[case]
    sidecar_path(model).write_text(text)
    with pytest.raises(UserError, match=expected.replace("(", r"\(")):
        Classifier(model, tiny_model[1])
    proc = run_cli("--demo", "--headless", "--model", model, "--labels", tiny_model[1])
    lines = proc.stderr.splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and expected in lines[0], proc.stderr
