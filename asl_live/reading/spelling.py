"""Fingerspelling: per-frame letters -> held letters -> words (`asl-live --letters`).

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


def spell_steps(source, classifier, landmarks):
    """Run a source through the letters model and a Speller: (item, frame, events, speller) per
    frame, then (None, None, the last word, speller) at the end. Headless and the window share it."""
    from asl_live.model import UNKNOWN

    speller = Speller()
    origin = None
    for item in source:
        frame = landmarks(item)
        events = []
        if origin is not None and item.origin != origin:
            events += speller.finish()  # a word never spans two replayed sequences
        origin = item.origin
        hand = hand_position(frame)
        letter, score = None, 0.0
        if hand is not None:
            pred = classifier(frame[None])  # one frame: 0.03 ms (BENCHMARKS.md)
            if pred.sign != UNKNOWN:
                letter, score = pred.sign, pred.score
        events += speller.push(item.index, item.t, letter, score, hand)
        yield item, frame, events, speller
    yield None, None, speller.finish(), speller


def _recognition(ev, origin):
    from asl_live.model.classifier import Prediction
    from asl_live.reading.pipeline import Recognition

    if isinstance(ev, Letter):
        return Recognition(Prediction(ev.letter, ev.score, [(ev.letter, ev.score)]),
                           ev.start_frame, ev.end_frame, ev.t_start, ev.t_end, origin=origin)
    return Recognition(Prediction(ev.word, 1.0, []), ev.start_frame, ev.end_frame, ev.t_start, ev.t_end,
                       origin=origin)


def run_spelling_headless(source, classifier, landmarks, out=None, on_word=None) -> int:
    """`asl-live --letters --headless`: one JSON line per letter (the signs' schema, `sign` = the
    letter) and one per word ended (`word`); `on_word(recognition)` gets each word (subtitles)."""
    import sys

    out = out or sys.stdout
    n = 0
    origin = None
    for item, _, events, _ in spell_steps(source, classifier, landmarks):
        origin = item.origin if item is not None else origin
        for ev in events:
            if isinstance(ev, Letter):
                out.write(_recognition(ev, origin).to_json() + "\n")
            else:
                out.write(ev.to_json(origin) + "\n")
                if on_word is not None:
                    on_word(_recognition(ev, origin))
            out.flush()
            n += 1
    return n


def _window_steps(source, classifier, landmarks):
    """`spell_steps` with what the window needs of the speller copied out, in the worker thread
    (the speller changes under the drawing thread otherwise)."""
    for item, frame, events, speller in spell_steps(source, classifier, landmarks):
        seen = frame is not None and hand_position(frame) is not None
        yield item, frame, events, speller.current, speller.word, seen


def run_spelling_window(source, classifier, landmarks, window, on_word=None, end_hold_s: float = 3.0,
                        realtime: bool = True, depth: int = 2) -> None:
    """The window for `--letters`: the picture, the letter seen now with its confidence, the words
    and the word spelled so far. Recorded input plays at its frame rate (`realtime=False`: as fast
    as it goes, for benchmarks); q/Esc quits.

    As the signs' window (`pipeline.run_window`): Holistic, the letters model and the speller run
    in a worker thread up to `depth` frames ahead, drawing and showing in this thread at a lower
    priority, and when drawing falls behind only the newest frame is drawn (the others still
    reach the words), so the window keeps Holistic's pace (docs/history/2026-12-02-letters-model.md, "Letters window").
    """
    import time

    from asl_live.model.classifier import Prediction
    from asl_live.view.overlay import HUD, render
    from asl_live.reading.pipeline import Ahead, _lower_priority

    hud = HUD(status="no hands", source=source.name)
    words: list[str] = []
    pace = None if source.live or not realtime else 1.0 / max(source.fps, 1.0)
    last = time.perf_counter()
    image = frame = None

    def apply(step) -> None:
        item, f, events, current, word, seen = step
        for ev in events:
            if isinstance(ev, Word):
                words.append(ev.word)
                if on_word is not None:
                    on_word(_recognition(ev, item.origin if item is not None else None))
        if current is not None:
            letter, score = current
            # upper case on screen: a lone lower-case l reads as a bar (the JSON keeps lower case)
            hud.last = Prediction(letter.upper(), score, [(letter.upper(), score)])
        hud.status = "signing" if current is not None or seen else "no hands"
        hud.transcript = (words + ([word + "_"] if word else []))[-8:]

    def play() -> bool:
        nonlocal image, frame, last
        while True:
            step = work.get_or_none()
            if step is None:
                return True
            # only the newest processed frame is drawn; the skipped ones still update the words
            while step[0] is not None and (pace is None or time.perf_counter() > last + 2 * pace):
                newer = work.get_or_none(block=False)
                if newer is None:
                    break
                apply(step)
                step = newer
            apply(step)
            if step[0] is None:
                return True
            image, frame = step[0].image, step[1]
            if pace is not None:
                wait = last + pace - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
            last = time.perf_counter()
            if window.show(render(image, frame, hud)) == "quit":
                return False

    # the worker first: a thread inherits the nice value of the thread that starts it
    work = Ahead(_window_steps(source, classifier, landmarks), depth=depth, name="asl-live letters")
    with _lower_priority():
        try:
            ended = play()
        finally:
            work.close()
        if not ended or image is None:
            return
        hud.transcript, hud.banner = words[-8:], "end of input - q to quit"
        end = time.perf_counter() + end_hold_s
        while time.perf_counter() < end:
            if window.show(render(image, frame, hud)) == "quit":
                return
            time.sleep(0.03)
