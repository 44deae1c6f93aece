"""Signer-invariant features: where and how big a person is in the picture stops mattering.

The reference notebook standardises every landmark with the training set's mean
and std of its raw image coordinates, so a person who sits further left, nearer
the camera or in a portrait instead of a landscape picture gives the model a
different input for the same sign (a model trained on two webcam signers named
1 of 165 GISLR `thankyou`s right). `BodyFeatures` turns the preprocessed frames
into features that depend on the body, not on the picture. Per sequence:

1. **Dominant hand on the right.** If the left hand is seen in more frames than
   the right one, the whole sequence is mirrored (x -> 1 - x, sides swapped), so
   left- and right-handed signers, and recordings from a mirrored selfie view,
   look the same.
2. **Body frame.** Coordinates relative to the midpoint of the shoulders, x
   divided by the shoulder width and y by the height from the shoulder line to
   the nose, both averaged over the sequence. Two lengths instead of one
   because MediaPipe's x and y are fractions of the picture's width and height:
   a portrait phone video and a landscape webcam differ by 2.4x in y/x, and
   two body lengths measured along each axis cancel that. Without shoulders
   (pose not selected or not seen) the centre and spread of all points seen
   stand in.
3. **Hand shape** in the hand's own frame: each hand's points relative to its
   wrist, divided by its palm length (wrist to middle-finger base, averaged
   over the frames it is seen), so the hand shape does not depend on the
   hand's size or distance.
4. **Motion**: the change of the body-frame coordinates from one input frame
   to the next.

Each part (lips, left hand, right hand, pose) becomes one vector per frame,
all zero where the part was not seen (the model's part embedding turns that
into its learned "missing" embedding). Everything is written with
`keras.ops`, so this one definition runs in training (any backend), in the
Keras model and, traced, inside every exported TFLite model. It never makes a
NaN: every division is guarded, whatever is missing (no hand, no face, a
single frame, nothing at all).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from asl_live.formats.layout import LEFT_HAND, POSE, RIGHT_HAND

from .augment import mirror_permutation

# Pose landmarks used as the body frame.
NOSE, LEFT_SHOULDER, RIGHT_SHOULDER = 0, 11, 12
# Hand landmarks: the wrist and the base of the middle finger (palm length).
WRIST, MIDDLE_MCP = 0, 9
EPS = 1e-3  # smallest body length (image units); guards every division


def _index(rows: np.ndarray, row: int) -> int:
    hits = np.flatnonzero(rows == row)
    return int(hits[0]) if hits.size else -1


def feature_sizes(part_rows: dict[str, np.ndarray]) -> dict[str, int]:
    """Length of each part's feature vector per frame (see `BodyFeatures`)."""
    return {p: len(r) * (6 if p.endswith("hand") else 4) for p, r in part_rows.items()}


