"""How long the window's drawing takes: overlay.render per frame, and Window.show under Xvfb.

Real frames of a real clip with the landmarks MediaPipe Holistic found in them
(extraction is not timed). The HUD is drawn into a layer that is reused while it shows
the same thing (overlay._hud_layer); the rows with a changing HUD give that cost too. Prints a Markdown table: median and 90th percentile
over every frame of the clip, repeated --repeats times.

    python benchmarks/app/bench_window_draw.py [--clip PATH] [--repeats 5] [--no-window]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from asl_live.model.classifier import Prediction  # noqa: E402
from asl_live.capture.extract import HolisticExtractor  # noqa: E402
from asl_live.view.overlay import HUD, render  # noqa: E402
from asl_live.capture.sources import VideoSource  # noqa: E402

DEFAULT_CLIP = Path("/work/shared/data/clips/recordthesehands/eat.mp4")  # 1280x720, 51 frames


def hud() -> HUD:
    return HUD(status="recognised",
               last=Prediction("eat", 0.87, [("eat", 0.87), ("drink", 0.06), ("food", 0.03)]),
               history=["hello", "thankyou", "water", "mom", "eat"], fps=29.7,
               stage_ms={"landmarks": 21.3, "classify": 1.8, "draw": 2.4}, mirrored=True,
               source="camera 0")


def time_render(images, frames, repeats, change_every: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Wall-clock and this thread's CPU milliseconds per render.

    CPU time is what the drawing itself costs; wall time also counts waiting for
    a core, which on a busy 2-core machine can be most of it. `change_every` N: the
    HUD shows something new on every Nth picture (a new guess: what the window does
    every 5th frame while a sign is in progress), so its layer is drawn again; 0: never.
    """
    h = hud()
    wall, cpu = [], []
    n = 0
    for _ in range(repeats):
        for img, fr in zip(images, frames):
            n += 1
            if change_every and n % change_every == 0:
                h.status = "signing"
                h.provisional = Prediction("drink", 0.5 + (n % 40) / 100, [("drink", 0.5), ("eat", 0.3)])
            t0, c0 = time.perf_counter(), time.thread_time()
            render(img, fr, h)
            wall.append(time.perf_counter() - t0)
            cpu.append(time.thread_time() - c0)
    return np.array(wall) * 1000, np.array(cpu) * 1000


SHOW = """
import sys, time, numpy as np, cv2
from asl_live.view.window import Window
pics = np.load(sys.argv[1])["pics"]
w = Window("bench")
for p in pics[:10]:
    w.show(p)  # warm-up: the window maps and Qt settles
ts = []
for _ in range(int(sys.argv[2])):
    for p in pics:
        t0 = time.perf_counter(); w.show(p); ts.append(time.perf_counter() - t0)
w.close()
print(" ".join(f"{1000 * t:.4f}" for t in ts))
"""


def time_show(pictures, repeats) -> np.ndarray | None:
    from display import Xvfb

    with tempfile.TemporaryDirectory() as d, Xvfb() as x:
        path = os.path.join(d, "pics.npz")
        np.savez(path, pics=np.stack(pictures))
        res = subprocess.run([sys.executable, "-c", SHOW, path, str(repeats)], env=x.env(),
                             capture_output=True, text=True, cwd=REPO)
        if res.returncode != 0:
            print(res.stderr, file=sys.stderr)
            return None
        return np.array([float(v) for v in res.stdout.split()])


def row(name, wall, cpu=None) -> str:
    """The mean CPU is the cost per picture over a run (a HUD drawn again on some pictures)."""
    c = f"{np.median(cpu):.2f} | {np.mean(cpu):.2f}" if cpu is not None else "- | -"
    return f"| {name} | {len(wall)} | {np.median(wall):.2f} | {np.percentile(wall, 90):.2f} | {c} |"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-window", action="store_true", help="skip the Xvfb Window.show timing")
    args = ap.parse_args()

    with VideoSource(args.clip) as src:
        images = [item.image for item in src]
    with HolisticExtractor(video=True) as extract:
        frames = [extract(img) for img in images]
    cam = [cv2.resize(img, (640, 480)) for img in images]  # a webcam's usual size

    print(f"clip: {args.clip.name}, {len(images)} frames {images[0].shape[1]}x{images[0].shape[0]}; "
          f"output 960x720; {args.repeats} repeats; OpenCV {cv2.__version__}, {cv2.getNumThreads()} threads; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    print()
    print("| case | frames | median ms | p90 ms | median CPU ms | mean CPU ms |")
    print("|---|---|---|---|---|---|")
    print(row("render, 640x480 camera image + landmarks", *time_render(cam, frames, args.repeats)))
    print(row("render, 640x480, the HUD new on every 5th picture (a guess)",
              *time_render(cam, frames, args.repeats, change_every=5)))
    print(row("render, 640x480, the HUD new on every picture",
              *time_render(cam, frames, args.repeats, change_every=1)))
    print(row(f"render, {images[0].shape[1]}x{images[0].shape[0]} video image + landmarks",
              *time_render(images, frames, args.repeats)))
    print(row("render, parquet replay (no image) + landmarks",
              *time_render([None] * len(frames), frames, args.repeats)))
    if not args.no_window:
        ms = time_show([render(img, fr, hud()) for img, fr in zip(cam, frames)], args.repeats)
        if ms is not None:
            print(row("Window.show (imshow + waitKeyEx(1)) of a 960x720 picture, Xvfb", ms))


if __name__ == "__main__":
    main()
