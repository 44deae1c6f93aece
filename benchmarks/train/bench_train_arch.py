"""Experiment: --arch transformer vs fc vs conv, trained on few samples of one signer and
validated on every sequence of another (the teach-mode situation, and hard enough not to
sit at 100%).

    python benchmarks/train/bench_train_arch.py --data DIR [--per-sign 10] [--seeds 1 2] [--epochs 40]

DIR: a dataset with two or more participants (e.g. the traduttore MP_Data set imported with
`asl-train import-mpdata ... --signers ...`). For each ordered pair (train participant A,
held-out participant B) a temporary dataset holds the first --per-sign sequences of each sign
by A and all of B's; the fold that validates on B is used.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import tempfile
import time
from pathlib import Path


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--per-sign", type=int, default=10)
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--units", type=int, default=192)
    p.add_argument("--archs", nargs="+", default=["transformer", "fc", "conv"])
    p.add_argument("--parts", default="left_hand,right_hand,pose")
    args = p.parse_args()

    from asl_live.formats.gislr import Dataset
    from train import data as datamod
    from train.fit import fit

    src = Dataset(args.data)
    samples = src.samples()
    people = sorted({s.participant_id for s in samples})
    results: dict[str, list[float]] = {a: [] for a in args.archs}
    with tempfile.TemporaryDirectory() as tmp:
        for a in people:
            for b in people:
                if a == b:
                    continue
                root = Path(tmp) / f"{a}-to-{b}"
                root.mkdir()
                (root / "train_landmark_files").symlink_to(Path(args.data).resolve() / "train_landmark_files")
                (root / "sign_to_prediction_index_map.json").write_bytes(src.label_map_path.read_bytes())
                taken: dict[str, int] = {}
                rows = []
                for s in samples:
                    if s.participant_id == a and taken.get(s.sign, 0) < args.per_sign:
                        taken[s.sign] = taken.get(s.sign, 0) + 1
                        rows.append(s)
                    elif s.participant_id == b:
                        rows.append(s)
                Dataset(root).write_samples(rows)
                for seed in args.seeds:
                    folds = datamod.fold_assignment(datamod.load(root), seed=seed, quiet=True)
                    data = datamod.load(root)
                    fold = int(folds[[i for i, s in enumerate(data.samples) if s.participant_id == b][0]])
                    for arch in args.archs:
                        run = Path(tmp) / f"run-{a}-{b}-{seed}-{arch}"
                        started = time.perf_counter()
                        fit(root, run, {"arch": arch, "fold": fold, "seed": seed, "epochs": args.epochs,
                                        "units": args.units, "parts": args.parts.split(",")},
                            progress=False, cache_dir=Path(tmp) / f"cache-{a}-{b}")
                        with open(run / "metrics.csv", newline="") as f:
                            last = float(list(csv.DictReader(f))[-1]["val_accuracy"])
                        results[arch].append(last)
                        print(json.dumps({"arch": arch, "train": a, "held_out": b, "seed": seed,
                                          "train_samples": len([r for r in rows if r.participant_id == a]),
                                          "val_top1_last": round(last, 4),
                                          "seconds": round(time.perf_counter() - started, 1)}), flush=True)
    for arch, r in results.items():
        print(f"arch={arch}: held-out top-1 at the last epoch mean {statistics.mean(r):.4f} "
              f"(min {min(r):.4f}, max {max(r):.4f}) over {len(r)} runs", flush=True)


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    main()
