"""Correcting a wrong answer where it happens (`asl-live --learn`): window keys, or a labelled replay.

    c          correct the last answer: a pick list of the signs the model knows opens
    1-9        pick one of them (before any letter is typed)
    a-z ...    or type a new sign's name; Backspace; Enter learns it; Esc cancels
    u          undo the last correction

The stretch of landmarks behind the last answer (whatever it was, `unknown` included) is saved
as a sample of the sign picked (`learning.Learner`: the user's dataset, each write atomic) and
the model in use is extended in a worker thread, so the picture goes on while it learns; the
recognizer's classifier is swapped when the new model is ready, and the next answer uses it.
What happens is said in the window's banner and in one line on stderr.
"""

from __future__ import annotations

import sys
import threading
import time

from asl_live.errors import UserError
from asl_live.model.learning import Learner, NoHand, is_right, sign_name

ENTER = {10, 13, 65293, 65421}
BACKSPACE = {8, 65288}
ESCAPE = {27, 65307}
MESSAGE_S = 3.0
PICKS = 9


class Corrector:
    """The window's correction keys: `on_recognition` remembers each answer, `on_key` is called with
    every picture's key (None when none) and the HUD, and says whether it used the key."""

    def __init__(self, learner: Learner, recognizer, log=None):
        self.learner, self.recognizer = learner, recognizer
        self.log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self.last = None            # the latest Recognition (its frames are what a correction saves)
        self.picking = False
        self.typed = ""
        self._target = None         # the Recognition being corrected
        self._work: threading.Thread | None = None
        self._doing = ""            # what the worker does, for the banner
        self._message = ("", 0.0)   # (text, shown until)
        self._lock = threading.Lock()
        self.gaps_while_learning: list[float] = []   # seconds between pictures while the worker ran
        self.gaps_otherwise: list[float] = []
        self._last_tick: float | None = None

    # ------------------------------------------------------------------ events

    def on_recognition(self, rec) -> None:
        self.last = rec

    def on_key(self, action, raw: int, hud) -> bool:
        now = time.perf_counter()
        if self._last_tick is not None:
            (self.gaps_while_learning if self.busy() else self.gaps_otherwise).append(now - self._last_tick)
        self._last_tick = now
        used = self._key(action, raw) if raw is not None and raw >= 0 else False
        hud.banner = self.banner(now)
        return used

    def _key(self, action, raw: int) -> bool:
        ch = chr(raw) if 32 <= raw < 127 else ""
        if not self.picking:
            if ch in ("c", "C"):
                self.open()
                return True
            if ch in ("u", "U"):
                self.undo()
                return True
            return False
        # Picking: every key is the list's (q types a q, Esc cancels).
        if raw in ESCAPE:
            self.picking = False
            self.say("correction cancelled")
        elif raw in ENTER:
            if self.typed:
                self.pick(self.typed)
            else:
                self.say("type a sign's name or press its number; Esc cancels")
        elif raw in BACKSPACE:
            self.typed = self.typed[:-1]
        elif ch.isdigit() and not self.typed:
            n = int(ch)
            signs = self.signs()
            if 1 <= n <= min(PICKS, len(signs)):
                self.pick(signs[n - 1])
            else:
                self.say(f"no sign numbered {n}")
        elif ch and (ch.isalnum() or ch in "-_' "):
            self.typed = (self.typed + ch.lower())[:40]   # Qt reports letters in capitals
        return True

    # ------------------------------------------------------------------ actions

    def signs(self) -> list[str]:
        return list(self.recognizer.classifier.labels)

    def open(self) -> None:
        if self.last is None or self.last.frames is None:
            self.say("nothing to correct yet: sign, and correct the answer once it is shown", error=True)
            return
        if self.busy():
            self.say(f"still {self._doing}; a moment", error=True)
            return
        self._target, self.picking, self.typed = self.last, True, ""
        self.log(f"asl-live: correcting the answer {self.last.prediction.sign}: press 1-"
                 f"{min(PICKS, len(self.signs()))} or type a sign's name and Enter (Esc cancels)")

    def pick(self, text: str) -> None:
        try:
            name = sign_name(text)
        except UserError as e:   # the list stays open: type again, or Esc
            self.typed = ""
            self.say(str(e), error=True)
            return
        self.picking = False
        target = self._target
        was = target.prediction.sign
        if name == was:
            self.say(f"it said {name}: nothing to correct")
            return
        self._start(f"learning {name}", lambda: self._learn(target, name, was))

    def undo(self) -> None:
        if self.busy():
            self.say(f"still {self._doing}; a moment", error=True)
            return
        if not self.learner.samples():
            self.say("nothing to undo", error=True)
            return
        self._start("undoing the last correction", self._undo)

    def busy(self) -> bool:
        return self._work is not None and self._work.is_alive()

    def _start(self, doing: str, job) -> None:
        self._doing = doing

        def run():
            try:
                job()
            except UserError as e:
                self.say(str(e), error=True)
            except Exception as e:   # shown, not raised: the window and what was saved go on
                self.say(f"{doing} failed: {type(e).__name__}: {e}", error=True)

        self._work = threading.Thread(target=run, name="asl-live correction", daemon=True)
        self._work.start()

    def _learn(self, target, name: str, was: str) -> None:
        participant = (target.origin or {}).get("participant_id", 0)
        learned = self.learner.correct(target.frames, name, participant)
        self.recognizer.classifier = _classifier(self.learner)   # the next answer uses it
        self.say(f"learned {name} (was {was}) in {learned.seconds:.1f} s; {_samples(len(self.learner.samples()))}")

    def _undo(self) -> None:
        sample = self.learner.undo()
        self.recognizer.classifier = _classifier(self.learner)
        self.say(f"undid the correction to {sample.sign}; {_samples(len(self.learner.samples()))}")

    def wait(self, timeout: float = 60.0) -> None:
        """Let a correction in progress finish (the window is closing; what it saves is kept)."""
        if self._work is not None:
            self._work.join(timeout)

    # ------------------------------------------------------------------ what the window shows

    def say(self, text: str, error: bool = False) -> None:
        with self._lock:
            self._message = (text, time.perf_counter() + MESSAGE_S)
        self.log(f"asl-live: {'error: ' if error else ''}{text}")

    def banner(self, now: float | None = None) -> str | None:
        now = time.perf_counter() if now is None else now
        if self.picking:
            listed = "  ".join(f"{i} {s}" for i, s in enumerate(self.signs()[:PICKS], 1))
            was = self._target.prediction.sign
            return (f"It said {was}. What was it?\n{listed}\n"
                    f"or type a name: {self.typed}_   (Enter learns it, Esc cancels)")
        if self.busy():
            return f"{self._doing}..."
        with self._lock:
            text, until = self._message
        return text if text and now < until else None


