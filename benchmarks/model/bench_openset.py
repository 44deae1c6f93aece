"""Which score rejects signs outside the vocabulary best? (issue 15: an "unknown" that means "none of these")

    python benchmarks/model/bench_openset.py --data data/all --dictionary data/wlasl_pu --work runs/teach_extend/fine
    python benchmarks/model/bench_openset.py --data data/all --dictionary data/wlasl_pu --work runs/teach_extend/fine --app

Uses the fold models of `bench_teach_extend.py` (run it first): for each of the four groups, the
base model (encoder + head over the 6 signs and `unknown`) and its bank. Every held-out
sequence (webcam and phone people of that group) and every dictionary clip is embedded by that
fold's model (`asl_live.model.head.Embedder`). Scores of the predicted class, higher = surer:

- `max_prob`: the head's best probability (what the app uses today);
- `centroid`: cosine similarity, in the bank's standardised embedding space, to the mean
  embedding of the predicted class in the bank;
- `knn`: mean cosine similarity to the 10 nearest bank examples of the predicted class.

The answer `unknown` (argmax) always rejects. Thresholds are nested: the threshold for group k
keeps `keep` of the right answers of the OTHER three groups' held-out webcam and phone people,
so no figure is tuned on the people it is measured on. Reported per setting: recall of the
vocabulary (right and kept) and the share of other signs and idle recordings rejected.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_settings import FOLDS, NEAR_VOCABULARY, VOCABULARY  # noqa: E402
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "teach"))  # the teach benchmarks' helpers
from bench_teach_extend import WEBCAM, people_of  # noqa: E402

from asl_live.model.extend import fit_head  # noqa: E402
from asl_live.model.bank import Bank
from asl_live.formats.gislr import Dataset, gislr_name  # noqa: E402
from asl_live.model.unknown_rule import class_count_rule  # noqa: E402
from asl_live.model.head import Embedder  # noqa: E402
from asl_live.formats.layout import hands_visible  # noqa: E402

UNKNOWN = "unknown"


def embeddings(base: Path, items, name: str = "openset") -> np.ndarray:
    """The fold model's embeddings of the items, cached beside it (keyed by the sequence ids)."""
    cache = base.with_name(f"{name}_embeddings.npz")
    ids = np.array([f"{d.root.name}/{s.sequence_id}" for d, s, _, _ in items])
    if cache.is_file():
        with np.load(cache) as z:
            if z["ids"].shape == ids.shape and (z["ids"] == ids).all():
                return z["x"]
    embed = Embedder(base)
    x = np.stack([embed(d.read(s)) for d, s, _, _ in items])
    np.savez(cache, x=x, ids=ids)
    return x


def without_person_directions(bank: Bank, x: np.ndarray, k: int) -> tuple[Bank, np.ndarray]:
    """Nuisance attribute projection (as in speaker verification): the bank and `x`, standardised
    by the bank, with the `k` directions along which one sign's mean moves from person to person
    (the bank's people only: every sign with two people or more) projected out."""
    b = bank.embeddings.astype(np.float64)
    mean, std = b.mean(0), b.std(0) + 1e-6
    bz, xz = (b - mean) / std, (np.asarray(x, np.float64) - mean) / std
    moves = []
    for sg in np.unique(bank.signs):
        mine = bank.signs == sg
        if len(np.unique(bank.participants[mine])) < 2:
            continue
        for q in np.unique(bank.participants[mine]):
            theirs = mine & (bank.participants == q)
            moves.append((bz[theirs].mean(0) - bz[mine].mean(0)) * np.sqrt(theirs.sum()))
    directions = np.linalg.svd(np.array(moves), full_matrices=False)[2][:k]
    keep = np.eye(b.shape[1]) - directions.T @ directions
    return Bank((bz @ keep).astype(np.float32), bank.labels, bank.signs, bank.participants), xz @ keep


