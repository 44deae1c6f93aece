"""Experiment: which pose points help, the reference's 502-511 (`--pose upper`) or all 33 (`--pose all`)?

Trains the transformer on a real dataset with each choice, validating on a held-out
participant (every fold, several seeds), and prints validation top-1 at the last
epoch and at the best epoch. Accuracy, not speed: the CPU time is only reported.

    python benchmarks/train/bench_train_pose.py --data DIR [--epochs 20] [--seeds 1 2] [--units 192]

DIR is any dataset in the competition layout, e.g. the traduttore MP_Data set imported with
`asl-train import-mpdata MP_Data --out DIR --signers traduttore_signers.csv`.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
from pathlib import Path


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--runs", default="/tmp/asl-bench-pose-runs")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--units", type=int, default=192)
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    p.add_argument("--parts", default="left_hand,right_hand,pose")
    args = p.parse_args()

    from train import data as datamod
    from train.fit import fit

    folds = datamod.n_folds(datamod.load(args.data))
    results = {"upper": [], "all": []}
    for seed in args.seeds:
        for fold in range(folds):
            for pose in ("upper", "all"):
                run = Path(args.runs) / f"{pose}-fold{fold}-seed{seed}"
                started = time.perf_counter()
                fit(args.data, run, {"pose": pose, "fold": fold, "seed": seed, "epochs": args.epochs,
                                     "units": args.units, "parts": args.parts.split(",")}, progress=False)
                with open(run / "metrics.csv", newline="") as f:
                    rows = list(csv.DictReader(f))
                last = float(rows[-1]["val_accuracy"])
                best = max(float(r["val_accuracy"]) for r in rows)
                summary = json.loads((run / "summary.json").read_text())
                results[pose].append((last, best))
                print(json.dumps({"pose": pose, "fold": fold, "seed": seed, "val_top1_last": round(last, 4),
                                  "val_top1_best": round(best, 4),
                                  "held_out": summary["participants_validation"],
                                  "seconds": round(time.perf_counter() - started, 1)}), flush=True)
    for pose, r in results.items():
        lasts, bests = [a for a, _ in r], [b for _, b in r]
        print(f"pose={pose}: validation top-1 last epoch mean {statistics.mean(lasts):.4f} "
              f"(min {min(lasts):.4f}, max {max(lasts):.4f}); best epoch mean {statistics.mean(bests):.4f} "
              f"over {len(r)} runs", flush=True)


if __name__ == "__main__":
    sys.exit(main())
