"""Continuous signing: does the segmenter find each sign in a stream as if it were handed over alone?

    python benchmarks/segmentation/bench_stream_segmentation.py [--segmenter current|baseline] \\
        [--dpan-model M --dpan-labels L] [--videos 3]

Landmark streams joined from real recordings (see `stream_data.py`):
  dpan-rest     DPAN prompt clips as recorded, one after another: the hands drop below the
                picture between signs for the clips' own 8-25 frames
  dpan-short    the same clips cut to 2 frames without hands before and after each sign:
                a rest of 4 frames (133 ms) between signs
  dpan-waist    the same clips in a wider framing, the signing hand resting IN VIEW at the
                waist between signs (real still hands from traduttore; see waist_stream)
  traduttore    traduttore webcam sequences (20 frames, some cut mid-sign), 8-30 frames apart
  traduttore-no-rest  (--no-rest) the same, 2-4 frames apart: the hands vanish mid-air
  hello_thankyou    GISLR sequences of two signs, 10 people (short, cut), 8-30 frames apart
  dpan-heldout-*    (--heldout N) the DPAN kinds on N other clips (data/dpan_heldout if there),
                    which the segmenter's thresholds were not tuned on and the DPAN model does not
                    know (no (ii))
  wlasl             the 18 WLASL dictionary clips (other signers) joined as recorded, --orders orders
  *-dropout         the clips with the signing hand lost for 2-12 frames mid-sign (pose kept)
  *-dropout2        lost twice mid-sign, 7 then 9 frames (as Holistic lost the issue's `zipper`)
  wlasl-repeat      the WLASL signs whose movement repeats
  *-no-rest         clips cut at the sign, joined with no frame between (no rest at all)
  traduttore-splice traduttore's 20-frame windows joined with no frame between: mostly the middle
                    of a sign each, so only the splice marks a join (reported, not a no-rest test)

Scores, per kind: (i) segment precision / recall against the true sign spans (first to
last frame with a hand of each clip; a found segment matches one true sign at IoU >= 0.5,
one to one), no classifier; (ii) sign error rate (edit distance between the labels of
the segments and the true signs, over the number of signs) with a model that knows the
signs, next to the same model's error on each clip handed over alone (the whole clip, as
`asl-live --clip` does). The shipped model knows the traduttore / hello_thankyou signs;
for DPAN pass a model trained on the DPAN clips (`make_dpan_stream_model.py`).
"wait" is how many frames after a sign's last frame the segmenter hands it over.

`--videos N`: 2N real videos made by concatenating DPAN prompt clips (mp4v, 640x480): N with
the clips as recorded, N with each clip cut to 2 frames before and after its hands (short
rests), run through the real app (`python -m asl_live --video V --headless --threshold 0`)
and scored the same way; the truth is each clip's hand span in the lead's extraction of the
same clip (`/work/data/dpan`, Holistic on the 1280x720 original).
`--segmenter baseline` runs the segmenter of commit BASELINE (the first), `rests` the one of
2026-11-25, for the landmark streams in this process and for the videos as the whole app of
that commit; `--rest-only` the current one with `no_rest=False` (the app's `--rest-only`; before
this tree, the default). `--wlasl-video`: the WLASL clips
as one real video through the app, with the shipped model.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))  # bench_app_common, the app benchmarks' video maker

from stream_data import (DPAN, DPAN_HELDOUT, HELLO_THANKYOU, REPEATED, TRADUTTORE, WLASL, WLASL_VIDEOS, Stream,  # noqa: E402
                         dropout_clip, gap_stream, join, load_clips, no_rest_stream, rest_runs,
                         two_dropouts, waist_stream)

from asl_live.formats.layout import hands_visible  # noqa: E402

BASELINE = "c92e758"  # the first segmenter: waits 6 frames / 15 still frames
RESTS = "2412b6c"     # the segmenter of 2026-11-25 (waits for a rest), before dropouts and repeats were handled
REFS = {"baseline": BASELINE, "rests": RESTS}


def baseline_module(ref: str = BASELINE):
    src = subprocess.run(["git", "show", f"{ref}:asl_live/segmenter.py"], cwd=REPO, check=True,
                         capture_output=True, text=True).stdout
    src = src.replace("from .layout", "from asl_live.formats.layout")
    path = Path(tempfile.mkdtemp()) / "baseline_segmenter.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location(f"segmenter_{ref}", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[f"segmenter_{ref}"] = mod
    spec.loader.exec_module(mod)
    return mod


def run_app(app_root: Path, video: Path, model, labels, *extra: str) -> list[dict]:
    """The app of `app_root` (this tree, or an old commit's) on a video, headless: its JSON lines."""
    env = dict(os.environ, PYTHONPATH=str(app_root))
    env.pop("DISPLAY", None)
    out = subprocess.run([sys.executable, "-m", "asl_live", "--video", str(video), "--headless",
                          "--model", str(model), "--labels", str(labels), "--threshold", "0", *extra],
                         capture_output=True, text=True, env=env, cwd=app_root)
    if out.returncode:
        sys.exit(out.stderr)
    return [json.loads(line) for line in out.stdout.splitlines()]


def segment(stream: np.ndarray, make_segmenter, fps: float = 30.0, stride: int = 1):
    """[(start, end, frames, frame it was handed over on)], and the segmenter's mean CPU seconds per frame."""
    seg = make_segmenter()
    out = []
    t0 = time.process_time()  # CPU time: the machine is shared, wall time mostly measures waiting
    # stride > 1: only every stride-th frame reaches the segmenter, as when a live camera's
    # stale frames are dropped; the frame numbers keep counting the camera's frames.
    for i in range(0, len(stream), stride):
        s = seg.push(stream[i], i, i / fps)
        if s is not None:
            out.append((s.start_frame, s.end_frame, s.frames, i))
    per_frame = (time.process_time() - t0) / max(len(stream) // stride, 1)
    s = seg.flush()
    if s is not None:
        out.append((s.start_frame, s.end_frame, s.frames, len(stream)))
    return out, per_frame


def iou(a, b) -> float:
    inter = min(a[1], b[1]) - max(a[0], b[0]) + 1
    if inter <= 0:
        return 0.0
    return inter / ((a[1] - a[0] + 1) + (b[1] - b[0] + 1) - inter)


def matches(found, truth, thr: float = 0.5) -> list[tuple[int, int]]:
    """One-to-one (found, true) index pairs at IoU >= thr, greedy by IoU (spans barely overlap)."""
    pairs = sorted(((iou(f, t), i, j) for i, f in enumerate(found) for j, t in enumerate(truth)), reverse=True)
    used_f, used_t, out = set(), set(), []
    for v, i, j in pairs:
        if v < thr:
            break
        if i not in used_f and j not in used_t:
            used_f.add(i)
            used_t.add(j)
            out.append((i, j))
    return out


def edit_distance(a: list, b: list) -> int:
    d = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        prev, d[0] = d[0], i
        for j in range(1, len(b) + 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] != b[j - 1]))
    return d[len(b)]


