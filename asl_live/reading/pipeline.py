"""The app's loop: source -> landmarks -> segmenter -> classifier -> JSON lines or the window.

Headless and window mode share everything up to the sink: `steps` is the one
landmarks-then-push loop, and both consume it. The window runs it in a worker
thread (`Ahead`), so Holistic works on the next frame while this one is drawn
and shown. A replay's frames skip extraction (they are landmarks already), so
MediaPipe is only started when the first camera or video image arrives.
"""

from __future__ import annotations

import json
import os
import queue
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np

from asl_live.model.classifier import Classifier, Prediction
from asl_live.model import UNKNOWN
from asl_live.capture.native_stderr import quiet_native_stderr
from asl_live.reading.segmenter import Segment, Segmenter
from asl_live.capture.sources import Item, Source


@dataclass
class Recognition:
    prediction: Prediction
    start_frame: int
    end_frame: int
    t_start: float
    t_end: float
    latency_s: float | None = None  # live sources: from the capture of the sign's last frame to now
    origin: dict | None = None      # Item.origin: which input (and dataset sequence) the sign came from
    frames: np.ndarray | None = None  # the landmarks classified (a correction saves them); not in the JSON
    decision: dict | None = None    # why the stretch was read as a sign (reading/stretch_kind.py; not in the JSON line)

    @property
    def text(self) -> str:
        return self.prediction.sign

    def to_json(self) -> str:
        p = self.prediction
        return json.dumps({
            "sign": p.sign,
            "score": round(p.score, 6),
            "top": [[s, round(v, 6)] for s, v in p.top],
            "start_frame": self.start_frame,
            "end_frame": self.end_frame,
            "t_start": round(self.t_start, 4),
            "t_end": round(self.t_end, 4),
            **(self.origin or {}),
        })


class StageTimes:
    """Per-stage milliseconds: moving averages (what the HUD shows) and totals (for benchmarks)."""

    def __init__(self, alpha: float = 0.1):
        self.alpha = alpha
        self.ms: dict[str, float] = {}
        self.total_s: dict[str, float] = {}
        self.count: dict[str, int] = {}

    def add(self, stage: str, seconds: float) -> None:
        ms = seconds * 1000.0
        old = self.ms.get(stage)
        self.ms[stage] = ms if old is None else old + self.alpha * (ms - old)
        self.total_s[stage] = self.total_s.get(stage, 0.0) + seconds
        self.count[stage] = self.count.get(stage, 0) + 1

    def mean_ms(self) -> dict[str, float]:
        return {k: 1000.0 * v / self.count[k] for k, v in self.total_s.items()}


class Landmarks:
    """Item -> frame: a replay's own landmarks, or the landmark engine on the image (started on first use).

    `engine`/`landmarker`: which engine and Tasks bundle (asl_live.capture.engine); `prepare()`
    chooses it, and fetches the bundle if it must, before the first image arrives.
    """

    def __init__(self, verbose: bool = False, engine: str | None = None, landmarker: str | None = None,
                 hand_alone: bool = False):
        self.verbose = verbose
        self.engine_name = engine
        self.landmarker = landmarker
        self.hand_alone = hand_alone
        self._engine = None
        self._extract = None
        self.starting = False  # this call started the graph (seconds, not a per-frame cost)

    def prepare(self):
        """The chosen engine, ready to start (a missing bundle is downloaded here, or a UserError)."""
        if self._engine is None:
            from asl_live.capture.engine import Engine

            self._engine = Engine(self.engine_name, self.landmarker, self.hand_alone)
        return self._engine

    def __call__(self, item: Item) -> np.ndarray:
        self.starting = False
        if item.frame is not None:
            return item.frame
        if self._extract is None:
            self.starting = True
            engine = self.prepare()
            with quiet_native_stderr(self.verbose):
                self._extract = engine.open(video=True)
                frame = self._extract(item.image)  # the first call starts the graph's calculators
            return frame
        return self._extract(item.image)

    def close(self) -> None:
        if self._extract is not None:
            self._extract.close()
            self._extract = None


