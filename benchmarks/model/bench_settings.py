"""Does a recipe learn the sign or the recording? Every person held out, scored per setting.

    python benchmarks/model/bench_settings.py --traduttore data/traduttore --people data/people \
        --gislr ../shared/data/gislr/hello_thankyou --dpan data/dpan --dictionary data/wlasl_pu \
        --recipes today,everywhere --scenarios folds,two2third,shipped --work runs/settings

Four recording settings, 19 people and a test set:

- `webcam`: MP_Data recordings, 6 people in 7 archives: traduttore's two (participants 72988, 54320; the six
  signs) and the five people of `mp_data/people` (participants 101-105, imported one archive
  each with `import-mpdata --participant`): `hello`, `thankyou`, `no` of the vocabulary, and
  signs outside it (`cat`, `food`, `help`, `iloveyou`, `seeyoulater`, `house`, `yes`,
  `minemy`, `name`) and idle hands (`-`, `IDLE`).
- `phone`: the 10 GISLR participants (`hello`, `thankyou`).
- `studio`: DPAN's 313 prompt clips (one studio; signs outside the vocabulary, `hi` and
  `water hose` left out as too near `hello` and `water`). One "person" here.
- `dictionary`: 18 WLASL / ProjectUnmute dictionary clips, other signers, five of the
  vocabulary (`hello`, `no`, `please`, `thankyou`, `water`). A test set only: never trained on.

Scenario `folds`: the people are split into 4 groups (`FOLDS`), each group mixing settings;
each recipe trains 4 models, each tested on the group it never saw and on every dictionary
clip. Scored per setting: the mean per-sign recall of the vocabulary's signs (the answer is
the argmax over all classes, as the app reads it), the share of vocabulary signs NOT
answered `unknown`, and the share of signs outside the vocabulary (and idle) answered
`unknown`. A rule that tells settings apart instead of signs shows up as a setting whose
`unknown` rate is high for its vocabulary signs or low for its other signs.

Scenario `model`: an exported model (`--model`) trained on every person here, on what it
never saw: the dictionary clips, and DPAN's unless `--model-saw-dpan`.

Scenario `two2third`: trained on two webcam people (traduttore) with `fit`'s defaults
(`--recipes` names the recipe), tested on `hello`/`no`/`thankyou` of each of the four other
webcam people (not 104: he is traduttore's 54320, see `ALIASES`). Scenario `shipped`: today's shipped model (TFLite, through the app's
`Classifier`) on everything it never trained on.

Recipes (`RECIPES`): which sources train, how their labels map, and Config overrides.
Results: JSON lines of every prediction in --work (resumable), Markdown tables on stdout.
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
sys.path.insert(0, str(REPO / "benchmarks"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from asl_live.formats.gislr import gislr_name  # noqa: E402
from asl_live.formats.layout import hands_visible  # noqa: E402
from bench_cross_person import Source  # noqa: E402

VOCABULARY = ("can", "hello", "no", "please", "thankyou", "water")
NEAR_VOCABULARY = {"hi", "water hose"}   # neither a fair negative nor a fair test of `unknown`
IDLE = {"-", "IDLE"}
SETTINGS = ("webcam", "phone", "studio", "dictionary")
SOURCES = ("traduttore", "people", "gislr", "dpan", "dictionary")   # the command line's dataset options
STUDIO = "studio:dpan"

# One person, two archives: traduttore's participant 54320 is its committer dmohazab, and
# mp_data/people's dmohazab/FYDPASL archive (participant 104) is his own project. No frame is
# shared, but the signer is: they are held out together, and 104 is no "new person" to a
# model trained on traduttore.
ALIASES = {"webcam:54320": "webcam:dmohazab", "webcam:104": "webcam:dmohazab"}

FOLDS = [
    ["webcam:72988", "webcam:101", "phone:4718", "phone:18796", "phone:25571"],
    ["webcam:dmohazab", "webcam:102", "phone:27610", "phone:29302", "phone:32319"],
    ["webcam:103", "webcam:105", "phone:36257", "phone:37779"],
    [STUDIO, "phone:53618", "phone:61333"],
]

# What the shipped model trained on (MODEL_CARD.md): both traduttore people, 8 GISLR people,
# DPAN shard 0/2. Its rows use only what it never saw.
SHIPPED_UNSEEN = {"webcam:101", "webcam:102", "webcam:103", "webcam:105",
                  "phone:4718", "phone:61333"}

BASE = {"parts": ["left_hand", "right_hand", "pose"], "units": 192}
RECIPES = {
    # today's recipe: traduttore + GISLR + DPAN clips as `unknown`; the new webcam people unused
    "today": {"sources": ("traduttore", "gislr", "dpan"), "config": BASE},
    # negatives from every setting: the webcam people's other signs and idle hands too
    "everywhere": {"sources": ("traduttore", "people", "gislr", "dpan"), "config": BASE},
    # the same, the way to and from rest trimmed off both ends inside the model (train.preprocess)
    "everywhere_trim": {"sources": ("traduttore", "people", "gislr", "dpan"), "config": {**BASE, "trim": True}},
    # trimmed, negatives from the webcam people only: DPAN's studio clips are no training data,
    # only a setting to test on (its clips are the only `unknown` examples filmed like dictionaries)
    "nodpan_trim": {"sources": ("traduttore", "people", "gislr"), "config": {**BASE, "trim": True}},
    # the default's recipe with augmentation of what differs between people (train.augment)
    "nodpan_trim_aug": {"sources": ("traduttore", "people", "gislr"),
                        "config": {**BASE, "trim": True, "crop": 0.5, "body_shape": 0.5, "drop_hand": 0.3,
                                   "jitter": 0.3}},
    # trimmed, no `unknown` class at all: the six signs from every setting, and the app's
    # threshold rule alone rejects (open set; no negatives to learn a setting from)
    "signs_trim": {"sources": ("traduttore", "people", "gislr"), "config": {**BASE, "trim": True},
                   "unknown_class": False},
    # the same, with augmentation of what differs between people and cameras
    "everywhere_aug": {"sources": ("traduttore", "people", "gislr", "dpan"),
                       "config": {**BASE, "crop": 0.5, "body_shape": 0.5, "drop_hand": 0.3, "jitter": 0.3}},
    # `fit`'s defaults (384 units), for the two-people scenario
    "fit_defaults": {"sources": ("traduttore",), "config": {"parts": ["left_hand", "right_hand", "pose"]}},
    "fit_defaults_trim": {"sources": ("traduttore",),
                          "config": {"parts": ["left_hand", "right_hand", "pose"], "trim": True}},
    "fit_defaults_aug": {"sources": ("traduttore",),
                         "config": {"parts": ["left_hand", "right_hand", "pose"], "crop": 0.5,
                                    "body_shape": 0.5, "drop_hand": 0.3, "jitter": 0.3}},
}


class Item:
    """Every sequence of every source: where it comes from and what it is."""

    def __init__(self, sources: dict[str, Source]):
        src, idx, setting, person, sign, hands = [], [], [], [], [], []
        for name, s in sources.items():
            kind = {"traduttore": "webcam", "people": "webcam", "gislr": "phone",
                    "dpan": "studio", "dictionary": "dictionary"}[name]
            for i, sample in enumerate(s.data.samples):
                src.append(name)
                idx.append(i)
                setting.append(kind)
                if kind == "studio":
                    person.append(STUDIO)
                elif kind == "dictionary":
                    person.append(f"dictionary:{sample.sign}")
                else:
                    key = f"{kind}:{sample.participant_id}"
                    person.append(ALIASES.get(key, key))
                sign.append(gislr_name(sample.sign))
            hands.extend(hand_share(s))
        self.source, self.index = np.array(src), np.array(idx)
        self.setting, self.person, self.sign = np.array(setting), np.array(person), np.array(sign)
        self.hands = np.array(hands)   # share of frames with a hand seen (raw sequence)
        self.in_vocabulary = np.isin(self.sign, VOCABULARY)
        self.near = np.isin(self.sign, list(NEAR_VOCABULARY))


def hand_share(s: Source) -> list[float]:
    """Per sequence, the share of its frames in which MediaPipe saw a hand (raw parquet)."""
    from asl_live.formats.gislr import Dataset

    ds = Dataset(s.data.root)
    out = []
    for sample in s.data.samples:
        f = ds.read(sample)
        out.append(float(hands_visible(f).any(axis=1).mean()) if len(f) else 0.0)
    return out


def training_labels(items: Item, recipe: str, held_out: set[str]) -> tuple[np.ndarray, list[str]]:
    """(item indices, label names) a recipe trains on, leaving out the held-out people."""
    sources = RECIPES[recipe]["sources"]
    use = np.isin(items.source, sources) & ~np.isin(items.person, list(held_out)) \
        & (items.setting != "dictionary") & ~items.near
    if not RECIPES[recipe].get("unknown_class", True):
        use &= items.in_vocabulary
    labels = np.where(items.in_vocabulary, items.sign, "unknown")
    idx = np.flatnonzero(use)
    return idx, [str(x) for x in labels[idx]]


def train_and_predict(sources_for, items: Item, recipe: str, train_idx, names, test_idx, work: Path, seed: int,
                      epochs: int | None):
    """Train on items[train_idx] with labels `names`; probabilities on items[test_idx]."""
    import keras

    from train.config import Config
    from train.fit import WEIGHTS, train_arrays
    from train.models import build_model
    from train.preprocess import cache_columns

    signs = sorted(set(names))
    config = Config.from_dict({**RECIPES[recipe]["config"], "seed": seed, **({"epochs": epochs} if epochs else {})})
    columns = cache_columns(config.parts, config.pose)
    sources = sources_for(config.trim)  # features computed as this recipe's model computes them

    def gather(idx):
        frames = np.concatenate([sources[items.source[i]].frames[[items.index[i]]][:, :, columns] for i in idx])
        positions = np.concatenate([sources[items.source[i]].positions[[items.index[i]]] for i in idx])
        return frames, positions

    frames, positions = gather(train_idx)
    labels = np.array([signs.index(n) for n in names], np.int32)
    work.mkdir(parents=True, exist_ok=True)
    *_, seconds = train_arrays(frames, positions, labels, len(signs), np.arange(len(labels)),
                               np.array([], np.int64), config, work, columns, progress=False)
    model = build_model(config, len(signs))
    model.load_weights(work / WEIGHTS)
    tf_, tp = gather(test_idx)
    probs = model.predict({"frames": tf_, "positions": tp}, batch_size=64, verbose=0)
    keras.backend.clear_session()
    return signs, probs, seconds


def shipped_predictions(sources, items: Item, test_idx, model_dir: Path | None = None):
    """The shipped model (or the exported model in `model_dir`) through the app's Classifier."""
    from asl_live.model.classifier import Classifier
    from asl_live.formats.gislr import Dataset

    clf = Classifier() if model_dir is None else \
        Classifier(model_dir / "model.tflite", model_dir / "sign_to_prediction_index_map.json")
    out = []
    for i in test_idx:
        s = sources[items.source[i]]
        frames = Dataset(s.data.root).read(s.data.samples[items.index[i]])
        out.append(clf.probabilities(frames))
    return clf.labels, np.array(out)


