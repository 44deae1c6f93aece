"""The letter reader's interface: frames of one stretch in, the word spelled in it out.

The live loop (`pipeline.Recognizer`) reads every stretch of signing twice, as a sign and as
letters, and `stretch_kind.decide` picks one. The letters side is any object with this
interface (`LetterReader`): `DecodedLetters` (the default: the whole stretch decoded at its end,
`fingerspelling.py`) or `HeldLetters` (`--letter-reader held`: letters held a third of a second,
`spelling.Speller`), both behind the bundled letters model, the loop the same for either:

- `push(index, t, frame)` once per frame of the stretch (in the loop's worker thread; keep it
  cheap: it runs for every frame while a hand is up);
- `current`: the letter seen on the latest frame and its confidence, or None (for the window);
- `spelled`: the letters read so far in this stretch (for the window);
- `finish()`: the stretch ended: its `SpelledWord` (None when no letter was read), and the reader
  starts over; `reset()` forgets the stretch without a word.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from asl_live.reading.spelling import Letter


@dataclass
class SpelledLetter(Letter):
    """One letter read, with when (a per-letter JSON line: `"letter"`, never `"sign"`)."""
    origin: dict | None = None

    @property
    def text(self) -> str:
        return self.letter

    def to_json(self) -> str:
        return json.dumps({"letter": self.letter, "score": round(self.score, 6),
                           "start_frame": self.start_frame, "end_frame": self.end_frame,
                           "t_start": round(self.t_start, 4), "t_end": round(self.t_end, 4),
                           **(self.origin or {})})


@dataclass
class SpelledWord:
    """A fingerspelled word: one JSON line with `"word"`, its letters and times, and `"source"`."""
    word: str
    letters: list[SpelledLetter]
    start_frame: int
    end_frame: int
    t_start: float
    t_end: float
    reader: str = "letters"          # which letter reader read it
    origin: dict | None = None       # Item.origin: which input it came from ("source", ...)
    decision: dict | None = None     # why the stretch was read as spelling (stretch_kind.Decision)
    latency_s: float | None = None
    extra: dict = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.word

    def to_json(self) -> str:
        return json.dumps({
            "word": self.word,
            "letters": [[x.letter, round(x.score, 4), round(x.t_start, 4), round(x.t_end, 4)]
                        for x in self.letters],
            "start_frame": self.start_frame, "end_frame": self.end_frame,
            "t_start": round(self.t_start, 4), "t_end": round(self.t_end, 4),
            "reader": self.reader,
            **({"decision": self.decision} if self.decision else {}),
            **(self.origin or {}),
        })


class LetterReader(Protocol):
    current: tuple[str, float] | None
    spelled: str

    def push(self, index: int, t: float, frame: np.ndarray) -> list[SpelledLetter]: ...

    def finish(self) -> SpelledWord | None: ...

    def reset(self) -> None: ...


class HeldLetters:
    """Letters held for a third of a second (`spelling.Speller`) from the letters model, frame by frame.

    Within a stretch the word never ends on a pause or a dropped hand: the stretch's end (the
    segmenter's) ends it. `word_breaks=True` restores the Speller's own word ends (a pause, the
    hand gone): `--letters`, which reads letters without the segmenter.
    """

    name = "held letters"

    def __init__(self, classifier, word_breaks: bool = False, **speller_kw):
        from asl_live.reading.spelling import Speller

        if not word_breaks:
            speller_kw.setdefault("drop_s", float("inf"))
            speller_kw.setdefault("pause_s", float("inf"))
        self.classifier = classifier
        self._speller_kw = speller_kw
        self._Speller = Speller
        self.reset()

    def reset(self) -> None:
        self._speller = self._Speller(**self._speller_kw)
        self._letters: list[SpelledLetter] = []
        self.words: list[SpelledWord] = []  # words the Speller itself ended (word_breaks)
        self.current = None
        self.spelled = ""

    def push(self, index: int, t: float, frame: np.ndarray) -> list:
        from asl_live.model import UNKNOWN
        from asl_live.reading.spelling import hand_position

        hand = hand_position(frame)
        letter, score = None, 0.0
        if hand is not None:
            pred = self.classifier(frame[None])  # one frame: 0.03 ms (BENCHMARKS.md)
            if pred.sign != UNKNOWN:
                letter, score = pred.sign, pred.score
        out = []
        for ev in self._speller.push(index, t, letter, score, hand):
            if isinstance(ev, Letter):
                x = SpelledLetter(ev.letter, ev.score, ev.start_frame, ev.end_frame, ev.t_start, ev.t_end)
                self._letters.append(x)
                out.append(x)
            else:
                out.append(self._word(ev.word, ev))
        self.current = self._speller.current
        self.spelled = self._speller.word
        return out

    def _word(self, word: str, ev) -> SpelledWord:
        letters, self._letters = self._letters[:len(word)], self._letters[len(word):]
        return SpelledWord(word, letters, ev.start_frame, ev.end_frame, ev.t_start, ev.t_end, self.name)

    def finish(self) -> SpelledWord | None:
        ends = self._speller.finish()
        w = self._word(ends[0].word, ends[0]) if ends else None
        self.reset()
        return w


class LettersOnly:
    """`asl-live --letters`: the letter reader alone, on every frame (no segmenter, no sign model).

    The same reader interface as `pipeline.Recognizer`, so the app's one loop (`pipeline.steps`)
    runs it: letters as they are read, words where the hand pauses or drops (`HeldLetters` with
    its word breaks), a word never spanning two replayed sequences.
    """

    guesses = False
    clip = False
    provisional = None
    guess_frames = None
    provisional_every = 0

    def __init__(self, classifier, times=None):
        from asl_live.reading.pipeline import StageTimes

        self.classifier = classifier
        self.letters = HeldLetters(classifier, word_breaks=True)
        self.times = times or StageTimes()
        self._origin = None

    @property
    def state(self) -> str:
        return "signing" if self.letters.current is not None or self.letters.spelled else "no hands"

    def push(self, item, frame: np.ndarray) -> list:
        import time

        out = []
        if self._origin is not None and item.origin != self._origin:
            out += self._words_out()  # a word never spans two replayed sequences
        self._origin = item.origin
        t0 = time.perf_counter()
        read = self.letters.push(item.index, item.t, frame)
        self.times.add("letters", time.perf_counter() - t0)
        for ev in read:
            ev.origin = item.origin
        out += read
        if item.end_of_sequence:
            out += self._words_out()
        return out

    def _words_out(self) -> list:
        w = self.letters.finish()
        if w is not None:
            w.origin = self._origin
        return [w] if w is not None else []

    def finish(self) -> list:
        return self._words_out()


# A letter the decoder may be reading: this many frames in a row with it as the letters model's
# confident best. Fewer than two such letters in a stretch and it is no word (stretch_kind says a
# sign), so the decoder is not run: a sign's label never waits for it.
RUN_FRAMES = 3
RUN_SCORE = 0.5


class DecodedLetters:
    """Fingerspelling at a signer's pace (`fingerspelling.Stretch`): the whole stretch's per-frame
    letter probabilities decoded at its end (no letter has to be held; J and Z from the fingertip's
    path; words ranked with `wordfreq`, a name kept as spelled).

    While the stretch goes on, `spelled` holds the letters the letters model has been sure of for a
    few frames in a row (what the window shows); `finish` decodes only when two or more different
    such letters came, so a sign's stretch costs no decoding (a few ms a second of spelling)."""

    name = "decoded letters"

    def __init__(self, classifier, use_words: bool = True):
        from asl_live.reading.fingerspelling import Stretch

        self.classifier = classifier
        self.use_words = use_words
        self._Stretch = Stretch
        Stretch(classifier.labels)  # a letters model without a-z fails here, at start-up
        if use_words:
            # The word list takes 1-2 s to build: built now, beside the loop, not on the first word.
            import threading

            from asl_live.reading.fingerspelling import word_list

            threading.Thread(target=word_list, name="word-list", daemon=True).start()
        self.reset()

    def reset(self) -> None:
        self._stretch = self._Stretch(self.classifier.labels)
        self._index_at: list[tuple[float, int]] = []
        self._run: tuple[str, int] = ("", 0)
        self.current = None
        self.spelled = ""

    def push(self, index: int, t: float, frame: np.ndarray) -> list:
        from asl_live.reading.fingerspelling import spelling_hand

        hand = spelling_hand(frame)
        probs = None
        self.current = None
        if not np.isnan(hand).any():
            probs = self.classifier.probabilities(frame[None])
            best = int(np.argmax(probs))
            letter, score = self.classifier.labels[best], float(probs[best])
            if score >= RUN_SCORE:
                self.current = (letter, score)
        if self._index_at and t <= self._index_at[-1][0]:
            return []  # a repeated time stamp: nothing new to read
        self._stretch.push(t, probs, hand)
        self._index_at.append((t, index))
        letter = self.current[0] if self.current is not None else ""
        run = self._run[1] + 1 if letter and letter == self._run[0] else 1
        self._run = (letter, run)
        if letter and run == RUN_FRAMES and not self.spelled.endswith(letter):
            self.spelled += letter
        return []

    def _index(self, t: float) -> int:
        for tt, i in self._index_at:
            if tt >= t - 1e-9:
                return i
        return self._index_at[-1][1]

    def finish(self) -> SpelledWord | None:
        word = None
        if len(set(self.spelled)) >= 2:
            w = self._stretch.word(self.use_words)
            if w is not None:
                letters = [SpelledLetter(x.letter, x.confidence, self._index(x.t_start), self._index(x.t_end),
                                         x.t_start, x.t_end) for x in w.letters]
                word = SpelledWord(w.word, letters, self._index(w.t_start), self._index(w.t_end), w.t_start,
                                   w.t_end, f"{self.name} ({w.source})",
                                   extra={"spelled": w.spelled, "alternatives": w.alternatives[:3]})
        self.reset()
        return word


