"""Mixed streams of real signs and real fingerspelled words, as landmark frames (a replay).

Nothing here is synthetic but the joins: every frame is MediaPipe Holistic's output on a real
video. Signs: the WLASL dictionary clips in `../shared/data/clips/wlasl_projectunmute` (people no
model here trained on), run through the app's own Holistic. Letters: the ASL manual alphabet of
`../shared/data/letters/spoken_to_signed_ase` (one signer, 26 clips of Holistic landmarks, 25 fps,
no model here trained on them), resampled to 30 fps by repeating every fifth frame. A spelled word
is its letters' clips one after another, each cut to the part where the hand is held up (the clips
show each letter on its own: up, hold, down), so about a letter a second; signs and words are joined by `gap` frames in which nobody is in view, the
way a replay of separate recordings meets.
"""

from __future__ import annotations

import csv
import os
from functools import lru_cache
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("ASL_LIVE_SHARED", REPO.parent / "shared")) / "data"
WLASL = SHARED / "clips" / "wlasl_projectunmute"
LETTERS = SHARED / "letters" / "spoken_to_signed_ase"
FPS = 30.0


def pose_file_frames(path: Path, fps: float = FPS) -> np.ndarray:
    """A `.pose` file (read by `train.pose_files`, the one owner of the format) as float32[T, 543, 3]
    GISLR frames resampled to `fps` (each frame repeated as needed: 25 -> 30 repeats every fifth)."""
    from train.pose_files import read_pose

    out, src_fps = read_pose(path)
    idx = np.floor(np.arange(0, len(out) * fps / src_fps) * src_fps / fps).astype(int)
    return out[np.clip(idx, 0, len(out) - 1)]


@lru_cache(maxsize=None)
def letter_clips() -> dict[str, np.ndarray]:
    with open(LETTERS / "index.csv") as f:
        return {row["letter"].lower(): pose_file_frames(LETTERS / row["path"]) for row in csv.DictReader(f)}


@lru_cache(maxsize=None)
def sign_clip(name: str) -> np.ndarray:
    from asl_live.capture.sources import video_landmarks

    cache = Path(os.environ.get("TMPDIR", "/tmp")) / f"asl_live_mixed_{name}.npy"
    if cache.exists():
        return np.load(cache)
    frames, _ = video_landmarks(WLASL / f"{name}.mp4")
    np.save(cache, frames)
    return frames


# A letter is held where the spelling wrist is this high (fraction of shoulders -> hips) or higher.
HELD_U = 0.25


def held_span(frames: np.ndarray) -> tuple[int, int]:
    """First and last frame of a letter clip in which the hand is up where it is held."""
    from asl_live.formats.layout import POSE, RIGHT_HAND

    s = np.nanmean(frames[:, [POSE.start + 11, POSE.start + 12], 1], axis=1)
    h = np.nanmean(frames[:, [POSE.start + 23, POSE.start + 24], 1], axis=1)
    with np.errstate(invalid="ignore"):
        up = np.flatnonzero((frames[:, RIGHT_HAND.start, 1] - s) / (h - s) < HELD_U)
    return (int(up[0]), int(up[-1])) if len(up) else (0, len(frames) - 1)


def word_frames(word: str, hold: int | None = None) -> np.ndarray:
    """The word's letter clips one after another. Each clip shows its letter on its own (the hand
    comes up, holds, goes down); in a word the hand stays up, so only the first letter keeps its
    way up and the last its way down, and the others their held part. `hold`: only the middle
    `hold` frames of each held part (J and Z keep theirs: they move), about 30 / `hold` letters a
    second; None: the whole held part, about a letter a second."""
    clips = letter_clips()
    parts = []
    for i, c in enumerate(word):
        first, last = held_span(clips[c])
        if hold is not None and c not in "jz" and last - first + 1 > hold:
            first = (first + last + 1 - hold) // 2
            last = first + hold - 1
        parts.append(clips[c][0 if i == 0 else first: None if i == len(word) - 1 else last + 1])
    return np.concatenate(parts)


def mixed_stream(script: list[str], gap: int = 15) -> np.ndarray:
    """`script` items: a sign name (a WLASL clip) or "#word" (fingerspelled); frames at 30 fps."""
    from asl_live.formats.layout import empty_frames

    parts = [empty_frames(gap)]
    for item in script:
        parts.append(word_frames(item[1:]) if item.startswith("#") else sign_clip(item))
        parts.append(empty_frames(gap))
    return np.concatenate(parts)


# Streams whose transcript is known: signs of the bundled model's vocabulary that WLASL has, and
# words spelled from the letters (real words and a name). Signs as `--clip` names them.
SCRIPTS = [
    ["no", "#cat", "please", "#dan", "water", "#fox", "thankyou"],
    ["hello", "#bob", "please"],
    ["#hi", "no", "#zoe", "thankyou"],
    ["water", "#jim", "hello", "#quiz"],
]


def main() -> None:
    """`python benchmarks/app/mixed_stream.py OUT.parquet no '#cat' please ...`: write one stream as a replay."""
    import argparse
    import sys

    sys.path.insert(0, str(REPO))
    from asl_live.formats.gislr import write_parquet

    p = argparse.ArgumentParser(description=main.__doc__)
    p.add_argument("out", type=Path)
    p.add_argument("script", nargs="+", help="WLASL sign names and #words")
    args = p.parse_args()
    frames = mixed_stream(args.script)
    write_parquet(args.out, frames)
    print(f"{args.out}: {len(frames)} frames ({len(frames) / FPS:.1f} s at {FPS:g} fps)")


if __name__ == "__main__":
    main()
