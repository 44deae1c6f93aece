"""The shipped model (assets/) recognises the bundled demo's signs through the app's own pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from asl_live.bundled import ASSETS
from asl_live.model.classifier import DEFAULT_LABELS, DEFAULT_MODEL, Classifier
from asl_live.formats.gislr import read_label_map, read_parquet
from asl_live.reading.pipeline import Landmarks, Recognizer, recognitions
from asl_live.capture.sources import DEMO_PARQUET, ReplaySource


def demo_truth() -> dict:
    return json.loads((ASSETS / "demo.json").read_text())


def test_assets_are_complete_and_consistent():
    labels = read_label_map(DEFAULT_LABELS)
    clf = Classifier(DEFAULT_MODEL, DEFAULT_LABELS)  # a TFLite file with the competition contract
    assert clf.num_classes == len(labels)
    truth = demo_truth()
    assert set(truth["signs"]) <= set(labels)
    card = (ASSETS / "MODEL_CARD.md").read_text()
    for sign in labels:
        assert sign in card
    credits = (ASSETS / "CREDITS.md").read_text()
    assert "traduttore" in credits and "DPAN" in credits
    assert all((ASSETS / "LICENSES" / f).is_file() for f in ("LICENSE-traduttore", "LICENSE-recordthesehands"))


def test_the_shipped_unknown_rule_belongs_to_the_shipped_model():
    """A replaced model must be recalibrated (asl-train calibrate), not run on another model's rule.

    The shipped model carries the `prototype` rule made from its bank (`asl-train calibrate
    --from-bank`, as `extend` writes it): it was trained on every person here, so no unseen sign
    of its vocabulary is left to calibrate a probability threshold on; the bank quantile was
    measured on held-out people in docs/history/2026-12-03-prototype-unknown-rule.md."""
    from asl_live.model.unknown_rule import read_sidecar, sidecar_path
    from asl_live.model.runtime import file_sha256
    from asl_live.model.extend import PROTOTYPE_QUANTILE
    from asl_live.model.bank import Bank

    side = sidecar_path(DEFAULT_MODEL)
    labels = read_label_map(DEFAULT_LABELS)
    data = read_sidecar(side, len(labels))
    assert data["model_sha256"] == file_sha256(DEFAULT_MODEL)
    clf = Classifier(DEFAULT_MODEL, DEFAULT_LABELS, warn=pytest.fail)
    assert (clf.rule.rule, clf.rule.threshold) == ("prototype", data["threshold"])
    # the threshold is what the bank gives (nothing tuned by hand), and the card says which rule
    bank = Bank.load(DEFAULT_MODEL)
    order = clf.labels
    assert data["threshold"] == pytest.approx(bank.prototypes(order).bank_quantile(bank, order, PROTOTYPE_QUANTILE),
                                              abs=1e-6)
    assert "prototype" in (ASSETS / "MODEL_CARD.md").read_text()


def test_shipped_model_recognises_the_demo_through_the_app_pipeline():
    truth = demo_truth()
    frames = read_parquet(DEMO_PARQUET)
    assert len(frames) == sum(s["frames"] for s in truth["sequences"]) + truth["gap_frames"] * (
        len(truth["sequences"]) - 1) + 2 * truth["edge_frames"]
    recognizer = Recognizer(Classifier(DEFAULT_MODEL, DEFAULT_LABELS))
    got = list(recognitions(ReplaySource(DEMO_PARQUET), recognizer, Landmarks()))
    # the segmenter finds each demo sign once, where it is
    assert len(got) == len(truth["sequences"])
    for rec, seq in zip(got, truth["sequences"]):
        assert abs(rec.start_frame - seq["first_frame"]) <= 2
    answers = [r.prediction.sign for r in got]
    right = np.mean([a == t for a, t in zip(answers, truth["signs"])])
    assert right >= 0.75, list(zip(truth["signs"], answers))


def test_the_demo_is_not_the_training_data_of_a_constant_model():
    """The model's answers depend on the input: each demo sign's own top class differs across signs."""
    truth = demo_truth()
    frames = read_parquet(DEMO_PARQUET)
    clf = Classifier(DEFAULT_MODEL, DEFAULT_LABELS)
    tops = {clf(frames[s["first_frame"]:s["first_frame"] + s["frames"]]).top[0][0] for s in truth["sequences"]}
    assert len(tops) >= min(4, len(set(truth["signs"])))


def _fixture_clip(name: str, key: str) -> np.ndarray:
    from conftest import FIXTURES

    from asl_live.formats.layout import LEFT_HAND, RIGHT_HAND, empty_frames

    z = np.load(FIXTURES / name)
    frames = empty_frames(len(z[key]))
    frames[:, LEFT_HAND.start:RIGHT_HAND.stop] = z[key]
    return frames


def test_a_sign_far_from_every_class_is_unknown_even_when_the_softmax_names_one():
    """The shipped `prototype` rule on real clips it never trained on: a DPAN studio sign outside its
    vocabulary (`ball`) that the softmax calls `hello` (above the class-count threshold) lies far
    from `hello` in the embedding and comes back `unknown`, and of the six DPAN fixture signs (none
    of the vocabulary) the rule answers `unknown` wherever the class-count rule does; three WLASL
    dictionary signs of its vocabulary, by a signer it never saw, are kept and right."""
    rule = Classifier(DEFAULT_MODEL, DEFAULT_LABELS)
    probability_only = Classifier(DEFAULT_MODEL, DEFAULT_LABELS, threshold=0.3554)   # the class-count rule
    ball = _fixture_clip("stream_landmarks.npz", "dpan_ball")
    assert probability_only(ball).sign == "hello" and rule(ball).sign == "unknown"
    for key in ("dpan_a", "dpan_about", "dpan_all_gone", "dpan_baby", "dpan_bat"):
        frames = _fixture_clip("stream_landmarks.npz", key)
        if probability_only(frames).sign == "unknown":
            assert rule(frames).sign == "unknown", key
    for sign in ("thankyou", "please", "no"):
        assert rule(_fixture_clip("wlasl_landmarks.npz", f"wlasl_{sign}")).sign == sign


def test_the_rule_reading_the_embedding_answers_as_the_model_file_does():
    """With the `prototype` rule the app runs the model cut before its last layer and applies that
    layer itself: the probabilities are the model file's own, to 1e-4."""
    frames = read_parquet(DEMO_PARQUET)
    rule, whole = Classifier(DEFAULT_MODEL, DEFAULT_LABELS), Classifier(DEFAULT_MODEL, DEFAULT_LABELS, threshold=0.0)
    assert rule.rule.needs_embedding and not whole.rule.needs_embedding
    for s in demo_truth()["sequences"]:
        f = frames[s["first_frame"]:s["first_frame"] + s["frames"]]
        np.testing.assert_allclose(rule.probabilities(f), whole.probabilities(f), atol=1e-4)
    twin = rule.twin()
    np.testing.assert_allclose(twin.probabilities(frames[:40]), rule.probabilities(frames[:40]), atol=1e-6)


