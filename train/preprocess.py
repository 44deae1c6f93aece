"""The reference notebook's preprocessing: raw frames -> a fixed 32-frame feature array.

`preprocess_tf` is THE definition; it is traced into every exported model, so the
app, Kaggle and training all see the same features. `preprocess_numpy` is the
same computation in numpy for building the training cache without TensorFlow in
the worker processes; `tests/test_train_preprocess.py` checks that both give the
same arrays on real sequences.

Semantics (those of the reference, with its quirks fixed where noted):

1. keep the frames in which a hand (left or right) is seen; if no frame has a
   hand, keep them all (the reference then produces an all-empty input and a NaN
   prediction);
2. select the landmark rows (lips, left hand, right hand, pose points);
3. n kept frames < 32: pad with empty frames (position -1);
   n >= 32: repeat each frame r = 1024 // n times when n < 1024 (the reference
   divides by the count *before* dropping frames, which can give r = 0), pad both
   ends with copies of the edge frames to a multiple of 32 plus 32, and
   mean-pool 32 equal windows, ignoring NaN. Each output frame carries the mean
   original frame number of its window (its "position");
4. NaN -> 0 (0 marks a missing coordinate from here on).

With `trim=True`, step 1 also drops the way to and from rest: the frames at the start and
at the end of the sequence in which no seen hand is above its elbow (a hand's mean y below
the pose elbow of its side; a frame without elbows counts as up). Dictionary and studio
clips start and end with the hands at rest, webcam and phone clips mostly start at the sign:
trimmed, all of them begin where the hand is up. Interior frames are never dropped (a sign
may pass below the elbow), and a sequence with no hand above an elbow is kept whole.

Both functions are branch-free (one gather plan covers both cases) so that the
TFLite graph has no control flow.
"""

from __future__ import annotations

import numpy as np

from asl_live.formats.layout import HANDS, LEFT_HAND, LIPS, POSE, POSE_ALL, POSE_UPPER, RIGHT_HAND

# Pose elbows: 13 = left, 14 = right (MediaPipe Pose), the sides of LEFT_HAND / RIGHT_HAND.
LEFT_ELBOW, RIGHT_ELBOW = POSE.start + 13, POSE.start + 14

INPUT_FRAMES = 32
PART_NAMES = ("lips", "left_hand", "right_hand", "pose")
# upper = the reference's 502-511 (arms and hands); all = 489-521; body = 489-511, the upper
# body with the head (nose, eyes, ears, mouth) and shoulders that body-relative features need.
POSE_CHOICES = ("upper", "all", "body")
POSE_BODY = np.arange(POSE.start, POSE.start + 23)

_PART_ROWS = {
    "lips": LIPS,
    "left_hand": np.arange(LEFT_HAND.start, LEFT_HAND.stop),
    "right_hand": np.arange(RIGHT_HAND.start, RIGHT_HAND.stop),
}

# The training cache keeps the widest selection; a model picks its columns from it.
CACHE_ROWS = np.concatenate([_PART_ROWS["lips"], _PART_ROWS["left_hand"],
                             _PART_ROWS["right_hand"], POSE_ALL])


def part_rows(parts=PART_NAMES, pose: str = "upper") -> dict[str, np.ndarray]:
    """Frame rows of each selected part, in the canonical part order."""
    unknown = [p for p in parts if p not in PART_NAMES]
    if unknown or not parts:
        raise ValueError(f"parts must be a non-empty subset of {PART_NAMES}, got {list(parts)}")
    if pose not in POSE_CHOICES:
        raise ValueError(f"pose must be one of {POSE_CHOICES}, got {pose!r}")
    rows = dict(_PART_ROWS, pose={"upper": POSE_UPPER, "all": POSE_ALL, "body": POSE_BODY}[pose])
    return {p: rows[p] for p in PART_NAMES if p in parts}


def selected_rows(parts=PART_NAMES, pose: str = "upper") -> np.ndarray:
    return np.concatenate(list(part_rows(parts, pose).values()))


def cache_columns(parts=PART_NAMES, pose: str = "upper") -> np.ndarray:
    """Indices into CACHE_ROWS of the selected rows (selection commutes with preprocessing)."""
    where = {int(r): i for i, r in enumerate(CACHE_ROWS)}
    return np.array([where[int(r)] for r in selected_rows(parts, pose)], dtype=np.int64)


# --------------------------------------------------------------------------- TensorFlow (in-model)

def _hand_up_tf(frames):
    """bool[T]: some seen hand is above its elbow (or its elbow is not seen)."""
    import tensorflow as tf

    ups = []
    for hand, elbow in ((LEFT_HAND, LEFT_ELBOW), (RIGHT_HAND, RIGHT_ELBOW)):
        y = frames[:, hand.start:hand.stop, 1]
        present = tf.logical_not(tf.math.is_nan(y))
        count = tf.reduce_sum(tf.cast(present, tf.float32), axis=1)
        mean = tf.reduce_sum(tf.where(present, y, 0.0), axis=1) / tf.maximum(count, 1.0)
        ey = frames[:, elbow, 1]
        ups.append(tf.logical_and(count > 0, tf.logical_or(tf.math.is_nan(ey), mean < ey)))
    return tf.logical_or(ups[0], ups[1])


