"""The bundled letters model: import-mpdata of real one-hand frames -> asl-live --letters --clip."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from asl_live import bundled
from asl_live.model.classifier import Classifier
from asl_live.cli import main as asl_live
from asl_live.formats.layout import LEFT_HAND, RIGHT_HAND
from train import import_mpdata

FIXTURES = Path(__file__).parent / "fixtures"
LETTERS = FIXTURES / "letters_mpdata"


def test_import_then_replay_gives_one_line_per_sequence(tmp_path, capsys):
    out = tmp_path / "ds"
    assert import_mpdata.main([str(LETTERS), "--out", str(out), "--keep-names", "--quiet"]) == 0
    capsys.readouterr()
    assert asl_live(["--letters", "--replay", str(out), "--headless", "--clip"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert len(lines) == 10  # 5 letters x 2 sequences
    assert sorted(x["label"] for x in lines) == sorted(["A", "B", "L", "O", "W"] * 2)
    for x in lines:
        assert x["sign"] in set("abcdefghijklmnopqrstuvwxyz") | {"unknown"}
    # these photos were among the model's training data: it must name them (not a held-out figure)
    assert sum(x["sign"] == x["label"].lower() for x in lines) >= 9


def test_either_hand_same_answer():
    c = Classifier(bundled.LETTERS_MODEL, bundled.LETTERS_LABELS)
    assert c.num_classes == 26 and c.labels[0] == "a"
    hand = np.load(LETTERS / "MP_Data" / "L" / "0" / "0.npy").reshape(21, 3)
    right = np.full((1, 543, 3), np.nan, np.float32)
    right[0, RIGHT_HAND] = hand
    left = np.full((1, 543, 3), np.nan, np.float32)
    m = hand.copy()
    m[:, 0] = 1.0 - m[:, 0]  # its mirror image, as a left hand
    left[0, LEFT_HAND] = m * 0.5 + 0.2  # smaller and elsewhere in the picture
    left[0, LEFT_HAND, 2] = m[:, 2] * 0.5
    p, q = c.probabilities(right), c.probabilities(left)
    np.testing.assert_allclose(p, q, atol=1e-5)
    assert c.labels[int(p.argmax())] == "l"
    empty = c.probabilities(np.full((4, 543, 3), np.nan, np.float32))
    np.testing.assert_allclose(empty, 1 / 26, atol=1e-6)  # no hand: no letter preferred


def test_letters_bad_replay_is_one_line(capsys, tmp_path):
    assert asl_live(["--letters", "--replay", str(tmp_path / "nope.parquet"), "--headless"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0]


def test_train_letters_bad_data_is_one_line(tmp_path, capsys):
    from train.cli import main as asl_train

    assert asl_train(["letters", "--data", str(tmp_path / "none"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "train.csv" in err[0]


def _real_hand(letter="W"):
    return np.load(LETTERS / "MP_Data" / letter / "0" / "0.npy").reshape(1, 21, 3)


def test_palm_frame_features_ignore_roll_position_and_size():
    from train.letters import Recipe, hand_shape

    recipe = Recipe(frame="palm", extras=True)
    hand = _real_hand()
    a = np.deg2rad(50)
    turn = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]], np.float32)
    moved = (hand - hand[:, :1]) @ turn.T * 1.7 + np.array([0.3, 0.1, 0.0], np.float32)
    f, g = np.asarray(hand_shape(hand, recipe)), np.asarray(hand_shape(moved.astype(np.float32), recipe))
    assert f.shape == (1, 2 + 42 + 210 + 15 + 2)
    np.testing.assert_allclose(f[:, 2:], g[:, 2:], atol=1e-4)  # all but the hand's direction
    assert np.abs(f[:, :2] - g[:, :2]).max() > 0.5  # which the model still gets (H against U)
    # the image frame keeps the roll in the coordinates themselves
    image = Recipe()
    assert np.abs(np.asarray(hand_shape(hand, image)) - np.asarray(hand_shape(moved.astype(np.float32), image))).max() > 0.5


def test_crossing_feature_tells_crossed_fingers():
    from train.letters import Recipe, hand_shape

    recipe = Recipe(frame="palm", extras=True)
    hand = _real_hand("W")  # index, middle and ring spread: not crossed
    crossed = hand.copy()
    crossed[0, [8, 12], :2] = hand[0, [12, 8], :2]  # index and middle tips swap sides (R)
    cross_open = np.asarray(hand_shape(hand, recipe))[0, -2]
    cross_r = np.asarray(hand_shape(crossed, recipe))[0, -2]
    assert cross_open > 0.3 and cross_r < -0.3


def test_train_letters_ensemble_exports_a_model_that_names_its_training_letters(tmp_path, capsys):
    """`asl-train letters` end to end on the real fixture frames: 2 seeds, TFLite parity checked inside."""
    from train.cli import main as asl_train

    ds = tmp_path / "ds"
    assert import_mpdata.main([str(LETTERS), "--out", str(ds), "--keep-names", "--quiet"]) == 0
    out = tmp_path / "model"
    assert asl_train(["letters", "--data", str(ds), "--out", str(out), "--epochs", "40", "--seeds", "2"]) == 0
    info = json.loads((out / "letters_train.json").read_text())
    assert info["recipe"]["seeds"] == 2 and info["parity_max_abs"] < 1e-4
    assert info["classes"] == ["a", "b", "l", "o", "w"]
    c = Classifier(out / "letters.tflite", out / "letters_map.json")
    frame = np.full((1, 543, 3), np.nan, np.float32)
    frame[0, RIGHT_HAND] = _real_hand("L")[0]
    assert c.labels[int(c.probabilities(frame).argmax())] == "l"
