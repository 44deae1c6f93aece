"""Leave-one-source-out recall of the letters model (`train.letters`), per letter, with confusions.

    nice python benchmarks/letters/bench_letters.py DS1 DS2 ... [--epochs 30] [--seeds 3] [--json OUT.json]

One recipe (the shipped `train.letters.RECIPE`, or it changed by the flags), fixed before
the run; `bench_letters_nested.py` chooses among several without looking at the held-out source.

Each DS is a GISLR dataset made by `asl-train import-mpdata` from one letters source
(`/work/shared/data/letters`). For each source: train on all the others, test on it.
Three sources are one person each, so for them this is also leave-one-person-out;
ASLNow! holds several unnamed people, so it is one fold. Test samples: one per
photo/sample (frame 0 of a tutorial sequence, which is the plain single-image
detection; the other sources are one frame each), classified by the symmetric
model exactly as the exported TFLite model does for one frame.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from train import letters as L  # noqa: E402

HARD = ("a", "e", "s", "t", "m", "n")


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("datasets", nargs="+")
    p.add_argument("--epochs", type=int, default=L.RECIPE.epochs)
    p.add_argument("--seeds", type=int, default=L.RECIPE.seeds, help="models in the ensemble")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json")
    p.add_argument("--z", action="store_true", help="hand shape from x, y and z (default: x, y)")
    p.add_argument("--no-pairs", action="store_true", help="without the 210 pairwise point distances")
    args = p.parse_args()
    recipe = replace(L.RECIPE, z=args.z, pairs=not args.no_pairs, epochs=args.epochs, seeds=args.seeds)
    print(f"recipe: {recipe}", flush=True)
    train_sets = {Path(d).name: L.load_hands(d) for d in args.datasets}
    test_sets = {Path(d).name: L.load_hands(d, first_only=True) for d in args.datasets}
    folds = {}
    for held in train_sets:
        t0 = time.time()
        others = [v for k, v in train_sets.items() if k != held]
        hands = np.concatenate([o[0] for o in others])
        letters = np.concatenate([o[1] for o in others])
        classes = sorted(set(letters))
        model = L.fit(hands, letters, classes, recipe, seed=args.seed)
        th, tl, _, _ = test_sets[held]
        keep = np.isin(tl, classes)  # a letter no training source has cannot be measured
        pred = np.array(classes)[L.predict(model, th[keep]).argmax(axis=1)]
        rep = L.recall_report(tl[keep], pred, classes)
        rep["train_frames"] = int(len(hands))
        rep["seconds"] = round(time.time() - t0, 1)
        folds[held] = rep
        print(f"{held}: mean per-letter recall {rep['mean_recall']:.3f} over {len(rep['recall'])} letters, "
              f"{rep['samples']} test samples ({rep['seconds']} s)", flush=True)
    letters_all = sorted({c for r in folds.values() for c in r["recall"]})
    print("\nper letter (recall on each held-out source; - = letter not in that source)")
    print("| letter | " + " | ".join(folds) + " | mean | most confused with |")
    print("|---|" + "---|" * (len(folds) + 2))
    for c in letters_all:
        vals = [folds[f]["recall"].get(c) for f in folds]
        got = [v for v in vals if v is not None]
        conf = {}
        for f in folds:
            for w, k in folds[f]["confusions"].get(c, {}).items():
                conf[w] = conf.get(w, 0) + k
        top = ", ".join(f"{w.upper()} {k}" for w, k in sorted(conf.items(), key=lambda t: -t[1])[:3])
        mark = "**" if c in HARD else ""
        print(f"| {mark}{c.upper()}{mark} | " + " | ".join("-" if v is None else f"{v:.2f}" for v in vals)
              + f" | {np.mean(got):.2f} | {top} |")
    means = [r["mean_recall"] for r in folds.values()]
    print(f"\nmean over the {len(folds)} held-out sources: {np.mean(means):.3f} "
          f"(min {np.min(means):.3f})")
    if args.json:
        Path(args.json).write_text(json.dumps(folds, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
