"""The signer-invariant features (train.features.BodyFeatures) on real sequences.

The cache path (numpy preprocessing, then the layer run eagerly) and the in-model path
(TF preprocessing and the layer traced in one graph, as in every export) give the same
arrays; where and how big the person is in the picture does not change them; whatever is
missing, they stay finite.
"""

from pathlib import Path

import numpy as np
import pytest

from asl_live.formats.gislr import read_parquet
from asl_live.formats.layout import FACE, LEFT_HAND, POSE, RIGHT_HAND
from train.augment import MIRROR_ROWS
from train.features import BodyFeatures
from train.preprocess import part_rows, preprocess_numpy, preprocess_tf

from datasets import fixture_sequences

GISLR = Path(__file__).parent / "fixtures" / "gislr_10042041.parquet"
PARTS = part_rows(["lips", "left_hand", "right_hand", "pose"], "body")
ROWS = np.concatenate(list(PARTS.values()))


@pytest.fixture(scope="module")
def layer():
    return BodyFeatures(PARTS)


@pytest.fixture(scope="module")
def gislr():
    return read_parquet(GISLR)


def _cache_path(layer, frames):
    f, _ = preprocess_numpy(frames, ROWS)
    return [np.asarray(x)[0] for x in layer(f[None])]


@pytest.fixture(scope="module")
def in_model(layer):
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec([None, 543, 3], tf.float32)])
    def run(frames):
        f, _ = preprocess_tf(frames, ROWS)
        return layer(f[None])

    return lambda frames: [x.numpy()[0] for x in run(frames)]


def _edge_cases(gislr):
    webcam = fixture_sequences()[0]
    no_hand = gislr.copy()
    no_hand[:, LEFT_HAND] = np.nan
    no_hand[:, RIGHT_HAND] = np.nan
    no_pose = gislr.copy()
    no_pose[:, POSE] = np.nan
    nan_frame = gislr.copy()
    nan_frame[3] = np.nan
    return {
        "gislr": gislr, "one frame": gislr[:1], "webcam, no face": np.concatenate(webcam[:3]),
        "long": np.concatenate([gislr] * 3), "no hand": no_hand, "no pose": no_pose,
        "a NaN-only frame": nan_frame, "nothing at all": np.full((4, 543, 3), np.nan, np.float32),
    }


def test_cache_path_equals_in_model_path_on_real_sequences(layer, in_model, gislr):
    for name, frames in _edge_cases(gislr).items():
        cached, traced = _cache_path(layer, frames), in_model(frames)
        for part, a, b in zip(PARTS, cached, traced):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4, err_msg=f"{name}: {part}")  # float32 rounding


def test_features_are_finite_whatever_is_missing(layer, gislr):
    for name, frames in _edge_cases(gislr).items():
        feats = _cache_path(layer, frames)
        assert all(np.isfinite(f).all() for f in feats), name
    nothing = _cache_path(layer, np.full((4, 543, 3), np.nan, np.float32))
    assert all((f == 0).all() for f in nothing)  # all parts "missing", not made-up numbers


def test_place_size_and_picture_aspect_do_not_change_the_features(layer, gislr):
    moved = gislr.copy()
    # the same person further right and down, 30% smaller, in a picture of another aspect
    moved[..., 0] = 0.7 * gislr[..., 0] + 0.2
    moved[..., 1] = 0.7 * 1.6 * gislr[..., 1] - 0.3
    for part, a, b in zip(PARTS, _cache_path(layer, gislr), _cache_path(layer, moved)):
        np.testing.assert_allclose(a, b, atol=2e-4, err_msg=part)
    # ... but where the hands are relative to the body does
    lifted = gislr.copy()
    lifted[:, LEFT_HAND, 1] -= 0.1
    lifted[:, RIGHT_HAND, 1] -= 0.1
    a, b = np.concatenate(_cache_path(layer, gislr), -1), np.concatenate(_cache_path(layer, lifted), -1)
    assert np.abs(a - b).max() > 0.1


def test_left_handed_signing_looks_like_right_handed(layer, gislr):
    seen = ~np.isnan(gislr[:, RIGHT_HAND, 0]).all(1)
    assert seen.sum() != (~np.isnan(gislr[:, LEFT_HAND, 0]).all(1)).sum()  # one hand is dominant
    mirrored = gislr[:, MIRROR_ROWS].copy()
    mirrored[..., 0] = 1 - mirrored[..., 0]
    for part, a, b in zip(PARTS, _cache_path(layer, gislr), _cache_path(layer, mirrored)):
        np.testing.assert_allclose(a, b, atol=1e-5, err_msg=part)


def test_missing_face_keeps_the_other_parts(layer, gislr):
    no_face = gislr.copy()
    no_face[:, FACE] = np.nan
    lips, *others = _cache_path(layer, no_face)
    assert (lips == 0).all()
    for part, a, b in zip(list(PARTS)[1:], others, _cache_path(layer, gislr)[1:]):
        np.testing.assert_allclose(a, b, atol=1e-6, err_msg=part)