class Tally:
    def __init__(self):
        self.found = self.true = self.matched = self.edits = self.clip_errors = self.agree = 0
        self.waits: list[int] = []
        self.per_frame: list[float] = []
        self.scored = False

    def add(self, found_spans, truth, emitted=None, labels=None, signs=None, clip_labels=None):
        """`emitted[i]`: the frame on which found segment i was handed over (for the wait)."""
        self.found += len(found_spans)
        self.true += len(truth)
        pairs = matches(found_spans, truth)
        self.matched += len(pairs)
        if emitted is not None:
            # The wait counts from the TRUE sign's last frame, not from where the segment says it ended.
            self.waits += [emitted[i] - truth[j][1] for i, j in pairs]
        if labels is not None:
            self.scored = True
            self.edits += edit_distance(labels, signs)
            self.clip_errors += sum(p != s for p, s in zip(clip_labels, signs))
            # Of the signs found, how many get the label the same model gives the clip alone: what
            # the cut does to the label, also where the model does not know the sign at all.
            self.agree += sum(labels[i] == clip_labels[j] for i, j in pairs)

    def row(self, kind: str, fps: float = 30.0) -> str:
        p = self.matched / self.found if self.found else 0.0
        r = self.matched / self.true if self.true else 0.0
        ser = (f"{self.edits / self.true:.3f} | {self.clip_errors / self.true:.3f} | "
               f"{self.agree / max(self.matched, 1):.3f}") if self.scored else "- | - | -"
        w = np.array(self.waits) if self.waits else np.array([np.nan])
        us = 1e6 * float(np.median(self.per_frame)) if self.per_frame else float("nan")
        return (f"| {kind} | {self.true} | {self.found} | {p:.3f} | {r:.3f} | {ser} | "
                f"{np.median(w):.0f} ({1000 * np.median(w) / fps:.0f} ms) | {us:.1f} |")