def record(path: Path, rows: list[dict]) -> None:
    with open(path, "a") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")


def rows_for(run: str, items: Item, test_idx, signs, probs, extra: dict) -> list[dict]:
    out = []
    for k, i in enumerate(test_idx):
        p = probs[k]
        best = int(np.argmax(p))
        out.append({"run": run, **extra, "classes": len(signs), "setting": str(items.setting[i]), "person": str(items.person[i]),
                    "sign": str(items.sign[i]), "said": signs[best], "score": float(p[best]),
                    "hands": float(items.hands[i]), "in_vocabulary": bool(items.in_vocabulary[i]),
                    "near": bool(items.near[i])})
    return out


# --------------------------------------------------------------------------- scoring

def app_threshold(classes: int) -> float:
    """The app's rule for a model without a calibration sidecar (asl_live.model.unknown_rule)."""
    from asl_live.model.unknown_rule import class_count_rule

    return class_count_rule(classes).threshold


def answer(r: dict, no_hand: float | None, threshold: bool = False) -> str:
    """The app's answer: argmax; `unknown` when the no-hand rule or (`threshold`) the app's
    class-count threshold for the model's number of classes says so."""
    if no_hand is not None and r["hands"] < no_hand:
        return "unknown"
    if threshold and r["score"] < app_threshold(r.get("classes", 7)):
        return "unknown"
    return r["said"]


