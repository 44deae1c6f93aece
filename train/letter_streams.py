"""Fingerspelled word streams assembled from real letter frames (benchmarks and tests).

No licensed video of words spelled at speed was found, so a word is put together from
real frames of each letter; what is assembled is exactly this:
- per letter, `hold` real hand frames of that letter (a still-frame source's one frame
  repeated, or its tracked frames; a motion clip's own frames, for J and Z its moving part);
- between two letters, `trans` frames interpolated linearly from the last hand of one letter
  to the first of the next (every point, so the place and the shape both move);
- a double letter: the same, plus a small bounce of the hand (down and back by half a palm
  over the transition frames), as signers mark the two Ls of "all".
At 30 frames a second, hold 3 + trans 3 is 5 letters a second.

`ase_alphabet()` reads the ASL alphabet as motion (`letters/spoken_to_signed_ase`: one
signer, 26 clips of MediaPipe Holistic landmarks, J and Z moving) with `train.pose_files`.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from asl_live.formats.layout import RIGHT_HAND

KNUCKLES = [5, 9, 13, 17]
MOVING = ("j", "z")


def ase_alphabet(folder) -> dict[str, tuple[np.ndarray, float]]:
    """{letter: (GISLR frames float32[T, 543, 3], fps)} of the 26 clips in `folder` (its index.csv)."""
    from .pose_files import read_pose

    folder = Path(folder)
    out = {}
    with open(folder / "index.csv", newline="") as f:
        for r in csv.DictReader(f):
            out[r["letter"].lower()] = read_pose(folder / r["path"])
    return out


def clip_part(hands: np.ndarray, letter: str, hold: int, step: int = 2) -> np.ndarray:
    """The frames of a one-letter motion clip that a word stream takes: for J and Z the moving
    part (the clip's 10%-90%, every `step`-th frame), for the others `hold` frames from the middle
    (where the letter is held; the clip's ends are the hand arriving and leaving)."""
    t = len(hands)
    if letter in MOVING:
        return hands[int(0.1 * t):int(np.ceil(0.9 * t)):step]
    mid = t // 2
    return hands[max(0, mid - hold // 2):max(0, mid - hold // 2) + hold]


def assemble(word: str, pick, hold: int = 3, trans: int = 3, fps: float = 30.0):
    """(GISLR frames float32[T, 543, 3] with the hand in the right-hand rows, times float[T],
    [(letter, first frame, end frame)]) for `word`. `pick(letter)` gives that letter's real hand
    frames float[k, 21, 3]; k == 1 is repeated `hold` times."""
    hands, spans = [], []
    prev = None
    for i, c in enumerate(word):
        seq = np.asarray(pick(c), np.float32)
        if seq.ndim != 3 or seq.shape[1:] != (21, 3) or not len(seq):
            raise ValueError(f"pick({c!r}) must give float[k>0, 21, 3], got {seq.shape}")
        if len(seq) == 1:
            seq = np.repeat(seq, hold, axis=0)
        if prev is not None:
            a, b = prev[-1], seq[0]
            palm = float(np.linalg.norm(a[KNUCKLES, :2] - a[0, :2], axis=1).mean())
            for k in range(1, trans + 1):
                w = k / (trans + 1)
                h = (1 - w) * a + w * b
                if word[i - 1] == c:
                    h[:, 1] += 0.5 * palm * np.sin(np.pi * w)
                hands.append(h)
        start = len(hands)
        hands.extend(seq)
        spans.append((c, start, len(hands)))
        prev = seq
    frames = np.full((len(hands), 543, 3), np.nan, np.float32)
    frames[:, RIGHT_HAND] = np.stack(hands)
    return frames, np.arange(len(frames)) / fps, spans


def letter_run(frames: np.ndarray, probs_of):
    """(probs float[T, 26] in a-z order, hands float[T, 21, 3]) of GISLR frames: `probs_of(frames)`
    (float[k, 26], a-z) on the frames with a hand, each frame alone; 1/26 each without one."""
    from asl_live.reading.fingerspelling import spelling_hand

    hands = np.stack([spelling_hand(f) for f in frames]) if len(frames) else np.zeros((0, 21, 3))
    seen = ~np.isnan(hands).any(axis=(1, 2))
    probs = np.full((len(frames), 26), 1 / 26)
    if seen.any():
        probs[seen] = probs_of(frames[seen])
    return probs, hands


def tflite_letters(classifier):
    """`probs_of` for `letter_run` from an `asl_live` Classifier of the letters model: one frame a
    call, as the live reader runs it."""
    from asl_live.reading.fingerspelling import LETTERS

    order = [classifier.labels.index(c) for c in LETTERS]
    return lambda frames: np.stack([classifier.probabilities(f[None])[order] for f in frames])


def keras_letters(model, classes):
    """`probs_of` from a Keras letters model (`train.letters.load`): the same symmetric per-frame
    answer as its TFLite export; letters it has no class for get 0."""
    from asl_live.reading.fingerspelling import LETTERS, spelling_hand

    from . import letters as L

    def probs_of(frames):
        hands = np.stack([spelling_hand(f) for f in frames]).astype(np.float32)
        out = np.zeros((len(frames), 26))
        out[:, [LETTERS.index(c) for c in classes]] = L.predict(model, hands)
        return out
    return probs_of
