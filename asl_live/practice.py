"""`asl-live practice`: the app names a sign, the learner signs it, the app says whether it understood.

    asl-live practice                          # camera 0, window: the model's signs, 10 rounds
    asl-live practice --signs hello,thankyou --rounds 6
    asl-live practice --keep-attempts mine/    # also keep each attempt as a sample (said once, at the start)
    asl-live practice --replay DATASET --headless --clip   # a labelled replay: each sequence answers
                                               # the prompt of its own label (tests, benchmarks)

Each attempt: the sign asked, what the app saw (its answer, `unknown` included) and its
confidence, right or wrong; the session's score at the end. Every attempt is appended to a
per-learner history (JSON lines; `--history PATH`, default `practice.jsonl` in the user's data
folder, `platformdirs.user_data_dir("asl-live")`), and a picture of it is written beside it
(`practice.png`, drawn with OpenCV: per sign, the share right in each of the last sessions and
overall, weakest first), so the learner sees which signs are still weak. Signs the history says
are weak are asked more often.

Attempts are kept as the learner's samples only with `--keep-attempts DIR` (said on stderr and in
the window when the session starts; never otherwise): `DIR` is a dataset in the GISLR layout that
`asl-live teach --replay DIR` or `asl-train fit` takes, each attempt saved as the sign that was
asked, atomically.
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
SESSIONS_SHOWN = 8


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


def per_sign(history: list[dict]) -> dict[str, dict]:
    """{sign: {"right": n, "tries": n, "sessions": [(session, share right), ...] (oldest first)}}."""
    out: dict[str, dict] = {}
    for row in history:
        s = out.setdefault(row["sign"], {"right": 0, "tries": 0, "by_session": {}})
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
    cv2.putText(img, "Practice: share right per sign (weakest first)", (20, 36), font, 0.8, (40, 40, 40), 1, cv2.LINE_AA)
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
        cv2.putText(img, sign[:16], (20, y + 28), font, 0.65, (30, 30, 30), 1, cv2.LINE_AA)
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

@dataclass
class Attempt:
    asked: str
    saw: str
    score: float
    right: bool
    kept: str | None = None   # the sample's path, when attempts are kept

    def to_json(self) -> str:
        return json.dumps({"asked": self.asked, "saw": self.saw, "score": round(self.score, 6),
                           "right": self.right, **({"kept": self.kept} if self.kept else {})})


@dataclass
class Session:
    """Prompts, attempts, the score, the history and (if the learner said so) the kept samples."""

    signs: list[str]
    history_path: Path
    rounds: int | None = None
    keep: object = None            # a gislr.Dataset, when attempts are kept
    participant: int = 0
    seed: int | None = None
    attempts: list[Attempt] = field(default_factory=list)
    asked: str | None = None

    def __post_init__(self):
        self.id = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        self._rng = random.Random(self.seed)
        past = per_sign(read_history(self.history_path))
        # Weak signs more often: weight 1.2 - share right so far (a sign never tried counts as 0).
        self._weights = [1.2 - (past[s]["right"] / past[s]["tries"] if s in past else 0.0) for s in self.signs]

    def next_prompt(self) -> str | None:
        if self.done:
            return None
        choices = [s for s in self.signs if s != self.asked] or self.signs
        weights = [w for s, w in zip(self.signs, self._weights) if s in choices]
        self.asked = self._rng.choices(choices, weights)[0]
        return self.asked

    @property
    def done(self) -> bool:
        return self.rounds is not None and len(self.attempts) >= self.rounds

    def attempt(self, asked: str, prediction, frames=None) -> Attempt:
        right = prediction.sign == asked
        kept = None
        if self.keep is not None and frames is not None:
            kept = self.keep.add(frames, asked, self.participant).path
        a = Attempt(asked, prediction.sign, float(prediction.score), right, kept)
        self.attempts.append(a)
        append_history(self.history_path, {"session": self.id, "time": time.time(), "sign": asked,
                                           "saw": a.saw, "score": round(a.score, 6), "right": right})
        return a

    def score_line(self) -> str:
        n = len(self.attempts)
        right = sum(a.right for a in self.attempts)
        weak = sorted({a.asked for a in self.attempts if not a.right})
        return f"score {right}/{n}" + (f"; practise again: {', '.join(weak)}" if weak else "; all right")

    def finish(self) -> Path | None:
        history = read_history(self.history_path)
        return write_plot(history, self.history_path.with_name(PLOT)) if history else None


def feedback(a: Attempt) -> str:
    return (f"right: {a.asked}" if a.right else f"not quite: asked {a.asked}, saw {a.saw}") + \
        f" ({a.score:.0%} sure)"


# --------------------------------------------------------------------------- the window

class WindowPractice:
    """The window's hooks: the prompt and the last result in the banner; each recognised sign an attempt."""

    def __init__(self, session: Session, labelled: bool):
        self.session, self.labelled = session, labelled
        self.last: Attempt | None = None
        if not labelled:
            session.next_prompt()

    def on_recognition(self, rec) -> None:
        s = self.session
        if s.done:
            return
        asked = (rec.origin or {}).get("label") if self.labelled else s.asked
        if asked is None or sign_name(asked) == UNKNOWN:
            return
        asked = sign_name(asked)
        self.last = s.attempt(asked, rec.prediction, rec.frames)
        print(f"asl-live practice: {feedback(self.last)}", file=sys.stderr, flush=True)
        if not self.labelled:
            s.next_prompt()

    def on_key(self, action, raw, hud):
        s = self.session
        lines = []
        if self.last is not None:
            said = feedback(self.last)
            lines.append(said[0].upper() + said[1:])
        if s.done:
            lines.append(f"Done: {s.score_line()}  (q to quit)")
        elif not self.labelled:
            lines.append(f"Sign: {s.asked}   ({len(s.attempts) + 1}"
                         + (f" of {s.rounds}" if s.rounds else "") + ")")
        hud.banner = "\n".join(lines) if lines else None
        return False


