"""Where frames come from: a camera, a video file or a GISLR parquet replay.

The one place that opens cameras, videos and parquet replays. Iterating a
`Source` yields `Item`s; a camera or video gives BGR images (landmarks still to
be extracted), a replay gives landmark frames directly (it enters the data path
after extraction).

A live camera is read by a grabber thread that keeps only the newest image:
when processing falls behind, stale images are dropped (counted in
`Source.dropped`), never queued, so what is on screen is never old.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from asl_live.bundled import DEMO_PARQUET
from asl_live.errors import UserError

# GISLR files carry no frame rate; the competition's recordings are ~30 fps.
REPLAY_FPS = 30.0


@dataclass
class Item:
    index: int                    # frame number in the source (gaps where a live camera dropped frames)
    t: float                      # seconds since the source started
    image: np.ndarray | None      # BGR image (camera, video); None for a replay
    frame: np.ndarray | None      # float32[543, 3] landmarks (replay); None for camera/video
    end_of_sequence: bool = False  # last frame of one replayed sequence (dataset folder / file)
    # What this frame came from, copied into each headless JSON line: {"source": path or camera}, and
    # for a dataset's sequence also participant_id, sequence_id and its train.csv sign as "label".
    origin: dict | None = None


class Source:
    """Base: iterable of Items, closable, with a display name and a frame rate."""

    name: str = ""
    fps: float = 30.0
    live: bool = False   # frames arrive in real time and may be dropped
    dropped: int = 0     # frames a live source discarded because the consumer was busy
    # Each sequence it yields is one performance (a dataset folder): recording takes them whole.
    whole_sequences: bool = False

    def __iter__(self) -> Iterator[Item]:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# --------------------------------------------------------------------------- video

def _open_video(path: str | os.PathLike):
    import cv2

    p = Path(path)
    if not p.exists():
        raise UserError(f"{p}: no such video file")
    if p.is_dir():
        raise UserError(f"{p}: is a folder, not a video file")
    if p.stat().st_size == 0:
        raise UserError(f"{p}: empty file, not a video")
    with _quiet_opencv():
        cap = cv2.VideoCapture(str(p))
        if not cap.isOpened():
            cap.release()
            raise UserError(f"{p}: not a video OpenCV can read")
    return cap


class VideoSource(Source):
    """Every frame of a video file, in order, at the file's own timing."""

    def __init__(self, path: str | os.PathLike):
        import cv2

        self.path = Path(path)
        self.name = self.path.name
        self.origin = {"source": str(path)}
        self._cap = _open_video(path)
        ok, first = self._cap.read()
        if not ok or first is None:
            self._cap.release()
            raise UserError(f"{self.path}: not a video OpenCV can read (no frame could be decoded)")
        self._first = first
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if fps and 1.0 <= fps <= 1000.0 else 30.0
        self.frame_count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)

    def __iter__(self) -> Iterator[Item]:
        image, i = self._first, 0
        self._first = None
        while image is not None:
            yield Item(i, i / self.fps, image, None, origin=self.origin)
            ok, image = self._cap.read()
            if not ok:
                break
            i += 1

    def close(self) -> None:
        self._cap.release()


# --------------------------------------------------------------------------- live

class _LatestFrameGrabber:
    """Reads a capture in a thread and keeps only the newest frame."""

    def __init__(self, cap, pace_fps: float | None = None):
        self._cap = cap
        self._pace = 1.0 / pace_fps if pace_fps else 0.0
        self._cond = threading.Condition()
        self._latest: tuple[int, float, np.ndarray] | None = None
        self._taken = -1
        self._stopped = False
        self.grabbed = 0
        self.t0 = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="frame-grabber", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        next_t = time.monotonic()
        while not self._stopped:
            if self._pace:  # a recorded file played as if it were a camera
                delay = next_t - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                next_t += self._pace
            ok, image = self._cap.read()
            if not ok or image is None:
                break
            with self._cond:
                self._latest = (self.grabbed, time.monotonic() - self.t0, image)
                self.grabbed += 1
                self._cond.notify_all()
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def next(self) -> tuple[int, float, np.ndarray] | None:
        """The newest frame not yet taken; waits for one; None when the capture ended."""
        with self._cond:
            while True:
                if self._latest is not None and self._latest[0] > self._taken:
                    self._taken = self._latest[0]
                    return self._latest
                if self._stopped:
                    return None
                self._cond.wait(0.5)

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        self._thread.join(timeout=2.0)


class LiveSource(Source):
    """A camera (or a video played at camera speed); drops frames the consumer had no time for."""

    live = True

    def __init__(self, cap, name: str, pace_fps: float | None = None):
        self.name = name
        self.origin = {"source": name}
        self._cap = cap
        self._grabber = _LatestFrameGrabber(cap, pace_fps)
        self._yielded = 0

    @property
    def dropped(self) -> int:  # type: ignore[override]
        return max(0, self._grabber.grabbed - self._yielded)

    @property
    def fps(self) -> float:  # type: ignore[override]
        dt = time.monotonic() - self._grabber.t0
        return self._grabber.grabbed / dt if dt > 0.5 else 30.0

    def clock(self) -> float:
        """Seconds on the clock that stamps this source's Items (`Item.t`)."""
        return time.monotonic() - self._grabber.t0

    def __iter__(self) -> Iterator[Item]:
        while True:
            got = self._grabber.next()
            if got is None:
                return
            index, t, image = got
            self._yielded += 1
            yield Item(index, t, image, None, origin=self.origin)

    def close(self) -> None:
        self._grabber.stop()
        self._cap.release()