def _samples(n: int) -> str:
    return f"{n} sample" + ("" if n == 1 else "s")


def _classifier(learner: Learner):
    """The learner's model in use, without the TFLite runtime's start-up notice on stderr."""
    from asl_live.capture.native_stderr import quiet_native_stderr

    with quiet_native_stderr():
        return learner.classifier()


class CorrectFromLabels:
    """`on_recognition` for a labelled replay: every wrong answer is corrected with the sequence's
    `label`, as a user would, and the recognizer answers the next one with the extended model.

    The JSON line of an answer is already out when this runs: it shows the answer before any
    correction. Each correction is one line on stderr."""

    def __init__(self, learner: Learner, recognizer, log=None):
        import sys

        self.learner, self.recognizer = learner, recognizer
        self.log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self.answered = self.right = self.no_hand = 0

    def __call__(self, rec) -> None:
        origin = rec.origin or {}
        label = origin.get("label")
        if label is None:
            raise UserError("--learn needs a labelled replay (a dataset folder: its train.csv names each sign)")
        self.answered += 1
        if is_right(rec.prediction.sign, label):
            self.right += 1
            return
        try:
            learned = self.learner.correct(rec.frames, label, origin.get("participant_id", 0))
        except NoHand as e:
            self.no_hand += 1
            self.log(f"asl-live: not learned: {label} (was {rec.prediction.sign}): {e}")
            return
        self.recognizer.classifier = _classifier(self.learner)
        self.log(f"asl-live: learned {learned.sign} (was {rec.prediction.sign}); "
                 f"{len(self.learner.samples())} samples, model extended in {learned.seconds:.2f} s")


class _Session:
    """The Learner of one `asl-live --learn` run, its hooks for the loop, and what it leaves behind."""

    def __init__(self, learner: Learner, temporary: str | None):
        self.learner, self.temporary = learner, temporary
        self.on_recognition = None
        self.on_key = None          # the window's correction keys (`reading.corrections.Corrector`)
        self.corrector = None

    def close(self) -> None:
        import shutil
        import sys

        if self.corrector is not None:
            self.corrector.wait()
            gaps = sorted(self.corrector.gaps_while_learning)
            other = sorted(self.corrector.gaps_otherwise)
            if gaps and other:
                print(f"asl-live: while learning, pictures came every {1000 * gaps[len(gaps) // 2]:.0f} ms "
                      f"(median; longest {1000 * gaps[-1]:.0f} ms; otherwise {1000 * other[len(other) // 2]:.0f} ms, "
                      f"longest {1000 * other[-1]:.0f} ms)", file=sys.stderr, flush=True)
        l = self.learner
        where = "(not kept: give --out DIR to keep them)" if self.temporary else f"in {l.folder}"
        print(f"asl-live: {l.corrections} corrections, {l.seconds:.1f} s spent learning; "
              f"{len(l.samples())} samples and the model {where}", file=sys.stderr, flush=True)
        if self.temporary:
            shutil.rmtree(self.temporary, ignore_errors=True)


def check_learn_options(args) -> None:
    if args.letters:
        raise UserError("--learn teaches signs, not letters: leave out --letters")
    if args.headless and not args.replay:
        raise UserError("--learn --headless needs a labelled replay: --replay DATASET (its train.csv names each sign)")


def start_learning(args, recognizer, on_recognition=None) -> _Session:
    """The learning session of `asl-live --learn`: headless, a labelled replay whose wrong answers are
    corrected with their labels; in the window, the correction keys. Its `on_recognition` (and
    `on_key`) go to the loop."""
    import sys
    import tempfile

    check_learn_options(args)
    temporary = None
    folder = args.out
    if folder is None:
        temporary = folder = tempfile.mkdtemp(prefix="asl-live-learn-")
    warn = lambda line: print(f"asl-live: warning: {line}", file=sys.stderr)  # noqa: E731
    learner = Learner(folder, args.model, args.labels, args.threshold, warn=warn)
    session = _Session(learner, temporary)
    if learner.samples():
        recognizer.classifier = _classifier(learner)
        print(f"asl-live: going on from {len(learner.samples())} samples in {learner.folder}", file=sys.stderr)
    if args.headless:
        react = CorrectFromLabels(learner, recognizer)
    else:
        react = session.corrector = Corrector(learner, recognizer)
        session.on_key = react.on_key
        react = react.on_recognition

    def both(rec):
        react(rec)
        if on_recognition is not None:
            on_recognition(rec)

    session.on_recognition = both
    return session
