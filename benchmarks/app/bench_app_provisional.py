"""How soon the window's provisional label is right, on the simulated camera: latency from a sign's
last frame to its first correct provisional label, and to its final label, in the same run.

    python benchmarks/app/bench_app_provisional.py --runs 3 --fit      # a model fitted to the video's signs
    python benchmarks/app/bench_app_provisional.py --runs 3 --model M --labels L

The video and the camera are those of bench_app_latency.py: real DPAN clips
(one sign each, hands out of the picture between signs) letterboxed into
640x480, delivered at 30 fps in real time through `sources.simulated_camera`
(the grabber thread that keeps only the newest frame). The app's loop
(`pipeline.steps`) runs with provisional labels at the window's rate
(`PROVISIONAL_EVERY` frames, at most every `PROVISIONAL_MIN_S`), split as the
window splits them: the pipeline only copies the frames so far when a guess is
due, and the loop that takes the steps classifies them on a twin interpreter.

For each sign found: the reference is the capture time of the segment's last
frame (`t_end`), as for `Recognition.latency_s`. "Final" = that latency. "First
correct provisional" = the time the first guess equal to the truth was ready,
minus the same reference: negative when it came before the sign was over. The
truth is the clip's name (the clip that overlaps the segment most) when the
model knows it; otherwise the sign's own final label (the guess already says
what the app will say), and unknowns are left out.

`--fit` builds a model that knows the video's 8 signs: hand-landmark means
(tests/conftest.py's closed-form ridge, a real TFLite file) fitted on the
Holistic landmarks of this very video. It knows exactly these performances, so
its accuracy means nothing; it is there so that "correct" can be measured at
all (the shipped model knows none of the DPAN signs).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
from bench_app_common import CLIPS, DEFAULT_CLIPS, REPO, make_video, model_arguments

from asl_live.model.classifier import Classifier
from asl_live.capture.extract import import_mediapipe
from asl_live.reading.pipeline import PROVISIONAL_EVERY, PROVISIONAL_MIN_S, Landmarks, Recognizer, StageTimes, steps
from asl_live.capture.sources import simulated_camera


def clip_ranges(names, repeat: int) -> list[tuple[str, int, int]]:
    """(sign, first frame, last frame) of each clip in make_video's output."""
    out, start = [], 0
    for _ in range(repeat):
        for name in names:
            cap = cv2.VideoCapture(str(CLIPS / f"{name}.mp4"))
            n = 0
            while cap.grab():
                n += 1
            cap.release()
            out.append((name, start, start + n - 1))
            start += n
    return out


def truth_of(rec, ranges) -> str:
    overlap = [max(0, min(rec.end_frame, b) - max(rec.start_frame, a) + 1) for _, a, b in ranges]
    return ranges[int(np.argmax(overlap))][0]


def fit_model(video: Path, ranges, out: Path) -> tuple[Path, Path]:
    """A real TFLite model fitted on this video's own landmarks (see the module's docstring)."""
    sys.path.insert(0, str(REPO / "tests"))
    from conftest import _fit_linear, build_tflite

    from asl_live.formats.gislr import write_label_map
    from asl_live.formats.layout import HANDS
    from asl_live.capture.sources import video_landmarks

    frames, _ = video_landmarks(video)
    samples = []
    for name, a, b in ranges:
        f = frames[a:b + 1]
        hands = ~np.isnan(f[:, HANDS, 0]).all(axis=1)
        samples.append((name, f[hands] if hands.any() else f))
    labels = sorted({s for s, _ in samples})
    W, b = _fit_linear(samples, labels)
    return build_tflite(out / "fitted.tflite", W, b), write_label_map(out / "fitted.json", labels)