def summary(rows: list[dict], no_hand: float | None = None, threshold: bool = False) -> dict:
    """Per setting: vocabulary recall (mean over signs), not-unknown share, other-signs unknown share."""
    out = {}
    for setting in SETTINGS:
        rs = [r for r in rows if r["setting"] == setting and not r["near"]]
        if not rs:
            continue
        voc = [r for r in rs if r["in_vocabulary"]]
        oov = [r for r in rs if not r["in_vocabulary"]]
        per_sign = {}
        for s in sorted({r["sign"] for r in voc}):
            got = [answer(r, no_hand, threshold) == s for r in voc if r["sign"] == s]
            per_sign[s] = (int(sum(got)), len(got))
        people = []
        for person in sorted({r["person"] for r in voc}):
            mine = [r for r in voc if r["person"] == person]
            people.append(np.mean([np.mean([answer(r, no_hand, threshold) == s for r in mine if r["sign"] == s])
                                   for s in sorted({r["sign"] for r in mine})]))
        out[setting] = {
            "per_sign": per_sign,
            "people_mean": float(np.mean(people)) if people and setting != "dictionary" else None,
            "mean_recall": float(np.mean([a / b for a, b in per_sign.values()])) if per_sign else None,
            "kept": (sum(answer(r, no_hand, threshold) != "unknown" for r in voc), len(voc)),
            "rejected": (sum(answer(r, no_hand, threshold) == "unknown" for r in oov), len(oov)),
        }
    return out


