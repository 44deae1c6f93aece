"""The in-model preprocessing (TF) on real sequences: the reference's semantics, and the
numpy cache path gives the same arrays."""

from pathlib import Path

import numpy as np
import pytest

from asl_live.formats.gislr import read_parquet
from asl_live.formats.layout import LEFT_HAND, LIPS, POSE_UPPER, RIGHT_HAND, hands_visible
from train.augment import MIRROR_ROWS, mirror_permutation
from train.preprocess import (CACHE_ROWS, INPUT_FRAMES, cache_columns, preprocess_numpy,
                              preprocess_tf, selected_rows)

from datasets import fixture_sequences

GISLR = Path(__file__).parent / "fixtures" / "gislr_10042041.parquet"


@pytest.fixture(scope="module")
def gislr():
    return read_parquet(GISLR)


@pytest.fixture(scope="module")
def in_model():
    import tensorflow as tf

    fns = {}

    def run(frames, rows, trim=False):
        key = (tuple(rows), trim)
        if key not in fns:
            fns[key] = tf.function(lambda x: preprocess_tf(x, rows, trim=trim),
                                   input_signature=[tf.TensorSpec([None, 543, 3], tf.float32)])
        f, p = fns[key](frames)
        return f.numpy(), p.numpy()

    return run


def _real_sequences(gislr):
    """Real frames in many lengths: both branches (pad / mean-pool) and the r = 1 case."""
    frames, _, _ = fixture_sequences()
    yield gislr
    yield gislr[:7]
    for n in (1, 2, 3, 10, 60):  # fixture sequences (no face), joined end to end
        yield np.concatenate(frames[:n])
    yield np.concatenate([gislr] * 12)  # 1260 frames: more than 32 * 32


def test_numpy_cache_path_equals_in_model_path(gislr, in_model):
    for seq in _real_sequences(gislr):
        for rows in (CACHE_ROWS, selected_rows()):
            f_tf, p_tf = in_model(seq, rows)
            f_np, p_np = preprocess_numpy(seq, rows)
            assert f_tf.shape == f_np.shape == (INPUT_FRAMES, len(rows), 3)
            np.testing.assert_allclose(f_np, f_tf, rtol=0, atol=2e-6)
            np.testing.assert_array_equal(p_np, p_tf)
            assert not np.isnan(f_np).any()


def test_selection_commutes_with_preprocessing(gislr):
    full, _ = preprocess_numpy(gislr, CACHE_ROWS)
    for parts, pose in ((["lips", "left_hand", "right_hand", "pose"], "upper"),
                        (["left_hand", "right_hand", "pose"], "all")):
        direct, _ = preprocess_numpy(gislr, selected_rows(parts, pose))
        np.testing.assert_array_equal(full[:, cache_columns(parts, pose)], direct)


def test_reference_selection_is_92_landmarks():
    rows = selected_rows()
    assert len(rows) == 92
    np.testing.assert_array_equal(rows[:40], LIPS)
    np.testing.assert_array_equal(rows[82:], POSE_UPPER)
    assert rows[82] == 502 and rows[-1] == 511


def _frames_with_hands(n):
    frames = np.concatenate(fixture_sequences()[0])
    return frames[hands_visible(frames).any(axis=1)][:n].copy()


def test_short_sequence_keeps_hand_frames_and_their_positions(in_model):
    """The reference's worked example: 23 frames, hands seen in 0-9 and 22 only."""
    seq = _frames_with_hands(23)
    seq[10:22, LEFT_HAND] = np.nan
    seq[10:22, RIGHT_HAND] = np.nan
    features, positions = in_model(seq, selected_rows())
    expected = np.full(INPUT_FRAMES, -1.0, np.float32)
    expected[:11] = list(range(10)) + [22]
    np.testing.assert_array_equal(positions, expected)
    np.testing.assert_array_equal(features[11:], 0)
    kept = np.nan_to_num(seq[list(range(10)) + [22]][:, selected_rows()])
    np.testing.assert_array_equal(features[:11], kept)


