"""Is a stretch of signing a sign or a fingerspelled word? What the readers made of it, and what the hand did.

The segmenter cuts the stream into stretches (a sign, or a word spelled letter by letter) without
knowing which; both readers read every stretch: the sign model names it (or says `unknown`), the
letter reader (`letter_reader.py`) reads its letters. Here the two readings meet, with the hand's
motion as the tie-break:

- **the letters**: fewer than two different letters is a sign. A sign's own hand shape reads as
  one letter (WLASL's `please` as J, `hello` and `water` as B) or as one letter twice (`thankyou`
  as "cc": the flat hand, shown twice), never as a word.
- **the sign model**: a sign it knows, sure (`SURE_SIGN`), made with a hand that travelled, stays a
  sign whatever letters were read; a sign it knows, all but certain (`CERTAIN_SIGN`), stays a sign
  over a reading of two letters at most (`SHORT_READING`), however still the hand: the bundled
  demo's `no` (0.9997, the hand still) is read by the decoding letter reader as "kn".
- **both hands**: ASL fingerspelling is one-handed. A stretch in which the other hand is up in the
  signing space too, for at least half of the frames the spelling hand is (`TWO_HANDED`), is a
  sign: WLASL's two-handed `more`, no sign the model knows, reads as the letters "on".
- **what the hand does** (`measure`), in the hand's own size (palm lengths), so the signer's
  distance to the camera does not matter: `spread`, how far the wrist strays from where it is
  held (80th percentile of its distance to its median position, over the frames the hand is up in
  the signing space, so the raise from rest does not count); `shape_rate`, how fast the hand's
  shape changes (the fingers' mean motion relative to the wrist, palm lengths a second). A sign
  travels; fingerspelling holds the hand in front of the shoulder while its shape changes. On the
  data here motion alone does not tell them apart (WLASL's `no`, `please`, `more` are held as still
  as a spelled word, spread 0.2-0.3; words 0.5-1.3), so it only breaks the tie, and is measured only
  then (a sign's label waits for no measuring).

Everything else with two or more different letters is a spelled word, kept as spelled (no word
list: a name stays a name). The thresholds were set on WLASL's `no`, `please`, `thankyou`, `hello`,
`water`, six DPAN prompt clips and one fingerspeller's alphabet; signs never looked at are in
BENCHMARKS.md ("Signs and spelled words in one stream").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from asl_live.formats.layout import LEFT_HAND, POSE, RIGHT_HAND

SIGN, SPELLING = "sign", "spelling"

# Pose rows of the shoulders and hips (MediaPipe pose 11, 12, 23, 24).
_SHOULDERS = (POSE.start + 11, POSE.start + 12)
_HIPS = (POSE.start + 23, POSE.start + 24)
# Above this fraction of the way from shoulders to hips a hand is up in the signing space.
UP = 0.6
# A held hand strays at most this many palm lengths from where it is held (80th percentile).
HELD_SPREAD = 1.0
# The other hand up this share of the frames the spelling hand is up: a two-handed sign, not spelling.
TWO_HANDED = 0.5
# ... and its shape changes at least this fast (palm lengths a second): a hand held still in one
# shape (a sign's hold) is not spelling.
MIN_SHAPE_RATE = 0.3


@dataclass
class Motion:
    """What the spelling hand did in a stretch, in palm lengths."""
    hand_frames: int      # frames the hand was seen up in the signing space
    spread: float         # 80th percentile of the wrist's distance from its median position
    shape_rate: float     # mean change of the hand's shape, palm lengths a second
    palm: float           # median palm length (image units), for the record
    both_up: float = 0.0  # share of those frames with the other hand up in the signing space too

    @property
    def held(self) -> bool:
        return self.hand_frames > 0 and self.spread <= HELD_SPREAD


def _hands(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """float32[T, 21, 2] of the hand seen more often (NaN where unseen), the one that spells, and the other."""
    left, right = frames[:, LEFT_HAND, :2], frames[:, RIGHT_HAND, :2]
    n_left = int((left[:, 0, 0] == left[:, 0, 0]).sum())
    n_right = int((right[:, 0, 0] == right[:, 0, 0]).sum())
    return (right, left) if n_right >= n_left else (left, right)


def measure(frames: np.ndarray, fps: float) -> Motion:
    """The spelling hand's motion over a stretch's frames (float32[T, 543, 3])."""
    hand, other = _hands(frames)
    shoulders = frames[:, _SHOULDERS, 1].mean(axis=1)  # NaN where the pose is missing
    hips = frames[:, _HIPS, 1].mean(axis=1)
    torso = hips - shoulders

    def is_up(h: np.ndarray) -> np.ndarray:
        seen = h[:, 0, 0] == h[:, 0, 0]
        with np.errstate(invalid="ignore"):
            u = (h[:, 0, 1] - shoulders) / torso
            # No pose (a close-up of the hand): every seen frame counts as up.
            return seen & ((u < UP) | ~(torso > 0))

    up = is_up(hand)
    if not up.any():
        return Motion(0, float("inf"), 0.0, float("nan"))
    both_up = float((up & is_up(other)).sum() / up.sum())
    h = hand[up]
    palm_each = np.linalg.norm(h[:, [5, 9, 13, 17]] - h[:, :1], axis=2).mean(axis=1)
    palm = float(np.median(palm_each))
    if not palm > 0:
        return Motion(0, float("inf"), 0.0, float("nan"))
    wrist = h[:, 0]
    spread = float(np.percentile(np.linalg.norm(wrist - np.median(wrist, axis=0), axis=1), 80)) / palm
    # The shape: the fingers relative to the wrist, in palm lengths; its change between
    # consecutive frames in which the hand is up (a gap in the frames counts as one step).
    shape = (h[:, 1:] - h[:, :1]) / palm_each[:, None, None]
    if len(shape) > 1:
        steps = np.linalg.norm(np.diff(shape, axis=0), axis=2).mean(axis=1)
        frame_gaps = np.diff(np.flatnonzero(up)).astype(np.float64)
        shape_rate = float(steps.sum() / frame_gaps.sum() * fps)
    else:
        shape_rate = 0.0
    return Motion(int(up.sum()), spread, shape_rate, palm, both_up)


# A known sign this sure, made with a hand that travelled, stays a sign whatever letters were read.
SURE_SIGN = 0.95
# A known sign this sure stays a sign over a reading of at most SHORT_READING letters, whether the
# hand travelled or not. A still sign's hand shapes can read as two letters (the demo's `no`, sign
# model 0.9997, reads "kn" with the decoding reader); the sign model is never this sure of a known
# sign on a word really spelled: on 138 spelled stretches of a signer no model trained on (35 words
# and 34 two-letter words, at a letter and at five letters a second) its best known sign scored
# 0.972 (`hello` on C-L-U-B), 0.959 on the two-letter words (O-F), while the demo's signs score
# 0.997-0.9997 and WLASL's `no` 0.994 (`benchmarks/app/bench_sign_on_spelling.py`). Longer readings
# stay with the letters: a sign rarely reads as three letters or more (1 of 313 DPAN clips, `camera`
# as "xll", a sign the model does not know), and a word of three letters read clearly is the
# stronger evidence.
CERTAIN_SIGN = 0.99
SHORT_READING = 2


@dataclass
class Decision:
    kind: str             # SIGN or SPELLING
    motion: Motion
    letters: str          # what the letter reader read in the stretch
    sign: str             # what the sign model named it (or "unknown")
    why: str              # one short phrase, for the JSON line and the window
    sign_score: float = float("nan")  # the sign model's score of `sign`

    def to_dict(self) -> dict:
        m = self.motion
        return {"kind": self.kind, "why": self.why, "letters": self.letters, "sign": self.sign,
                "sign_score": round(self.sign_score, 4) if np.isfinite(self.sign_score) else None,
                "spread": round(m.spread, 3) if np.isfinite(m.spread) else None,
                "shape_rate": round(m.shape_rate, 3) if np.isfinite(m.shape_rate) else None,
                "both_up": round(m.both_up, 3)}


NOT_MEASURED = Motion(0, float("nan"), float("nan"), float("nan"))


def decide(motion: Motion | Callable[[], Motion], letters: str, sign) -> Decision:
    """Sign or spelling: the hand's `motion` (or a function that measures it, called only when the
    letters leave the question open: most signs are decided without it, so their label waits for
    no measuring), the letter reader's `letters`, the sign model's `sign` (a `Prediction`)."""
    if len(set(letters)) < 2:
        # One letter, or one letter twice (a sign's hand shape held through a repeated movement:
        # WLASL's `thankyou` reads as "cc"), is a sign's hand shape, not a word.
        return Decision(SIGN, motion if isinstance(motion, Motion) else NOT_MEASURED, letters, sign.sign,
                        "fewer than two different letters", sign.score)
    known = sign.sign != "unknown"
    if known and sign.score >= CERTAIN_SIGN and len(letters) <= SHORT_READING:
        return Decision(SIGN, motion if isinstance(motion, Motion) else NOT_MEASURED, letters, sign.sign,
                        f"a certain sign over {len(letters)} letters", sign.score)
    if not isinstance(motion, Motion):
        motion = motion()

    def out(kind: str, why: str) -> Decision:
        return Decision(kind, motion, letters, sign.sign, why, sign.score)

    if motion.both_up >= TWO_HANDED:
        return out(SIGN, "both hands up: fingerspelling is one-handed")
    if known and sign.score >= SURE_SIGN and not motion.held:
        return out(SIGN, "a known sign, the hand travelled")
    if not motion.held and motion.shape_rate < MIN_SHAPE_RATE:
        return out(SIGN, "the hand travelled in one shape")
    return out(SPELLING, "letters read" + (", hand held" if motion.held else ""))