def trim_window_tf(frames):
    """bool[T]: the frames `trim` keeps, from the first to the last with a hand above its elbow
    (all of them when there is none)."""
    import tensorflow as tf

    up = _hand_up_tf(frames)
    t = tf.range(tf.shape(frames)[0])
    first = tf.reduce_min(tf.where(up, t, tf.shape(frames)[0]))
    last = tf.reduce_max(tf.where(up, t, -1))
    return tf.logical_or(tf.logical_and(t >= first, t <= last), tf.logical_not(tf.reduce_any(up)))


def preprocess_tf(frames, rows, n_out: int = INPUT_FRAMES, trim: bool = False):
    """float32[T, 543, 3] (NaN = missing) -> (float32[n_out, len(rows), 3], float32[n_out])."""
    import tensorflow as tf

    rows = tf.constant(np.asarray(rows, dtype=np.int32))
    hands = tf.gather(frames, tf.constant(HANDS.astype(np.int32)), axis=1)
    seen = tf.reduce_any(tf.logical_not(tf.math.is_nan(hands)), axis=[1, 2])
    if trim:
        seen = tf.logical_and(seen, trim_window_tf(frames))
    seen = tf.logical_or(seen, tf.logical_not(tf.reduce_any(seen)))
    kept = tf.cast(tf.where(seen)[:, 0], tf.int32)
    data = tf.gather(tf.gather(frames, kept, axis=0), rows, axis=1)

    n = tf.shape(kept)[0]
    short = n < n_out
    r = tf.where(n < n_out * n_out, (n_out * n_out) // n, 1)
    length = n * r
    pool = (length + n_out - 1) // n_out
    pad = pool * n_out - length
    window = tf.where(short, 1, pool + 1)
    left = tf.where(short, 0, pad // 2 + n_out // 2)

    j = tf.range(n_out * window) - left
    src = tf.where(short, tf.minimum(j, n - 1), tf.clip_by_value(j, 0, length - 1) // r)
    valid = tf.logical_or(tf.logical_not(short), j < n)

    nan = tf.constant(np.nan, tf.float32)
    values = tf.where(valid[:, None, None], tf.gather(data, src, axis=0), nan)
    positions = tf.where(valid, tf.cast(tf.gather(kept, src), tf.float32), nan)

    values = tf.reshape(values, [n_out, window, -1, 3])
    present = tf.logical_not(tf.math.is_nan(values))
    count = tf.reduce_sum(tf.cast(present, tf.float32), axis=1)
    total = tf.reduce_sum(tf.where(present, values, 0.0), axis=1)
    features = tf.where(count > 0, total / tf.maximum(count, 1.0), 0.0)

    positions = tf.reshape(positions, [n_out, window])
    pcount = tf.reduce_sum(tf.cast(tf.logical_not(tf.math.is_nan(positions)), tf.float32), axis=1)
    ptotal = tf.reduce_sum(tf.where(tf.math.is_nan(positions), 0.0, positions), axis=1)
    positions = tf.where(pcount > 0, ptotal / tf.maximum(pcount, 1.0), -1.0)
    return features, positions


# --------------------------------------------------------------------------- numpy (cache)

def hand_up(frames: np.ndarray) -> np.ndarray:
    """bool[T]: some seen hand is above its elbow (or its elbow is not seen)."""
    up = np.zeros(len(frames), bool)
    for hand, elbow in ((LEFT_HAND, LEFT_ELBOW), (RIGHT_HAND, RIGHT_ELBOW)):
        y = frames[:, hand, 1]
        present = ~np.isnan(y)
        count = present.sum(axis=1)
        mean = np.where(present, y, np.float32(0)).sum(axis=1, dtype=np.float32) / np.maximum(count, 1).astype(np.float32)
        ey = frames[:, elbow, 1]
        up |= (count > 0) & (np.isnan(ey) | (mean < ey))
    return up


def preprocess_numpy(frames: np.ndarray, rows, n_out: int = INPUT_FRAMES, trim: bool = False):
    """The same as `preprocess_tf`, in numpy (for cache workers without TensorFlow)."""
    frames = np.asarray(frames, dtype=np.float32)
    rows = np.asarray(rows)
    seen = ~np.isnan(frames[:, HANDS]).all(axis=(1, 2))
    if trim:
        up = np.flatnonzero(hand_up(frames))
        if up.size:
            t = np.arange(len(frames))
            seen &= (t >= up[0]) & (t <= up[-1])
    if not seen.any():
        seen[:] = True
    kept = np.flatnonzero(seen).astype(np.int32)
    data = frames[kept][:, rows]

    n = kept.size
    if n < n_out:
        features = np.zeros((n_out, rows.size, 3), np.float32)
        features[:n] = np.nan_to_num(data, nan=0.0)
        positions = np.full(n_out, -1.0, np.float32)
        positions[:n] = kept
        return features, positions

    r = (n_out * n_out) // n if n < n_out * n_out else 1
    length = n * r
    pool = (length + n_out - 1) // n_out
    pad = pool * n_out - length
    window = pool + 1
    j = np.arange(n_out * window) - (pad // 2 + n_out // 2)
    src = np.clip(j, 0, length - 1) // r

    values = data[src].reshape(n_out, window, rows.size, 3)
    present = ~np.isnan(values)
    count = present.sum(axis=1, dtype=np.float32)
    total = np.where(present, values, np.float32(0)).sum(axis=1, dtype=np.float32)
    features = np.where(count > 0, total / np.maximum(count, 1), 0).astype(np.float32)
    positions = kept[src].reshape(n_out, window).astype(np.float32).mean(axis=1, dtype=np.float32)
    return features, positions
