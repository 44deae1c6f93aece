"""One sign classified by two TFLite models, interleaved, through the app's `Classifier`.

    python benchmarks/model/bench_classify_ab.py OLD.tflite OLD_labels.json NEW.tflite NEW_labels.json [--calls 300]

Each call classifies one of the bundled demo's 8 real sequences (20 frames); the two models
alternate call by call, so load on a shared machine falls on both alike. Prints the median
and p90 wall milliseconds of each and the ratio of the medians.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from asl_live.model.classifier import Classifier  # noqa: E402
from asl_live.formats.gislr import read_parquet  # noqa: E402
from asl_live.bundled import ASSETS  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("models", nargs=4, metavar="PATH", help="model A, labels A, model B, labels B")
    p.add_argument("--calls", type=int, default=300)
    args = p.parse_args()
    demo = read_parquet(ASSETS / "demo.parquet")
    truth = json.loads((ASSETS / "demo.json").read_text())
    seqs = [demo[s["first_frame"]:s["first_frame"] + s["frames"]] for s in truth["sequences"]]
    clfs = [Classifier(args.models[0], args.models[1]), Classifier(args.models[2], args.models[3])]
    times = [[], []]
    for i in range(args.calls):
        for k, clf in enumerate(clfs):
            t = time.perf_counter()
            clf(seqs[i % len(seqs)])
            times[k].append((time.perf_counter() - t) * 1000)
    med = [float(np.median(t)) for t in times]
    for name, t, m in zip(("A", "B"), times, med):
        print(f"{name}: median {m:.3f} ms, p90 {np.percentile(t, 90):.3f} ms over {len(t)} calls")
    print(f"B / A = {med[1] / med[0]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