@keras.saving.register_keras_serializable("asl_live")
class BodyFeatures(layers.Layer):
    """frames float32[B, T, L, 3] (0 = missing; L = the parts' rows in order) -> one tensor per part.

    `part_rows` maps each part name to its rows in the 543 layout, in column order.
    Output: a list with one float32[B, T, F] per part (F from `feature_sizes`).
    """

    def __init__(self, part_rows: dict, mirror_columns=None, one_length: bool = False,
                 dominant_right: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.one_length = one_length          # y in shoulder widths too (no per-axis lengths)
        self.dominant_right = dominant_right  # mirror left-handed sequences
        self.part_rows = {p: [int(r) for r in rows] for p, rows in part_rows.items()}
        rows = np.concatenate([np.asarray(r) for r in self.part_rows.values()])
        if mirror_columns is None:
            try:
                mirror_columns = mirror_permutation(rows)
            except ValueError:  # a selection without both sides (one hand only): never mirrored
                mirror_columns = None
        self.mirror_columns = None if mirror_columns is None else [int(c) for c in mirror_columns]
        self._rows = rows
        self._left = [i for i, r in enumerate(rows) if LEFT_HAND.start <= r < LEFT_HAND.stop]
        self._right = [i for i, r in enumerate(rows) if RIGHT_HAND.start <= r < RIGHT_HAND.stop]
        self._nose = _index(rows, POSE.start + NOSE)
        self._shoulders = (_index(rows, POSE.start + LEFT_SHOULDER), _index(rows, POSE.start + RIGHT_SHOULDER))
        starts = np.cumsum([0] + [len(r) for r in self.part_rows.values()])
        self._slices = {p: (int(a), int(b)) for p, a, b in zip(self.part_rows, starts[:-1], starts[1:])}

    def get_config(self):
        return {**super().get_config(), "part_rows": self.part_rows, "mirror_columns": self.mirror_columns,
                "one_length": self.one_length, "dominant_right": self.dominant_right}

    # --- helpers, all per sample over the frames

    @staticmethod
    def _mean_over_frames(value, ok):
        """(mean of value[B, T, ...] over the frames where ok[B, T], bool[B]: some frame was ok)."""
        w = ops.cast(ok, "float32")
        n = ops.sum(w, axis=1)
        extra = (1,) * (len(value.shape) - 2)
        w = ops.reshape(w, ops.shape(w) + extra) if extra else w
        mean = ops.sum(value * w, axis=1) / ops.reshape(ops.maximum(n, 1.0), (-1,) + extra)
        return mean, n > 0

    def _dominant_right(self, xy, seen):
        """Mirror the samples whose left hand is seen in more frames than the right."""
        if not self.dominant_right or self.mirror_columns is None or not self._left or not self._right:
            return xy, seen
        left = ops.sum(ops.cast(ops.any(ops.take(seen, self._left, axis=2), axis=2), "float32"), axis=1)
        right = ops.sum(ops.cast(ops.any(ops.take(seen, self._right, axis=2), axis=2), "float32"), axis=1)
        flip = (left > right)[:, None, None]
        mirrored = ops.take(ops.stack([1.0 - xy[..., 0], xy[..., 1]], axis=-1), self.mirror_columns, axis=2)
        mirrored_seen = ops.take(seen, self.mirror_columns, axis=2)
        xy = ops.where(flip[..., None], mirrored, xy)
        return xy, ops.where(flip, mirrored_seen, seen)

    def _body_frame(self, xy, seen):
        """(centre float32[B, 1, 1, 2], scale float32[B, 1, 1, 2]) of each sample."""
        # fallback: centre and spread of everything seen in the sequence
        w = ops.cast(seen, "float32")[..., None]
        n = ops.maximum(ops.sum(w, axis=(1, 2)), 1.0)  # [B, 1]
        centre = ops.sum(xy * w, axis=(1, 2)) / n      # [B, 2]
        spread = ops.sqrt(ops.sum(ops.square(xy - centre[:, None, None, :]) * w, axis=(1, 2)) / n)
        scale = ops.maximum(spread, EPS)
        ls, rs = self._shoulders
        if ls >= 0 and rs >= 0:
            both = ops.logical_and(seen[:, :, ls], seen[:, :, rs])
            mid = (xy[:, :, ls] + xy[:, :, rs]) / 2.0
            width = ops.abs(xy[:, :, ls, 0] - xy[:, :, rs, 0])
            body_centre, ok = self._mean_over_frames(mid, both)
            body_width, _ = self._mean_over_frames(width, both)
            if self._nose >= 0 and not self.one_length:
                with_nose = ops.logical_and(both, seen[:, :, self._nose])
                height, ok_h = self._mean_over_frames(mid[..., 1] - xy[:, :, self._nose, 1], with_nose)
            else:  # one length for both axes: the shoulder width
                height, ok_h = body_width, ok
            width = ops.maximum(body_width, EPS)
            body_scale = ops.stack([width, ops.where(ok_h, ops.maximum(height, EPS), width)], axis=-1)
            centre = ops.where(ok[:, None], body_centre, centre)
            scale = ops.where(ok[:, None], body_scale, scale)
        return centre[:, None, None, :], scale[:, None, None, :]

    def _hand_shape(self, body, seen, columns):
        """The hand's points relative to its wrist, in palm lengths (0 where the hand is unseen)."""
        hand = ops.take(body, columns, axis=2)
        hand_seen = ops.take(seen, columns, axis=2)
        wrist_seen = hand_seen[:, :, WRIST]
        wrist = hand[:, :, WRIST:WRIST + 1]
        palm = ops.sqrt(ops.sum(ops.square(hand[:, :, MIDDLE_MCP] - hand[:, :, WRIST]), axis=-1))
        ok = ops.logical_and(wrist_seen, hand_seen[:, :, MIDDLE_MCP])
        palm, _ = self._mean_over_frames(palm, ok)
        local = (hand - wrist) / ops.maximum(palm, EPS)[:, None, None, None]
        both = ops.logical_and(hand_seen, wrist_seen[..., None])
        return ops.where(both[..., None], local, 0.0)

    def call(self, frames):
        xy = frames[..., :2]
        seen = ops.any(ops.not_equal(xy, 0.0), axis=-1)  # [B, T, L]
        xy, seen = self._dominant_right(xy, seen)
        centre, scale = self._body_frame(xy, seen)
        body = ops.where(seen[..., None], (xy - centre) / scale, 0.0)
        # motion to the next frame, where both frames saw the point (the last frame has none)
        moved = ops.concatenate([body[:, 1:] - body[:, :-1], ops.zeros_like(body[:, :1])], axis=1)
        both = ops.concatenate([ops.logical_and(seen[:, 1:], seen[:, :-1]),
                                ops.zeros_like(seen[:, :1])], axis=1)
        moved = ops.where(both[..., None], moved, 0.0)

        t = frames.shape[1]
        out = []
        for part, (a, b) in self._slices.items():
            n = b - a
            pieces = [body[:, :, a:b], moved[:, :, a:b]]
            if part.endswith("hand"):
                pieces.insert(1, self._hand_shape(body, seen, list(range(a, b))))
            feats = ops.concatenate(pieces, axis=-1)  # [B, T, n, 2 * k]
            # a part not seen in a frame is all zero (the embedding's "missing" marker)
            part_seen = ops.any(seen[:, :, a:b], axis=-1)
            feats = ops.reshape(feats, (-1, t, n * feats.shape[-1]))
            out.append(ops.where(part_seen[..., None], feats, 0.0))
        return out
