"""`asl-live practice`: the app names a sign or a word to fingerspell, the learner signs it, the app
says whether it understood.

    asl-live practice                          # camera 0, window: the model's signs, 10 rounds
    asl-live practice --signs hello,thankyou --rounds 6
    asl-live practice --spell                  # the model's signs and short words to fingerspell
    asl-live practice --words cat,dog,red      # only these words, fingerspelled
    asl-live practice --keep-attempts mine/    # keep each attempt as a sample (said at the start)
    asl-live practice --replay DATASET --headless --clip   # a labelled replay: each sequence answers
                                               # the prompt of its own label (tests, benchmarks)

Each attempt: what was asked, what the app saw (a sign: its answer, `unknown` included, and its
confidence; a word: the letters the app's letter reader read in the stretch, `--letter-reader`
as in the main window, each with its confidence), right or wrong; the session's score at the
end. Every attempt is appended to a per-learner history (JSON lines; `--history PATH`, default
`practice.jsonl` in the user's data folder, `platformdirs.user_data_dir("asl-live")`), and a
picture of it is written beside it (`practice.png`, drawn with OpenCV: per sign or spelled word,
the share right in each of the last sessions and overall, weakest first), so the learner sees
what is still weak. What the history says is weak is asked more often.

Keeping attempts as the learner's samples is asked once, never done silently: in the window, the
first session asks (y/n) and the answer is remembered beside the history
(`practice-settings.json`); `--keep-attempts [DIR]` or `--no-keep-attempts` decide for one session
instead. Headless, with no answer, nothing is kept. Whatever is decided is said on stderr when the
session starts. Kept signs go to a dataset in the GISLR layout (`DIR`, default `samples/` beside
the history) that `asl-live teach --replay DIR` or `asl-train fit` takes, each attempt saved as
the sign that was asked, atomically. Spelled words are not kept: the app keeps no letter samples.
"""

from __future__ import annotations

import json
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from asl_live.errors import UserError, run_main
from asl_live.model import UNKNOWN
from asl_live.model.learning import sign_name

HISTORY = "practice.jsonl"
PLOT = "practice.png"
SETTINGS = "practice-settings.json"   # beside the history: the learner's answer to "keep attempts?"
SAMPLES = "samples"                   # beside the history: the learner's kept attempts (GISLR layout)
SESSIONS_SHOWN = 8
# Short common words with no double letter (the held reader needs a move between two of the same),
# no J or Z (they move), no R (the held reader reads it as U) and none of the letters the letters
# model reads worst on people it never saw (H, S, U: BENCHMARKS.md), so a miss is the learner's to
# fix, not the model's. Each is read right by both readers from one fingerspeller's alphabet
# (tests/test_practice.py).
WORDS = ("cat", "dog", "big", "bed", "map", "pig", "box", "fox", "pen", "cow", "ten", "top", "win", "lap",
         "pot", "bag")


def default_history() -> Path:
    try:
        from platformdirs import user_data_dir
    except ImportError:   # an install without it: the XDG default
        return Path.home() / ".local" / "share" / "asl-live" / HISTORY
    return Path(user_data_dir("asl-live", appauthor=False)) / HISTORY


# --------------------------------------------------------------------------- history

def read_history(path: Path) -> list[dict]:
    """The attempts so far; a line that is not one (a crash mid-write, an edit) is skipped."""
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict) and isinstance(row.get("sign"), str) and isinstance(row.get("right"), bool):
            out.append(row)
    return out


def append_history(path: Path, row: dict) -> None:
    """One attempt, one line, flushed: a crash loses at most the attempt being written."""
    import os

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(row) + "\n")
        f.flush()
        os.fsync(f.fileno())


def row_key(row: dict) -> str:
    """A history row's name in the picture and the weights: a spelled word is marked as such, so the
    word `cat` spelled and a sign `cat` are two things to practise."""
    return Prompt(row["sign"], bool(row.get("spelled"))).key