def app_rules(base: Path, items, quantiles, neg_items=(), nap: int = 0) -> tuple[dict, np.ndarray | None, np.ndarray]:
    """What the app answers with each fold model, under the class-count rule and under the
    `prototype` rule at each bank quantile (the threshold as `asl-train extend` writes it; the
    similarity by `extend.PrototypeSpace`, the code the app runs). No hand in any frame is
    `unknown` in both, as in the app. Also, with `neg_items`, the negatives margin of each item
    (else None) and the class the softmax names. `nap`: first project out that many directions
    of person-to-person variation (`without_person_directions`), then refit the head."""
    bank = Bank.load(base)
    labels = json.loads(base.with_name("sign_to_prediction_index_map.json").read_text())
    classes = sorted(labels, key=labels.get)
    x = embeddings(base, items)
    if nap:
        bank, x = without_person_directions(bank, x, nap)
    kernel, bias = fit_head(bank.embeddings, bank.labels, classes)
    logits = x @ kernel + bias
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    best = p.argmax(1)
    hand = np.array([bool(hands_visible(d.read(s)).any()) for d, s, _, _ in items])
    said = np.array(classes)[best]
    out = {"class-count": np.where((p.max(1) >= class_count_rule(len(classes)).threshold) & hand, said, UNKNOWN)}
    space = bank.prototypes(classes)
    sims = np.array([space.similarity(v, k) for v, k in zip(x, best)])
    for q in quantiles:
        t = space.bank_quantile(bank, classes, q)
        out[f"prototype q={q:g}"] = np.where((sims >= t) & hand, said, UNKNOWN)
    # Negatives: how much nearer the named class's nearest example lies than the nearest known
    # non-vocabulary sign (the bank's `unknown` examples, plus the extra clips). Returned as a
    # score; app_table thresholds it nested (the other groups' people), nothing tuned here.
    if len(neg_items):
        unit = (lambda a: a / np.linalg.norm(a, axis=-1, keepdims=True))
        xz = unit((x.astype(np.float64) - space.mean) / space.std)
        bz = unit((bank.embeddings.astype(np.float64) - space.mean) / space.std)
        nz = unit((embeddings(base, neg_items, "negatives").astype(np.float64) - space.mean) / space.std)
        pos = np.array([(bz[bank.labels == classes[k]] @ v).max() if classes[k] != UNKNOWN else -1.0
                        for v, k in zip(xz, best)])
        neg = np.maximum((xz @ bz[bank.labels == UNKNOWN].T).max(1), (xz @ nz.T).max(1))
        t = space.bank_quantile(bank, classes, quantiles[0])
        ok = (sims >= t) & hand & (said != UNKNOWN)
        return out, np.where(ok, pos - neg, -np.inf), said
    return out, None, said


def _nap_nested(by_k: dict, fold, sign, setting, inside) -> list[int]:
    """For each group k, the K whose answers on the OTHER groups' webcam people reject the most
    signs outside the vocabulary while the mean per-sign recall of their webcam and phone people
    stays within 0.01 of K = 0's (the first candidate)."""
    def measure(a, where):
        recall = []
        for st in ("webcam", "phone"):
            voc = where & inside & (setting == st)
            recall.append(np.mean([((a == sign) & voc & (sign == c)).sum() / (voc & (sign == c)).sum()
                                   for c in VOCABULARY if (voc & (sign == c)).any()]))
        oov = where & ~inside & (setting == "webcam")
        return recall, (a[oov] == UNKNOWN).mean()

    answers = {c: np.concatenate(parts) for c, parts in by_k.items()}
    first = next(iter(by_k))
    chosen = []
    for k in range(len(FOLDS)):
        others = fold != k
        base_recall, _ = measure(answers[first], others)
        best, best_rejected = first, measure(answers[first], others)[1]
        for c, a in answers.items():
            recall, rejected = measure(a, others)
            if all(r >= b - 0.01 for r, b in zip(recall, base_recall)) and rejected > best_rejected:
                best, best_rejected = c, rejected
        chosen.append(best)
    print(f"NAP: K chosen per group {chosen}", file=sys.stderr)
    return chosen