def per_person(rows: list[dict], no_hand: float | None = None) -> dict:
    out = {}
    for person in sorted({r["person"] for r in rows if r["setting"] in ("webcam", "phone", "studio")}):
        rs = [r for r in rows if r["person"] == person and not r["near"]]
        voc = [r for r in rs if r["in_vocabulary"]]
        oov = [r for r in rs if not r["in_vocabulary"]]
        per_sign = {s: np.mean([answer(r, no_hand, True) == s for r in voc if r["sign"] == s])
                    for s in sorted({r["sign"] for r in voc})}
        out[person] = {"recall": float(np.mean(list(per_sign.values()))) if per_sign else None,
                       "per_sign": {k: round(float(v), 3) for k, v in per_sign.items()},
                       "rejected": (sum(answer(r, no_hand, True) == "unknown" for r in oov), len(oov))}
    return out


def fmt_pair(p) -> str:
    return f"{p[0]}/{p[1]} ({p[0] / p[1]:.2f})" if p[1] else "-"


def print_tables(rows: list[dict], no_hand: float | None) -> None:
    runs = sorted({r["run"] for r in rows})
    variants = [((None, False), "argmax")]
    if no_hand is not None:
        variants += [((no_hand, False), f"argmax; a hand in under {no_hand:.0%} of frames -> unknown"),
                     ((no_hand, True), "as the app answers: that, and best probability under the "
                                       "class-count threshold (0.355 for 7 classes, 0.372 for 6) -> unknown")]
    for (rule, threshold), label in variants:
        print(f"\n### Per setting ({label})\n")
        print("| run | setting | mean per-sign recall | mean over people of their per-sign recall | "
              "vocabulary signs not `unknown` | other signs + idle `unknown` | per sign |")
        print("|---|---|---|---|---|---|---|")
        for run in runs:
            for setting, v in summary([r for r in rows if r["run"] == run], rule, threshold).items():
                signs = ", ".join(f"{s} {a}/{b}" for s, (a, b) in v["per_sign"].items())
                mean = f"{v['mean_recall']:.3f}" if v["mean_recall"] is not None else "-"
                pm = f"{v['people_mean']:.3f}" if v["people_mean"] is not None else "-"
                print(f"| {run} | {setting} | {mean} | {pm} | {fmt_pair(v['kept'])} | {fmt_pair(v['rejected'])} "
                      f"| {signs} |")
    print("\n### Per person (as the app answers)\n")
    print("| run | person | mean per-sign recall | per sign | other signs + idle `unknown` |")
    print("|---|---|---|---|---|")
    for run in runs:
        for person, v in per_person([r for r in rows if r["run"] == run], no_hand).items():
            rec = f"{v['recall']:.3f}" if v["recall"] is not None else "-"
            print(f"| {run} | {person} | {rec} | {v['per_sign']} | {fmt_pair(v['rejected'])} |")
    print("\n### Most frequent wrong answers\n")
    for run in runs:
        wrong = {}
        for r in rows:
            if r["run"] == run and not r["near"]:
                truth = r["sign"] if r["in_vocabulary"] else "(other)"
                said = answer(r, no_hand)
                if (r["in_vocabulary"] and said != truth) or (not r["in_vocabulary"] and said != "unknown"):
                    key = f"{r['setting']} {truth if r['in_vocabulary'] else r['sign']} -> {said}"
                    wrong[key] = wrong.get(key, 0) + 1
        top = sorted(wrong.items(), key=lambda kv: -kv[1])[:12]
        print(f"- {run}: " + "; ".join(f"{k} {v}" for k, v in top))