def per_sign(history: list[dict]) -> dict[str, dict]:
    """{sign or "word (spelled)": {"right": n, "tries": n, "sessions": [(session, share right), ...]
    (oldest first)}}."""
    out: dict[str, dict] = {}
    for row in history:
        s = out.setdefault(row_key(row), {"right": 0, "tries": 0, "by_session": {}})
        s["right"] += row["right"]
        s["tries"] += 1
        r, t = s["by_session"].get(row.get("session", ""), (0, 0))
        s["by_session"][row.get("session", "")] = (r + row["right"], t + 1)
    for s in out.values():
        s["sessions"] = [(k, r / t) for k, (r, t) in s.pop("by_session").items()]
    return out


def write_plot(history: list[dict], path: Path) -> Path:
    """Per sign, weakest first: a bar of the share right overall and one square per session (the
    last `SESSIONS_SHOWN`), red to green. OpenCV, so the app needs no plotting library."""
    import cv2
    import numpy as np

    from asl_live.formats.gislr import atomic_write

    stats = per_sign(history)
    signs = sorted(stats, key=lambda s: (stats[s]["right"] / stats[s]["tries"], s))
    row_h, w = 44, 900
    h = 110 + row_h * max(1, len(signs))
    img = np.full((h, w, 3), 250, np.uint8)
    font = cv2.FONT_HERSHEY_DUPLEX
    cv2.putText(img, "Practice: share right per sign or spelled word (weakest first)", (20, 36), font, 0.7, (40, 40, 40), 1, cv2.LINE_AA)
    cv2.putText(img, "overall", (200, 80), font, 0.55, (90, 90, 90), 1, cv2.LINE_AA)
    cv2.putText(img, f"last {SESSIONS_SHOWN} sessions, oldest first", (560, 80), font, 0.55, (90, 90, 90), 1,
                cv2.LINE_AA)

    def colour(share: float):   # BGR: red (0) -> amber -> green (1)
        return (40, int(60 + 150 * share), int(220 - 170 * share)) if share >= 0.5 else \
            (40, int(60 + 150 * share), 220)

    for i, sign in enumerate(signs):
        s = stats[sign]
        share = s["right"] / s["tries"]
        y = 100 + i * row_h
        cv2.putText(img, sign[:20], (20, y + 28), font, 0.55 if len(sign) > 12 else 0.65, (30, 30, 30), 1, cv2.LINE_AA)
        cv2.rectangle(img, (200, y + 8), (500, y + 34), (225, 225, 225), -1)
        cv2.rectangle(img, (200, y + 8), (200 + int(300 * share), y + 34), colour(share), -1)
        cv2.putText(img, f"{share:.0%} of {s['tries']}", (508, y + 28), font, 0.5, (60, 60, 60), 1, cv2.LINE_AA)
        for j, (_, sh) in enumerate(s["sessions"][-SESSIONS_SHOWN:]):
            x = 640 + j * 30
            cv2.rectangle(img, (x, y + 8), (x + 24, y + 34), colour(sh), -1)
    ok, png = cv2.imencode(".png", img)
    with atomic_write(path) as f:
        f.write(png.tobytes())
    return path


# --------------------------------------------------------------------------- a session

@dataclass(frozen=True)
class Prompt:
    """What the app asks for: a sign, or a word to fingerspell."""
    text: str
    spelled: bool = False

    @property
    def key(self) -> str:
        return f"{self.text} (spelled)" if self.spelled else self.text

    @property
    def shown(self) -> str:
        return f"Spell: {letters_shown(self.text)}" if self.spelled else f"Sign: {self.text}"


def letters_shown(word: str) -> str:
    """C-A-T: a word as its letters, the way the window marks spelled words."""
    from asl_live.view.overlay import Spelled

    return Spelled(word).shown() if word else "no letters"