def landmarks_from_args(args, verbose: bool = False):
    """The landmark step of the source the arguments name. For a camera or a video its engine is
    made ready now (a missing Tasks bundle fetched before anything is shown, or one clear error);
    a replay has its landmarks and never needs an engine."""
    landmarks = Landmarks(verbose=verbose, engine=args.engine, landmarker=args.landmarker,
                          hand_alone=getattr(args, "hand_alone", False))
    if args.replay is None and not getattr(args, "demo", False):
        landmarks.prepare()
    return landmarks


# A guess needs some of the sign: fewer frames than this (0.27 s at 30 fps) say little.
PROVISIONAL_MIN_FRAMES = 8
# The window's rate: every 5 camera frames (6 a second at 30 fps), at most every 0.1 s;
# one guess costs about one classification (2-4 ms), so ~2% of a core.
PROVISIONAL_EVERY = 5
PROVISIONAL_MIN_S = 0.1


class Recognizer:
    """Frames in, recognitions out: one per sign (segmented), or one per clip/sequence (`clip`).

    With a letter reader (`letters`, reading/letter_reader.py), each stretch the segmenter finds is
    read both as a sign and as letters, and `reading/stretch_kind.decide` picks one: the stretch
    comes out as a `Recognition` (a sign) or a `SpelledWord`. The letter reader sees the frames of
    each stretch as they come (for the window's letter of the moment); the sign's label waits for
    nothing more than it did without it (the decision costs a fraction of a millisecond).
    """

    guesses = True  # the window may ask for provisional labels

    def __init__(self, classifier: Classifier, clip: bool = False, segmenter: Segmenter | None = None,
                 times: StageTimes | None = None, clock: Callable[[], float] | None = None,
                 provisional_every: int = 0, provisional_min_s: float = PROVISIONAL_MIN_S,
                 guess_here: bool = True, letters=None, fps: float = 30.0, read_as: str | None = None):
        self.classifier = classifier
        self.letters = None if clip else letters  # a LetterReader, or None: signs only
        # "sign": every stretch comes out as a sign with its frames, whatever letters were read, and the
        # letter reader only shows the letters as they come (practice: it knows what it asked for and
        # reads the attempt's frames as that). None: `stretch_kind.decide` says which the stretch was.
        self.read_as = read_as
        self.fps = fps  # of the source: the hand's motion is measured per second
        self._letters_fed = False
        self.clip = clip
        self.segmenter = segmenter or Segmenter()
        self.times = times or StageTimes()
        self.clock = clock  # live sources: seconds on the source's clock, for latency
        # Provisional labels (0 = off): the sign in progress classified at most every
        # `provisional_every` source frames and `provisional_min_s` seconds, so a slow machine
        # spends at most one classification per interval on guesses. `guess_here`: classified
        # in `push` (`provisional`); else only a copy of the frames is taken (`guess_frames`)
        # for the consumer's thread to classify, so that this thread does what headless does.
        self.provisional_every = provisional_every
        self.provisional_min_s = provisional_min_s
        self.guess_here = guess_here
        self.provisional: Prediction | None = None  # the latest guess for the sign in progress
        self.guess_frames: np.ndarray | None = None  # a guess due now, not classified (guess_here off)
        self._prov_index: int | None = None
        self._prov_time = -float("inf")
        self._clip_frames: list[np.ndarray] = []
        self._clip_start: tuple[int, float] | None = None
        self._clip_end: tuple[int, float] = (0, 0.0)
        self._clip_origin: dict | None = None
        self._origin: dict | None = None  # of the latest frame: a segment never spans two sequences

    @property
    def state(self) -> str:
        if self.clip:
            return "signing" if self._clip_frames else "no hands"
        return self.segmenter.state

    def push(self, item: Item, frame: np.ndarray) -> Recognition | None:
        """Feed one frame; a Recognition when a sign (or a replayed sequence in clip mode) ended."""
        self._origin = item.origin
        self.guess_frames = None
        if self.clip:
            if self._clip_start is None:
                self._clip_start = (item.index, item.t)
                self._clip_origin = item.origin
            self._clip_frames.append(frame)
            self._clip_end = (item.index, item.t)
            return self.finish() if item.end_of_sequence else None
        t0 = time.perf_counter()
        was_signing = self.segmenter.in_progress
        seg = self.segmenter.push(frame, item.index, item.t)
        if seg is None and item.end_of_sequence:
            seg = self.segmenter.flush()
        self.times.add("segment", time.perf_counter() - t0)
        if self.letters is not None and seg is None:
            # (the frame that ends a stretch lies after its last frame: the stretch is read at once)
            if was_signing or self.segmenter.in_progress:
                t0 = time.perf_counter()
                self.letters.push(item.index, item.t, frame)
                self._letters_fed = True
                self.times.add("letters", time.perf_counter() - t0)
            elif self._letters_fed:
                self.letters.reset()  # a stretch too short to be a sign: its letters go with it
                self._letters_fed = False
        if seg is not None or self.segmenter.state != "signing":
            self.provisional, self._prov_index = None, None
        elif self.provisional_every:
            self._guess(item.index)
        return self._read(seg) if seg is not None else None

    def _guess(self, index: int) -> None:
        """Classify the sign in progress, if the rate bounds allow it now."""
        if self._prov_index is not None and index - self._prov_index < self.provisional_every:
            return
        t0 = time.perf_counter()
        if t0 - self._prov_time < self.provisional_min_s:
            return
        frames = self.segmenter.so_far()
        if len(frames) < PROVISIONAL_MIN_FRAMES:
            return
        if not self.guess_here:
            self.guess_frames = frames.copy()  # so_far() is a view that the next push overwrites
            self._prov_index, self._prov_time = index, t0
            return
        self.provisional = self.classifier(frames)
        self._prov_index, self._prov_time = index, time.perf_counter()
        self.times.add("provisional", self._prov_time - t0)

    def finish(self) -> Recognition | None:
        """End of input: classify the sign in progress (or the whole clip)."""
        if self.clip:
            if not self._clip_frames:
                return None
            frames = np.stack(self._clip_frames)
            (s, ts), (e, te) = self._clip_start, self._clip_end
            self._clip_frames, self._clip_start = [], None
            return self._classify(Segment(s, e, ts, te, frames), self._clip_origin)
        seg = self.segmenter.flush()
        self.provisional, self._prov_index = None, None
        if seg is None:
            if self.letters is not None:
                self.letters.reset()
            return None
        return self._read(seg)

    def _read(self, seg: Segment):
        """A stretch ended: its sign, or (with a letter reader) the word spelled, whichever it was."""
        rec = self._classify(seg)
        if self.letters is None:
            return rec
        from asl_live.reading.stretch_kind import SIGN, SPELLING, decide, measure

        self._letters_fed = False
        if self.read_as == SIGN:
            self.letters.reset()  # its letters were for the window; the attempt is a sign's
            return rec
        t0 = time.perf_counter()
        word = self.letters.finish()
        decision = decide(lambda: measure(seg.frames, self.fps), word.word if word is not None else "",
                          rec.prediction)
        self.times.add("decide", time.perf_counter() - t0)
        if decision.kind != SPELLING:
            rec.decision = decision.to_dict()
            if self.clock:
                rec.latency_s = self.clock() - seg.t_end  # the label is final only now, after the decision
            return rec
        word.start_frame, word.end_frame, word.t_start, word.t_end = \
            seg.start_frame, seg.end_frame, seg.t_start, seg.t_end
        word.origin, word.decision = rec.origin, decision.to_dict()
        word.latency_s = self.clock() - seg.t_end if self.clock else None
        return word

    def _classify(self, seg: Segment, origin: dict | None = None) -> Recognition:
        t0 = time.perf_counter()
        pred = self.classifier(seg.frames)
        self.times.add("classify", time.perf_counter() - t0)
        latency = self.clock() - seg.t_end if self.clock else None
        return Recognition(pred, seg.start_frame, seg.end_frame, seg.t_start, seg.t_end, latency,
                           origin if origin is not None else self._origin, seg.frames)


