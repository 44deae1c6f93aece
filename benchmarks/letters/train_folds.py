"""Leave-one-source-out letters models, saved for the fingerspelling benchmarks.

    nice python benchmarks/letters/train_folds.py DS1 DS2 DS3 DS4 --out DIR

For each source: the shipped recipe (`train.letters.RECIPE`, 3 seeds) trained on the other three (without the `--drop` letters),
saved as DIR/<held-out name>/ (`letters.weights.h5` + `letters_train.json`, read by
`train.letters.load`). A fold already there is kept.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from train import letters as L  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("datasets", nargs="+")
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--drop", nargs="*", default=[], help="letters left out of training (e.g. j z: they move)")
    args = p.parse_args()
    sets = {Path(d).name: L.load_hands(d) for d in args.datasets}
    for held in sets:
        out = Path(args.out) / held
        if (out / L.WEIGHTS).is_file():
            continue
        t0 = time.time()
        others = [v for k, v in sets.items() if k != held]
        hands = np.concatenate([o[0] for o in others])
        letters = np.concatenate([o[1] for o in others])
        keep = ~np.isin(letters, args.drop)
        hands, letters = hands[keep], letters[keep]
        classes = sorted(set(letters))
        model = L.fit(hands, letters, classes, L.RECIPE, seed=args.seed)
        out.mkdir(parents=True, exist_ok=True)
        model.save_weights(out / L.WEIGHTS)
        (out / L.TRAINING).write_text(json.dumps({"recipe": asdict(L.RECIPE), "classes": classes,
                                                  "seed": args.seed}))
        print(f"{held}: {len(hands)} hands, {time.time() - t0:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