def one_run(video: Path, classifier, ranges, knows_truth: bool, fps: float):
    landmarks = Landmarks()
    cam = simulated_camera(video, fps=fps)
    recognizer = Recognizer(classifier, times=StageTimes(), clock=cam.clock,
                            provisional_every=PROVISIONAL_EVERY, provisional_min_s=PROVISIONAL_MIN_S,
                            guess_here=False)
    guesser = classifier.twin()
    signs, guesses, last = [], [], None
    with cam:
        for step in steps(cam, recognizer, landmarks):
            p = last if step.state == "signing" and step.recognition is None else None
            if step.guess_frames is not None:
                p = guesser(step.guess_frames)
            now = cam.clock()
            if p is not None and p is not last and step.item is not None:
                guesses.append((step.item.index, now, p.sign))
            last = p
            rec = step.recognition
            if rec is None:
                continue
            truth = truth_of(rec, ranges) if knows_truth else rec.prediction.sign
            mine = [(t, s) for i, t, s in guesses if i >= rec.start_frame]
            guesses = []
            first = next((t for t, s in mine if s == truth), None)
            signs.append(dict(truth=truth, final=rec.prediction.sign, final_s=rec.latency_s,
                              first_correct_s=None if first is None else first - rec.t_end,
                              n_guesses=len(mine)))
        dropped, grabbed = cam.dropped, cam._grabber.grabbed
    landmarks.close()
    return signs, dropped / max(grabbed, 1), recognizer.times.mean_ms()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    model_arguments(p)
    p.add_argument("--fit", action="store_true", help="fit a model that knows the video's signs (needs TF)")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--fps", type=float, default=30.0)
    p.add_argument("--repeat", type=int, default=2, help="times the clip list is repeated in the video")
    args = p.parse_args()
    import_mediapipe()
    with tempfile.TemporaryDirectory() as d:
        video, n = make_video(Path(d) / "live.mp4", repeat=args.repeat)
        ranges = clip_ranges(DEFAULT_CLIPS, args.repeat)
        assert ranges[-1][2] == n - 1, (ranges[-1], n)
        if args.fit:
            args.model, args.labels = fit_model(video, ranges, Path(d))
        # The fitted model's probabilities are not calibrated: no "unknown" threshold for it.
        classifier = Classifier(args.model, args.labels, **({"threshold": 0.0} if args.fit else {}))
        knows_truth = all(name in classifier.labels for name in DEFAULT_CLIPS)
        print(f"simulated camera: {n} frames 640x480 at {args.fps:g} fps, {len(ranges)} real signs; model "
              f"{'fitted to the video' if args.fit else args.model}; correct = "
              f"{'the clip name' if knows_truth else 'the final label'}; guesses every {PROVISIONAL_EVERY} "
              f"frames, at most every {1000 * PROVISIONAL_MIN_S:.0f} ms; load {os.getloadavg()[0]:.1f}",
              flush=True)
        finals, firsts, found, right, with_guess, drops = [], [], [], [], [], []
        for r in range(args.runs):
            signs, drop, stages = one_run(video, classifier, ranges, knows_truth, args.fps)
            judged = [s for s in signs if s["truth"] != "unknown"]
            fin = [1000 * s["final_s"] for s in judged]
            first = [1000 * s["first_correct_s"] for s in judged if s["first_correct_s"] is not None]
            finals.append(np.median(fin) if fin else np.nan)
            firsts.append(np.median(first) if first else np.nan)
            found.append(len(signs))
            right.append(sum(s["final"] == s["truth"] for s in judged))
            with_guess.append(len(first))
            drops.append(drop)
            before = sum(x < 0 for x in first)
            print(f"  run {r + 1}: {len(signs)} signs found, {right[-1]}/{len(judged)} final labels correct; "
                  f"final label {finals[-1]:.0f} ms after the sign's last frame (median); first correct guess "
                  f"for {len(first)}/{len(judged)} signs, median {firsts[-1]:.0f} ms "
                  f"({before} before the last frame; min {min(first, default=np.nan):.0f}, "
                  f"max {max(first, default=np.nan):.0f}); {np.mean([s['n_guesses'] for s in signs]):.1f} "
                  f"guesses a sign; dropped {100 * drop:.0f}% of frames; stages ms "
                  + ", ".join(f"{k} {v:.1f}" for k, v in sorted(stages.items())) + f"; load {os.getloadavg()[0]:.1f}",
                  flush=True)
        print(f"median of {args.runs} runs: final label {np.nanmedian(finals):.0f} ms, first correct provisional "
              f"label {np.nanmedian(firsts):.0f} ms after the sign's last frame; signs found {np.median(found):.0f}"
              f"/{len(ranges)}, with a correct guess {np.median(with_guess):.0f}; dropped "
              f"{100 * np.median(drops):.0f}% of frames")
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
