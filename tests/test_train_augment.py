"""Augmentation on real preprocessed features keeps the feature contract."""

import numpy as np
from datasets import fixture_sequences

from asl_live.formats.layout import LEFT_HAND, RIGHT_HAND
from train.augment import Augmenter
from train.config import Config
from train.preprocess import preprocess_numpy, selected_rows

ROWS = selected_rows(["left_hand", "right_hand", "pose"], "all")
OFF = dict(mirror=0.0, affine=0.0, resample=0.0, drop_frames=0.0, drop_landmarks=0.0, crop=0.0,
           body_shape=0.0, camera=0.0, drop_hand=0.0, jitter=0.0)


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
    aug = _augmenter(mirror=0.5, affine=1.0, resample=1.0, drop_frames=1.0, drop_landmarks=1.0, crop=1.0,
                     body_shape=1.0, camera=1.0, drop_hand=1.0, jitter=1.0)
    for _ in range(20):
        a, ap = aug(f, p)
        assert a.shape == f.shape and ap.shape == p.shape and a.dtype == np.float32
        for frames, positions in zip(a, ap):
            n = int((positions != -1).sum())
            assert n >= 2 and (positions[n:] == -1).all() and (np.diff(positions[:n]) >= 0).all()
            assert (frames[n:] == 0).all()
        assert not np.isnan(a).any()
    # the geometric ones move real landmarks but never invent one where nothing was seen
    for kind in ("affine", "body_shape", "camera", "jitter"):
        moved, _ = _augmenter(**{kind: 1.0})(f, p)
        np.testing.assert_array_equal(moved[..., :2] == 0, f[..., :2] == 0, err_msg=kind)
        assert not np.allclose(moved, f), kind


def test_crop_keeps_a_contiguous_stretch_in_order():
    f, p = _batch()
    for seed in range(5):
        a, ap = Augmenter(Config(**{**OFF, "crop": 1.0}), ROWS, np.random.default_rng(seed))(f, p)
        for before, after in zip(p, ap):
            kept = after[after != -1]
            real = before[before != -1]
            start = int(np.flatnonzero(real == kept[0])[0])
            np.testing.assert_array_equal(kept, real[start:start + len(kept)])
            assert len(kept) >= min(len(real), max(2, round(0.6 * len(real)) - 1))


def test_dropped_hand_frames_remove_whole_hands_only():
    f, p = _batch()
    a, _ = _augmenter(drop_hand=1.0)(f, p)
    for cols in (LEFT_HAND, RIGHT_HAND):
        idx = [np.flatnonzero(ROWS == r)[0] for r in range(cols.start, cols.stop)]
        hand_a, hand_f = a[:, :, idx], f[:, :, idx]
        gone = (hand_a == 0).all(axis=(2, 3)) & (hand_f != 0).any(axis=(2, 3))
        kept = ~gone & (hand_f != 0).any(axis=(2, 3))
        np.testing.assert_array_equal(hand_a[kept], hand_f[kept])  # a hand is dropped whole or kept as is
    others = [i for i, r in enumerate(ROWS) if not (LEFT_HAND.start <= r < RIGHT_HAND.stop and
                                                    (r < LEFT_HAND.stop or r >= RIGHT_HAND.start))]
    np.testing.assert_array_equal(a[:, :, others], f[:, :, others])
