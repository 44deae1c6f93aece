"""Augmentation of preprocessed feature batches (numpy, on the CPU feeding the model).

Works on `frames` float32[B, 32, L, 3] (0 = missing) and `positions` float32[B, 32]
(-1 = padding), where the L columns are the frame rows `rows` (543-layout numbers).
"""

from __future__ import annotations

import numpy as np

from asl_live.formats.layout import FACE, LEFT_HAND, POSE, POSE_MIRROR, RIGHT_HAND, ROWS_PER_FRAME

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


def _gather_frames(frames, positions, src, valid):
    """Per sample b, output frame j = input frame src[b, j] where valid[b, j], else padding."""
    rows = np.arange(len(frames))[:, None]
    f, p = frames[rows, src], positions[rows, src]
    f[~valid] = 0
    p[~valid] = -1.0
    return f, p


class Augmenter:
    """Random augmentation of a whole batch at once (vectorised: it feeds a GPU at thousands/s)."""

    def __init__(self, config: Config, rows: np.ndarray, rng: np.random.Generator):
        self.c = config
        self.rng = rng
        self.mirror = mirror_permutation(rows) if config.mirror > 0 else None
        rows = np.asarray(rows)
        # column groups for body proportions and dropped hands
        self.hands = [np.flatnonzero((rows >= h.start) & (rows < h.stop)) for h in (LEFT_HAND, RIGHT_HAND)]
        pose = rows - POSE.start
        in_pose = (rows >= POSE.start) & (rows < POSE.stop)
        self.shoulders = np.flatnonzero(in_pose & np.isin(pose, (11, 12)))
        self.head = np.flatnonzero(in_pose & (pose <= 10))
        self.arms = np.flatnonzero(in_pose & (pose >= 13) & (pose <= 22))

    def __call__(self, frames: np.ndarray, positions: np.ndarray):
        c, rng = self.c, self.rng
        f, p = frames.astype(np.float32, copy=True), positions.astype(np.float32, copy=True)
        b, t = p.shape
        present = (f[..., :2] != 0).any(axis=-1)  # [B, T, L]

        if self.mirror is not None:
            sel = np.flatnonzero(rng.random(b) < c.mirror)
            seen = present[sel][..., None]
            f[sel] = np.where(seen, f[sel] * np.float32([-1, 1, 1]) + np.float32([1, 0, 0]), 0)[:, :, self.mirror]
            present[sel] = present[sel][:, :, self.mirror]

        sel = np.flatnonzero(rng.random(b) < c.affine)
        if sel.size:
            k = sel.size
            angle = np.deg2rad(rng.uniform(-15, 15, k))
            scale = rng.uniform(0.8, 1.2, k)
            shear = rng.uniform(-0.1, 0.1, k)
            cos, sin = np.cos(angle) * scale, np.sin(angle) * scale
            a, bb, cc, d = (v.astype(np.float32)[:, None, None] for v in (cos, cos * shear - sin, sin, sin * shear + cos))
            sx, sy = (v.astype(np.float32)[:, None, None] for v in rng.uniform(-0.08, 0.08, (2, k)))
            x, y = f[sel, :, :, 0] - 0.5, f[sel, :, :, 1] - 0.5
            seen = present[sel]
            f[sel, :, :, 0] = np.where(seen, a * x + bb * y + 0.5 + sx, 0)
            f[sel, :, :, 1] = np.where(seen, cc * x + d * y + 0.5 + sy, 0)

        sel = np.flatnonzero(rng.random(b) < c.body_shape)
        if sel.size:
            self._body_shape(f, present, sel)
        sel = np.flatnonzero(rng.random(b) < c.camera)
        if sel.size:
            self._camera(f, present, sel)

        j = np.arange(t)[None, :]
        n = (p != -1).sum(axis=1)
        sel = (rng.random(b) < c.crop) & (n > 4)
        if sel.any():  # another start and end: recordings are trimmed differently around a sign
            m = np.where(sel, np.maximum(2, np.round(n * rng.uniform(0.6, 1.0, b))), n).astype(int)
            start = np.floor(rng.random(b) * (n - m + 1)).astype(int)
            f, p = _gather_frames(f, p, np.minimum(start[:, None] + j, t - 1), j < m[:, None])
            n = m

        sel = (rng.random(b) < c.resample) & (n > 2)
        if sel.any():
            m = np.where(sel, np.clip(np.round(n * rng.uniform(0.7, 1.3, b)), 2, t), n).astype(int)
            src = np.round(j * ((n - 1) / np.maximum(m - 1, 1))[:, None]).astype(int)
            f, p = _gather_frames(f, p, np.minimum(src, t - 1), j < m[:, None])
            n = m

        sel = (rng.random(b) < c.drop_frames) & (n > 4)
        if sel.any():
            k = np.where(sel, rng.integers(1, np.maximum(2, n // 5)), 0)
            scores = np.where(j < n[:, None], rng.random((b, t)), np.inf)
            rank = np.argsort(np.argsort(scores, axis=1), axis=1)
            keep = (j < n[:, None]) & (rank >= k[:, None])
            order = np.argsort(~keep, axis=1, kind="stable")
            f, p = _gather_frames(f, p, order, j < keep.sum(axis=1)[:, None])

        sel = np.flatnonzero(rng.random(b) < c.drop_landmarks)
        if sel.size:
            gone = rng.random((sel.size,) + f.shape[1:3]) < 0.1
            f[sel] = np.where(gone[..., None], 0, f[sel])

        sel = np.flatnonzero(rng.random(b) < c.drop_hand)
        if sel.size:  # MediaPipe loses a hand in some frames (motion blur, out of view)
            side = np.zeros((2, f.shape[2]), bool)
            for i, cols in enumerate(self.hands):
                side[i, cols] = True
            cols = side[rng.integers(0, 2, sel.size)]                               # [k, L]
            frames_gone = rng.random((sel.size, t)) < rng.uniform(0.1, 0.5, (sel.size, 1))  # [k, T]
            gone = frames_gone[:, :, None] & cols[:, None, :]
            f[sel] = np.where(gone[..., None], 0, f[sel])

        sel = np.flatnonzero(rng.random(b) < c.jitter)
        if sel.size:  # landmark noise: MediaPipe's own jitter differs with camera and light
            sigma = rng.uniform(0.001, 0.005, sel.size).astype(np.float32)[:, None, None, None]
            noise = rng.standard_normal((sel.size,) + f.shape[1:3] + (2,)).astype(np.float32) * sigma
            seen = (f[sel, ..., :2] != 0).any(-1, keepdims=True)
            f[sel, ..., :2] = np.where(seen, f[sel, ..., :2] + noise, 0)
        return f.astype(np.float32), p.astype(np.float32)

    def _body_shape(self, f, present, sel):
        """Other body proportions: head, arms and hands a little bigger or smaller around their joints."""
        rng, k = self.rng, sel.size
        x = f[sel, ..., :2]
        seen = present[sel][..., None]
        if self.shoulders.size == 2:
            sh = x[:, :, self.shoulders]
            ok = (sh != 0).all(axis=(2, 3), keepdims=True)
            centre = np.where(ok[:, :, 0], sh.mean(axis=2), 0.5)[:, :, None, :]
        else:
            centre = np.full((k, x.shape[1], 1, 2), 0.5, np.float32)
        for cols, lo, hi in ((self.head, 0.85, 1.15), (self.arms, 0.8, 1.2)):
            if cols.size:
                s = rng.uniform(lo, hi, (k, 1, 1, 2)).astype(np.float32)
                x[:, :, cols] = centre + (x[:, :, cols] - centre) * s
        for cols in self.hands:
            if cols.size:  # the hand keeps its wrist (column 0 of the hand) and its place
                wrist = x[:, :, cols[:1]]
                x[:, :, cols] = wrist + (x[:, :, cols] - wrist) * rng.uniform(0.8, 1.2, (k, 1, 1, 1)).astype(np.float32)
        f[sel, ..., :2] = np.where(seen, x, 0)

    def _camera(self, f, present, sel):
        """Another camera: picture aspect (x and y scaled apart) and a slight perspective tilt."""
        rng, k = self.rng, sel.size
        x, y = f[sel, ..., 0] - 0.5, f[sel, ..., 1] - 0.5
        aspect = np.exp(rng.uniform(np.log(0.6), np.log(1.67), (k, 1, 1))).astype(np.float32)
        px, py = (rng.uniform(-0.3, 0.3, (2, k, 1, 1))).astype(np.float32)
        w = 1.0 + px * x + py * y
        seen = present[sel]
        f[sel, ..., 0] = np.where(seen, x / w + 0.5, 0)
        f[sel, ..., 1] = np.where(seen, y * aspect / w + 0.5, 0)