@dataclass
class Step:
    """What one frame did. `item` and `frame` are None on the last step (end of input)."""
    item: Item | None
    frame: np.ndarray | None
    recognition: Recognition | None   # a sign ended on this step
    provisional: Prediction | None    # the latest guess for the sign in progress, if any
    state: str                        # the recognizer's state after this frame
    guess_frames: np.ndarray | None = None  # the sign so far, to guess from (Recognizer.guess_here off)
    events: list = field(default_factory=list)  # everything read on this step: signs, spelled words, letters
    letter: tuple[str, float] | None = None     # the letter reader's letter of the moment, and its score
    spelled: str = ""                           # the letters read so far in this stretch


def _events(out) -> list:
    return out if isinstance(out, list) else [] if out is None else [out]


def steps(source: Source, recognizer: Recognizer, landmarks: Landmarks,
          on_frame: Callable[[Item, np.ndarray], None] | None = None) -> Iterator[Step]:
    """Run a source to its end: one Step per frame, then one for the end of input.

    The app's one loop, for every reader (`Recognizer`: signs, and spelled words with a letter
    reader; `letter_reader.LettersOnly`: `--letters`), headless and in the window alike."""
    times = recognizer.times
    letters = getattr(recognizer, "letters", None)

    def step(item, frame, events) -> Step:
        rec = next((e for e in events if isinstance(e, Recognition)), None)
        return Step(item, frame, rec, recognizer.provisional, recognizer.state, recognizer.guess_frames,
                    events, letters.current if letters is not None else None,
                    letters.spelled if letters is not None else "")

    for item in source:
        t0 = time.perf_counter()
        frame = landmarks(item)
        if not landmarks.starting:
            times.add("landmarks", time.perf_counter() - t0)
        if on_frame is not None:
            on_frame(item, frame)
        yield step(item, frame, _events(recognizer.push(item, frame)))
    recognizer.guess_frames = None
    last = step(None, None, _events(recognizer.finish()))
    last.provisional = None
    yield last


