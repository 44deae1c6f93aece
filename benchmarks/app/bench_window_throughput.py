"""The window's throughput against headless on the same video, in the same process.

    python benchmarks/app/bench_window_throughput.py --runs 5 [--clips 8] [--repeat 1] [--model M --labels L]

A 640x480 video of real DPAN clips (bench_app_common.make_video) goes, in each
run and in alternating order, through
  (a) `pipeline.run_headless` (decode, Holistic, segmenter, classifier, JSON lines to /dev/null);
  (b) `pipeline.run_window` in a real OpenCV window on a private Xvfb, as fast as it goes
      (`realtime=False`; the app itself plays recorded video at the file's frame rate),
      provisional labels on, as in the app: Holistic in the worker thread, drawing and
      showing in the main thread;
  (c) the same window work done in series, as before issue 11: each frame's
      landmarks, then its drawing and showing, in one thread (`--no-serial` skips it).
Start-up (graph, model) is excluded: each run starts a fresh Holistic graph on the
first frame before the clock starts. Frames per second = frames / wall time;
the ratio window/headless is taken per run, then the median. CPU ms per frame
counts every thread of this process plus the X server's own CPU time: on a
machine whose cores are all busy, throughput follows CPU time, so the CPU ratio
is what the window would keep there.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil
from bench_app_common import DEFAULT_CLIPS, REPO, make_video, model_arguments

sys.path.insert(0, str(REPO / "tests"))

from asl_live.model.classifier import Classifier  # noqa: E402
from asl_live.capture.extract import import_mediapipe  # noqa: E402
from asl_live.reading.pipeline import Landmarks, Recognizer, StageTimes, run_headless, run_window, steps  # noqa: E402
from asl_live.capture.sources import VideoSource  # noqa: E402


def warm_landmarks(video: Path) -> Landmarks:
    landmarks = Landmarks()
    with VideoSource(video) as src:
        landmarks(next(iter(src)))  # start the graph, as the app does on its first frame
    return landmarks


class Clock:
    """Wall time, and CPU time of this process (all threads) plus the X server's."""

    def __init__(self, xserver: psutil.Process):
        self.x = xserver

    def now(self) -> tuple[float, float]:
        t = self.x.cpu_times()
        return time.perf_counter(), time.process_time() + t.user + t.system


CLOCK: Clock | None = None


def measured(run):
    """Decorate a mode: its (fps, stages) gain "cpu_ms" per frame."""
    def wrapper(video, classifier, n, *rest):
        w0, c0 = CLOCK.now()
        fps, stages = run(video, classifier, n, *rest)
        w1, c1 = CLOCK.now()
        return fps, {**stages, "cpu_ms": 1000 * (c1 - c0) / n}
    return wrapper


LETTERS = None  # the letters model, when the app's default reader (signs and spelled words) is measured


def reader(classifier, times, **kw) -> Recognizer:
    """The app's reader: signs, and spelled words when the letters model is loaded (`--reader both`),
    read by the app's default letter reader (the decoding one)."""
    from asl_live.reading.letter_reader import DecodedLetters

    return Recognizer(classifier, times=times, letters=DecodedLetters(LETTERS) if LETTERS is not None else None, **kw)


@measured
def headless(video: Path, classifier, n: int) -> tuple[float, dict]:
    landmarks = warm_landmarks(video)
    times = StageTimes()
    with open(os.devnull, "w") as out, VideoSource(video) as src:
        t0 = time.perf_counter()
        run_headless(src, reader(classifier, times), landmarks, out=out)
        dt = time.perf_counter() - t0
    landmarks.close()
    return n / dt, times.mean_ms()


@measured
def window_overlapped(video: Path, classifier, n: int, window) -> tuple[float, dict]:
    landmarks = warm_landmarks(video)
    times = StageTimes()
    with VideoSource(video) as src:
        t0 = time.perf_counter()
        run_window(src, reader(classifier, times), landmarks, window, realtime=False, end_hold_s=0)
        dt = time.perf_counter() - t0
    landmarks.close()
    return n / dt, {**times.mean_ms(), "shown": times.count.get("show", 0)}


@measured
def window_serial(video: Path, classifier, n: int, window) -> tuple[float, dict]:
    """The pre-issue-11 window loop: landmarks, then draw and show, one frame at a time, one thread."""
    from asl_live.view.overlay import HUD, render
    from asl_live.reading.pipeline import PROVISIONAL_EVERY

    landmarks = warm_landmarks(video)
    times = StageTimes()
    recognizer = reader(classifier, times, provisional_every=PROVISIONAL_EVERY)
    hud = HUD(status="no hands", source=video.name)
    with VideoSource(video) as src:
        t0 = time.perf_counter()
        for step in steps(src, recognizer, landmarks):
            if step.recognition is not None:
                hud.last = step.recognition.prediction
                hud.transcript = (hud.transcript + [hud.last.sign])[-12:]
            hud.status, hud.provisional = step.state, step.provisional
            if step.item is None:
                break
            t1 = time.perf_counter()
            hud.stage_ms = dict(times.ms)
            picture = render(step.item.image, step.frame, hud)
            t2 = time.perf_counter()
            window.show(picture)
            times.add("draw", t2 - t1)
            times.add("show", time.perf_counter() - t2)
        dt = time.perf_counter() - t0
    landmarks.close()
    return n / dt, {**times.mean_ms(), "shown": times.count.get("show", 0)}