def app_table(args, ds, rows, dict_items) -> None:
    quantiles = [float(v) for v in args.quantiles.split(",")]
    neg_items = []
    if args.negatives:
        nds = Dataset(args.negatives)
        neg_items = [(nds, s, gislr_name(s.sign), "negatives") for s in nds.samples()
                     if gislr_name(s.sign) not in NEAR_VOCABULARY and gislr_name(s.sign) not in VOCABULARY]
    said, sign, setting, person = {}, [], [], []
    folds, margins, nameds = [], [], []
    candidates = [int(v) for v in args.nap_choose.split(",")] if args.nap_choose else []
    by_k: dict[int, list] = {c: [] for c in candidates}   # the first quantile's prototype answers per K
    for k in range(len(FOLDS)):
        held = people_of(FOLDS[k])
        items = [(ds, s, s.sign, "webcam" if s.participant_id in WEBCAM else "phone")
                 for s in rows if s.participant_id in held] + dict_items
        rules, margin, named = app_rules(Path(args.work) / f"fold{k}" / "base" / "model.tflite", items,
                                         quantiles, neg_items, args.nap)
        for name, v in rules.items():
            said.setdefault(name, []).append(v)
        folds.append(np.full(len(items), k))
        for c in candidates:
            by_k[c].append(app_rules(Path(args.work) / f"fold{k}" / "base" / "model.tflite", items,
                                     quantiles[:1], (), c)[0][f"prototype q={quantiles[0]:g}"])
        if margin is not None:
            margins.append(margin)
            nameds.append(named)
        sign += [t[2] for t in items]
        setting += [t[3] for t in items]
        person += [t[1].participant_id if t[3] != "dictionary" else -1 for t in items]
    sign, setting, person = np.array(sign), np.array(setting), np.array(person)
    inside = np.isin(sign, VOCABULARY)
    fold = np.concatenate(folds)
    if margins:
        margin, named = np.concatenate(margins), np.concatenate(nameds)
        for keep in (0.99, 0.97, 0.95):
            kept = np.zeros(len(margin), bool)
            for k in range(len(FOLDS)):
                ref = margin[(fold != k) & inside & (named == sign) & (setting != "dictionary")]
                kept[fold == k] = margin[fold == k] >= np.quantile(ref[np.isfinite(ref)], 1 - keep)
            said[f"prototype q={quantiles[0]:g} + negatives, keep {keep}"] = [np.where(kept, named, UNKNOWN)]
    if candidates:
        said[f"prototype q={quantiles[0]:g} + NAP, K chosen nested"] = [
            by_k[chosen][k] for k, chosen in enumerate(_nap_nested(by_k, fold, sign, setting, inside))]
    print("| rule (as the app answers) | setting | mean per-sign recall | per sign | other signs + idle `unknown` |")
    print("|---|---|---|---|---|")
    for name, parts in said.items():
        a = np.concatenate(parts)
        for st in ("webcam", "phone", "dictionary"):
            voc, oov = inside & (setting == st), ~inside & (setting == st)
            per = {c: ((a == sign) & voc & (sign == c)).sum() / (voc & (sign == c)).sum()
                   for c in VOCABULARY if (voc & (sign == c)).any()}
            rej = f"{(a[oov] == UNKNOWN).sum()}/{oov.sum()} ({(a[oov] == UNKNOWN).mean():.2f})" if oov.any() else "-"
            print(f"| {name} | {st} | {np.mean(list(per.values())):.3f} | "
                  + ", ".join(f"{c} {v:.2f}" for c, v in per.items()) + f" | {rej} |")
    print("\n| rule | per person: each sign they sign kept and right (webcam, then phone) | other signs + idle `unknown` per person |")
    print("|---|---|---|")
    for name, parts in said.items():
        a = np.concatenate(parts)
        cells, rejected = [], []
        for st in ("webcam", "phone"):
            for q in sorted(set(person[setting == st])):
                mine = (person == q) & inside
                signs = sorted(set(sign[mine]))
                cells.append(f"{q} " + "/".join(f"{((a == sign) & mine & (sign == c)).sum() / (mine & (sign == c)).sum():.2f}"
                                                 for c in signs))
                oov = (person == q) & ~inside
                if oov.any():
                    rejected.append(f"{q} {(a[oov] == UNKNOWN).mean():.2f}")
        print(f"| {name} | " + ", ".join(cells) + " | " + ", ".join(rejected) + " |")