def dpan_streams(clips, rng, per_stream: int) -> dict[str, list[Stream]]:
    order = rng.permutation(len(clips))
    groups = [[clips[i] for i in order[k: k + per_stream]] for k in range(0, len(order), per_stream)]
    groups = [g for g in groups if len(g) >= 2]
    runs = rest_runs()
    empty = np.zeros((0,) + clips[0].frames.shape[1:], np.float32)
    out = {"dpan-rest": [], "dpan-short": [], "dpan-waist": []}
    for k, g in enumerate(groups):
        out["dpan-rest"].append(join(f"dpan-rest-{k}", g, [empty] * (len(g) + 1)))
        out["dpan-short"].append(join(f"dpan-short-{k}", g, [empty] * (len(g) + 1), trim=2))
        out["dpan-waist"].append(waist_stream(f"dpan-waist-{k}", g, runs, rng))
    return out


def gap_streams(name, clips, rng, n_signs, per_stream, lo, hi):
    pick = [clips[i] for i in rng.choice(len(clips), min(n_signs, len(clips)), replace=False)]
    return [gap_stream(f"{name}-{k}", pick[k: k + per_stream], rng, lo, hi)
            for k in range(0, len(pick), per_stream)]


def joined(name, clips, rng, per_stream, orders=1, transform=None) -> list[Stream]:
    """`orders` random orders of the clips, `per_stream` to a stream, joined as recorded."""
    empty = np.zeros((0,) + clips[0].frames.shape[1:], np.float32)
    out = []
    for o in range(orders):
        order = [clips[i] for i in rng.permutation(len(clips))]
        if transform is not None:
            order = [transform(c) for c in order]
        for k in range(0, len(order), per_stream):
            g = order[k: k + per_stream]
            out.append(join(f"{name}-{o}-{k}", g, [empty] * (len(g) + 1)))
    return out


def no_rest_streams(name, clips, rng, per_stream, orders=1) -> list[Stream]:
    out = []
    for o in range(orders):
        order = [clips[i] for i in rng.permutation(len(clips))]
        out += [no_rest_stream(f"{name}-{o}-{k}", order[k: k + per_stream]) for k in range(0, len(order), per_stream)]
    return out


