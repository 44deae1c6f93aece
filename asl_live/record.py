"""`asl-live record --sign NAME --out DIR`: record samples of one sign into a dataset.

Any source the app takes (`--camera N`, `--video PATH`, `--replay PATH`). After
a countdown (live camera only: a file is already recorded), every performance
of the sign becomes one sample: the app's own segmenter cuts the stream where
hands appear and disappear, exactly as it does when recognising, so a recorded
sample is what the classifier will be given live (a fixed window would add idle
frames or cut a slow sign short, and is not what the app feeds the model).

Each sample goes to the dataset through `gislr.Dataset.add` (parquet, then the
train.csv row, each written atomically): Ctrl-C, a crash or a kill loses
nothing already saved and never leaves a broken train.csv.

With a display, a window shows the camera, the skeleton and the countdown;
without one (or with `--headless`), progress goes to stderr.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np

from asl_live.errors import UserError, run_main
from asl_live.formats.gislr import Dataset, Sample

COUNTDOWN_S = 3.0


def check_sign(sign: str) -> None:
    if not sign or "," in sign or sign != sign.strip() or any(c in sign for c in "\n\r\"/"):
        raise UserError(f"sign name {sign!r}: one name without commas, slashes, quotes or surrounding spaces")


@dataclass
class Progress:
    """What a recording session has done so far (for the banner and the caller)."""

    sign: str
    saved: list[Sample] = field(default_factory=list)
    banner: str | None = None
    status: str = "recording"
    quit: bool = False    # the user closed the window / pressed q
    ended: bool = False   # the source ran out


def record(items: Iterable, dataset: Dataset, sign: str, participant: int = 0, count: int | None = None,
           countdown: float = COUNTDOWN_S, landmarks: Callable | None = None,
           on_frame: Callable | None = None, segmenter=None, live: bool = False,
           whole_sequences: bool = False) -> Progress:
    """Record performances of `sign` from `items` into `dataset` until `count` or the items end.

    `items` is a Source or an iterator over one (teach mode records several
    signs one after another from the same stream); `live` says whether it is a
    camera, for the countdown. With `whole_sequences` (a replayed dataset folder),
    every replayed sequence is one sample as it is, and the segmenter is not asked:
    a dataset's sequence is already one performance, often with the hands in view
    from its first frame to its last, which the segmenter would join to the next.

    `on_frame(item, frame, progress)` is called for every frame (drawing the
    window); it returns "quit" to stop. The countdown runs on the source's own
    clock and only for live sources.
    """
    from asl_live.reading.pipeline import Landmarks
    from asl_live.reading.segmenter import Segmenter

    check_sign(sign)
    segmenter = segmenter or Segmenter()
    landmarks = landmarks or Landmarks()
    progress = Progress(sign)
    wait = countdown if live else 0.0
    t0 = None

    def save(frames: np.ndarray) -> bool:
        try:
            sample = dataset.add(frames, sign, participant)
        except OSError as e:
            # Each file is written atomically: the failed sample leaves nothing half-written,
            # and the samples saved before it stay listed in train.csv.
            from asl_live.errors import os_error_line

            raise UserError(f"cannot save sample #{len(progress.saved) + 1} of '{sign}' "
                            f"({os_error_line(e)}); the {len(progress.saved)} saved before it are kept "
                            f"in {dataset.root}") from None
        progress.saved.append(sample)
        n = len(progress.saved)
        print(f"record: saved '{sign}' #{n} ({len(frames)} frames) -> {dataset.root / sample.path}",
              file=sys.stderr)
        return count is not None and n >= count

    done = False
    pending: list[np.ndarray] = []   # the frames of the sequence in progress (whole_sequences)
    for item in items:
        frame = landmarks(item)
        t0 = item.t if t0 is None else t0
        left = wait - (item.t - t0)
        if left > 0:
            progress.banner, progress.status = f"Sign '{sign}' in {int(np.ceil(left))}...", "paused"
        else:
            progress.status = "recording"
            n = len(progress.saved)
            progress.banner = (f"Sign '{sign}' now ({n}/{count} saved)" if count
                               else f"Sign '{sign}' now ({n} saved)")
            if whole_sequences:
                pending.append(frame)
                if item.end_of_sequence:
                    frames, pending = np.stack(pending), []
                    done = save(frames)
            else:
                segment = segmenter.push(frame, item.index, item.t)
                if segment is not None and save(segment.frames):
                    done = True
        if on_frame is not None and on_frame(item, frame, progress) == "quit":
            progress.quit = True
            break
        if done:
            break
    else:
        # The source ended: a performance still in progress is a sample too.
        progress.ended = True
        segment = None if whole_sequences else segmenter.flush()
        if segment is not None and not done:
            save(segment.frames)
    return progress


def build_parser() -> argparse.ArgumentParser:
    from asl_live.errors import ArgumentParser
    from asl_live.capture.sources import add_source_arguments

    p = ArgumentParser(
        prog="asl-live record",
        description="Record samples of one sign (one per performance) into a dataset in the "
                    "competition layout (train.csv + GISLR parquet).")
    p.add_argument("--sign", required=True, help="the sign being recorded, e.g. hello")
    p.add_argument("--out", required=True, help="dataset folder to create or extend")
    p.add_argument("--participant", type=int, default=0, help="participant id written with each sample")
    p.add_argument("--count", type=int, default=None,
                   help="stop after this many samples (default: until the source ends or you quit)")
    p.add_argument("--countdown", type=float, default=COUNTDOWN_S,
                   help=f"seconds before recording starts on a live camera (default {COUNTDOWN_S:g})")
    p.add_argument("--headless", action="store_true", help="no window, even if a display exists")
    add_source_arguments(p, demo=False)
    return p


def open_view(headless: bool):
    """A Window if there is a display and it is wanted, else None (headless)."""
    if headless:
        return None
    from asl_live.view.window import Window, require_display

    try:
        require_display()
    except UserError:
        print("record: no display, recording headless (progress on stderr)", file=sys.stderr)
        return None
    return Window("asl-live record")


def window_drawer(window, source_name: str) -> Callable:
    """on_frame callback: draws camera, skeleton and banner; returns "quit" when the user closes."""
    from asl_live.view.overlay import HUD, Readout, render

    state = {"mirrored": True, "last": time.monotonic(), "fps": 0.0, "shown_fps": 0.0}
    readout = Readout()

    def draw(item, frame, progress: Progress):
        now = time.monotonic()
        dt, state["last"] = now - state["last"], now
        state["fps"] = 0.9 * state["fps"] + 0.1 * (1.0 / dt if dt > 0 else 0.0)
        if readout.due():
            state["shown_fps"] = state["fps"]
        hud = HUD(status=progress.status, history=[f"{progress.sign} #{i + 1}" for i in range(len(progress.saved))][-5:],
                  fps=state["shown_fps"], mirrored=state["mirrored"], source=source_name, banner=progress.banner)
        key = window.show(render(item.image, frame, hud))
        if key == "mirror":
            state["mirrored"] = not state["mirrored"]
        return "quit" if key == "quit" else None

    return draw


def main(argv=None) -> int:
    from asl_live.capture.extract import quiet_native_logs
    from asl_live.capture.sources import source_from_args
    from asl_live.reading.pipeline import landmarks_from_args

    args = build_parser().parse_args(argv)
    quiet_native_logs()
    if args.count is not None and args.count < 1:
        raise UserError("--count must be at least 1")
    if args.countdown < 0:
        raise UserError("--countdown must not be negative")
    from asl_live.formats.gislr import writable_folder

    dataset = Dataset(writable_folder(args.out, "dataset folder"))
    # A malformed train.csv or label map is reported before anything is recorded.
    if dataset.train_csv.is_file():
        dataset.samples()
    if dataset.label_map_path.is_file():
        dataset.label_map()
    landmarks = landmarks_from_args(args)
    source = source_from_args(args)
    window = open_view(args.headless)
    try:
        draw = window_drawer(window, source.name) if window is not None else None
        progress = record(source, dataset, args.sign, args.participant, args.count, args.countdown,
                          landmarks, draw, live=source.live, whole_sequences=source.whole_sequences)
    finally:
        source.close()
        landmarks.close()
        if window is not None:
            window.close()
    print(f"record: {len(progress.saved)} sample(s) of '{args.sign}' saved in {dataset.root}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, prog="asl-live record"))