@dataclass
class Attempt:
    asked: str
    saw: str
    score: float
    right: bool
    kept: str | None = None   # the sample's path, when attempts are kept
    spelled: bool = False     # a word to fingerspell: `saw` is the word read
    letters: list[tuple[str, float]] = field(default_factory=list)   # ... letter by letter, each how sure

    def to_json(self) -> str:
        return json.dumps({"asked": self.asked, "saw": self.saw, "score": round(self.score, 6),
                           "right": self.right,
                           **({"spelled": True, "letters": [[x, round(p, 4)] for x, p in self.letters]}
                              if self.spelled else {}),
                           **({"kept": self.kept} if self.kept else {})})


@dataclass
class Session:
    """Prompts, attempts, the score, the history and (if the learner said so) the kept samples.

    A sign's attempt is the sign model's answer for the stretch; a word's is what the letter
    reader (`reader`, the app's own, `reading.letter_reader`) reads in the same stretch."""

    signs: list[str]
    history_path: Path
    rounds: int | None = None
    keep: object = None            # a gislr.Dataset, when attempts are kept
    participant: int = 0
    seed: int | None = None
    words: list[str] = field(default_factory=list)
    reader: object = None          # a LetterReader, when there are words to spell
    fps: float = 30.0              # of the source: the letter reader times letters in seconds
    attempts: list[Attempt] = field(default_factory=list)
    asked: Prompt | None = None

    def __post_init__(self):
        self.id = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        self._rng = random.Random(self.seed)
        self.prompts = [Prompt(s) for s in self.signs] + [Prompt(w, True) for w in self.words]
        past = per_sign(read_history(self.history_path))
        # Weak ones more often: weight 1.2 - share right so far (one never tried counts as 0).
        self._weights = [1.2 - (past[p.key]["right"] / past[p.key]["tries"] if p.key in past else 0.0)
                         for p in self.prompts]

    def next_prompt(self) -> Prompt | None:
        if self.done:
            return None
        choices = [p for p in self.prompts if p != self.asked] or self.prompts
        weights = [w for p, w in zip(self.prompts, self._weights) if p in choices]
        self.asked = self._rng.choices(choices, weights)[0]
        return self.asked

    def prompt_for(self, label: str | None) -> Prompt | None:
        """A labelled replay's sequence answers the prompt of its label: one of the words to spell, or
        a sign; None for idle hands (nothing was asked)."""
        if label is None:
            return None
        if label.strip().lower() in self.words:
            return Prompt(label.strip().lower(), True)
        name = sign_name(label)
        return None if name == UNKNOWN else Prompt(name)

    @property
    def done(self) -> bool:
        return self.rounds is not None and len(self.attempts) >= self.rounds

    def answer(self, prompt: Prompt, rec) -> Attempt:
        """The attempt at `prompt` that the stretch `rec` (a `pipeline.Recognition`) was."""
        if not prompt.spelled:
            return self.attempt(prompt.text, rec.prediction, rec.frames)
        from asl_live.reading.letter_reader import read_stretch

        word = None if rec.frames is None else read_stretch(self.reader, rec.frames, self.fps, rec.t_start,
                                                           rec.start_frame)
        return self.spelled(prompt.text, word)

    def attempt(self, asked: str, prediction, frames=None) -> Attempt:
        right = prediction.sign == asked
        kept = None
        if self.keep is not None and frames is not None:
            kept = self.keep.add(frames, asked, self.participant).path
        return self._add(Attempt(asked, prediction.sign, float(prediction.score), right, kept))

    def spelled(self, asked: str, word) -> Attempt:
        """A word to spell: `word` is the letter reader's `SpelledWord` for the attempt (None: no letters).
        Not kept: the app keeps no letter samples."""
        letters = [(x.letter, float(x.score)) for x in word.letters] if word is not None else []
        saw = word.word if word is not None else ""
        score = sum(p for _, p in letters) / len(letters) if letters else 0.0
        return self._add(Attempt(asked, saw, score, saw == asked, None, True, letters))

    def _add(self, a: Attempt) -> Attempt:
        self.attempts.append(a)
        append_history(self.history_path, {"session": self.id, "time": time.time(), "sign": a.asked,
                                           **({"spelled": True} if a.spelled else {}),
                                           "saw": a.saw, "score": round(a.score, 6), "right": a.right})
        return a

    def score_line(self) -> str:
        n = len(self.attempts)
        right = sum(a.right for a in self.attempts)
        weak = sorted({Prompt(a.asked, a.spelled).key for a in self.attempts if not a.right})
        return f"score {right}/{n}" + (f"; practise again: {', '.join(weak)}" if weak else "; all right")

    def finish(self) -> Path | None:
        history = read_history(self.history_path)
        return write_plot(history, self.history_path.with_name(PLOT)) if history else None


