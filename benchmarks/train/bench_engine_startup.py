"""Why Dask distributed and not Ray for import-videos / prepare: local start-up, measured.

    pip install -c constraints.txt "asl-live[scale]" ray   # ray only for this comparison
    python benchmarks/train/bench_engine_startup.py --repeats 3

For each engine that is installed, in a fresh interpreter each time: import, start a local
instance with 2 workers (Ray: `ray.init(num_cpus=2)`; Dask: `LocalCluster(n_workers=2,
threads_per_worker=1)` + `Client`), the first trivial task's result, 100 trivial tasks, shut
down. Medians. Results in docs/history/2026-11-24-importers-and-dask-engine.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys

RAY = r'''
import json, time
t0 = time.perf_counter()
import ray
t1 = time.perf_counter()
ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
t2 = time.perf_counter()
@ray.remote
def f(x):
    return x
ray.get(f.remote(1)); t3 = time.perf_counter()
ray.get([f.remote(i) for i in range(100)]); t4 = time.perf_counter()
ray.shutdown(); t5 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "start": t2 - t1, "first_task": t3 - t2, "100_tasks": t4 - t3, "shutdown": t5 - t4}))
'''

DASK = r'''
import json, logging, time
t0 = time.perf_counter()
from distributed import Client, LocalCluster
t1 = time.perf_counter()
if __name__ == "__main__":
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                           scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}, silence_logs=logging.ERROR)
    client = Client(cluster); t2 = time.perf_counter()
    client.submit(lambda x: x, 1).result(); t3 = time.perf_counter()
    client.gather(client.map(lambda x: x, range(100))); t4 = time.perf_counter()
    client.close(); cluster.close(); t5 = time.perf_counter()
    print(json.dumps({"import": t1 - t0, "start": t2 - t1, "first_task": t3 - t2, "100_tasks": t4 - t3, "shutdown": t5 - t4}))
'''


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    print(json.dumps({"load": open("/proc/loadavg").read().split()[:3]}))
    for name, module, code in (("dask", "distributed", DASK), ("ray", "ray", RAY)):
        if importlib.util.find_spec(module) is None:
            print(json.dumps({"engine": name, "skipped": f"{module} is not installed"}))
            continue
        runs = []
        for _ in range(args.repeats):
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        med = {k: round(statistics.median(r[k] for r in runs), 3) for k in runs[0]}
        print(json.dumps({"engine": name, "repeats": args.repeats, "median_s": med}))
    print(json.dumps({"load": open("/proc/loadavg").read().split()[:3]}))


if __name__ == "__main__":
    main()
