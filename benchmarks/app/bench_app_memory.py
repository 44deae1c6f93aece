"""Memory over a long replay: RSS at the start and end of 54,000 frames (30 minutes at 30 fps).

    python benchmarks/app/bench_app_memory.py --frames 54000 --model M --labels L
    python benchmarks/app/bench_app_memory.py --video-frames 5400 --model M --labels L

The real landmarks of the DPAN fixture clip (109 frames, one sign, the hand
enters and leaves) are written once as a GISLR parquet; a dataset folder lists
it as many times as needed to reach --frames, and the app's replay path runs
over it in segmented mode, sequence by sequence (each sequence is re-read from
disk), classifying every sign. RSS is sampled every 5,400 frames.

`--video-frames N` instead runs the camera/video path (decode + Holistic +
segmenter + classifier) over the fixture clip played N frames long (re-opened
as often as needed: one graph, as with a camera), sampling RSS every 540 frames.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from bench_app_common import REPO, model_arguments, rss_mb

from asl_live.model.classifier import Classifier
from asl_live.formats.gislr import Dataset, Sample, write_label_map, write_parquet
from asl_live.reading.pipeline import Landmarks, Recognizer, recognitions
from asl_live.capture.sources import ReplaySource, video_landmarks


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    model_arguments(p)
    p.add_argument("--frames", type=int, default=54000)
    p.add_argument("--every", type=int, default=5400)
    p.add_argument("--video-frames", type=int, default=0)
    args = p.parse_args()
    if args.video_frames:
        return video_path(args)
    frames, _ = video_landmarks(REPO / "tests" / "fixtures" / "dpan_tractor.mp4")
    classifier = Classifier(args.model, args.labels)
    with tempfile.TemporaryDirectory() as d:
        ds = Dataset(d)
        path = write_parquet(ds.landmark_path(1, 1), frames)
        rel = path.relative_to(ds.root).as_posix()
        reps = -(-args.frames // len(frames))
        ds.write_samples([Sample(rel, 1, i, "tractor") for i in range(reps)])
        write_label_map(ds.label_map_path, ["tractor"])
        source = ReplaySource(ds.root)
        recognizer = Recognizer(classifier)
        samples = []

        def sample(item, frame):
            if item.index % args.every == 0:
                samples.append((item.index, rss_mb()))

        n_signs = 0
        for _ in recognitions(source, recognizer, Landmarks(), on_frame=sample):
            n_signs += 1
        samples.append((reps * len(frames), rss_mb()))
    print(f"replayed {reps * len(frames)} frames ({reps} sequences of {len(frames)}), {n_signs} signs classified")
    print("RSS MB by frame: " + ", ".join(f"{i}: {m:.1f}" for i, m in samples))
    start, end = samples[0][1], samples[-1][1]
    print(f"start {start:.1f} MB, end {end:.1f} MB, change {end - start:+.1f} MB "
          f"(from frame {samples[1][0]}: {samples[1][1]:.1f} -> {end:.1f} MB)")


def video_path(args) -> None:
    from itertools import islice

    from asl_live.capture.extract import import_mediapipe
    from asl_live.capture.sources import Item, VideoSource

    import_mediapipe()
    clip = REPO / "tests" / "fixtures" / "dpan_tractor.mp4"
    classifier = Classifier(args.model, args.labels)
    every = max(1, args.every // 10) if args.every == 5400 else args.every

    def frames_forever():
        i = 0
        while True:
            with VideoSource(clip) as src:
                for item in src:
                    yield Item(i, i / 30.0, item.image, None)
                    i += 1

    class Looped:
        name, fps, live = "looped clip", 30.0, False

        def __iter__(self):
            return islice(frames_forever(), args.video_frames)

    samples, n_signs = [], 0
    landmarks = Landmarks()

    def sample(item, frame):
        if item.index % every == 0:
            samples.append((item.index, rss_mb()))

    for _ in recognitions(Looped(), Recognizer(classifier), landmarks, on_frame=sample):
        n_signs += 1
    samples.append((args.video_frames, rss_mb()))
    print(f"video path: {args.video_frames} frames of the real clip through Holistic, {n_signs} signs classified")
    print("RSS MB by frame: " + ", ".join(f"{i}: {m:.1f}" for i, m in samples))
    print(f"after the first frame {samples[0][1]:.1f} MB (graph started), from frame {samples[1][0]} "
          f"{samples[1][1]:.1f} MB -> end {samples[-1][1]:.1f} MB")


if __name__ == "__main__":
    main()
