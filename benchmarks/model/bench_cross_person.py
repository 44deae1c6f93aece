"""Does a training recipe carry to people it never saw? Per person and per sign.

    python benchmarks/model/bench_cross_person.py --traduttore data/traduttore \
        --gislr ../shared/data/gislr/hello_thankyou --dpan data/dpan \
        --videos ../shared/data/clips/recordthesehands --recipes reference,body --work runs/xperson

Scenarios (`--scenarios`, comma-separated):

- `trad2gislr`: train on both traduttore webcam signers (6 signs; plus an `unknown`
  class of DPAN clips, shard 0/2 in name order, when `--dpan` is given), test on
  every `hello` and `thankyou` of the 10 GISLR participants. The answer is the
  model's argmax over its whole vocabulary, as the app would say it.
- `lopo`: leave one participant out inside the GISLR set: train on 9 participants'
  `hello`/`thankyou`, test on the 10th; every participant once.
- `all2gislr`: the shipped model's situation: traduttore + 9 GISLR participants
  (+ `unknown`) -> the 10th, every participant once (`--folds K` groups the 10 into
  K held-out groups to save time).

The metric is the mean over signs of each sign's recall on the held-out people
(so a model that says `hello` to everything scores 0.5, not 0.52), with
per-participant accuracy beside it. Training runs in this process on the cached
features (`train.fit.train_arrays`), with the recipe's config; predictions come
from the Keras model on the same features the exported TFLite model computes
(the export checks TFLite against Keras to 1e-4). Results: JSON per run in --work
and Markdown tables on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from asl_live.formats.gislr import gislr_name  # noqa: E402
from train import data as datamod  # noqa: E402
from train.config import Config  # noqa: E402
from train.preprocess import cache_columns  # noqa: E402

TEST_SIGNS = ("hello", "thankyou")
# Not fair "other signs" for an `unknown` class: WATER HOSE shares WATER's handshape and place,
# HI is a synonym of HELLO.
NEAR_VOCABULARY = {"water hose", "hi"}

# Today's recipe (the shipped model's) and the candidates; each is a Config override.
RECIPES = {
    "reference": {"parts": ["left_hand", "right_hand", "pose"], "pose": "upper", "features": "reference"},
    "body": {"parts": ["left_hand", "right_hand", "pose"], "pose": "body", "features": "body"},
    "body_one_length": {"parts": ["left_hand", "right_hand", "pose"], "pose": "body", "features": "body_one_length"},
    "body_standardised": {"parts": ["left_hand", "right_hand", "pose"], "pose": "body", "features": "body_standardised"},
    "body_no_mirror": {"parts": ["left_hand", "right_hand", "pose"], "pose": "body", "features": "body_no_mirror"},
}


class Source:
    """A dataset's samples with their cached features (all columns of the cache)."""

    def __init__(self, root, cache_root: Path, name: str, trim: bool = False):
        self.data = datamod.load(root)
        self.frames, self.positions, self.lengths = datamod.features(
            self.data, None, cache_root / name, progress=False, trim=trim)
        self.signs = [self.data.signs[i] for i in self.data.labels]
        self.participants = self.data.participants


def dpan_unknown(dpan: Source, videos: Path, vocabulary: set[str]) -> np.ndarray:
    """Indices of the DPAN clips that form the `unknown` class (shard 0/2 in name order)."""
    from train.import_videos import find_videos
    from train.importing import stable_id

    first_half = {stable_id(v.key) for v in find_videos(videos)[0::2]}
    ids = np.array([s.sequence_id for s in dpan.data.samples])
    other = np.array([gislr_name(s) not in vocabulary and s not in NEAR_VOCABULARY for s in dpan.signs])
    return np.flatnonzero(other & np.isin(ids, list(first_half)))


