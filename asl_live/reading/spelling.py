"""Fingerspelling: per-frame letters -> held letters -> words (reading/letter_reader.HeldLetters).

`Speller.push` takes one frame's best letter (or None: no hand, or no clear letter)
with the hand's wrist position and palm size, and returns what ended on that frame.
O(1) per frame: a few numbers of state, no buffer.

- **A letter counts when held**: the same letter, confidently, for `hold_s` (a third
  of a second, the issue's figure; no real fingerspelling video here measured it) with
  the wrist within `still` palm lengths of where the hold began. A moving hand restarts
  the hold, so the transitions between letters do not count.
- **A double letter** (the two Ls of "all") needs the hand to move (a slide of more than
  `still` palm lengths) or to reopen (a frame with no clear letter, or another letter)
  between the two; a letter held longer is still one letter.
- **A word ends** when the hand is gone for `drop_s`, or no new letter came for
  `pause_s` (the hand paused), or the input ends.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np

from asl_live.formats.layout import LEFT_HAND, RIGHT_HAND

HOLD_S = 1 / 3
MIN_SCORE = 0.5
STILL_PALMS = 0.5
DROP_S = 0.5
PAUSE_S = 1.5


@dataclass
class Letter:
    letter: str
    score: float
    start_frame: int
    end_frame: int
    t_start: float
    t_end: float


@dataclass
class Word:
    word: str
    start_frame: int
    end_frame: int
    t_start: float
    t_end: float

    def to_json(self, origin: dict | None = None) -> str:
        return json.dumps({"word": self.word, "start_frame": self.start_frame, "end_frame": self.end_frame,
                           "t_start": round(self.t_start, 4), "t_end": round(self.t_end, 4), **(origin or {})})


def hand_position(frame: np.ndarray) -> tuple[float, float, float] | None:
    """(wrist x, wrist y, palm size) of the spelling hand in a [543, 3] frame, or None without a hand.

    The hand the letters model reads (`train.letters.select_hand`): of two, the higher wrist.
    """
    best = None
    for rows in (LEFT_HAND, RIGHT_HAND):
        h = frame[rows, :2]
        if np.isnan(h).any():
            continue
        if best is None or h[0, 1] < best[0, 1]:
            best = h
    if best is None:
        return None
    palm = float(np.linalg.norm(best[[5, 9, 13, 17]] - best[0], axis=1).mean())
    return float(best[0, 0]), float(best[0, 1]), palm


class Speller:
    def __init__(self, hold_s: float = HOLD_S, min_score: float = MIN_SCORE, still: float = STILL_PALMS,
                 drop_s: float = DROP_S, pause_s: float = PAUSE_S):
        self.hold_s, self.min_score, self.still = hold_s, min_score, still
        self.drop_s, self.pause_s = drop_s, pause_s
        self.word = ""
        self._word_start: tuple[int, float] | None = None
        self._word_end: tuple[int, float] = (0, 0.0)
        self._candidate: str | None = None
        self._since: tuple[int, float] = (0, 0.0)
        self._anchor: tuple[float, float] = (0.0, 0.0)
        self._counted = False        # the current hold has given its letter
        self._last: str | None = None  # the last letter counted, until the hand moves or reopens
        self._gone_since: float | None = None
        self.current: tuple[str, float] | None = None  # the letter seen now and its confidence (for the window)

    def push(self, index: int, t: float, letter: str | None, score: float,
             hand: tuple[float, float, float] | None) -> list[Letter | Word]:
        out: list[Letter | Word] = []
        if hand is None:
            self.current = None
            self._candidate, self._last = None, None  # the hand dropped: a reopen
            if self._gone_since is None:
                self._gone_since = t
            if self.word and t - self._gone_since >= self.drop_s:
                out.append(self._end_word())
            return out
        self._gone_since = None
        x, y, palm = hand
        clear = letter is not None and score >= self.min_score
        self.current = (letter, score) if clear else None
        if not clear:
            self._candidate, self._last = None, None  # an unclear shape between two: the hand reopened
        else:
            moved = math.hypot(x - self._anchor[0], y - self._anchor[1]) > self.still * max(palm, 1e-6)
            if letter != self._candidate or moved:
                if moved:
                    self._last = None  # the hand moved (a slide between two of the same letter)
                self._candidate, self._since, self._anchor, self._counted = letter, (index, t), (x, y), False
            elif not self._counted and t - self._since[1] >= self.hold_s - 1e-9:
                self._counted = True
                if letter != self._last:
                    self._last = letter
                    if not self.word:
                        self._word_start = self._since
                    self.word += letter
                    self._word_end = (index, t)
                    out.append(Letter(letter, score, self._since[0], index, self._since[1], t))
        if self.word and t - self._word_end[1] >= self.pause_s:
            out.append(self._end_word())
        return out

    def finish(self) -> list[Word]:
        return [self._end_word()] if self.word else []

    def _end_word(self) -> Word:
        (s, ts), (e, te) = self._word_start, self._word_end
        w = Word(self.word, s, e, ts, te)
        self.word, self._word_start, self._last = "", None, None
        return w