def test_calibrate_from_bank_writes_the_shipped_rule_and_needs_a_bank(tmp_path):
    """`asl-train calibrate --from-bank` gives the shipped sidecar's threshold again; a model
    without a bank gets one line, and a prototype sidecar whose bank is gone falls back to the
    class-count rule with a warning."""
    import shutil
    import subprocess
    import sys

    from asl_live.model.unknown_rule import class_count_rule, read_sidecar, sidecar_path
    from asl_live.model.bank import bank_path

    here = tmp_path / "m"
    here.mkdir()
    model = Path(shutil.copy(DEFAULT_MODEL, here / "model.tflite"))
    shutil.copy(DEFAULT_LABELS, here / "sign_to_prediction_index_map.json")
    shutil.copy(bank_path(DEFAULT_MODEL), bank_path(model))
    r = subprocess.run([sys.executable, "-m", "train", "calibrate", str(model), "--from-bank"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    shipped = read_sidecar(sidecar_path(DEFAULT_MODEL))
    assert read_sidecar(sidecar_path(model))["threshold"] == pytest.approx(shipped["threshold"], abs=1e-6)

    bank_path(model).unlink()
    warned = []
    clf = Classifier(model, here / "sign_to_prediction_index_map.json", warn=warned.append)
    assert len(warned) == 1 and "bank" in warned[0]
    assert (clf.rule.rule, clf.rule.threshold) == ("max_prob", class_count_rule(clf.num_classes).threshold)
    r = subprocess.run([sys.executable, "-m", "train", "calibrate", str(model), "--from-bank"],
                       capture_output=True, text=True)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
