"""The app's loop: source -> landmarks -> segmenter -> classifier -> JSON lines or the window.

Headless and window mode share everything up to the sink. A replay's frames
skip extraction (they are landmarks already), so MediaPipe is only started when
the first camera or video image arrives.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from .classifier import Classifier, Prediction
from .native_stderr import quiet_native_stderr
from .segmenter import Segment, Segmenter
from .sources import Item, Source


@dataclass
class Recognition:
    prediction: Prediction
    start_frame: int
    end_frame: int
    t_start: float
    t_end: float
    latency_s: float | None = None  # live sources: from the capture of the sign's last frame to now
    origin: dict | None = None      # Item.origin: which input (and dataset sequence) the sign came from

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
    """Item -> frame: a replay's own landmarks, or Holistic on the image (started on first use)."""

    def __init__(self, verbose: bool = False):
        self.verbose = verbose
        self._extract = None
        self.starting = False  # this call started the graph (seconds, not a per-frame cost)

    def __call__(self, item: Item) -> np.ndarray:
        self.starting = False
        if item.frame is not None:
            return item.frame
        if self._extract is None:
            self.starting = True
            from .extract import HolisticExtractor

            with quiet_native_stderr(self.verbose):
                self._extract = HolisticExtractor(video=True)
                frame = self._extract(item.image)  # the first call starts the graph's calculators
            return frame
        return self._extract(item.image)

    def close(self) -> None:
        if self._extract is not None:
            self._extract.close()
            self._extract = None


class Recognizer:
    """Frames in, recognitions out: one per sign (segmented), or one per clip/sequence (`clip`)."""

    def __init__(self, classifier: Classifier, clip: bool = False, segmenter: Segmenter | None = None,
                 times: StageTimes | None = None, clock: Callable[[], float] | None = None):
        self.classifier = classifier
        self.clip = clip
        self.segmenter = segmenter or Segmenter()
        self.times = times or StageTimes()
        self.clock = clock  # live sources: seconds on the source's clock, for latency
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
        if self.clip:
            if self._clip_start is None:
                self._clip_start = (item.index, item.t)
                self._clip_origin = item.origin
            self._clip_frames.append(frame)
            self._clip_end = (item.index, item.t)
            return self.finish() if item.end_of_sequence else None
        t0 = time.perf_counter()
        seg = self.segmenter.push(frame, item.index, item.t)
        if seg is None and item.end_of_sequence:
            seg = self.segmenter.flush()
        self.times.add("segment", time.perf_counter() - t0)
        return self._classify(seg) if seg is not None else None

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
        return self._classify(seg) if seg is not None else None

    def _classify(self, seg: Segment, origin: dict | None = None) -> Recognition:
        t0 = time.perf_counter()
        pred = self.classifier(seg.frames)
        self.times.add("classify", time.perf_counter() - t0)
        latency = self.clock() - seg.t_end if self.clock else None
        return Recognition(pred, seg.start_frame, seg.end_frame, seg.t_start, seg.t_end, latency,
                           origin if origin is not None else self._origin)


def recognitions(source: Source, recognizer: Recognizer, landmarks: Landmarks,
                 on_frame: Callable[[Item, np.ndarray], None] | None = None) -> Iterator[Recognition]:
    """Run a source to its end, yielding each recognition as soon as it is made."""
    times = recognizer.times
    for item in source:
        t0 = time.perf_counter()
        frame = landmarks(item)
        if not landmarks.starting:
            times.add("landmarks", time.perf_counter() - t0)
        if on_frame is not None:
            on_frame(item, frame)
        rec = recognizer.push(item, frame)
        if rec is not None:
            yield rec
    rec = recognizer.finish()
    if rec is not None:
        yield rec


def run_headless(source: Source, recognizer: Recognizer, landmarks: Landmarks, out=None) -> int:
    """One JSON line per recognised sign on stdout (flushed at once); nothing else there."""
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
            n += 1
    finally:
        if progress is not None:
            progress.close()
    return n


def run_window(source: Source, recognizer: Recognizer, landmarks: Landmarks, window,
               history_len: int = 8, recognised_hold_s: float = 1.5, end_hold_s: float = 3.0) -> None:
    """The live view: picture, landmarks, HUD; keys q/Esc quit, space pauses, m mirrors."""
    from .overlay import HUD, render

    times = recognizer.times
    hud = HUD(status="no hands", source=source.name, stage_ms=times.ms)
    pace = None if source.live else 1.0 / max(source.fps, 1.0)  # recorded input plays at its own speed
    last_shown = time.perf_counter()
    recognised_until = 0.0
    fps = 0.0

    def show(image, frame) -> str | None:
        t0 = time.perf_counter()
        picture = render(image, frame, hud)
        t1 = time.perf_counter()
        key = window.show(picture)
        t2 = time.perf_counter()
        times.add("draw", t1 - t0)
        times.add("show", t2 - t1)
        return key

    def handle(key, image, frame) -> bool:
        """React to a key; False to quit."""
        nonlocal last_shown
        if key == "quit":
            return False
        if key == "mirror":
            hud.mirrored = not hud.mirrored
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

    image = frame = None
    for item in source:
        image = item.image
        t0 = time.perf_counter()
        frame = landmarks(item)
        if not landmarks.starting:
            times.add("landmarks", time.perf_counter() - t0)
        rec = recognizer.push(item, frame)
        now = time.perf_counter()
        if rec is not None:
            hud.last = rec.prediction
            if rec.prediction.sign != "unknown":
                hud.history = (hud.history + [rec.prediction.sign])[-history_len:]
            recognised_until = now + recognised_hold_s
        state = recognizer.state
        hud.status = state if state == "signing" or now >= recognised_until else "recognised"
        if pace is not None:
            wait = last_shown + pace - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
        now = time.perf_counter()
        dt = now - last_shown
        last_shown = now
        fps = (1.0 / dt if fps == 0.0 else fps + 0.1 * (1.0 / dt - fps)) if dt > 0 else fps
        hud.fps = fps
        if not handle(show(item.image, frame), item.image, frame):
            return
    rec = recognizer.finish()
    if rec is not None:
        hud.last = rec.prediction
        if rec.prediction.sign != "unknown":
            hud.history = (hud.history + [rec.prediction.sign])[-history_len:]
    hud.status, hud.banner = "recognised", "end of input - q to quit"
    end = time.perf_counter() + end_hold_s
    while time.perf_counter() < end:
        if show(image, frame) == "quit":
            return
        time.sleep(0.03)