def recognitions(source: Source, recognizer: Recognizer, landmarks: Landmarks,
                 on_frame: Callable[[Item, np.ndarray], None] | None = None) -> Iterator:
    """Run a source to its end, yielding each reading (a sign's `Recognition`, a `SpelledWord`,
    with `--letters` a `SpelledLetter`) as soon as it is made."""
    for s in steps(source, recognizer, landmarks, on_frame):
        yield from s.events


class Ahead:
    """Iterate `iterable` in a worker thread, at most `depth` items ahead of the consumer.

    The window's overlap: the worker runs Holistic (which releases the GIL in its
    C++ graph) on the next frames while the main thread, which owns the GUI, draws
    and shows. An exception in the worker is raised in the consumer; `close` stops
    the worker between two items and waits for it, so the landmarks graph and the
    source can be closed safely afterwards.
    """

    _END = object()

    def __init__(self, iterable, depth: int = 2, name: str = "pipeline"):
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(iter(iterable),), name=name, daemon=True)
        self._thread.start()

    def _run(self, it) -> None:
        try:
            for x in it:
                if not self._put((x, None)):
                    return
            self._put((self._END, None))
        except BaseException as e:  # handed to the consumer, raised there
            self._put((self._END, e))
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()  # run the generators' cleanup in this thread, before join returns

    def _put(self, entry) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def get(self, block: bool = True):
        """The next item; None when not `block` and none is ready. StopIteration at the end."""
        while True:
            try:
                x, error = self._queue.get(timeout=0.1) if block else self._queue.get_nowait()
            except queue.Empty:
                if not block:
                    return None
                if not self._thread.is_alive() and self._queue.empty():
                    raise StopIteration from None  # closed
                continue
            if x is self._END:
                self._stop.set()
                if error is not None:
                    raise error
                raise StopIteration
            return x

    def get_or_none(self, block: bool = True):
        """The next item, or None at the end (or, when not `block`, when none is ready)."""
        try:
            return self.get(block)
        except StopIteration:
            return None

    def close(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._thread.join(timeout)


def run_headless(source: Source, recognizer: Recognizer, landmarks: Landmarks, out=None,
                 on_recognition: Callable[[Recognition], None] | None = None) -> int:
    """One JSON line per recognised sign (`"sign"`) or spelled word (`"word"`) on stdout, flushed at
    once; with `--letters` also one per letter (`"letter"`); nothing else there.

    `on_recognition` (the subtitle writer, speech) gets each sign and word after its line is out.
    """
    out = out or sys.stdout
    progress = None
    if not source.live and sys.stderr.isatty():
        from tqdm import tqdm

        total = getattr(source, "frame_count", None) or None
        progress = tqdm(total=total, unit="frame", desc=source.name, file=sys.stderr, leave=False)
    on_frame = (lambda item, frame: progress.update(1)) if progress is not None else None
    n = 0
    try:
        for rec in recognitions(source, recognizer, landmarks, on_frame):
            out.write(rec.to_json() + "\n")
            out.flush()
            if on_recognition is not None and finished(rec):
                on_recognition(rec)
            n += 1
    finally:
        if progress is not None:
            progress.close()
    return n


def finished(reading) -> bool:
    """A sign or a word (what subtitles and speech take), not a letter on its way to a word."""
    return not hasattr(reading, "letter")


@contextmanager
def _lower_priority(step: int = 5):
    """Nice the calling (drawing) thread, so that on a busy machine Holistic's threads win the cores.

    Under CPU contention the window then shows fewer pictures instead of slowing
    recognition. Linux nices threads one by one (setpriority on the thread id);
    elsewhere, or without permission, nothing changes. The old value is put back
    on the way out where permitted (raising a priority again needs privilege).
    """
    tid = old = None
    try:
        tid = threading.get_native_id()
        old = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(19, old + step))
    except (AttributeError, OSError):
        old = None
    try:
        yield
    finally:
        if old is not None:
            try:
                os.setpriority(os.PRIO_PROCESS, tid, old)
            except OSError:
                pass