def feedback(a: Attempt) -> str:
    if not a.spelled:
        return (f"right: {a.asked}" if a.right else f"not quite: asked {a.asked}, saw {a.saw}") + \
            f" ({a.score:.0%} sure)"
    letters = "".join(x for x, _ in a.letters)
    said = f"right: spelled {a.asked}" if a.right else f"not quite: spell {a.asked}"
    said += f", read {letters_shown(letters)}"
    if a.saw != letters:   # the decoding reader may rank a likelier word above the letters
        said += f" (the word {a.saw or 'none'})"
    return said + (f" ({' '.join(f'{p:.0%}' for _, p in a.letters)} sure)" if a.letters else "")


def parse_words(text: str) -> list[str]:
    """`--words`: comma-separated words of two or more letters a-z (one letter reads as a sign's hand shape)."""
    words = [w.strip().lower() for w in text.split(",")]
    for w in words:
        if not w:
            raise UserError("--words has an empty word: give words separated by commas, e.g. --words cat,dog")
        if not (w.isascii() and w.isalpha()) or len(w) < 2:
            raise UserError(f"--words: {w!r} is not a word to fingerspell: two or more letters a-z "
                            "(e.g. --words cat,dog)")
    return list(dict.fromkeys(words))


# --------------------------------------------------------------------------- keeping attempts

def read_settings(path: Path) -> dict:
    """The learner's practice settings (missing: none yet)."""
    from asl_live.formats.json_file import read_json

    if not path.is_file():
        return {}
    settings = read_json(path, "practice settings file")
    if not isinstance(settings, dict):
        raise UserError(f"{path}: not a practice settings file (a JSON object); delete it to be asked again")
    return settings


def remember(path: Path, **values) -> None:
    from asl_live.formats.gislr import atomic_write

    settings = {**read_settings(path), **values}
    with atomic_write(path, "w") as f:
        f.write(json.dumps(settings, indent=1) + "\n")


def keep_decision(args, settings: Path) -> tuple[bool | None, str]:
    """(keep the attempts?, why): a flag, else the learner's remembered answer; None = not asked yet."""
    if args.no_keep_attempts:
        return False, "--no-keep-attempts"
    if args.keep_attempts is not None:
        return True, "--keep-attempts"
    remembered = read_settings(settings).get("keep_attempts")
    if isinstance(remembered, bool):
        return remembered, f"your answer, remembered in {settings}; " + \
            ("--no-keep-attempts" if remembered else "--keep-attempts") + " decides for one session"
    if args.headless:
        return False, "no one was asked: headless; --keep-attempts [DIR] keeps them"
    return None, ""


QUESTION = ("Keep your attempts as your own samples?\n"
            "Each sign you try is saved in {folder},\n"
            "so the app can learn your way of signing (asl-live teach --replay).\n"
            "y: keep them    n: do not    (asked once; your answer is remembered)")


def short_path(path: Path, room: int = 44) -> str:
    """A folder as it fits on one banner line: ~ for home, then only its last parts (stderr has it whole)."""
    text = str(path)
    home = str(Path.home())
    if text.startswith(home + "/"):
        text = "~" + text[len(home):]
    parts = Path(text).parts
    for keep in range(len(parts) - 1, 0, -1):
        if len(text) <= room:
            break
        text = ".../" + "/".join(parts[-keep:])
    return text