# The same held-out people as if filmed otherwise. Applied to the cached features, which is
# exact: the preprocessing (hand-frame filter, mean pooling) commutes with these maps.
PICTURES = {
    "as recorded": None,
    "further away, off-centre": ("affine", (0.6, 0.3, 0.6, 0.25)),      # x' = 0.6x + 0.3, y' = 0.6y + 0.25
    "wider picture (16:9 instead of 9:16)": ("affine", (0.5625, 0.21875, 1.0, 0.0)),
    "left-handed (mirrored)": ("mirror", None),
}


def repicture(frames: np.ndarray, kind) -> np.ndarray:
    """Cached features float32[N, 32, C, 3] (all cache columns, 0 = missing) as if filmed otherwise."""
    if kind is None:
        return frames
    from train.augment import mirror_permutation
    from train.preprocess import CACHE_ROWS

    seen = (frames[..., :2] != 0).any(-1, keepdims=True)
    out = frames.copy()
    if kind[0] == "affine":
        ax, bx, ay, by = kind[1]
        out[..., 0] = frames[..., 0] * ax + bx
        out[..., 1] = frames[..., 1] * ay + by
    else:
        out[..., 0] = 1.0 - frames[..., 0]
        out = out[:, :, mirror_permutation(CACHE_ROWS)]
        seen = seen[:, :, mirror_permutation(CACHE_ROWS)]
    return np.where(seen, out, 0).astype(np.float32)


def train_predict(recipe: str, parts: list[tuple[Source, np.ndarray, list[str]]], test: tuple[Source, np.ndarray],
                  signs: list[str], work: Path, epochs: int | None, seed: int):
    """Train on the given (source, indices, labels) parts, return (probabilities on test, seconds)."""
    import keras

    from train.fit import WEIGHTS, train_arrays
    from train.models import build_model

    base = recipe.split("+")[0]
    if base not in RECIPES:
        raise SystemExit(f"unknown recipe {base!r}; known: {', '.join(RECIPES)}")
    config = Config.from_dict({**RECIPES[base], **_recipe_overrides(recipe), "seed": seed,
                               **({"epochs": epochs} if epochs else {})})
    columns = cache_columns(config.parts, config.pose)
    frames = np.concatenate([src.frames[idx][:, :, columns] for src, idx, _ in parts])
    positions = np.concatenate([src.positions[idx] for src, idx, _ in parts])
    labels = np.array([signs.index(s) for _, _, names in parts for s in names], np.int32)
    work.mkdir(parents=True, exist_ok=True)
    _, _, _, _, seconds = train_arrays(frames, positions, labels, len(signs), np.arange(len(labels)),
                                       np.array([], np.int64), config, work, columns, progress=False)
    model = build_model(config, len(signs))
    model.load_weights(work / WEIGHTS)
    src, idx = test
    probs = {name: model.predict({"frames": repicture(src.frames[idx], kind)[:, :, columns],
                                  "positions": src.positions[idx]}, batch_size=64, verbose=0)
             for name, kind in PICTURES.items()}
    keras.backend.clear_session()
    return probs, seconds


def _recipe_overrides(recipe: str) -> dict:
    """`body+mirror=0+affine=0.5`: a named recipe with config values changed."""
    out = {}
    for part in recipe.split("+")[1:]:
        key, _, value = part.partition("=")
        default = getattr(Config(), key)
        out[key] = type(default)(value) if default is not None else int(value)
    return out


