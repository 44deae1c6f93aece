"""import-videos on the old process pool vs the Dask engine (1 and 2 local workers, a 2-worker cluster).

    python benchmarks/train/bench_import_engine.py --clips /work/shared/data/clips/recordthesehands --n 40 --rounds 2

What it measures (results in docs/history/2026-11-24-importers-and-dask-engine.md):

1. Engine start-up: an embedded LocalCluster + Client up, the first no-op task's result, close;
   the same for the process pool. Median of --startup-repeats.
2. Engine cost per item: --noop-items tasks that return a landmark-sized array (72 frames x 543 x 3
   float32, 0.47 MB) through each runner with one worker; wall time per item once the runner is up.
3. The real job: `import_videos` on the first --n clips (name order) into a fresh dataset, for each
   configuration, in a rotating order every round (so a change of machine load hits all of them).
   Wall time includes the runner's start-up; files/s, frames/s; overhead per file =
   (wall x worker threads - time the workers spent inside `_extract`) / files, i.e. worker time
   not spent on a video (start-up, MediaPipe import, transfers, scheduling, the tail).
   The cluster is a `dask scheduler` and two `dask worker --nthreads 1` processes on 127.0.0.1,
   started once before the rounds (as a real cluster is, long-lived); its start-up is reported
   separately.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

LANDMARKS = (72, 543, 3)


def noop(i: int) -> np.ndarray:
    return np.zeros(LANDMARKS, np.float32)


def first_noop(runner) -> None:
    for _ in runner.results(noop, [(0,)]):
        pass


def startup(kind: str, repeats: int) -> dict:
    from train import engine

    up, first, close = [], [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        runner = engine.open_runner(kind, 2)
        t1 = time.perf_counter()
        first_noop(runner)
        t2 = time.perf_counter()
        runner.close()
        t3 = time.perf_counter()
        up.append(t1 - t0), first.append(t2 - t0), close.append(t3 - t2)
    med = statistics.median
    return {"kind": kind, "up_s": med(up), "first_result_s": med(first), "close_s": med(close),
            "repeats": repeats}


def per_item(kind: str, items: int, address: str | None = None) -> dict:
    from train import engine

    with engine.open_runner(kind, 1, address) as runner:
        first_noop(runner)
        t0 = time.perf_counter()
        n = sum(1 for _ in runner.results(noop, [(i,) for i in range(items)]))
        wall = time.perf_counter() - t0
    return {"kind": kind if not address else "cluster", "workers": runner.workers, "items": n,
            "ms_per_item": 1000 * wall / n}


def start_cluster(port: int) -> tuple[list[subprocess.Popen], str, float]:
    dask = str(Path(sys.executable).parent / "dask")
    address = f"tcp://127.0.0.1:{port}"
    log = open(os.devnull, "w")
    t0 = time.perf_counter()
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], stdout=log, stderr=log)]
    for _ in range(2):  # two "nodes": each its own `dask worker` (nanny + one worker process)
        procs.append(subprocess.Popen([dask, "worker", address, "--nthreads", "1", "--nworkers", "1",
                                       "--no-dashboard"], stdout=log, stderr=log))
    from distributed import Client

    with Client(address, timeout="60s") as c:
        c.wait_for_workers(2, timeout=120)
    return procs, address, time.perf_counter() - t0


def one_run(config: dict, src: Path, address: str | None) -> dict:
    from train.import_videos import import_videos

    with tempfile.TemporaryDirectory(prefix="bench-import-") as out:
        t0 = time.perf_counter()
        s = import_videos(src, out, jobs=config["jobs"], engine=config["engine"],
                          address=address if config["name"] == "cluster2" else None, progress=False)
        wall = time.perf_counter() - t0
    threads = config["jobs"]
    files = s["added"] + len(s["failed"])
    return {"config": config["name"], "engine": s["engine"], "files": files, "failed": len(s["failed"]),
            "frames": s["frames"], "wall_s": wall, "files_per_s": files / wall,
            "frames_per_s": s["frames"] / wall, "startup_s": s["startup_s"],
            "worker_s": s["worker_seconds"],
            "overhead_s_per_file": (wall * threads - s["worker_seconds"]) / files,
            "load": os.getloadavg()[0]}


# The three 2-worker set-ups next to each other: they are the ones compared most closely.
CONFIGS = [
    {"name": "pool2", "engine": "pool", "jobs": 2},
    {"name": "dask2", "engine": "dask", "jobs": 2},
    {"name": "cluster2", "engine": "dask", "jobs": 2},
    {"name": "dask1", "engine": "dask", "jobs": 1},
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clips", required=True)
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--configs", default=",".join(c["name"] for c in CONFIGS))
    ap.add_argument("--startup-repeats", type=int, default=5)
    ap.add_argument("--noop-items", type=int, default=200)
    ap.add_argument("--port", type=int, default=8793)
    ap.add_argument("--json", default=None, help="append every measurement here as JSON lines")
    args = ap.parse_args()
    # SIGTERM (and SIGINT, which a background job ignores) end the run through `finally`,
    # so the cluster's processes are stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    from train.engine import quiet_worker  # noqa: F401  (fails early if the repo is not importable)

    def emit(rec):
        line = json.dumps(rec)
        print(line, flush=True)
        if args.json:
            with open(args.json, "a") as f:
                f.write(line + "\n")

    emit({"uptime": open("/proc/loadavg").read().split()[:3], "cores": os.cpu_count(),
          "time": time.strftime("%H:%M:%S")})
    for kind in ("dask", "pool"):
        emit({"startup": startup(kind, args.startup_repeats)})

    src = Path(tempfile.mkdtemp(prefix="bench-clips-"))
    clips = sorted(p for p in Path(args.clips).iterdir() if p.suffix == ".mp4")[:args.n]
    for p in clips:
        (src / p.name).symlink_to(p)

    wanted = [c for c in CONFIGS if c["name"] in args.configs.split(",")]
    procs, address = [], None
    try:
        if any(c["name"] == "cluster2" for c in wanted) or args.noop_items:
            procs, address, up = start_cluster(args.port)
            emit({"cluster_start_s": up, "address": address})
        if args.noop_items:
            for kind in ("pool", "dask"):
                emit({"per_item": per_item(kind, args.noop_items)})
            emit({"per_item": per_item("dask", args.noop_items, address)})
        runs = []
        for r in range(args.rounds):
            order = wanted[r % len(wanted):] + wanted[:r % len(wanted)]
            for config in order:
                rec = one_run(config, src, address)
                rec["round"] = r
                runs.append(rec)
                emit({"run": rec})
        summarise(runs, wanted, emit)
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            p.wait(30)


def summarise(runs, wanted, emit):
    med = statistics.median
    base = {r["round"]: r["wall_s"] for r in runs if r["config"] == "pool2"}
    for c in wanted:
        mine = [r for r in runs if r["config"] == c["name"]]
        ratio = [base[r["round"]] / r["wall_s"] for r in mine if r["round"] in base]
        emit({"summary": c["name"], "runs": len(mine), "files_per_s": med(r["files_per_s"] for r in mine),
              "frames_per_s": med(r["frames_per_s"] for r in mine),
              "overhead_s_per_file": med(r["overhead_s_per_file"] for r in mine),
              "speed_vs_pool2_same_round": med(ratio) if ratio else None,
              "load": [round(r["load"], 1) for r in mine]})


if __name__ == "__main__":
    main()
