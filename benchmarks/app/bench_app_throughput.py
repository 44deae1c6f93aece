"""Headless end-to-end frames per second vs MediaPipe Holistic alone, and per-sign classification time.

    python benchmarks/app/bench_app_throughput.py --runs 5 --model M --labels L

A 640x480 video is made from real DPAN clips (letterboxed). Each run measures,
alternating the order, (a) Holistic alone on the already-decoded frames and
(b) the app's headless path on the video file: decode, Holistic, segmenter,
classifier, JSON lines (to /dev/null). Start-up (graph creation, model load) is
excluded from both. Then every sign the app found is classified again 50 times
to time the classifier alone. Medians over the runs.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_app_common import DEFAULT_CLIPS, make_video, model_arguments

from asl_live.model.classifier import Classifier
from asl_live.capture.extract import HolisticExtractor
from asl_live.capture.extract import import_mediapipe
from asl_live.reading.pipeline import Landmarks, Recognizer, StageTimes, run_headless
from asl_live.capture.sources import VideoSource


def holistic_alone(images) -> tuple[float, float]:
    """(frames per second, CPU ms per frame) of Holistic on decoded frames."""
    with HolisticExtractor(video=True) as extract:
        extract(images[0])  # start the graph
        t0, c0 = time.perf_counter(), time.process_time()
        for img in images:
            extract(img)
        return len(images) / (time.perf_counter() - t0), 1000 * (time.process_time() - c0) / len(images)


def app_headless(video: Path, classifier: Classifier, n: int) -> tuple[float, float, dict, list]:
    landmarks = Landmarks()
    with VideoSource(video) as warm:
        landmarks(next(iter(warm)))  # start the graph, as the app does on its first frame
    times = StageTimes()
    segments = []

    def classify_and_keep(frames):
        segments.append(frames)
        return classifier(frames)

    recognizer = Recognizer(classify_and_keep, times=times)
    with open(os.devnull, "w") as out, VideoSource(video) as src:
        t0, c0 = time.perf_counter(), time.process_time()
        run_headless(src, recognizer, landmarks, out=out)
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    landmarks.close()
    return n / dt, 1000 * cpu / n, times.mean_ms(), segments


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    model_arguments(p)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--clips", type=int, default=8, help="how many DPAN clips make the video")
    args = p.parse_args()
    import_mediapipe()
    classifier = Classifier(args.model, args.labels)
    with tempfile.TemporaryDirectory() as d:
        video, n = make_video(Path(d) / "bench_640x480.mp4", DEFAULT_CLIPS[:args.clips])
        with VideoSource(video) as src:
            images = [it.image for it in src]
        print(f"video: {n} frames 640x480 from real DPAN clips; model {args.model} "
              f"({classifier.num_classes} classes)")
        alone, app, alone_cpu, app_cpu, stages, segments = [], [], [], [], [], []
        for r in range(args.runs):
            order = ("alone", "app") if r % 2 == 0 else ("app", "alone")
            for which in order:
                if which == "alone":
                    fps, cpu = holistic_alone(images)
                    alone.append(fps)
                    alone_cpu.append(cpu)
                else:
                    fps, cpu, st, segments = app_headless(video, classifier, n)
                    app.append(fps)
                    app_cpu.append(cpu)
                    stages.append(st)
            print(f"run {r + 1}: holistic alone {alone[-1]:.1f} fps ({alone_cpu[-1]:.1f} CPU ms/frame), "
                  f"app end-to-end {app[-1]:.1f} fps ({app_cpu[-1]:.1f} CPU ms/frame), "
                  f"ratio {app[-1] / alone[-1]:.3f} (by CPU time {alone_cpu[-1] / app_cpu[-1]:.3f}); "
                  f"load {os.getloadavg()[0]:.1f}", flush=True)
    ratios = [a / b for a, b in zip(app, alone)]
    cpu_ratios = [a / b for a, b in zip(alone_cpu, app_cpu)]
    print(f"\nmedian over {args.runs} runs: holistic alone {np.median(alone):.1f} fps, app {np.median(app):.1f} fps, "
          f"ratio {np.median(ratios):.3f} (min {min(ratios):.3f}, max {max(ratios):.3f}); "
          f"CPU ms/frame alone {np.median(alone_cpu):.1f}, app {np.median(app_cpu):.1f}, "
          f"ratio by CPU time {np.median(cpu_ratios):.3f}")
    keys = sorted({k for s in stages for k in s})
    print("per-stage mean ms (median over runs): " +
          ", ".join(f"{k} {np.median([s[k] for s in stages if k in s]):.3f}" for k in keys))
    ms, cpu, raw = [], [], []
    runner = classifier._runner  # the bare TFLite call, to show what the app adds around it
    for frames in segments:
        for _ in range(50):
            t0, c0 = time.perf_counter(), time.process_time()
            classifier(frames)
            t1 = time.perf_counter()
            ms.append(1000 * (t1 - t0))
            cpu.append(1000 * (time.process_time() - c0))
            runner(inputs=frames)
            raw.append(1000 * (time.perf_counter() - t1))
    lengths = [len(f) for f in segments]
    print(f"classification of one sign: {len(segments)} signs of {min(lengths)}-{max(lengths)} frames x 50: "
          f"median {np.median(ms):.2f} ms wall (p90 {np.percentile(ms, 90):.2f}), "
          f"median {np.median(cpu):.2f} ms CPU; the bare TFLite call alone {np.median(raw):.2f} ms wall")
    print(f"load average during the run: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