def score(probs, truth_names, participants, signs):
    """Per-sign recall, mean per-sign recall, per-participant accuracy and top confusions."""
    said = np.array([signs[i] for i in probs.argmax(1)])
    truth = np.array(truth_names)
    recall = {s: float((said[truth == s] == s).mean()) for s in TEST_SIGNS if (truth == s).any()}
    per_person = {}
    for p in np.unique(participants):
        m = participants == p
        per_person[str(p)] = {s: [int((said[m & (truth == s)] == s).sum()), int((m & (truth == s)).sum())]
                              for s in TEST_SIGNS}
    wrong = {}
    for s in TEST_SIGNS:
        values, counts = np.unique(said[(truth == s) & (said != s)], return_counts=True)
        wrong[s] = {str(v): int(c) for v, c in sorted(zip(values, counts), key=lambda x: -x[1])[:3]}
    return {"recall": recall, "mean_recall": float(np.mean(list(recall.values()))),
            "per_participant": per_person, "confusions": wrong}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--traduttore", required=True, help="traduttore MP_Data imported with import-mpdata --signers")
    p.add_argument("--gislr", required=True, help="the hello_thankyou GISLR dataset")
    p.add_argument("--dpan", help="all DPAN clips imported with import-videos (for the unknown class)")
    p.add_argument("--videos", help="the DPAN video folder --dpan was imported from")
    p.add_argument("--recipes", default="reference,body")
    p.add_argument("--scenarios", default="trad2gislr,lopo")
    p.add_argument("--folds", type=int, default=10, help="held-out groups of GISLR participants (lopo, all2gislr)")
    p.add_argument("--groups", help="comma-separated held-out group numbers to run (default: all)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--seeds", default="0", help="comma-separated seeds; each run is repeated per seed")
    p.add_argument("--work", required=True)
    args = p.parse_args()
    work = Path(args.work)
    cache = work / "cache"

    trad = Source(args.traduttore, cache, "traduttore")
    gislr = Source(args.gislr, cache, "gislr")
    trad_signs = sorted(set(trad.signs))
    unknown = None
    if args.dpan:
        if not args.videos:
            p.error("--dpan needs --videos")
        dpan = Source(args.dpan, cache, "dpan")
        idx = dpan_unknown(dpan, Path(args.videos), set(trad_signs) | set(TEST_SIGNS))
        unknown = (dpan, idx, ["unknown"] * len(idx))
    people = np.unique(gislr.participants)
    groups = np.array_split(people, min(args.folds, len(people)))
    results_path = work / "results.jsonl"
    done = set()
    if results_path.is_file():
        done = {(r["recipe"], r["scenario"], r["seed"]) for r in map(json.loads, results_path.read_text().splitlines())}

    for recipe in args.recipes.split(","):
        for scenario in args.scenarios.split(","):
            for seed in (int(s) for s in args.seeds.split(",")):
                if (recipe, scenario, seed) in done:
                    continue
                started = time.perf_counter()
                all_probs, all_truth, all_people, signs, train_seconds = [], [], [], None, 0.0
                if scenario == "trad2gislr":
                    signs = trad_signs + (["unknown"] if unknown else [])
                    parts = [(trad, np.arange(len(trad.signs)), trad.signs)] + ([unknown] if unknown else [])
                    test = np.flatnonzero(np.isin(gislr.signs, TEST_SIGNS))
                    probs, secs = train_predict(recipe, parts, (gislr, test), signs,
                                                work / "runs" / f"{recipe}_{scenario}_{seed}", args.epochs, seed)
                    all_probs, all_truth, all_people, train_seconds = [probs], [np.array(gislr.signs)[test]], \
                        [gislr.participants[test]], secs
                else:
                    for k, held in enumerate(groups):
                        if args.groups and str(k) not in args.groups.split(","):
                            continue
                        out = np.isin(gislr.participants, held)
                        train_idx = np.flatnonzero(~out)
                        if scenario == "lopo":
                            signs = sorted(set(gislr.signs))
                            parts = [(gislr, train_idx, [gislr.signs[i] for i in train_idx])]
                        elif scenario == "all2gislr":
                            signs = sorted(set(trad_signs) | set(gislr.signs)) + (["unknown"] if unknown else [])
                            parts = [(trad, np.arange(len(trad.signs)), trad.signs),
                                     (gislr, train_idx, [gislr.signs[i] for i in train_idx])]
                            parts += [unknown] if unknown else []
                        else:
                            p.error(f"unknown scenario {scenario}")
                        test = np.flatnonzero(out)
                        probs, secs = train_predict(recipe, parts, (gislr, test), signs,
                                                    work / "runs" / f"{recipe}_{scenario}_{seed}_{k}", args.epochs, seed)
                        all_probs.append(probs)
                        all_truth.append(np.array(gislr.signs)[test])
                        all_people.append(gislr.participants[test])
                        train_seconds += secs
                        print(f"  {recipe} {scenario} seed {seed} group {k}: "
                              f"{score(probs['as recorded'], all_truth[-1], all_people[-1], signs)['recall']}",
                              file=sys.stderr)
                truth, people_ = np.concatenate(all_truth), np.concatenate(all_people)
                joined = {name: np.concatenate([p[name] for p in all_probs]) for name in PICTURES}
                result = {"recipe": recipe, "scenario": scenario, "seed": seed, "signs": signs,
                          **score(joined["as recorded"], truth, people_, signs),
                          "pictures": {name: score(pr, truth, people_, signs)["mean_recall"]
                                       for name, pr in joined.items()},
                          "train_seconds": round(train_seconds, 1),
                          "seconds": round(time.perf_counter() - started, 1)}
                print(json.dumps({k: result[k] for k in ("recipe", "scenario", "seed", "recall", "mean_recall",
                                                         "confusions", "seconds")}), file=sys.stderr)
                with open(results_path, "a") as f:
                    f.write(json.dumps(result) + "\n")
    print_tables(results_path)
    return 0