def people_behind_signs(rows: list[dict], items: Item) -> None:
    """How many people must a sign have? For each fold model and sign of the vocabulary: the
    people who trained it, and its recall on the people of that fold's group who sign it."""
    print("\n### People behind a sign in training -> its recall on people never seen (fold models)\n")
    print("| run | fold | sign | people in training | held-out people | recall |")
    print("|---|---|---|---|---|---|")
    for run in sorted({r["run"] for r in rows if r.get("fold") is not None}):
        if run not in RECIPES:
            continue
        for k, held in enumerate(FOLDS):
            test = [r for r in rows if r["run"] == run and r["fold"] == k and r["in_vocabulary"]
                    and r["setting"] != "dictionary"]
            if not test:
                continue
            idx, names = training_labels(items, run, set(held))
            for sign in VOCABULARY:
                mine = [r for r in test if r["sign"] == sign]
                if not mine:
                    continue
                trained = sorted({str(items.person[i]) for i, n in zip(idx, names) if n == sign})
                who = sorted({r["person"] for r in mine})
                rec = np.mean([r["said"] == sign for r in mine])
                print(f"| {run} | {k} | {sign} | {len(trained)} | {', '.join(who)} | {rec:.3f} |")


# --------------------------------------------------------------------------- main

def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--traduttore", required=True)
    p.add_argument("--people", required=True, help="mp_data/people imported, participant 101-105")
    p.add_argument("--gislr", required=True)
    p.add_argument("--dpan", required=True, help="all DPAN clips, imported with import-videos --keep-names")
    p.add_argument("--dictionary", required=True, help="the WLASL/ProjectUnmute clips (test only)")
    p.add_argument("--recipes", default="today,everywhere")
    p.add_argument("--scenarios", default="shipped,folds,two2third")
    p.add_argument("--folds", help="comma-separated fold numbers (default: all)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-hand", type=float, default=0.01,
                   help="also score with the rule: a hand in fewer than this share of frames -> unknown")
    p.add_argument("--model", help="scenario `model`: an export folder (model.tflite + label map)")
    p.add_argument("--model-name", help="its name in the tables (default: the folder's name)")
    p.add_argument("--model-saw-dpan", action="store_true", help="its training data held the DPAN clips")
    p.add_argument("--work", required=True)
    p.add_argument("--tables", action="store_true", help="only print the tables of what --work holds")
    args = p.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    results = work / "predictions.jsonl"
    if args.tables:
        print_tables([json.loads(x) for x in results.read_text().splitlines()], args.no_hand)
        return 0

    cache = work / "cache"
    by_trim = {False: {name: Source(getattr(args, name), cache, name) for name in SOURCES}}

    def sources_for(trim: bool) -> dict[str, Source]:
        if trim not in by_trim:
            by_trim[trim] = {name: Source(getattr(args, name), cache, name, trim=trim) for name in SOURCES}
        return by_trim[trim]

    sources = by_trim[False]
    items = Item(sources)
    done = set()
    if results.is_file():
        done = {(r["run"], r.get("fold")) for r in map(json.loads, results.read_text().splitlines())}

    voc = items.in_vocabulary & (items.setting != "dictionary")
    print(f"hand seen (share of frames), vocabulary signs: 1st percentile "
          f"{np.percentile(items.hands[voc], 1):.2f}, min {items.hands[voc].min():.2f}; idle "
          f"{np.round(np.sort(items.hands[np.isin(items.sign, list(IDLE))])[:5], 2).tolist()} ...",
          file=sys.stderr)

    for scenario in args.scenarios.split(","):
        if scenario == "shipped":
            if ("shipped", None) in done:
                continue
            test = np.flatnonzero(np.isin(items.person, list(SHIPPED_UNSEEN)) | (items.setting == "dictionary"))
            signs, probs = shipped_predictions(sources, items, test)
            record(results, rows_for("shipped", items, test, signs, probs, {"fold": None}))
        elif scenario == "model":
            # A model trained on every person here (`--model`, an export folder) never saw the
            # dictionary clips, nor DPAN's when its recipe leaves them out (`--model-saw-dpan` if not).
            run = f"model:{args.model_name or Path(args.model).name}"
            if (run, None) in done:
                continue
            unseen = items.setting == "dictionary"
            if not args.model_saw_dpan:
                unseen |= items.setting == "studio"
            test = np.flatnonzero(unseen)
            signs, probs = shipped_predictions(sources, items, test, Path(args.model))
            record(results, rows_for(run, items, test, signs, probs, {"fold": None}))
        elif scenario == "folds":
            for recipe in args.recipes.split(","):
                if RECIPES[recipe]["sources"] == ("traduttore",):
                    continue  # the two-people recipes
                for k, held in enumerate(FOLDS):
                    if (args.folds and str(k) not in args.folds.split(",")) or (f"{recipe}", k) in done:
                        continue
                    started = time.perf_counter()
                    train_idx, names = training_labels(items, recipe, set(held))
                    test = np.flatnonzero(np.isin(items.person, held) | (items.setting == "dictionary"))
                    signs, probs, secs = train_and_predict(sources_for, items, recipe, train_idx, names, test,
                                                           work / "runs" / f"{recipe}_{k}", args.seed, args.epochs)
                    rows = rows_for(recipe, items, test, signs, probs, {"fold": k})
                    record(results, rows)
                    print(f"{recipe} fold {k}: {len(train_idx)} trained in {secs:.0f} s "
                          f"({time.perf_counter() - started:.0f} s in all); "
                          + json.dumps({s: v["mean_recall"] for s, v in summary(rows).items()}), file=sys.stderr)
        elif scenario == "two2third":
            for recipe in args.recipes.split(","):
                run = f"two2third:{recipe}"
                if not RECIPES[recipe]["sources"] == ("traduttore",) or (run, None) in done:
                    continue  # this scenario trains on traduttore alone: the fit_defaults recipes
                trad = items.source == "traduttore"
                train_idx = np.flatnonzero(trad & items.in_vocabulary)
                names = [str(x) for x in items.sign[train_idx]]
                test = np.flatnonzero((items.source == "people") & ~np.isin(items.person, list(ALIASES.values())))
                signs, probs, secs = train_and_predict(sources_for, items, recipe, train_idx, names, test,
                                                       work / "runs" / run.replace(":", "_"), args.seed, args.epochs)
                record(results, rows_for(run, items, test, signs, probs, {"fold": None}))
                print(f"{run}: trained in {secs:.0f} s", file=sys.stderr)
        else:
            p.error(f"unknown scenario {scenario}")
    rows = [json.loads(x) for x in results.read_text().splitlines()]
    print_tables(rows, args.no_hand)
    people_behind_signs(rows, items)
    return 0


if __name__ == "__main__":
    sys.exit(main())
