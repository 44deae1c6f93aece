"""The "MP_Data" landmark layout, popular in webcam sign-language tutorials.

`MP_Data/<sign>/<sequence>/<frame>.npy`, one vector per frame, parts in this
order: pose 33x(x, y, z, visibility), face 468x3 (absent in the 258-value
variant), left hand 21x3, right hand 21x3. A part that was not seen is all zeros.
Fingerspelling sets use a third variant: one hand only, 21x3 = 63 values, with no
record of which hand it is. That hand goes into the right-hand rows, where the
app's features expect the signing (dominant) hand (`train.features` mirrors a
sequence so its busier hand is on the right; the letters model is the same for
either hand, `train.letters`).
This module is its one owner: it reads the folders and turns a vector into a
GISLR frame (rows in GISLR order, missing parts NaN).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asl_live.errors import UserError
from asl_live.formats.layout import DIMS, FACE, LEFT_HAND, POSE, RIGHT_HAND, ROWS_PER_FRAME

POSE_VALUES = 33 * 4
FACE_VALUES = 468 * 3
HAND_VALUES = 21 * 3
WITH_FACE = POSE_VALUES + FACE_VALUES + 2 * HAND_VALUES  # 1662
WITHOUT_FACE = POSE_VALUES + 2 * HAND_VALUES  # 258
ONE_HAND = HAND_VALUES  # 63: one hand, which one not recorded (fingerspelling sets)
SIZES = (WITH_FACE, WITHOUT_FACE, ONE_HAND)


def to_gislr(vectors: np.ndarray) -> np.ndarray:
    """float[T, 1662, 258 or 63] -> float32[T, 543, 3]; zero parts and missing parts become NaN.

    A 63-value frame (one hand) fills the right-hand rows; everything else is NaN.
    """
    v = np.asarray(vectors, dtype=np.float32)
    if v.ndim != 2 or v.shape[1] not in SIZES:
        raise UserError(f"an MP_Data frame has {WITH_FACE}, {WITHOUT_FACE} or {ONE_HAND} (one hand) "
                        f"values, got {v.shape[1] if v.ndim == 2 else 'shape ' + str(v.shape)}")
    if not np.isfinite(v).all():
        raise UserError("an MP_Data frame holds NaN or infinite values (MP_Data writes a missing part as zeros)")
    t = v.shape[0]
    out = np.full((t, ROWS_PER_FRAME, DIMS), np.nan, dtype=np.float32)
    if v.shape[1] == ONE_HAND:
        hand = v.reshape(t, 21, 3)
        seen = np.any(hand != 0, axis=(1, 2))
        out[seen, RIGHT_HAND] = hand[seen]
        return out
    pose = v[:, :POSE_VALUES].reshape(t, 33, 4)[:, :, :3]
    at = POSE_VALUES
    face = None
    if v.shape[1] == WITH_FACE:
        face = v[:, at:at + FACE_VALUES].reshape(t, 468, 3)
        at += FACE_VALUES
    left = v[:, at:at + HAND_VALUES].reshape(t, 21, 3)
    right = v[:, at + HAND_VALUES:at + 2 * HAND_VALUES].reshape(t, 21, 3)
    for rows, part in ((POSE, pose), (FACE, face), (LEFT_HAND, left), (RIGHT_HAND, right)):
        if part is None:
            continue
        seen = np.any(part != 0, axis=(1, 2))  # a part MediaPipe missed is written as all zeros
        out[seen, rows] = part[seen]
    return out


@dataclass(frozen=True)
class Sequence:
    sign: str
    sequence: str
    folder: Path

    def frame_files(self) -> list[Path]:
        files = [p for p in self.folder.iterdir() if p.suffix == ".npy"]
        return sorted(files, key=lambda p: _natural_key(p.stem))

    def load(self) -> np.ndarray:
        """The sequence as vectors float32[T, values]; UserError for unreadable or ragged frames."""
        files = self.frame_files()
        if not files:
            raise UserError(f"{self.folder}: no .npy frames")
        try:
            vecs = [np.load(p, allow_pickle=False).reshape(-1) for p in files]
        except (OSError, ValueError) as e:
            raise UserError(f"{self.folder}: unreadable frame ({e})") from None
        sizes = {v.size for v in vecs}
        if len(sizes) != 1:
            raise UserError(f"{self.folder}: frames of different sizes {sorted(sizes)}")
        return np.stack(vecs).astype(np.float32)


def _natural_key(s: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]


def find_root(src: str | os.PathLike) -> Path:
    """The folder whose children are sign folders: `src` itself or `src/MP_Data`."""
    src = Path(src)
    if not src.is_dir():
        raise UserError(f"{src}: no such folder")
    if (src / "MP_Data").is_dir():
        return src / "MP_Data"
    return src


def sequences(src: str | os.PathLike) -> list[Sequence]:
    """Every `<sign>/<sequence>/` folder holding .npy frames, in a stable order."""
    root = find_root(src)
    out = []
    for sign_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        for seq_dir in sorted((p for p in sign_dir.iterdir() if p.is_dir()), key=lambda p: _natural_key(p.name)):
            if any(seq_dir.glob("*.npy")):
                out.append(Sequence(sign_dir.name, seq_dir.name, seq_dir))
    if not out:
        raise UserError(f"{root}: no MP_Data sequences (<sign>/<sequence>/<frame>.npy) found")
    return out
