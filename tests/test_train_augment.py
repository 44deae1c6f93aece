"""Augmentation on real preprocessed features keeps the feature contract."""

import numpy as np
from datasets import fixture_sequences

from asl_live.layout import LEFT_HAND, RIGHT_HAND
from train.augment import Augmenter
from train.config import Config
from train.preprocess import preprocess_numpy, selected_rows

ROWS = selected_rows(["left_hand", "right_hand", "pose"], "all")
OFF = dict(mirror=0.0, affine=0.0, resample=0.0, drop_frames=0.0, drop_landmarks=0.0)


def _batch():
    frames = fixture_sequences()[0]
    pairs = [preprocess_numpy(np.concatenate(frames[i:i + k]), ROWS) for i, k in ((0, 1), (30, 3), (60, 1))]
    return np.stack([f for f, _ in pairs]), np.stack([p for _, p in pairs])


def _augmenter(**on):
    return Augmenter(Config(**{**OFF, **on}), ROWS, np.random.default_rng(0))


def test_mirror_flips_x_and_swaps_the_hands():
    f, p = _batch()
    m, mp = _augmenter(mirror=1.0)(f, p)
    np.testing.assert_array_equal(mp, p)
    left = [np.flatnonzero(ROWS == r)[0] for r in range(LEFT_HAND.start, LEFT_HAND.stop)]
    right = [np.flatnonzero(ROWS == r)[0] for r in range(RIGHT_HAND.start, RIGHT_HAND.stop)]
    seen = f[:, :, right, 0] != 0
    assert seen.any()
    np.testing.assert_allclose(m[:, :, left, 0][seen], 1 - f[:, :, right, 0][seen], atol=1e-6)
    np.testing.assert_array_equal(m[:, :, left, 1], f[:, :, right, 1])
    twice, _ = _augmenter(mirror=1.0)(m, mp)
    np.testing.assert_allclose(twice, f, atol=1e-6)


def test_every_augmentation_keeps_missing_at_zero_and_padding_at_the_end():
    f, p = _batch()
    aug = _augmenter(mirror=0.5, affine=1.0, resample=1.0, drop_frames=1.0, drop_landmarks=1.0)
    for _ in range(20):
        a, ap = aug(f, p)
        assert a.shape == f.shape and ap.shape == p.shape and a.dtype == np.float32
        for frames, positions in zip(a, ap):
            n = int((positions != -1).sum())
            assert n >= 2 and (positions[n:] == -1).all() and (np.diff(positions[:n]) >= 0).all()
            assert (frames[n:] == 0).all()
        assert not np.isnan(a).any()
    # affine moves real landmarks but never invents one where nothing was seen
    moved, _ = _augmenter(affine=1.0)(f, p)
    np.testing.assert_array_equal(moved[..., :2] == 0, f[..., :2] == 0)
    assert not np.allclose(moved, f)