def run_window(source: Source, recognizer: Recognizer, landmarks: Landmarks, window,
               transcript_len: int = 12, recognised_hold_s: float = 1.5, end_hold_s: float = 3.0,
               realtime: bool = True, depth: int = 2,
               on_recognition: Callable[[Recognition], None] | None = None,
               on_key: Callable | None = None, speech=None) -> None:
    """The live view: picture, landmarks, HUD; keys q/Esc quit, space pauses, m mirrors, s speech on/off.

    Frames come from `steps` in a worker thread, up to `depth` ahead. Recorded input
    plays at its own frame rate (`realtime=False`: as fast as it goes, for benchmarks).
    When drawing falls behind (live input, or recorded input late on its frame rate)
    the newest processed frame is shown and the skipped steps only update the HUD.
    `on_key(action, raw key code, hud) -> bool` sees every picture's key first (None when none was
    pressed) and may set the HUD's banner; True when it used the key (corrections: `--learn`).
    Provisional labels are switched on here (segmented mode) if the caller chose no rate.
    They are classified in this (drawing) thread, on an interpreter of their own: the
    worker thread only copies the frames so far when a guess is due, so it does the same
    work as headless, and Holistic keeps its pace.
    """
    from asl_live.model.classifier import Prediction
    from asl_live.view.overlay import HUD, Readout, Spelled, render

    guesses = recognizer.guesses and not recognizer.clip
    both = guesses and getattr(recognizer, "letters", None) is not None  # signs and spelled words
    if not recognizer.provisional_every and guesses:
        recognizer.provisional_every = PROVISIONAL_EVERY
    guesser = None
    if recognizer.provisional_every and guesses:
        recognizer.guess_here = False
        guesser = recognizer.classifier.twin()
    guessing_for = recognizer.classifier   # a new model (a correction learned) gets a new twin
    guess_due: np.ndarray | None = None
    times = recognizer.times
    hud = HUD(status="no hands", source=source.name, speech=None if speech is None else speech.enabled)
    if not guesses and getattr(recognizer, "letters", None) is not None:
        hud.reading = "spelling"  # --letters: every stretch is letters
    pace = None if source.live or not realtime else 1.0 / max(source.fps, 1.0)
    last_shown = time.perf_counter()
    recognised_until = 0.0
    fps = 0.0
    readout = Readout()
    letter_readout = Readout(0.25)

    def show(image, frame) -> str | None:
        t0 = time.perf_counter()
        if readout.due():
            hud.fps = fps
            hud.stage_ms = dict(times.ms)  # a copy: the worker thread adds stages while this one draws
        picture = render(image, frame, hud)
        t1 = time.perf_counter()
        key = window.show(picture)
        t2 = time.perf_counter()
        times.add("draw", t1 - t0)
        times.add("show", t2 - t1)
        return key

    def apply(step: Step) -> None:
        nonlocal recognised_until, guess_due
        now = time.perf_counter()
        rec = step.recognition
        for ev in step.events:
            if not finished(ev):
                continue  # --letters: a letter on its way to a word (the word so far is `step.spelled`)
            if on_recognition is not None:
                on_recognition(ev)
            if isinstance(ev, Recognition):
                hud.last = ev.prediction
                if ev.prediction.sign != UNKNOWN:
                    hud.transcript = (hud.transcript + [ev.prediction.sign])[-transcript_len:]
            else:
                # marked as spelled among signs; with --letters every word is spelled: plain
                hud.transcript = (hud.transcript + [Spelled(ev.word) if both else ev.word])[-transcript_len:]
                hud.last = Prediction(ev.word.upper(), 1.0, [])
            if both:
                hud.reading = "sign" if isinstance(ev, Recognition) else "spelling"
            recognised_until = now + recognised_hold_s
        signing = step.state == "signing"
        if rec is not None or not signing:
            hud.provisional, guess_due = None, None  # the guesses were for a sign that has ended
        elif step.guess_frames is not None:
            guess_due = step.guess_frames  # of several steps applied at once, the newest wins
        # The letter of the moment changes (and its confidence more so) on most frames while a hand is
        # up; each change redraws the HUD's text (~1.5 ms). At the readout's rate it still reads.
        if letter_readout.due() or (step.letter is None) != (hud.letter is None):
            hud.letter = step.letter
        hud.spelled = step.spelled
        if both and signing:
            # what the reader makes of the stretch so far (stretch_kind.decide says at its end)
            hud.reading = "spelling?" if len(set(step.spelled)) >= 2 else "sign?"
        hud.status = step.state if signing or now >= recognised_until else "recognised"

    def guess() -> None:
        """Classify the sign so far, if a guess is due (at most one per provisional interval)."""
        nonlocal guess_due, guesser, guessing_for
        if guess_due is not None:
            if guessing_for is not recognizer.classifier:
                guessing_for = recognizer.classifier
                guesser = guessing_for.twin()
            t0 = time.perf_counter()
            hud.provisional = guesser(guess_due)
            times.add("provisional", time.perf_counter() - t0)
            guess_due = None

    def handle(key, image, frame) -> bool:
        """React to a key; False to quit."""
        nonlocal last_shown
        if on_key is not None and on_key(key, getattr(window, "last_key", -1), hud):
            return True
        if key == "quit":
            return False
        if key == "mirror":
            hud.mirrored = not hud.mirrored
        elif key == "speak" and speech is not None:
            hud.speech = speech.toggle()
        elif key == "pause":
            status, hud.status = hud.status, "paused"
            while True:
                k = show(image, frame)
                if k == "quit":
                    return False
                if k == "pause":
                    break
                if k == "mirror":
                    hud.mirrored = not hud.mirrored
                time.sleep(0.02)
            hud.status = status
            last_shown = time.perf_counter()
        return True

    def play() -> bool:
        """Show the steps until the input ends (True) or the user quits (False)."""
        nonlocal image, frame, last_shown, fps
        while True:
            step = work.get_or_none()
            if step is None:
                return True
            # Draw only the newest frame processed: a frame whose successor is already
            # waiting would be stale on screen (live), or late (recorded input played behind
            # its frame rate). Its recognitions and guesses still reach the HUD.
            while step.item is not None and (pace is None or time.perf_counter() > last_shown + 2 * pace):
                newer = work.get_or_none(block=False)
                if newer is None:
                    break
                apply(step)
                step = newer
            apply(step)
            if step.item is None:
                return True
            guess()
            image, frame = step.item.image, step.frame
            if pace is not None:
                wait = last_shown + pace - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
            now = time.perf_counter()
            dt = now - last_shown
            last_shown = now
            fps = (1.0 / dt if fps == 0.0 else fps + 0.1 * (1.0 / dt - fps)) if dt > 0 else fps
            if not handle(show(image, frame), image, frame):
                return False

    image = frame = None
    # The worker first: a thread inherits the nice value of the thread that starts it.
    work = Ahead(steps(source, recognizer, landmarks), depth=depth, name="asl-live pipeline")
    with _lower_priority():
        try:
            ended = play()
        finally:
            work.close()
        if not ended:
            return
        hud.status, hud.provisional, hud.banner = "recognised", None, "end of input - q to quit"
        end = time.perf_counter() + end_hold_s
        while time.perf_counter() < end:
            if show(image, frame) == "quit":
                return
            time.sleep(0.03)
