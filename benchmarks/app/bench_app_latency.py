"""Live latency from the end of a sign to its label, with a camera simulated from a real video.

    python benchmarks/app/bench_app_latency.py --runs 3 --model M --labels L [--extra-ms 0 60] \
        [--segmenter current baseline]

A 640x480 video of real DPAN clips (one sign each, the hands leave the picture
between signs) is delivered at 30 fps in real time through the app's own
camera path (`sources.simulated_camera`: the grabber thread that keeps only the
newest frame). The app's loop runs on it as `asl-live --camera` would. For each
recognised sign, latency = the moment its label is ready minus the capture time
of the sign's last frame (`Recognition.latency_s`, both on the source's clock):
the FINAL label, the one the JSON line carries. It includes the segmenter's wait
(the segmenter of 2026-11-25: one frame without hands when the hand left the
picture low; the baseline's: `gap_frames` = 6 frames, 200 ms) and everything
behind it. `--segmenter current baseline` runs both in the same process, in
alternation, for a ratio on the same machine state. `--extra-ms` adds work per frame
(a slower machine): stale frames are then dropped, and the latency must not grow
over the run, as it would if frames were queued.
"""

from __future__ import annotations

import argparse
import sys
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_app_common import DEFAULT_CLIPS, make_video, model_arguments

from asl_live.model.classifier import Classifier
from asl_live.capture.extract import import_mediapipe
from asl_live.reading.pipeline import Landmarks, Recognizer, StageTimes, recognitions
from asl_live.reading.segmenter import Segmenter
from asl_live.capture.sources import simulated_camera


def one_run(video: Path, classifier, fps: float, extra_ms: float, make_segmenter=Segmenter, letters=None):
    landmarks = Landmarks()
    cam = simulated_camera(video, fps=fps)
    recognizer = Recognizer(classifier, segmenter=make_segmenter(), times=StageTimes(), clock=cam.clock,
                            letters=letters() if letters is not None else None, fps=fps)
    extra = extra_ms / 1000.0

    def busy(item, frame):
        if extra:
            end = time.perf_counter() + extra
            while time.perf_counter() < end:
                pass

    lat, processed = [], 0
    t0 = time.monotonic()
    with cam:
        for rec in recognitions(cam, recognizer, landmarks, on_frame=busy):
            lat.append(rec.latency_s)
        grabbed = cam._grabber.grabbed
        dropped = cam.dropped
    wall = time.monotonic() - t0
    landmarks.close()
    processed = grabbed - dropped
    return lat, grabbed, dropped, processed / wall, recognizer.times.mean_ms()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    model_arguments(p)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--fps", type=float, default=30.0)
    p.add_argument("--extra-ms", type=float, nargs="+", default=[0.0, 60.0])
    p.add_argument("--repeat", type=int, default=2, help="times the clip list is repeated in the video")
    p.add_argument("--segmenter", nargs="+", choices=("current", "baseline", "rests"), default=["current"],
                   help="current: this tree's; baseline: the first segmenter; rests: the one of 2026-11-25 (docs/history)")
    p.add_argument("--reader", nargs="+", choices=("both", "decoded", "held", "signs"), default=["both"],
                   help="both: signs and spelled words, as the app reads by default (the decoding letter "
                        "reader on every stretch, `--letter-reader decoded`); decoded: the same; held: "
                        "`--letter-reader held`; signs: `asl-live --signs`. Several: run in alternation")
    args = p.parse_args()
    import_mediapipe()
    classifier = Classifier(args.model, args.labels)
    from asl_live.bundled import LETTERS_LABELS, LETTERS_MODEL
    from asl_live.reading.letter_reader import DecodedLetters, HeldLetters

    letters_model = Classifier(LETTERS_MODEL, LETTERS_LABELS)
    readers = {"both": lambda: DecodedLetters(letters_model), "decoded": lambda: DecodedLetters(letters_model),
               "held": lambda: HeldLetters(letters_model), "signs": None}
    makers = {"current": Segmenter}
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "segmentation"))  # the segmentation benchmarks' helpers
    from bench_stream_segmentation import REFS, baseline_module

    for which in args.segmenter:
        if which in REFS:
            makers[which] = baseline_module(REFS[which]).Segmenter
            print(f"{which} = asl_live/segmenter.py of commit {REFS[which]}")
    with tempfile.TemporaryDirectory() as d:
        video, n = make_video(Path(d) / "live.mp4", repeat=args.repeat)
        print(f"simulated camera: {n} frames 640x480 at {args.fps:g} fps ({n / args.fps:.1f} s), "
              f"{len(DEFAULT_CLIPS) * args.repeat} real signs")
        for extra in args.extra_ms:
            variants = [(seg, rd) for seg in args.segmenter for rd in args.reader]
            stats = {f"{seg}/{rd}": {k: [] for k in ("med", "firsts", "lasts", "drops", "rates", "counts")}
                     for seg, rd in variants}
            for r in range(args.runs):
                for seg, rd in variants:  # alternating, so load changes hit both alike
                    which = f"{seg}/{rd}"
                    st = stats[which]
                    lat, grabbed, dropped, rate, stages = one_run(video, classifier, args.fps, extra,
                                                                  makers[seg], readers[rd])
                    lat_ms = [1000 * x for x in lat]
                    st["med"].append(np.median(lat_ms))
                    half = len(lat_ms) // 2
                    st["firsts"].append(np.median(lat_ms[:half]))
                    st["lasts"].append(np.median(lat_ms[half:]))
                    st["drops"].append(dropped / grabbed)
                    st["rates"].append(rate)
                    st["counts"].append(len(lat))
                    print(f"  {which}, extra {extra:g} ms/frame, run {r + 1}: {len(lat)} signs, latency median "
                          f"{st['med'][-1]:.0f} ms (first half {st['firsts'][-1]:.0f}, second half "
                          f"{st['lasts'][-1]:.0f}, max {max(lat_ms):.0f}); processed {rate:.1f} fps, dropped "
                          f"{dropped}/{grabbed} frames; stages ms "
                          + ", ".join(f"{k} {v:.1f}" for k, v in sorted(stages.items())), flush=True)
            for which, st in stats.items():
                rates = st["rates"]
                queued = None
                if np.median(rates) < args.fps:
                    # What a queue would do instead: the backlog grows by (1 - rate/fps) s per second.
                    queued = (n / args.fps) * (args.fps / np.median(rates) - 1) * 1000
                print(f"{which} (segmenter/reader), extra {extra:g} ms/frame, median of {args.runs} runs: latency "
                      f"{np.median(st['med']):.0f} ms (first half {np.median(st['firsts']):.0f}, second half "
                      f"{np.median(st['lasts']):.0f}), signs found {min(st['counts'])}-{max(st['counts'])}, "
                      f"processed {np.median(rates):.1f} fps, dropped {100 * np.median(st['drops']):.0f}% of frames"
                      + (f"; a frame queue would lag {queued:.0f} ms by the end" if queued else ""), flush=True)
    print(f"load average during the run: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
