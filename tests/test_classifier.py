"""The TFLite classifier with the competition contract, on a real (small) TFLite model."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import traduttore_sequences

from asl_live.model.classifier import Classifier
from asl_live.model.runtime import probabilities
from asl_live.errors import UserError
from asl_live.formats.gislr import write_label_map


@pytest.fixture(scope="module")
def classifier(tiny_model):
    return Classifier(*tiny_model)


def test_recognises_real_sequences(classifier):
    seqs = traduttore_sequences()
    hits = [classifier(frames).sign == sign for sign, frames in seqs]
    assert np.mean(hits) > 0.9  # fitted on them: this checks the whole contract end to end


def test_top5_and_threshold(tiny_model):
    sign, frames = traduttore_sequences()[0]
    p = Classifier(*tiny_model, threshold=0.0)(frames)
    assert len(p.top) == 5 and [s for s, _ in p.top] != [] and p.top[0] == (p.sign, p.score)
    scores = [s for _, s in p.top]
    assert scores == sorted(scores, reverse=True) and 0 < p.score <= 1
    assert len({s for s, _ in p.top}) == 5
    strict = Classifier(*tiny_model, threshold=min(1.0, p.score + 1e-3))(frames)
    assert strict.sign == "unknown" and strict.top == p.top  # real labels even when unknown


def test_input_resized_per_call_any_length(classifier):
    _, frames = traduttore_sequences()[3]
    long = np.concatenate([frames] * 10)  # same mean over frames -> same answer
    a, b, c = classifier(frames), classifier(long), classifier(frames[:1])
    assert a.sign == b.sign and a.score == pytest.approx(b.score, abs=1e-5)
    assert c.top and classifier(frames).score == pytest.approx(a.score, abs=1e-6)


def test_softmax_only_when_outputs_are_not_probabilities():
    p = np.array([0.1, 0.7, 0.2])
    np.testing.assert_allclose(probabilities(p), p)
    logits = np.array([2.0, -1.0, 0.5])
    e = np.exp(logits) / np.exp(logits).sum()
    np.testing.assert_allclose(probabilities(logits), e)


def test_bad_models_and_label_maps(tmp_path, tiny_model, wrong_signature_model):
    model, labels = tiny_model
    (tmp_path / "junk.tflite").write_bytes(b"\x00" * 64)
    with pytest.raises(UserError, match="not a TFLite model"):
        Classifier(tmp_path / "junk.tflite", labels)
    with pytest.raises(UserError, match="no such model"):
        Classifier(tmp_path / "missing.tflite", labels)
    with pytest.raises(UserError, match="expected signature serving_default"):
        Classifier(wrong_signature_model, labels)
    write_label_map(tmp_path / "five.json", ["a", "b", "c", "d", "e"])
    with pytest.raises(UserError, match="5 labels, but .* has 6 outputs"):
        Classifier(model, tmp_path / "five.json")
    with pytest.raises(UserError, match="threshold"):
        Classifier(model, labels, threshold=1.5)


def test_no_hand_in_any_frame_is_no_sign(classifier):
    """A real sequence with its hands taken out (as an idle recording, body only) is `unknown`;
    one frame with a hand is enough to let the model answer."""
    from asl_live.model.classifier import has_hand
    from asl_live.formats.layout import LEFT_HAND, RIGHT_HAND

    sign, frames = traduttore_sequences()[0]
    assert classifier(frames).sign == sign
    body_only = frames.copy()
    body_only[:, np.r_[LEFT_HAND, RIGHT_HAND]] = np.nan
    assert not has_hand(body_only)
    pred = classifier(body_only)
    assert pred.sign == "unknown" and len(pred.top) == 5
    seen = np.flatnonzero(~np.isnan(frames[:, np.r_[LEFT_HAND, RIGHT_HAND], 0]).all(1))
    one = body_only.copy()
    one[seen[0]] = frames[seen[0]]
    assert has_hand(one)