def test_long_sequence_is_mean_pooled_in_order(gislr, in_model):
    seq = _frames_with_hands(100)
    features, positions = in_model(seq, selected_rows())
    assert (positions >= 0).all() and (np.diff(positions) > 0).all()
    assert positions[0] < 3 and positions[-1] > len(seq) - 4
    hands = features[:, 40:82, :2]
    assert (hands != 0).any(axis=(1, 2)).all()
    # the real GISLR file shows a hand in 6 of its 105 frames; 12 copies give 72 kept frames
    # (> 32: pooled), and its lips are seen everywhere: pooled lips are averages of real ones
    tiled = np.concatenate([gislr] * 12)
    assert hands_visible(tiled).any(axis=1).sum() == 72
    features, positions = in_model(tiled, selected_rows())
    lips = features[:, :40, :2]
    assert (lips > 0).all() and (lips < 1).all()
    assert (np.diff(positions) > 0).all()


def test_no_hand_anywhere_keeps_every_frame(gislr, in_model):
    seq = gislr[:12].copy()
    seq[:, LEFT_HAND] = np.nan
    seq[:, RIGHT_HAND] = np.nan
    _, positions = in_model(seq, selected_rows())
    np.testing.assert_array_equal(positions[:12], np.arange(12))
    assert (positions[12:] == -1).all()


def test_mirror_swaps_hands_and_is_an_involution():
    assert (MIRROR_ROWS[MIRROR_ROWS] == np.arange(543)).all()
    assert MIRROR_ROWS[LEFT_HAND.start] == RIGHT_HAND.start
    rows = selected_rows()
    perm = mirror_permutation(rows)
    assert (perm[perm] == np.arange(len(rows))).all()


STREAMS = Path(__file__).parent / "fixtures" / "stream_landmarks.npz"


def _dpan_clips():
    """Real DPAN prompt clips (543 rows, NaN outside hands and pose): the hand rises from
    below the picture, signs, and goes back down."""
    with np.load(STREAMS) as z:
        for k in sorted(k for k in z.files if k.startswith("dpan_")):
            full = np.full((len(z[k]), 543, 3), np.nan, np.float32)
            full[:, LEFT_HAND.start:] = z[k]
            yield full


def test_trim_numpy_equals_in_model(gislr, in_model):
    from train.preprocess import hand_up

    clips = list(_dpan_clips())
    assert all(hand_up(c).any() and not hand_up(c)[0] for c in clips)  # they do start at rest
    for seq in [*_real_sequences(gislr), *clips]:
        for rows in (CACHE_ROWS, selected_rows()):
            f_tf, p_tf = in_model(seq, rows, trim=True)
            f_np, p_np = preprocess_numpy(seq, rows, trim=True)
            np.testing.assert_allclose(f_np, f_tf, rtol=0, atol=2e-6)
            np.testing.assert_array_equal(p_np, p_tf)


def test_trim_drops_the_way_to_and_from_rest_only():
    """Trimmed = the same clip cut from the first to the last frame with a hand above its
    elbow (positions still count from the clip's start); a clip that never rises is whole."""
    from train.preprocess import hand_up

    for clip in _dpan_clips():
        up = np.flatnonzero(hand_up(clip))
        first, last = up[0], up[-1]
        seen = np.flatnonzero(hands_visible(clip).any(1))
        assert seen[0] < first, "the clip's first hand frames are on the way up"
        f, p = preprocess_numpy(clip, CACHE_ROWS, trim=True)
        g, q = preprocess_numpy(clip[first:last + 1], CACHE_ROWS)
        np.testing.assert_array_equal(f, g)
        np.testing.assert_allclose(p[q >= 0], q[q >= 0] + first, rtol=1e-6)
        rising = clip[:first]
        for a, b in zip(preprocess_numpy(rising, CACHE_ROWS, trim=True), preprocess_numpy(rising, CACHE_ROWS)):
            np.testing.assert_array_equal(a, b)
