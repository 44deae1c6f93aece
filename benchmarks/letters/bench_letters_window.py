"""Does the `--letters` window keep Holistic's pace? Three modes on the same video, same process.

    nice python benchmarks/letters/bench_letters_window.py --runs 5 [--clips 4]

A 640x480 video of real DPAN clips (`bench_app_common.make_video`: a signer's hands in
most frames, so the letters model runs on most frames) goes, in each run and in
alternating order, through
  (a) Holistic alone (`pipeline.Landmarks` on every frame: the pace to keep);
  (b) `pipeline.run_headless` with `LettersOnly` (Holistic, letters model, speller; JSON to /dev/null);
  (c) `pipeline.run_window` with `LettersOnly` in a real OpenCV window on a private Xvfb, as fast
      as it goes (`realtime=False`).
Start-up is excluded as in `bench_window_throughput.py` (whose clock and warm-up this
reuses): fps = frames / wall time; ratios are taken per run, then the median; CPU ms per
frame counts this process's threads and the X server.
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))  # bench_app_common
import bench_window_throughput as bwt
from bench_app_common import DEFAULT_CLIPS, REPO, make_video

sys.path.insert(0, str(REPO / "tests"))

from asl_live import bundled  # noqa: E402
from asl_live.model.classifier import Classifier  # noqa: E402
from asl_live.capture.extract import import_mediapipe  # noqa: E402
from asl_live.capture.sources import VideoSource  # noqa: E402
from asl_live.reading.pipeline import run_headless, run_window  # noqa: E402
from asl_live.reading.letter_reader import LettersOnly  # noqa: E402


@bwt.measured
def holistic(video, classifier, n):
    landmarks = bwt.warm_landmarks(video)
    with VideoSource(video) as src:
        t0 = time.perf_counter()
        for item in src:
            landmarks(item)
        dt = time.perf_counter() - t0
    landmarks.close()
    return n / dt, {}


@bwt.measured
def headless(video, classifier, n):
    landmarks = bwt.warm_landmarks(video)
    with open(os.devnull, "w") as out, VideoSource(video) as src:
        t0 = time.perf_counter()
        lines = run_headless(src, LettersOnly(classifier), landmarks, out=out)
        dt = time.perf_counter() - t0
    landmarks.close()
    return n / dt, {"lines": lines}


@bwt.measured
def window(video, classifier, n, win):
    landmarks = bwt.warm_landmarks(video)
    with VideoSource(video) as src:
        t0 = time.perf_counter()
        run_window(src, LettersOnly(classifier), landmarks, win, end_hold_s=0, realtime=False)
        dt = time.perf_counter() - t0
    landmarks.close()
    return n / dt, {}


def main() -> None:
    from display import Xvfb

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--clips", type=int, default=4)
    args = p.parse_args()
    import_mediapipe()
    classifier = Classifier(bundled.LETTERS_MODEL, bundled.LETTERS_LABELS)
    modes = ["holistic", "headless", "window"]
    with tempfile.TemporaryDirectory() as d, Xvfb() as xvfb:
        os.environ["DISPLAY"] = xvfb.display  # before OpenCV's Qt meets any display
        bwt.CLOCK = bwt.Clock(psutil.Process(xvfb._proc.pid))
        from asl_live.view.window import Window

        video, n = make_video(Path(d) / "bench_640x480.mp4", DEFAULT_CLIPS[:args.clips])
        print(f"video: {n} frames 640x480 from real DPAN clips; letters model {bundled.LETTERS_MODEL.name}; "
              f"window on Xvfb {xvfb.display}; load at start {os.getloadavg()[0]:.1f}", flush=True)
        fps = {m: [] for m in modes}
        cpu = {m: [] for m in modes}
        with Window("asl-live letters benchmark") as win:
            for r in range(args.runs):
                for mode in (modes if r % 2 == 0 else modes[::-1]):
                    f, st = (window(video, classifier, n, win) if mode == "window"
                             else globals()[mode](video, classifier, n))
                    fps[mode].append(f)
                    cpu[mode].append(st["cpu_ms"])
                print(f"run {r + 1}: " + ", ".join(f"{m} {fps[m][-1]:.1f} fps" for m in modes)
                      + f"; window/holistic {fps['window'][-1] / fps['holistic'][-1]:.3f}, "
                      f"window/headless {fps['window'][-1] / fps['headless'][-1]:.3f}; CPU ms/frame "
                      + ", ".join(f"{m} {cpu[m][-1]:.1f}" for m in modes)
                      + f"; load {os.getloadavg()[0]:.1f}", flush=True)
    print(f"\nmedian of {args.runs} runs ({n} frames each):")
    for m in modes:
        print(f"  {m}: {np.median(fps[m]):.1f} fps (min {min(fps[m]):.1f}, max {max(fps[m]):.1f}); "
              f"CPU {np.median(cpu[m]):.1f} ms/frame")
    for a, b in (("window", "holistic"), ("headless", "holistic"), ("window", "headless")):
        r = [x / y for x, y in zip(fps[a], fps[b])]
        print(f"  {a}/{b} per run: median {np.median(r):.3f} (min {min(r):.3f}, max {max(r):.3f})")
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