@contextmanager
def _quiet_opencv():
    """OpenCV and FFmpeg log their probing when a camera or file will not open; our UserError says it once."""
    import cv2

    from asl_live.capture.native_stderr import quiet_native_stderr

    if os.environ.get("ASL_LIVE_VERBOSE") == "1":
        yield
        return
    # cv2.getLogLevel up to 4.11; from 4.12 (numpy 2, Python 3.13+) only cv2.utils.logging has it
    log = cv2 if hasattr(cv2, "getLogLevel") else cv2.utils.logging
    level = log.getLogLevel()
    log.setLogLevel(0)  # 0 = LOG_LEVEL_SILENT
    try:
        with quiet_native_stderr():  # FFmpeg's own messages ("moov atom not found") bypass OpenCV's logger
            yield
    finally:
        log.setLogLevel(level)


def camera_permission_hint(platform: str | None = None) -> str:
    """Where a user grants camera access: OpenCV reports a refusal only as "not opened"."""
    import sys

    platform = platform or sys.platform
    if platform == "darwin":
        return "allow your terminal in System Settings > Privacy & Security > Camera, then restart it"
    if platform == "win32":
        return "turn on Settings > Privacy & security > Camera > Let desktop apps access your camera"
    return "be in the video group, see ls -l /dev/video*"


def open_camera(index: int) -> LiveSource:
    import cv2

    with _quiet_opencv():
        cap = cv2.VideoCapture(index)
        if not cap.isOpened():
            cap.release()
            raise UserError(f"camera {index} does not open (none connected, in use by another program, "
                            f"or no permission: {camera_permission_hint()}); "
                            "try another --camera N, or --video PATH / --demo")
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # the driver's own queue would add latency
        ok, _ = cap.read()
        if not ok:
            cap.release()
            raise UserError(f"camera {index} opened but gives no frames; try another --camera N")
    return LiveSource(cap, f"camera {index}")


def simulated_camera(path: str | os.PathLike, fps: float = 30.0) -> LiveSource:
    """A video file delivered at `fps` in real time, through the camera's frame-dropping path."""
    return LiveSource(_open_video(path), f"{Path(path).name} @ {fps:g} fps", pace_fps=fps)


# --------------------------------------------------------------------------- replay

class ReplaySource(Source):
    """A GISLR parquet file, or a dataset folder replayed sequence by sequence."""

    fps = REPLAY_FPS

    def __init__(self, path: str | os.PathLike, name: str | None = None):
        from asl_live.formats.gislr import Dataset, read_parquet

        p = Path(path)
        self.name = name or p.name
        if p.is_dir():
            ds = Dataset(p)
            samples = ds.samples()
            if not samples:
                raise UserError(f"{p}: the dataset's train.csv lists no sequences")
            self._sequences = [(lambda s=s: ds.read(s)) for s in samples]
            self.whole_sequences = True
            self.signs = [s.sign for s in samples]
            self._origins = [{"source": str(p / s.path), "participant_id": s.participant_id,
                              "sequence_id": s.sequence_id, "label": s.sign} for s in samples]
        else:
            if not p.exists():
                raise UserError(f"{p}: no such parquet file or dataset folder")
            frames = read_parquet(p)  # read now, so a bad file fails before anything starts
            self._sequences = [lambda: frames]
            self.signs = [None]
            self._origins = [{"source": str(path)}]

    def __iter__(self) -> Iterator[Item]:
        i = 0
        for load, origin in zip(self._sequences, self._origins):
            frames = load()
            last = len(frames) - 1
            for j in range(len(frames)):
                yield Item(i, i / self.fps, None, frames[j], end_of_sequence=(j == last), origin=origin)
                i += 1


# --------------------------------------------------------------------------- arguments

def add_source_arguments(parser: argparse.ArgumentParser, demo: bool = True) -> None:
    """--camera N | --video PATH | --replay PATH [| --demo]; camera 0 when none is given."""
    g = parser.add_mutually_exclusive_group()
    g.add_argument("--camera", type=int, metavar="N", help="camera index (default 0)")
    g.add_argument("--video", metavar="PATH", help="a video file (anything OpenCV reads)")
    g.add_argument("--replay", metavar="PATH",
                   help="a GISLR landmark parquet file, or a dataset folder in the competition layout")
    if demo:
        g.add_argument("--demo", action="store_true", help="replay the bundled demo (assets/demo.parquet)")
    from asl_live.capture.engine import add_engine_arguments

    add_engine_arguments(parser)


def demo_path() -> Path:
    """The bundled demo replay; UserError when this install lacks it."""
    if not DEMO_PARQUET.is_file():
        raise UserError(f"the bundled demo {DEMO_PARQUET} is missing; use --video PATH or --replay PATH")
    return DEMO_PARQUET


def source_from_args(args: argparse.Namespace) -> Source:
    if getattr(args, "demo", False):
        return ReplaySource(demo_path())
    if args.video is not None:
        return VideoSource(args.video)
    if args.replay is not None:
        return ReplaySource(args.replay)
    return open_camera(0 if args.camera is None else args.camera)


def video_landmarks(path: str | os.PathLike, progress: bool = False, engine: str | None = None,
                    landmarker: str | None = None) -> tuple[np.ndarray, float]:
    """A whole video through the landmark engine (asl_live.capture.engine): (float32[T, 543, 3], fps)."""
    from asl_live.capture.engine import Engine

    chosen = Engine(engine, landmarker)
    with VideoSource(path) as src:
        frames = []
        items = iter(src)
        if progress:
            import sys

            from tqdm import tqdm

            items = tqdm(items, total=src.frame_count or None, unit="frame",
                         desc=src.name, file=sys.stderr, leave=False)
        with chosen.open(video=True) as extract:
            for item in items:
                frames.append(extract(item.image))
        fps = src.fps
    from asl_live.formats.layout import empty_frames

    return (np.stack(frames) if frames else empty_frames(0)), fps