def ask_to_keep(window, folder: Path) -> bool | None:
    """The window's one question: True / False, None when the learner closed the window instead."""
    from asl_live.view.overlay import HUD, render

    hud = HUD(status="paused", source="practice", banner=QUESTION.format(folder=short_path(folder)))
    print(f"asl-live practice: keep your attempts as samples in {folder}? (y/n in the window; asked once)",
          file=sys.stderr, flush=True)
    while True:
        key = window.show(render(None, None, hud))
        if key == "quit":
            return None
        if window.last_key in (ord("y"), ord("Y")):
            return True
        if window.last_key in (ord("n"), ord("N")):
            return False
        time.sleep(0.03)


def say_keep(keep, why: str, words: bool) -> str:
    if keep is None:
        return f"asl-live practice: attempts are not kept ({why})"
    return (f"asl-live practice: every attempt is kept as a sample in {keep.root} ({why})"
            + ("; spelled words are not: the app keeps no letter samples" if words else ""))


# --------------------------------------------------------------------------- the window

class LiveLetters:
    """The window's letter reader in practice: the letters as the learner spells them, while a word is
    asked (`shown`); while a sign is asked it reads nothing, so no letters distract from the sign."""

    def __init__(self, reader):
        self.reader = reader
        self.shown = True

    @property
    def current(self):
        return self.reader.current if self.shown else None

    @property
    def spelled(self) -> str:
        return self.reader.spelled if self.shown else ""

    def push(self, index: int, t: float, frame) -> list:
        return self.reader.push(index, t, frame) if self.shown else []

    def finish(self):
        return self.reader.finish()

    def reset(self) -> None:
        self.reader.reset()


class WindowPractice:
    """The window's hooks: the prompt and the last result in the banner; each stretch of signing an attempt."""

    def __init__(self, session: Session, labelled: bool, note: str | None = None, live: LiveLetters | None = None):
        from asl_live.model.classifier import Prediction

        self.session, self.labelled = session, labelled
        self.live = live                  # the window's letters, shown while a word is asked
        self.note = note                  # shown until the first attempt (whether attempts are kept)
        self.last: Attempt | None = None
        self._Prediction = Prediction
        self._spelled: tuple[Attempt, str] | None = None   # a word just read, not yet in the HUD
        if not labelled:
            session.next_prompt()
        self._show_letters()

    def _show_letters(self) -> None:
        if self.live is not None:
            # A labelled replay asks nothing beforehand: its letters are shown throughout.
            self.live.shown = self.labelled or self.session.asked is None or self.session.asked.spelled

    def on_recognition(self, rec) -> None:
        s = self.session
        if s.done:
            return
        prompt = s.prompt_for((rec.origin or {}).get("label")) if self.labelled else s.asked
        if prompt is None:
            return
        self.last = s.answer(prompt, rec)
        if self.last.spelled:
            self._spelled = (self.last, rec.prediction.sign)
        print(f"asl-live practice: {feedback(self.last)}", file=sys.stderr, flush=True)
        if not self.labelled:
            s.next_prompt()
            self._show_letters()

    def on_key(self, action, raw, hud):
        from asl_live.view.overlay import Spelled

        s = self.session
        if self._spelled is not None:
            # The loop put the sign model's answer for the stretch in the HUD; the attempt was a word.
            a, sign = self._spelled
            self._spelled = None
            hud.last = self._Prediction(a.saw.upper() or "?", a.score, [])
            if hud.transcript and hud.transcript[-1] == sign and not isinstance(hud.transcript[-1], Spelled):
                hud.transcript = hud.transcript[:-1]
            if a.saw:
                hud.transcript = hud.transcript + [Spelled(a.saw)]
            hud.reading = "spelling" if hud.reading is not None else None
        lines = []
        if self.last is not None:
            said = feedback(self.last)
            lines.append(said[0].upper() + said[1:])
        if s.done:
            lines.append(f"Done: {s.score_line()}  (q to quit)")
        elif not self.labelled:
            lines.append(f"{s.asked.shown}   ({len(s.attempts) + 1}"
                         + (f" of {s.rounds}" if s.rounds else "") + ")")
        if self.note and not s.attempts:
            lines.append(self.note)
        hud.banner = "\n".join(lines) if lines else None
        return False


