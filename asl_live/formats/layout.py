"""The 543-row landmark layout of a frame, in GISLR order, and its index groups.

This module is the one owner of the layout: every other module (the app, the
importers, the training package) takes row numbers and part names from here.
A frame is float32[543, 3] (x, y, z) in MediaPipe's normalised image
coordinates, NaN where a part was not seen.
"""

from __future__ import annotations

import numpy as np

# (part name as written in GISLR parquet `type`, number of landmarks), in row order.
PARTS: tuple[tuple[str, int], ...] = (
    ("face", 468),
    ("left_hand", 21),
    ("pose", 33),
    ("right_hand", 21),
)
ROWS_PER_FRAME = sum(n for _, n in PARTS)  # 543
DIMS = 3


def _part_slices() -> dict[str, slice]:
    out, start = {}, 0
    for name, n in PARTS:
        out[name] = slice(start, start + n)
        start += n
    return out


SLICES: dict[str, slice] = _part_slices()
FACE = SLICES["face"]              # rows 0-467
LEFT_HAND = SLICES["left_hand"]    # rows 468-488
POSE = SLICES["pose"]              # rows 489-521
RIGHT_HAND = SLICES["right_hand"]  # rows 522-542

# Per-row part name and index within the part, as in the parquet `type` and
# `landmark_index` columns.
ROW_TYPES = np.array([name for name, n in PARTS for _ in range(n)], dtype=object)
ROW_LANDMARK_INDEX = np.concatenate([np.arange(n, dtype=np.int16) for _, n in PARTS])

# The 40 lip points of the MediaPipe face mesh (outer and inner contours),
# the lip set used by the GISLR reference notebook.
LIPS_FACE_INDEX = np.array([
    61, 185, 40, 39, 37, 0, 267, 269, 270, 409,
    291, 146, 91, 181, 84, 17, 314, 405, 321, 375,
    78, 191, 80, 81, 82, 13, 312, 311, 310, 415,
    95, 88, 178, 87, 14, 317, 402, 318, 324, 308,
], dtype=np.int64)
LIPS = LIPS_FACE_INDEX + FACE.start  # row numbers in the 543 layout

# Rows of the upper-body pose points the reference uses (pose landmarks 13-22:
# elbows, wrists and the hand points of the pose model) and of the whole pose.
POSE_UPPER = np.arange(POSE.start + 13, POSE.start + 23)
POSE_ALL = np.arange(POSE.start, POSE.stop)
HANDS = np.concatenate([np.arange(LEFT_HAND.start, LEFT_HAND.stop),
                        np.arange(RIGHT_HAND.start, RIGHT_HAND.stop)])

# MediaPipe Holistic's 33 pose landmarks, left/right pairs, used to mirror a
# frame (swap sides) for augmentation and display.
POSE_MIRROR = np.array([0, 4, 5, 6, 1, 2, 3, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15,
                        18, 17, 20, 19, 22, 21, 24, 23, 26, 25, 28, 27, 30, 29, 32, 31])


def empty_frames(n: int) -> np.ndarray:
    """`n` frames in which nothing was seen."""
    return np.full((n, ROWS_PER_FRAME, DIMS), np.nan, dtype=np.float32)


def hands_visible(frames: np.ndarray) -> np.ndarray:
    """bool[T, 2]: whether the left and the right hand were seen in each frame."""
    frames = np.asarray(frames)
    left = ~np.isnan(frames[:, LEFT_HAND, 0]).all(axis=1)
    right = ~np.isnan(frames[:, RIGHT_HAND, 0]).all(axis=1)
    return np.stack([left, right], axis=1)