def print_tables(results_path: Path) -> None:
    rows = [json.loads(line) for line in results_path.read_text().splitlines()]
    print("| recipe | scenario | seeds | hello recall | thankyou recall | mean per-sign recall | "
          "most frequent wrong answers |")
    print("|---|---|---|---|---|---|---|")
    key = lambda r: (r["scenario"], r["recipe"])  # noqa: E731
    for (scenario, recipe) in sorted({key(r) for r in rows}):
        runs = [r for r in rows if key(r) == (scenario, recipe)]
        rec = {s: [r["recall"].get(s, np.nan) for r in runs] for s in TEST_SIGNS}
        mean = [r["mean_recall"] for r in runs]
        fmt = lambda v: f"{np.median(v):.3f}" + (f" ({min(v):.2f}-{max(v):.2f})" if len(v) > 1 else "")  # noqa: E731
        wrong = "; ".join(f"{s}: " + ", ".join(f"{k} {v}" for k, v in runs[0]["confusions"][s].items())
                          for s in TEST_SIGNS if runs[0]["confusions"][s])
        print(f"| {recipe} | {scenario} | {len(runs)} | {fmt(rec['hello'])} | {fmt(rec['thankyou'])} | "
              f"{fmt(mean)} | {wrong} |")
    print("\nThe same held-out people filmed otherwise (mean per-sign recall; median over seeds):\n")
    print("| recipe | scenario | " + " | ".join(PICTURES) + " |")
    print("|---|---|" + "---|" * len(PICTURES))
    for (scenario, recipe) in sorted({key(r) for r in rows}):
        runs = [r for r in rows if key(r) == (scenario, recipe) and "pictures" in r]
        if runs:
            print(f"| {recipe} | {scenario} | " + " | ".join(
                f"{np.median([r['pictures'][n] for r in runs]):.3f}" for n in PICTURES) + " |")
    print("\nPer participant (right / total, hello then thankyou; first seed):\n")
    for (scenario, recipe) in sorted({key(r) for r in rows}):
        r = next(r for r in rows if key(r) == (scenario, recipe))
        cells = ", ".join(f"{p}: {v['hello'][0]}/{v['hello'][1]} {v['thankyou'][0]}/{v['thankyou'][1]}"
                          for p, v in r["per_participant"].items())
        print(f"- {recipe} / {scenario}: {cells}")


if __name__ == "__main__":
    sys.exit(main())