# --------------------------------------------------------------------------- command

def build_parser():
    from asl_live.errors import ArgumentParser
    from asl_live.capture.sources import add_source_arguments
    from asl_live.reading.letter_reader import add_reader_argument

    p = ArgumentParser(prog="asl-live practice",
                       description="Practise signs and fingerspelling: the app names a sign or a word to spell, "
                                   "you sign it, it says whether it understood (what it saw or read, how sure); "
                                   "a score, and a history of what is still weak.")
    p.add_argument("--signs", help="comma-separated signs to practise (default: every sign the model knows)")
    p.add_argument("--spell", action="store_true",
                   help="also ask for words to fingerspell, mixed with the signs: short common words "
                        f"({','.join(WORDS[:5])},...), or those of --words")
    p.add_argument("--words", metavar="LIST",
                   help="comma-separated words to fingerspell, e.g. cat,dog,red; without --signs or --spell, "
                        "only these words are asked")
    add_reader_argument(p)
    p.add_argument("--rounds", type=int, default=10, help="attempts in the session (default 10; a replay: "
                                                          "every sequence)")
    p.add_argument("--model", default=None, metavar="PATH", help="the model (default: the bundled one), "
                   "or a sign pack")
    p.add_argument("--labels", default=None, metavar="PATH", help="its label map (default: beside --model)")
    p.add_argument("--history", default=None, metavar="PATH",
                   help=f"the practice history (JSON lines; default: {default_history()}); its picture "
                        f"({PLOT}), the settings ({SETTINGS}) and the kept attempts ({SAMPLES}/) are beside it")
    keep = p.add_mutually_exclusive_group()
    keep.add_argument("--keep-attempts", nargs="?", const="", default=None, metavar="DIR",
                      help="keep every attempt at a sign as a sample of the sign asked, in this dataset folder "
                           f"(default: {SAMPLES}/ beside the history; teach --replay DIR learns them). Without "
                           "this or --no-keep-attempts the window asks once and remembers the answer")
    keep.add_argument("--no-keep-attempts", action="store_true",
                      help="keep nothing this session, whatever was answered before")
    p.add_argument("--participant", type=int, default=0, help="participant id for kept attempts")
    p.add_argument("--seed", type=int, default=None, help="the order of the prompts (default: random)")
    p.add_argument("--clip", action="store_true", help="each replayed sequence is one attempt, whole")
    p.add_argument("--headless", action="store_true", help="no window: one JSON line per attempt")
    add_source_arguments(p, demo=False)
    return p