# --------------------------------------------------------------------------- command

def build_parser():
    from asl_live.errors import ArgumentParser
    from asl_live.capture.sources import add_source_arguments

    p = ArgumentParser(prog="asl-live practice",
                       description="Practise signs: the app names one, you sign it, it says whether it understood "
                                   "(what it saw, how sure); a score, and a history of which signs are still weak.")
    p.add_argument("--signs", help="comma-separated signs to practise (default: every sign the model knows)")
    p.add_argument("--rounds", type=int, default=10, help="attempts in the session (default 10; a replay: "
                                                          "every sequence)")
    p.add_argument("--model", default=None, metavar="PATH", help="the model (default: the bundled one), "
                   "or a sign pack")
    p.add_argument("--labels", default=None, metavar="PATH", help="its label map (default: beside --model)")
    p.add_argument("--history", default=None, metavar="PATH",
                   help=f"the practice history (JSON lines; default: {default_history()}); its picture "
                        f"({PLOT}) is written beside it")
    p.add_argument("--keep-attempts", default=None, metavar="DIR",
                   help="also keep every attempt as a sample of the sign asked in this dataset folder "
                        "(teach --replay DIR learns them); without it nothing is kept")
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
    from asl_live.capture.sources import source_from_args

    args = build_parser().parse_args(argv)
    quiet_native_logs()
    if args.rounds < 1:
        raise UserError("--rounds must be at least 1")
    if args.headless and not args.replay:
        raise UserError("practice --headless needs a labelled replay (--replay DATASET): each sequence is "
                        "the attempt at its own label")
    model, labels = resolve_model(args.model, args.labels)
    model, labels = model or str(MODEL), labels or str(LABELS)
    history = Path(args.history) if args.history else default_history()
    if history.is_dir():
        raise UserError(f"{history}: is a folder; --history names a file (e.g. {history / HISTORY})")
    writable_folder(history.parent, "history folder")
    keep = None
    if args.keep_attempts:
        keep = Dataset(writable_folder(args.keep_attempts, "folder for the kept attempts"))
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
        signs = known
    if not signs:
        raise UserError("nothing to practise: give --signs")
    source = source_from_args(args)
    labelled = bool(getattr(source, "whole_sequences", False))
    if args.headless and not labelled:
        raise UserError("practice --headless needs a labelled replay (--replay DATASET): each sequence is "
                        "the attempt at its own label")
    session = Session(signs, history, None if labelled else args.rounds, keep, args.participant, args.seed)
    if keep is not None:
        print(f"asl-live practice: every attempt is kept as a sample in {keep.root} (--keep-attempts)",
              file=sys.stderr)
    landmarks = landmarks_from_args(args)
    recognizer = Recognizer(classifier, clip=args.clip, segmenter=Segmenter())
    try:
        if args.headless:
            for rec in recognitions(source, recognizer, landmarks):
                label = (rec.origin or {}).get("label")
                if label is None or sign_name(label) == UNKNOWN:
                    continue   # idle hands recorded as such: nothing was asked
                asked = sign_name(label)
                a = session.attempt(asked, rec.prediction, rec.frames)
                print(a.to_json(), flush=True)
        else:
            from asl_live.reading.pipeline import run_window
            from asl_live.view.window import Window

            hooks = WindowPractice(session, labelled)
            with Window("asl-live practice") as window:
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