def main() -> None:
    from display import Xvfb

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    model_arguments(p)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--clips", type=int, default=8, help="how many DPAN clips make the video (shorter runs, "
                   "more of them: on a busy machine paired short runs scatter less)")
    p.add_argument("--repeat", type=int, default=1, help="times the clip list is repeated in the video")
    p.add_argument("--no-serial", action="store_true", help="skip (c), the serial window loop")
    p.add_argument("--reader", choices=("both", "signs"), default="both",
                   help="both: signs and spelled words, the app's default (the decoding letter reader on "
                        "every stretch); signs: `asl-live --signs`")
    p.add_argument("--video", type=Path, default=None,
                   help="this video instead of the DPAN clips (e.g. one with fingerspelling)")
    args = p.parse_args()
    import_mediapipe()
    classifier = Classifier(args.model, args.labels)
    if args.reader == "both":
        from asl_live.bundled import LETTERS_LABELS, LETTERS_MODEL

        global LETTERS
        LETTERS = Classifier(LETTERS_MODEL, LETTERS_LABELS)
    modes = ["headless", "window"] + ([] if args.no_serial else ["serial"])
    with tempfile.TemporaryDirectory() as d, Xvfb() as xvfb:
        os.environ["DISPLAY"] = xvfb.display  # before OpenCV's Qt meets any display
        global CLOCK
        CLOCK = Clock(psutil.Process(xvfb._proc.pid))
        from asl_live.view.window import Window

        if args.video is not None:
            import cv2

            video = args.video
            cap = cv2.VideoCapture(str(video))
            n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
            cap.release()
        else:
            video, n = make_video(Path(d) / "bench_640x480.mp4", DEFAULT_CLIPS[:args.clips], repeat=args.repeat)
        print(f"video: {n} frames ({video.name}); reader {args.reader}; model {args.model}; "
              f"window 960x720 on Xvfb {xvfb.display}; load at start {os.getloadavg()[0]:.1f}", flush=True)
        fps: dict[str, list[float]] = {m: [] for m in modes}
        stages: dict[str, list[dict]] = {m: [] for m in modes}
        with Window("asl-live benchmark") as window:
            for r in range(args.runs):
                order = modes if r % 2 == 0 else modes[::-1]
                for mode in order:
                    if mode == "headless":
                        f, st = headless(video, classifier, n)
                    elif mode == "window":
                        f, st = window_overlapped(video, classifier, n, window)
                    else:
                        f, st = window_serial(video, classifier, n, window)
                    fps[mode].append(f)
                    stages[mode].append(st)
                line = ", ".join(f"{m} {fps[m][-1]:.1f} fps" for m in modes)
                ratios = ", ".join(f"{m}/headless {fps[m][-1] / fps['headless'][-1]:.3f}" for m in modes[1:])
                ratios += "; CPU ms/frame " + ", ".join(f"{m} {stages[m][-1]['cpu_ms']:.1f}" for m in modes)
                print(f"run {r + 1}: {line}; {ratios}; load {os.getloadavg()[0]:.1f}", flush=True)
    print(f"\nmedian of {args.runs} runs ({n} frames each):")
    for m in modes:
        keys = sorted({k for s in stages[m] for k in s} - {"shown", "cpu_ms"})
        st = ", ".join(f"{k} {np.median([s[k] for s in stages[m] if k in s]):.1f}" for k in keys)
        line = f"  {m}: {np.median(fps[m]):.1f} fps (min {min(fps[m]):.1f}, max {max(fps[m]):.1f}); stage ms {st}"
        cpu = [s["cpu_ms"] for s in stages[m]]
        line += f"; CPU {np.median(cpu):.1f} ms/frame"
        if m != "headless":
            cpu_ratios = [hd["cpu_ms"] / wd["cpu_ms"] for hd, wd in zip(stages["headless"], stages[m])]
            line += f" (CPU ratio headless/{m} {np.median(cpu_ratios):.3f})"
            line += f"; frames shown {np.median([s['shown'] for s in stages[m]]):.0f} of {n}"
        if m != "headless":
            ratios = [a / b for a, b in zip(fps[m], fps["headless"])]
            line += f"; ratio to headless, per run median {np.median(ratios):.3f} " \
                    f"(min {min(ratios):.3f}, max {max(ratios):.3f})"
        print(line)
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
