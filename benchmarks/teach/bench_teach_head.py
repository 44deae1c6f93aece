"""Other last layers for 5-shot teaching (issue 16), on the folds of bench_teach_extend.py.

    python benchmarks/teach/bench_teach_extend.py --data data/all --work runs/teach_extend --shots 5   # first: the fold bases
    python benchmarks/teach/bench_teach_head.py --data data/all --work runs/teach_extend/fine

For each held-out webcam person of groups 0-2 (the same 5 shots per sign as
bench_teach_extend.py draws with seed 0), the head is learned as `asl_live.model.extend` learns it,
with one choice changed at a time, and scored in numpy: argmax of embedding @ kernel + bias
(what the TFLite file answers, to 1e-4), on the teacher's other sequences and on the bundled
signs of the other held-out people. Two references that are not a last layer: the teacher's
own shots alone, by cosine nearest class mean and by 1-nearest-neighbour.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "model"))  # the model benchmarks' helpers
from bench_settings import FOLDS, VOCABULARY  # noqa: E402
from bench_teach_extend import people_of  # noqa: E402

import asl_live.model.extend as X  # noqa: E402
from asl_live.formats.gislr import Dataset, labels_in_order, read_label_map  # noqa: E402
from asl_live.model.head import Embedder  # noqa: E402

# name -> changes to the head as extend.py learns it
VARIANTS = {
    "as shipped": {},
    "1000 steps": {"steps": 1000},
    "L2 1e-2": {"l2": 1e-2},
    "L2 1e-4": {"l2": 1e-4},
    "teacher 0.9 of a class": {"mine_share": 0.9},
    "8 variants": {"augment": 8},
    "no variants": {"augment": 0},
    "embeddings L2-normalised": {"norm": True},
    "normalised, L2 1e-2": {"norm": True, "l2": 1e-2},
    "+ class means (Euclidean) x1": {"means": 1.0},
    "+ class means (Euclidean) x4": {"means": 4.0},
    "teacher moved to the bank's mean": {"shift": True},
    "cosine class means alone": {"cosine": 20.0, "no_head": True},
    "+ cosine class means x5": {"cosine": 5.0},
    "+ cosine class means x10": {"cosine": 10.0},
    "+ cosine class means x20": {"cosine": 20.0},
    "+ cosine class means x40": {"cosine": 40.0},
}


def shots_and_rest(mine, rng, k):
    shots, rest = [], []
    for sign in sorted({s.sign for s in mine}):
        seqs = [s for s in mine if s.sign == sign]
        order = rng.permutation(len(seqs))
        shots += [seqs[i] for i in order[:k]]
        rest += [seqs[i] for i in order[k:]]
    return shots, rest


def unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def head(old, old_signs, new, o):
    bank = old.taught(set(new.labels)).concat(new)
    present = set(bank.labels.tolist())
    classes = [s for s in old_signs if s in present] + sorted(present - set(old_signs))
    mine = np.arange(len(bank)) >= len(bank) - len(new)
    x = unit(bank.embeddings) if o.get("norm") else bank.embeddings
    X.MINE_SHARE = o.get("mine_share", 0.5)
    try:
        w, b = X.fit_head(x, bank.labels, classes, l2=o.get("l2", X.HEAD_L2), steps=o.get("steps", X.HEAD_STEPS),
                          mine=mine)
    finally:
        X.MINE_SHARE = 0.5
    if o.get("means"):   # nearest class mean on standardised embeddings is linear: add it to the logits
        z_mean, z_std = x.mean(0), x.std(0) + 1e-6
        z = (x - z_mean) / z_std
        taught = set(new.labels.tolist())
        means = np.stack([z[(mine if c in taught else ~mine) & (bank.labels == c)].mean(0) for c in classes])
        scale = o["means"] / np.sqrt(z.shape[1])
        kz = means.T * scale / z_std[:, None]
        w = w + kz
        b = b - (means * means).sum(1) * scale / 2 - z_mean @ kz
    if o.get("cosine"):
        # argmax_c of x.m_c / |x| (m_c: unit class means of unit embeddings) is argmax_c of x.m_c:
        # a linear layer; |x| is replaced by the bank's mean norm, which keeps the argmax.
        u = unit(bank.embeddings)
        taught = set(new.labels.tolist())
        means = unit(np.stack([u[(mine if c in taught else ~mine) & (bank.labels == c)].mean(0) for c in classes]))
        kc = means.T * o["cosine"] / np.linalg.norm(bank.embeddings, axis=1).mean()
        if o.get("no_head"):
            w, b = kc, np.zeros(len(classes), np.float32)
        else:
            w = w + kc
    if o.get("shift"):    # everyone's embedding moved by (bank mean - teacher mean)
        b = b + (old.embeddings.mean(0) - new.embeddings.mean(0)) @ w
    return classes, w, b


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True)
    p.add_argument("--work", required=True, help="bench_teach_extend.py's recipe folder (fold*/base)")
    p.add_argument("--shots", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    ds = Dataset(args.data)
    rows = ds.samples()
    own = {v: {} for v in [*VARIANTS, "teacher alone: cosine class mean", "teacher alone: 1-NN"]}
    old_kept = {v: {} for v in VARIANTS}
    for k in (0, 1, 2):
        held = people_of(FOLDS[k])
        test_rows = [s for s in rows if s.participant_id in held]
        base = Path(args.work) / f"fold{k}" / "base" / "model.tflite"
        old = X.Bank.load(base)
        old_signs = labels_in_order(read_label_map(base.with_name("sign_to_prediction_index_map.json")))
        embedder = Embedder(base)
        emb = {(s.participant_id, s.sequence_id): embedder(ds.read(s)) for s in test_rows}
        rng = np.random.default_rng(args.seed)
        for person in sorted(held):
            mine = [s for s in test_rows if s.participant_id == person]
            if person > 1000 or len({s.sign for s in mine}) < 2:   # as bench_teach_extend: webcam people teach
                continue
            shots, rest = shots_and_rest(mine, rng, args.shots)
            taught = {s.sign for s in shots}
            others = [s for s in test_rows if s.participant_id != person and s.sign in VOCABULARY
                      and s.sign not in taught]
            recs = [X.Recording(ds.read(s), s.sign, s.participant_id) for s in shots]
            banks = {}

            def accuracy(classes, w, b, ss, norm):
                if not ss:
                    return float("nan")
                f = np.stack([emb[(s.participant_id, s.sequence_id)] for s in ss])
                said = ((unit(f) if norm else f) @ w + b).argmax(1)
                return float(np.mean([classes[i] == s.sign for i, s in zip(said, ss)]))

            for name, o in VARIANTS.items():
                aug = o.get("augment", X.AUGMENT)
                if aug not in banks:
                    banks[aug] = X.recordings_bank(embedder, recs, augment=aug)
                classes, w, b = head(old, old_signs, banks[aug], o)
                own[name][person] = accuracy(classes, w, b, rest, o.get("norm"))
                old_kept[name][person] = accuracy(classes, w, b, others, o.get("norm"))
            fs = unit(np.stack([emb[(s.participant_id, s.sequence_id)] for s in shots]))
            fr = unit(np.stack([emb[(s.participant_id, s.sequence_id)] for s in rest]))
            ys, yr = np.array([s.sign for s in shots]), np.array([s.sign for s in rest])
            names = sorted(taught)
            means = unit(np.stack([fs[ys == c].mean(0) for c in names]))
            own["teacher alone: cosine class mean"][person] = float((np.array(names)[(fr @ means.T).argmax(1)] == yr).mean())
            own["teacher alone: 1-NN"][person] = float((ys[(fr @ fs.T).argmax(1)] == yr).mean())
    people = sorted(next(iter(own.values())))
    print(f"| head | {' | '.join(str(p) for p in people)} | mean | bundled signs, other held-out people |")
    print("|---|" + "---|" * (len(people) + 2))
    for name in own:
        kept = old_kept.get(name)
        kept_text = " / ".join("-" if np.isnan(kept[p]) else f"{kept[p]:.3f}" for p in people) if kept else "-"
        print(f"| {name} | " + " | ".join(f"{own[name][p]:.3f}" for p in people)
              + f" | **{np.mean([own[name][p] for p in people]):.3f}** | {kept_text} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