# held stays the default: the decoder reads more words (J, Z, any pace) but also finds two letters
# in some sure, still signs (the bundled demo's `no` became "kn"); BENCHMARKS.md has both.
READERS = {"decoded": DecodedLetters, "held": HeldLetters}
# decoded is the default: it reads the J, Z and R words of the mixed streams that held letters miss, and
# a still sign it reads as two letters stays a sign when the sign model is certain of it
# (stretch_kind.CERTAIN_SIGN); BENCHMARKS.md has both readers.
DEFAULT_READER = "decoded"


def add_reader_argument(parser) -> None:
    """`--letter-reader`, the same for every command that reads spelled words."""
    parser.add_argument("--letter-reader", choices=tuple(READERS), default=DEFAULT_READER,
                        help="how spelled words are read: decoded (the default) = the whole stretch decoded at "
                             "its end, no hold needed, a letter's length taken from the stretch's own pace, J and "
                             "Z from motion, words ranked by frequency; held = each letter held a third of a second")


def open_reader(name: str = DEFAULT_READER):
    """The letter reader `--letter-reader` names, on the bundled letters model."""
    from asl_live.bundled import LETTERS_LABELS, LETTERS_MODEL
    from asl_live.model.classifier import Classifier

    return READERS[name](Classifier(LETTERS_MODEL, LETTERS_LABELS))


def read_stretch(reader, frames: np.ndarray, fps: float, t_start: float = 0.0,
                 start_frame: int = 0) -> SpelledWord | None:
    """One stretch's frames (the segmenter's, already cut) read as a spelled word, as the loop reads
    them: every frame pushed, then `finish`. None when no word was read."""
    reader.reset()
    for i, frame in enumerate(frames):
        reader.push(start_frame + i, t_start + i / fps, frame)
    return reader.finish()
