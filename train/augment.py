"""Augmentation of preprocessed feature batches (numpy, on the CPU feeding the model).

Works on `frames` float32[B, 32, L, 3] (0 = missing) and `positions` float32[B, 32]
(-1 = padding), where the L columns are the frame rows `rows` (543-layout numbers).
"""

from __future__ import annotations

import numpy as np

from asl_live.layout import FACE, LEFT_HAND, POSE, POSE_MIRROR, RIGHT_HAND, ROWS_PER_FRAME

from .config import Config

# Left/right pairs of the 40 lip points of the face mesh (the midline points map to themselves).
_LIP_PAIRS = {61: 291, 185: 409, 40: 270, 39: 269, 37: 267, 0: 0, 146: 375, 91: 321, 181: 405,
              84: 314, 17: 17, 78: 308, 191: 415, 80: 310, 81: 311, 82: 312, 13: 13, 95: 324,
              88: 318, 178: 402, 87: 317, 14: 14}


def _mirror_rows() -> np.ndarray:
    """The row each of the 543 rows becomes when the picture is mirrored."""
    out = np.arange(ROWS_PER_FRAME)
    for a, b in _LIP_PAIRS.items():
        out[FACE.start + a], out[FACE.start + b] = FACE.start + b, FACE.start + a
    n = LEFT_HAND.stop - LEFT_HAND.start
    out[LEFT_HAND] = np.arange(RIGHT_HAND.start, RIGHT_HAND.start + n)
    out[RIGHT_HAND] = np.arange(LEFT_HAND.start, LEFT_HAND.start + n)
    out[POSE] = POSE.start + POSE_MIRROR
    return out


MIRROR_ROWS = _mirror_rows()


def mirror_permutation(rows: np.ndarray) -> np.ndarray:
    """Column permutation that swaps sides for a selection of rows (closed under mirroring)."""
    where = {int(r): i for i, r in enumerate(rows)}
    try:
        return np.array([where[int(MIRROR_ROWS[r])] for r in rows])
    except KeyError:
        raise ValueError("the selected rows are not closed under mirroring") from None


def _compact(frames, positions, keep):
    """Move the kept frames (bool[32]) to the front and pad the rest."""
    out_f = np.zeros_like(frames)
    out_p = np.full_like(positions, -1.0)
    idx = np.flatnonzero(keep)
    out_f[:idx.size] = frames[idx]
    out_p[:idx.size] = positions[idx]
    return out_f, out_p


class Augmenter:
    def __init__(self, config: Config, rows: np.ndarray, rng: np.random.Generator):
        self.c = config
        self.rng = rng
        self.mirror = mirror_permutation(rows) if config.mirror > 0 else None

    def __call__(self, frames: np.ndarray, positions: np.ndarray):
        frames, positions = frames.copy(), positions.copy()
        for i in range(len(frames)):
            frames[i], positions[i] = self.one(frames[i], positions[i])
        return frames, positions

    def one(self, f: np.ndarray, p: np.ndarray):
        c, rng = self.c, self.rng
        present = (f[..., :2] != 0).any(axis=-1)  # [32, L]
        if self.mirror is not None and rng.random() < c.mirror:
            f = np.where(present[..., None], f * np.array([-1, 1, 1], np.float32)
                         + np.array([1, 0, 0], np.float32), 0)[:, self.mirror]
            present = present[:, self.mirror]
        if rng.random() < c.affine:
            angle = np.deg2rad(rng.uniform(-15, 15))
            scale = rng.uniform(0.8, 1.2)
            shear = rng.uniform(-0.1, 0.1)
            m = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
            m = m @ np.array([[1, shear], [0, 1]])
            shift = rng.uniform(-0.08, 0.08, size=2)
            xy = (f[..., :2] - 0.5) @ m.T.astype(np.float32) + 0.5 + shift.astype(np.float32)
            f[..., :2] = np.where(present[..., None], xy, 0)
        n = int((p != -1).sum())
        if n > 2 and rng.random() < c.resample:
            m = int(np.clip(round(n * rng.uniform(0.7, 1.3)), 2, len(p)))
            src = np.round(np.linspace(0, n - 1, m)).astype(int)
            nf, np_ = np.zeros_like(f), np.full_like(p, -1.0)
            nf[:m], np_[:m] = f[src], p[src]
            f, p, n = nf, np_, m
        if n > 4 and rng.random() < c.drop_frames:
            keep = p != -1
            drop = rng.choice(n, size=rng.integers(1, max(2, n // 5)), replace=False)
            keep[drop] = False
            f, p = _compact(f, p, keep)
        if rng.random() < c.drop_landmarks:
            gone = rng.random(f.shape[:2]) < 0.1
            f = np.where(gone[..., None], 0, f)
        return f.astype(np.float32), p.astype(np.float32)