def run_landmarks(args, make_segmenter) -> None:
    from asl_live.model.classifier import Classifier

    rng = np.random.default_rng(args.seed)
    shipped = Classifier(args.model, args.labels, threshold=0.0)
    dpan_model = Classifier(args.dpan_model, args.dpan_labels, threshold=0.0) if args.dpan_model else None
    kinds: dict[str, tuple[list[Stream], object]] = {}
    if (DPAN / "train.csv").is_file():
        signs = None
        if dpan_model is not None:
            signs = set(dpan_model.labels)
        clips = load_clips(DPAN, signs=signs)[: args.dpan_signs]
        for k, v in dpan_streams(clips, rng, args.per_stream).items():
            kinds[k] = (v, dpan_model)
        if args.heldout:
            # DPAN clips the segmenter was NOT tuned on (and the model does not know): P/R only.
            used = {c.sign for c in clips}
            pool = load_clips(DPAN_HELDOUT) if (DPAN_HELDOUT / "train.csv").is_file() else load_clips(DPAN)
            rest = [c for c in pool if c.sign not in used][: args.heldout]
            hr = np.random.default_rng(args.seed + 100)  # its own: the other kinds stay as without --heldout
            for k, v in dpan_streams(rest, hr, args.per_stream).items():
                kinds[k.replace("dpan", "dpan-heldout")] = (v, None)
            kinds["dpan-heldout-dropout"] = (joined("dpan-heldout-dropout", rest, hr, args.per_stream, 1,
                                                    lambda c: dropout_clip(c, hr)), None)
            kinds["dpan-heldout-no-rest"] = (no_rest_streams("dpan-heldout-no-rest", rest, hr, args.per_stream),
                                             None)
            h2 = np.random.default_rng(args.seed + 200)  # its own, so the kinds above stay as they were
            kinds["dpan-heldout-dropout2"] = (joined("dpan-heldout-dropout2", rest, h2, args.per_stream, 1,
                                                     lambda c: two_dropouts(c, h2)), None)
    if (WLASL / "train.csv").is_file():
        # Dictionary clips of other signers (WLASL), each starting and ending at rest, joined as
        # recorded; the same with the signing hand lost for 2-12 frames mid-sign; the signs whose
        # movement repeats; and all of them cut at the sign and joined with no rest.
        wl = load_clips(WLASL)
        kinds["wlasl"] = (joined("wlasl", wl, rng, 9, args.orders), shipped)
        kinds["wlasl-dropout"] = (joined("wlasl-dropout", wl, rng, 9, args.orders,
                                         lambda c: dropout_clip(c, rng)), shipped)
        rep = [c for c in wl if c.sign in REPEATED]
        kinds["wlasl-repeat"] = (joined("wlasl-repeat", rep, rng, len(rep), args.orders), shipped)
        kinds["wlasl-no-rest"] = (no_rest_streams("wlasl-no-rest", wl, rng, 9, args.orders), shipped)
        w2 = np.random.default_rng(args.seed + 300)
        kinds["wlasl-dropout2"] = (joined("wlasl-dropout2", wl, w2, 9, args.orders, lambda c: two_dropouts(c, w2)),
                                   shipped)
    if (DPAN / "train.csv").is_file():
        dp = load_clips(DPAN)[: args.dpan_signs]
        kinds["dpan-dropout"] = (joined("dpan-dropout", dp, rng, args.per_stream, 1,
                                        lambda c: dropout_clip(c, rng)), dpan_model)
        kinds["dpan-no-rest"] = (no_rest_streams("dpan-no-rest", dp, rng, args.per_stream), dpan_model)
    if (TRADUTTORE / "train.csv").is_file():
        tr = load_clips(TRADUTTORE)
        kinds["traduttore"] = (gap_streams("traduttore", tr, rng, args.n_signs, args.per_stream, 8, 30), shipped)
        pick = [tr[i] for i in rng.choice(len(tr), min(args.n_signs, len(tr)), replace=False)]
        # Not a test of signs without a rest: these 20-frame windows mostly hold the middle of a
        # sign (no start, no end), so all that marks a join is the splice's jump (BENCHMARKS.md).
        kinds["traduttore-splice"] = ([no_rest_stream(f"traduttore-splice-{k}", pick[k: k + args.per_stream])
                                       for k in range(0, len(pick), args.per_stream)], shipped)
        if args.no_rest:
            kinds["traduttore-no-rest"] = (gap_streams("traduttore-no-rest", tr, rng, args.n_signs,
                                                       args.per_stream, 2, 4), shipped)
    if (HELLO_THANKYOU / "train.csv").is_file():
        # A quarter of these are cut to 6 frames or fewer: keep those long enough to be a sign at all
        # (>= 8 frames from the first to the last hand, >= 6 of them with a hand).
        ht = [c for c in load_clips(HELLO_THANKYOU) if c.hand_span()[1] - c.hand_span()[0] + 1 >= 8
              and hands_visible(c.frames).any(axis=1).sum() >= 6]
        kinds["hello_thankyou"] = (gap_streams("hello_thankyou", ht, rng, args.n_signs, args.per_stream, 8, 30),
                                   shipped)
    print("| stream kind | signs | segments | precision | recall | sign error rate, stream | "
          "same model, clip by clip | found signs labelled as clip by clip | wait, median frames | "
          "segmenter CPU us/frame |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    total, held_rest = Tally(), Tally()
    for kind, (streams, model) in kinds.items():
        t = Tally()
        for s in streams:
            segs, per_frame = segment(s.frames, make_segmenter, stride=args.stride)
            spans = [(a, b) for a, b, _, _ in segs]
            labels = clip_labels = None
            if model is not None:
                labels = [model(f).sign for _, _, f, _ in segs]
                clip_labels = [model(c.frames).sign for c in s.clips]
            t.add(spans, s.truth, [w for *_, w in segs], labels, s.signs, clip_labels)
            t.per_frame.append(per_frame)
            if args.verbose:
                print(f"  {s.name}: truth {s.truth}\n    found {spans}\n    signs {s.signs}\n    labels {labels}")
        print(t.row(kind), flush=True)
        pools = [total] + ([held_rest] if kind in ("dpan-heldout-rest", "dpan-heldout-short",
                                                    "dpan-heldout-waist") else [])
        for pool in pools:
            for attr in ("found", "true", "matched"):
                setattr(pool, attr, getattr(pool, attr) + getattr(t, attr))
            pool.waits += t.waits
            pool.per_frame += t.per_frame
    if held_rest.true:  # the "DPAN streams no worse", pooled over the kinds that end at rest
        print(held_rest.row("dpan-heldout rest + short + waist"))
    print(total.row("all landmark streams"))


def run_videos(args) -> None:
    """DPAN clips concatenated into real mp4 files, through the real app (a subprocess)."""
    from bench_app_common import CLIPS, make_video

    from asl_live.model.classifier import Classifier

    if not args.dpan_model:
        sys.exit("--videos needs --dpan-model/--dpan-labels (a model that knows the DPAN signs)")
    model = Classifier(args.dpan_model, args.dpan_labels, threshold=0.0)
    clips = [c for c in load_clips(DPAN, signs=set(model.labels)) if (CLIPS / f"{c.sign}.mp4").is_file()]
    rng = np.random.default_rng(args.seed + 1)
    order = rng.permutation(len(clips))[: args.videos * args.video_signs]
    app_root = REPO
    if args.segmenter in REFS:
        app_root = Path(tempfile.mkdtemp()) / "baseline"
        app_root.mkdir()
        subprocess.run(f"git archive {REFS[args.segmenter]} asl_live | tar -x -C {app_root}", shell=True, cwd=REPO, check=True)
    tallies = {"as recorded": Tally(), "short rests": Tally()}
    app_clip_labels: dict[str, str] = {}

    def app(video: Path, *extra: str) -> list[dict]:
        return run_app(app_root, video, args.dpan_model, args.dpan_labels, *extra)

    with tempfile.TemporaryDirectory() as d:
        for v in range(2 * args.videos):
            kind = "as recorded" if v % 2 == 0 else "short rests"
            k = v // 2
            group = [clips[i] for i in order[k * args.video_signs: (k + 1) * args.video_signs]]
            cuts = None
            if kind == "short rests":  # 2 frames without hands before and after each sign: 133 ms apart
                cuts = {c.sign: (max(c.hand_span()[0] - 2, 0), c.hand_span()[1] + 2) for c in group}
            video, n = make_video(Path(d) / f"stream{v}.mp4", [c.sign for c in group], cuts=cuts)
            truth, pos = [], 0
            for c in group:
                a, b = c.hand_span()
                lo, hi = cuts[c.sign] if cuts else (0, len(c.frames) - 1)
                truth.append((pos + a - lo, pos + b - lo))
                pos += min(hi, len(c.frames) - 1) - lo + 1
            assert pos == n, (pos, n)
            t0 = time.monotonic()
            recs = app(video)
            spans = [(r["start_frame"], r["end_frame"]) for r in recs]
            labels = [r["sign"] for r in recs]
            signs = [c.sign for c in group]
            # Clip by clip the same way: each clip alone, letterboxed the same, through the app with
            # --clip (Holistic on a 640x480 letterboxed picture finds slightly other landmarks than
            # on the 1280x720 original, so the dataset's own landmarks would not be a fair reference).
            for c in group:
                if c.sign not in app_clip_labels:
                    one, _ = make_video(Path(d) / "one.mp4", [c.sign])
                    app_clip_labels[c.sign] = app(one, "--clip")[0]["sign"]
            clip_labels = [app_clip_labels[c.sign] for c in group]
            tallies[kind].add(spans, truth, None, labels, signs, clip_labels)
            print(f"  video {v} ({kind}): {n} frames, {len(group)} signs, app {time.monotonic() - t0:.0f} s; "
                  f"{len(spans)} segments, {len(matches(spans, truth))} match; "
                  f"signs {signs}\n    labels {labels}\n    truth {truth}\n    found {spans}", flush=True)
    for kind, t in tallies.items():
        print(t.row(f"app, {args.videos} videos {kind} ({args.segmenter})"))



def run_wlasl_video(args) -> None:
    """The 18 WLASL dictionary clips joined into one real video (mp4v, 640x480, the order of
    `data/wlasl_pu/train.csv`), through the real app with the shipped model; clip by clip: each
    clip alone, letterboxed the same, through the app with --clip."""
    from bench_app_common import make_video

    clips = load_clips(WLASL)
    app_root = REPO
    if args.segmenter in REFS:
        app_root = Path(tempfile.mkdtemp()) / "before"
        app_root.mkdir()
        subprocess.run(f"git archive {REFS[args.segmenter]} asl_live | tar -x -C {app_root}", shell=True,
                       cwd=REPO, check=True)

    def app(video: Path, *extra: str) -> list[dict]:
        return run_app(app_root, video, args.model, args.labels, *extra)

    t = Tally()
    with tempfile.TemporaryDirectory() as d:
        video, n = make_video(Path(d) / "wlasl.mp4", [c.sign for c in clips], folder=WLASL_VIDEOS)
        truth, pos = [], 0
        for c in clips:
            a, b = c.hand_span()
            truth.append((pos + a, pos + b))
            pos += len(c.frames)
        assert pos == n, (pos, n)
        t0 = time.monotonic()
        recs = app(video, *(["--rest-only"] if args.rest_only and args.segmenter not in REFS else []))
        spans = [(r["start_frame"], r["end_frame"]) for r in recs]
        labels = [r["sign"] for r in recs]
        clip_labels = [app(make_video(Path(d) / "one.mp4", [c.sign], folder=WLASL_VIDEOS)[0], "--clip")[0]["sign"]
                       for c in clips]
        t.add(spans, truth, None, labels, [c.sign for c in clips], clip_labels)
        print(f"  wlasl video: {n} frames, app {time.monotonic() - t0:.0f} s; {len(spans)} segments, "
              f"{len(matches(spans, truth))} match\n    truth {truth}\n    found {spans}\n    labels {labels}\n"
              f"    clip by clip {clip_labels}", flush=True)
    print(t.row(f"app, WLASL video ({args.segmenter})"))


def main() -> None:
    from bench_app_common import model_arguments

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    model_arguments(p)
    p.add_argument("--rest-only", action="store_true", help="the current segmenter with no_rest=False "
                   "(only rests end a sign; a dip of the hands and back up is not a boundary)")
    p.add_argument("--segmenter", choices=("current", "baseline", "rests"), default="current",
                   help="current: this tree's; baseline: the first segmenter; rests: the one of 2026-11-25 (docs/history)")
    p.add_argument("--dpan-model")
    p.add_argument("--dpan-labels")
    p.add_argument("--dpan-signs", type=int, default=48, help="DPAN clips to join (the model's signs first)")
    p.add_argument("--heldout", type=int, default=0, help="also N other DPAN clips (segmentation only)")
    p.add_argument("--stride", type=int, default=1, help="feed every N-th frame only (a camera dropping frames)")
    p.add_argument("--n-signs", type=int, default=60, help="sequences per traduttore/GISLR kind")
    p.add_argument("--per-stream", type=int, default=12)
    p.add_argument("--videos", type=int, default=0)
    p.add_argument("--wlasl-video", action="store_true", help="the WLASL clips as one real video through the app")
    p.add_argument("--video-signs", type=int, default=8)
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--orders", type=int, default=3, help="random orders of the WLASL clips per kind")
    p.add_argument("--verbose", action="store_true")
    p.add_argument("--no-landmarks", action="store_true")
    p.add_argument("--no-rest", action="store_true", help="add traduttore sequences 2-4 frames apart: no rest "
                   "at all, the hands vanish mid-sign (indistinguishable from a tracking dropout)")
    args = p.parse_args()
    if args.segmenter in REFS:
        make = baseline_module(REFS[args.segmenter]).Segmenter
    else:
        from functools import partial

        from asl_live.reading.segmenter import Segmenter
        make = partial(Segmenter, no_rest=not args.rest_only)
    print(f"segmenter: {args.segmenter}" + (f" (commit {REFS[args.segmenter]})" if args.segmenter in REFS else "")
          + (", no_rest=False" if args.rest_only and args.segmenter not in REFS else ""))
    if not args.no_landmarks:
        run_landmarks(args, make)
    if args.videos:
        run_videos(args)
    if args.wlasl_video:
        run_wlasl_video(args)
    print(f"load average: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