def main(argv=None) -> int:
    from asl_live.bundled import LABELS, MODEL
    from asl_live.model.classifier import Classifier
    from asl_live.capture.extract import quiet_native_logs
    from asl_live.formats.gislr import Dataset, writable_folder
    from asl_live.model.pack import resolve_model
    from asl_live.capture.native_stderr import quiet_native_stderr
    from asl_live.reading.pipeline import Recognizer, landmarks_from_args, recognitions
    from asl_live.reading.segmenter import Segmenter
    from asl_live.reading.stretch_kind import SIGN
    from asl_live.capture.sources import source_from_args

    args = build_parser().parse_args(argv)
    quiet_native_logs()
    if args.rounds < 1:
        raise UserError("--rounds must be at least 1")
    words = parse_words(args.words) if args.words is not None else list(WORDS) if args.spell else []
    if args.headless and not args.replay:
        raise UserError("practice --headless needs a labelled replay (--replay DATASET): each sequence is "
                        "the attempt at its own label")
    model, labels = resolve_model(args.model, args.labels)
    model, labels = model or str(MODEL), labels or str(LABELS)
    history = Path(args.history) if args.history else default_history()
    if history.is_dir():
        raise UserError(f"{history}: is a folder; --history names a file (e.g. {history / HISTORY})")
    writable_folder(history.parent, "history folder")
    settings = history.with_name(SETTINGS)
    keep_folder = Path(args.keep_attempts) if args.keep_attempts else history.with_name(SAMPLES)
    keeping, why = keep_decision(args, settings)
    keep = None
    if keeping:
        keep = Dataset(writable_folder(keep_folder, "folder for the kept attempts"))
    if not args.headless:
        from asl_live.view.window import require_display

        require_display()
    with quiet_native_stderr():
        classifier = Classifier(model, labels)
    known = [s for s in classifier.labels if s != UNKNOWN]
    if args.signs:
        signs = [sign_name(s) for s in args.signs.split(",") if s.strip()]
        outside = [s for s in signs if s not in known]
        if outside:
            raise UserError(f"the model does not know {', '.join(outside)}; it knows {', '.join(known)} "
                            "(teach it first: asl-live teach)")
    else:
        signs = [] if args.words is not None and not args.spell else known
    if not signs and not words:
        raise UserError("nothing to practise: give --signs or --words")
    reader = None
    if words:
        from asl_live.reading.letter_reader import open_reader

        with quiet_native_stderr():
            reader = open_reader(args.letter_reader)
    source = source_from_args(args)
    labelled = bool(getattr(source, "whole_sequences", False))
    if args.headless and not labelled:
        raise UserError("practice --headless needs a labelled replay (--replay DATASET): each sequence is "
                        "the attempt at its own label")
    session = Session(signs, history, None if labelled else args.rounds, keep, args.participant, args.seed,
                      words, reader, source.fps or 30.0)
    if keeping is not None:
        print(say_keep(keep, why, bool(words)), file=sys.stderr)
    landmarks = landmarks_from_args(args)
    live_letters = None
    if words and not args.headless:
        # A second reader of the same kind, for the window: the letters as the learner spells them.
        # The attempt itself is still read from its stretch's frames by `session.reader`.
        from asl_live.reading.letter_reader import open_reader

        with quiet_native_stderr():
            live_letters = LiveLetters(open_reader(args.letter_reader))
    recognizer = Recognizer(classifier, clip=args.clip, segmenter=Segmenter(), letters=live_letters,
                            read_as=SIGN)
    try:
        if args.headless:
            for rec in recognitions(source, recognizer, landmarks):
                prompt = session.prompt_for((rec.origin or {}).get("label"))
                if prompt is None:
                    continue   # idle hands recorded as such: nothing was asked
                print(session.answer(prompt, rec).to_json(), flush=True)
        else:
            from asl_live.reading.pipeline import run_window
            from asl_live.view.window import Window

            with Window("asl-live practice") as window:
                if keeping is None:
                    keeping = ask_to_keep(window, keep_folder)
                    if keeping is None:
                        print("asl-live practice: closed before the first prompt; nothing kept, nothing "
                              "remembered", file=sys.stderr)
                        return 0
                    remember(settings, keep_attempts=keeping)
                    why = f"your answer, remembered in {settings}"
                    if keeping:
                        session.keep = keep = Dataset(writable_folder(keep_folder, "folder for the kept attempts"))
                    print(say_keep(keep, why, bool(words)), file=sys.stderr)
                note = f"(attempts kept in {short_path(keep.root)})" if keep is not None else None
                hooks = WindowPractice(session, labelled, note, live_letters)
                run_window(source, recognizer, landmarks, window, on_recognition=hooks.on_recognition,
                           on_key=hooks.on_key)
    finally:
        source.close()
        landmarks.close()
        if session.attempts:
            plot = session.finish()
            print(f"asl-live practice: {session.score_line()}; history in {history}, its picture {plot}",
                  file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, prog="asl-live practice"))
