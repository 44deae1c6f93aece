"""Does the window keep its pace while a correction is learned? And how long does learning take there?

    python benchmarks/teach/bench_learn_window.py --person /tmp/people/103 --runs 3 --corrections 4

The real app (`asl-live --replay STREAM --learn`) in a real OpenCV window under a private Xvfb
(`tests/display.py`), on one webcam person's recordings (an imported `mp_data/people` archive)
played as one stream with 4 s of rest between signs, at its own 30 fps. Every few seconds the
benchmark presses `c` and picks a sign by number (real X key events), so the model is extended
in the app's worker thread while the picture goes on. Reported per run, from the app's own
stderr: the seconds each extension took, and the gap between two pictures shown (median and
longest) while an extension ran and otherwise. Medians over runs.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))


def stream(person: Path, out: Path, signs: int) -> Path:
    from asl_live.formats.gislr import Dataset, write_parquet
    from asl_live.formats.layout import empty_frames

    ds = Dataset(person)
    parts = [empty_frames(150)]
    for s in ds.samples()[::max(1, len(ds.samples()) // signs)][:signs]:
        parts += [ds.read(s), empty_frames(120)]
    return write_parquet(out, np.concatenate(parts))


def one_run(xvfb, replay: Path, corrections: int, work: Path) -> dict:
    from display import XClient, wait_for

    env = xvfb.env(PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "asl_live", "--replay", str(replay), "--learn", "--out",
                             str(work)], env=env, text=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    lines: list[str] = []

    def read(t):
        end = time.monotonic() + t
        while time.monotonic() < end:
            ready, _, _ = select.select([proc.stderr], [], [], max(0.0, end - time.monotonic()))
            if not ready:
                return
            line = proc.stderr.readline()
            if not line:
                return
            lines.append(line.rstrip())

    try:
        with XClient(xvfb.display) as client:
            if not wait_for(lambda: client.windows("asl-live"), 60):
                raise SystemExit("the window never appeared")
            win = client.windows("asl-live")[0]
            done = 0
            while done < corrections and proc.poll() is None:
                n = len(lines)
                client.key(win, "c")
                read(1.0)
                if any("correcting the answer" in l for l in lines[n:]):
                    client.key(win, str(1 + done % 5))
                    end = time.monotonic() + 60
                    while time.monotonic() < end and not any(
                            "learned " in l or "nothing to correct" in l or "error" in l for l in lines[n:]):
                        read(0.5)
                    done += any("learned " in l for l in lines[n:])
                read(1.0)
            while proc.poll() is None:
                client.key(win, "q")
                read(1.0)
        rest = proc.stderr.read()
        lines += rest.splitlines()
    finally:
        if proc.poll() is None:
            proc.kill()
    seconds = [float(l.rsplit(" in ", 1)[1].split(" s")[0]) for l in lines if l.startswith("asl-live: learned ")]
    pace = [l for l in lines if "pictures came every" in l]
    if not pace:
        raise SystemExit("no pace line: " + " | ".join(lines[-5:]))
    nums = [int(x.split(" ms")[0]) for x in pace[0].replace("every ", "§").replace("longest ", "§")
            .replace("otherwise ", "§").split("§")[1:]]
    return {"extend_s": seconds, "learning_median_ms": nums[0], "learning_longest_ms": nums[1],
            "otherwise_median_ms": nums[2], "otherwise_longest_ms": nums[3]}


def main() -> int:
    from display import Xvfb

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--person", required=True, help="an imported person's dataset (asl-train import-mpdata)")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--corrections", type=int, default=4)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        replay = stream(Path(args.person), Path(tmp) / "stream.parquet", 4 * args.corrections + 4)
        runs = []
        with Xvfb() as xvfb:
            for i in range(args.runs):
                r = one_run(xvfb, replay, args.corrections, Path(tmp) / f"run{i}")
                print(json.dumps(r), flush=True)
                runs.append(r)
    med = lambda v: float(np.median(v))  # noqa: E731
    print(f"extend: median {med([s for r in runs for s in r['extend_s']]):.2f} s over "
          f"{sum(len(r['extend_s']) for r in runs)} corrections; pictures every "
          f"{med([r['learning_median_ms'] for r in runs]):.0f} ms while learning (longest "
          f"{max(r['learning_longest_ms'] for r in runs)} ms), {med([r['otherwise_median_ms'] for r in runs]):.0f} ms "
          f"otherwise (longest {max(r['otherwise_longest_ms'] for r in runs)} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
