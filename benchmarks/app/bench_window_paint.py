"""How often does the app's window stay black? With and without the MapNotify reminder.

    python benchmarks/app/bench_window_paint.py --runs 40 --busy 3

Each run opens `asl_live.view.window.Window` in a child process on a private Xvfb (tests/display.py)
showing one bright picture, with `--busy` processes spinning on the CPU (Holistic and the rest
of a test run do the same to Qt), and waits `--wait` s for the picture to reach the screen. Runs
alternate between `Window(remind_mapped=False)` (OpenCV's Qt as it is) and the app's default
(asl_live/view/map_reminder.py). A run is black when no picture arrived. Needs Xvfb (the tests install it).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import subprocess
import sys
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))

from display import XClient, Xvfb, wait_for  # noqa: E402

TITLE = "asl-live paint"
SHOW = textwrap.dedent(f"""
    import sys, time, numpy as np
    from asl_live.view.window import Window
    img = np.full((720, 960, 3), 200, np.uint8)
    with Window({TITLE!r}, remind_mapped=sys.argv[1] == "1") as w:
        print("open", flush=True)
        end = time.monotonic() + 60
        while time.monotonic() < end and w.show(img) != "quit":
            time.sleep(0.01)
""")


def _spin(stop) -> None:
    while not stop.is_set():
        sum(i * i for i in range(10000))


def one(x: Xvfb, remind: bool, wait: float) -> bool:
    """Whether the picture reached the screen within `wait` s of the window appearing."""
    proc = subprocess.Popen([sys.executable, "-c", SHOW, "1" if remind else "0"], env=x.env(), cwd=REPO,
                            text=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        proc.stdout.readline()
        with XClient(x.display) as client:
            if not wait_for(lambda: client.windows(TITLE), 30):
                raise SystemExit("the window never appeared")
            win = client.windows(TITLE)[0]

            def shown():
                crop = client.picture(x.screenshot(), win, (960, 720))
                return crop is not None and crop.mean() > 150

            return wait_for(shown, wait)
    finally:
        proc.kill()
        proc.wait()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=40, help="runs of each kind")
    p.add_argument("--busy", type=int, default=3, help="processes spinning on the CPU meanwhile")
    p.add_argument("--wait", type=float, default=15.0, help="seconds a window has to paint")
    args = p.parse_args()
    stop = mp.Event()
    spinners = [mp.Process(target=_spin, args=(stop,), daemon=True) for _ in range(args.busy)]
    for s in spinners:
        s.start()
    black = {False: 0, True: 0}
    t0 = time.monotonic()
    try:
        with Xvfb() as x:
            for i in range(args.runs):
                for remind in (False, True):
                    if not one(x, remind, args.wait):
                        black[remind] += 1
                print(f"run {i + 1}/{args.runs}: black without {black[False]}, with {black[True]}",
                      file=sys.stderr, flush=True)
    finally:
        stop.set()
    print("| busy processes | runs each | black without the reminder | black with it | minutes |")
    print("|---|---|---|---|---|")
    print(f"| {args.busy} | {args.runs} | {black[False]}/{args.runs} | {black[True]}/{args.runs} | "
          f"{(time.monotonic() - t0) / 60:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