def fold_scores(base: Path, items) -> dict:
    """Predictions and scores of one fold's base model on (dataset, sample, sign, setting) items."""
    bank = Bank.load(base)
    labels = json.loads(base.with_name("sign_to_prediction_index_map.json").read_text())
    classes = sorted(labels, key=labels.get)
    x = embeddings(base, items)
    kernel, bias = fit_head(bank.embeddings, bank.labels, classes)   # the base's own head, rebuilt
    logits = x @ kernel + bias
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    pred = np.array(classes)[p.argmax(1)]
    mean, std = bank.embeddings.mean(0), bank.embeddings.std(0) + 1e-6
    unit = (lambda a: a / np.linalg.norm(a, axis=-1, keepdims=True))
    bz, xz = unit((bank.embeddings - mean) / std), unit((x - mean) / std)
    sims = xz @ bz.T
    scores = {"max_prob": p.max(1), "centroid": np.zeros(len(x)), "knn": np.zeros(len(x))}
    for i, c in enumerate(pred):
        if c == UNKNOWN:
            continue
        mine = bank.labels == c
        scores["centroid"][i] = xz[i] @ unit(bz[mine].mean(0))
        scores["knn"][i] = np.sort(sims[i, mine])[-10:].mean()
    for v in scores.values():
        v[pred == UNKNOWN] = -np.inf
    return {"pred": pred, **scores}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True)
    p.add_argument("--dictionary", required=True)
    p.add_argument("--work", required=True, help="bench_teach_extend's folder of one recipe")
    p.add_argument("--keep", default="0.97,0.95,0.9")
    p.add_argument("--app", action="store_true",
                   help="instead: the app's answers under the class-count rule and the prototype rule")
    p.add_argument("--quantiles", default="0.02,0.05,0.1", help="bank quantiles of the prototype rule (--app)")
    p.add_argument("--nap", type=int, default=0, metavar="K", help="(--app) project out K directions of "
                   "person-to-person variation (learned on the bank) before the head and the rules")
    p.add_argument("--nap-choose", metavar="K,K", help="(--app) candidates for --nap's K, the first the baseline "
                   "(e.g. 0,1,2,3,5,8,12,20): each group's K chosen on the other groups' people (_nap_nested)")
    p.add_argument("--negatives", metavar="DIR", help="(--app) other signs (e.g. the DPAN studio clips): a rule "
                   "that answers `unknown` when one of them, or a bank `unknown`, lies nearer than the class")
    args = p.parse_args()
    ds, dds = Dataset(args.data), Dataset(args.dictionary)
    rows = ds.samples()
    dict_items = [(dds, s, gislr_name(s.sign), "dictionary") for s in dds.samples()
                  if gislr_name(s.sign) not in NEAR_VOCABULARY]
    if args.app:
        app_table(args, ds, rows, dict_items)
        return 0
    folds, sign, setting, out = [], [], [], {}
    for k in range(len(FOLDS)):
        held = people_of(FOLDS[k])
        items = [(ds, s, s.sign, "webcam" if s.participant_id in WEBCAM else "phone")
                 for s in rows if s.participant_id in held] + dict_items
        r = fold_scores(Path(args.work) / f"fold{k}" / "base" / "model.tflite", items)
        for key, v in r.items():
            out.setdefault(key, []).append(v)
        folds.append(np.full(len(items), k))
        sign += [t[2] for t in items]
        setting += [t[3] for t in items]
    fold, sign, setting = np.concatenate(folds), np.array(sign), np.array(setting)
    pred = np.concatenate(out["pred"])
    inside, right = np.isin(sign, VOCABULARY), pred == sign
    print("| score | keep (of the other groups' right answers) | webcam: recall / other signs rejected | "
          "phone: recall | dictionary: recall / other signs rejected |")
    print("|---|---|---|---|---|")
    for name in ("max_prob", "centroid", "knn"):
        v = np.concatenate(out[name])
        for keep in [float(x) for x in args.keep.split(",")]:
            kept = np.zeros(len(v), bool)
            for k in range(len(FOLDS)):
                ref = v[(fold != k) & inside & right & (setting != "dictionary")]
                kept[fold == k] = v[fold == k] >= np.quantile(ref[np.isfinite(ref)], 1 - keep)
            cells = []
            for s in ("webcam", "phone", "dictionary"):
                voc, oov = inside & (setting == s), ~inside & (setting == s)
                rec = (kept & right & voc).sum() / voc.sum()
                rej = f" / {(~kept & oov).sum()}/{oov.sum()} ({(~kept & oov).mean() / oov.mean():.2f})" \
                    if oov.any() else ""
                cells.append(f"{rec:.3f}{rej}")
            print(f"| {name} | {keep} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
