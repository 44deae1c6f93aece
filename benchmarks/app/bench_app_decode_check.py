"""Does the app's video path cost wall time beyond Holistic? Three ways over the same frames, same process.

    python benchmarks/app/bench_app_decode_check.py --rounds 3

(1) Holistic alone on already-decoded frames, (2) decoding the file + Holistic,
(3) the app's `Landmarks` stage fed by `VideoSource`. Frames per second, each
round in that order; the load average is printed beside them.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from bench_app_common import make_video

from asl_live.capture.extract import HolisticExtractor
from asl_live.capture.extract import import_mediapipe
from asl_live.reading.pipeline import Landmarks
from asl_live.capture.sources import VideoSource


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    import_mediapipe()
    with tempfile.TemporaryDirectory() as d:
        video, n = make_video(Path(d) / "v.mp4", names=("tractor", "must", "broken"))
        with VideoSource(video) as src:
            images = [it.image for it in src]

        def alone():
            with HolisticExtractor() as ex:
                ex(images[0])
                t = time.perf_counter()
                for im in images:
                    ex(im)
                return n / (time.perf_counter() - t)

        def decode_and_holistic():
            with HolisticExtractor() as ex, VideoSource(video) as src:
                ex(images[0])
                t = time.perf_counter()
                for it in src:
                    ex(it.image)
                return n / (time.perf_counter() - t)

        def landmarks_stage():
            lm = Landmarks()
            with VideoSource(video) as warm:
                lm(next(iter(warm)))
            with VideoSource(video) as src:
                t = time.perf_counter()
                for it in src:
                    lm(it)
                fps = n / (time.perf_counter() - t)
            lm.close()
            return fps

        print(f"{n} frames 640x480")
        for _ in range(args.rounds):
            print(f"alone {alone():.1f}  decode+holistic {decode_and_holistic():.1f}  "
                  f"Landmarks {landmarks_stage():.1f} fps  load {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
