"""Right answers kept and out-of-vocabulary signs rejected by each "unknown" rule, on unseen data.

    python benchmarks/model/bench_unknown_rule.py --dpan /work/data/dpan \
        --videos ../shared/data/clips/recordthesehands --gislr ../shared/data/gislr/hello_thankyou \
        --mpdata /work/data/traduttore --work runs/bench_unknown

Two models, every figure through the app's own TFLite `Classifier.probabilities`:

1. **The shipped model** (7 classes: six signs + `unknown`). In-vocabulary: the 344
   real GISLR sequences of `hello` and `thankyou` (10 people the model never saw).
   Out-of-vocabulary: the DPAN clips of the half the model's `unknown` class was NOT
   trained on (shard 1/2 in name order; `water hose` and `hi` left out as too close
   to `water` and `hello`).
2. **A 250-class model** built here with `asl-train fit` and `asl-train export
   --calibrate`: 250 classes = the six traduttore signs (trained on participant
   72988's 600 sequences) + 244 DPAN signs (one clip each). In-vocabulary: the
   other traduttore participant's 660 sequences and the 344 GISLR sequences;
   out-of-vocabulary: the other DPAN clips (not among its 250 classes).

Calibration is measured honestly: each data set is split in two halves (A, B:
alternate sequences in name order); the rule is chosen on A (for model 2 by
`asl-train export --calibrate`, which writes the sidecar) and scored on B, and for
model 1 also the other way round. Rules compared on the same sequences: the old
fixed `max_prob >= 0.4`, the class-count rule (models without a sidecar), and the
calibrated rule (sidecar). "kept" = right answers still answered (of those the
argmax gets right); "rejected" = out-of-vocabulary sequences answered "unknown"
(by the rule, or by the model's own `unknown` class).
Results: a JSON file in --work and Markdown tables on stdout.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_default_model import NEAR_VOCABULARY, link_dataset  # noqa: E402

from asl_live.bundled import LABELS, MODEL  # noqa: E402
from asl_live.model.unknown_rule import choose_rule, class_count_rule, kept_and_rejected, read_sidecar, sidecar_path  # noqa: E402
from asl_live.model.classifier import Classifier  # noqa: E402
from asl_live.formats.gislr import Dataset, Sample, gislr_name  # noqa: E402
from train.import_videos import find_videos  # noqa: E402
from train.importing import stable_id  # noqa: E402

PARTS = "left_hand,right_hand,pose"
CLASSES = 250


def halves(rows: list) -> tuple[list, list]:
    return rows[0::2], rows[1::2]


def probs_of(clf: Classifier, rows: list[tuple[Path, Sample]]) -> np.ndarray:
    return np.stack([clf.probabilities(Dataset(root).read(s)) for root, s in rows])


def score_rules(clf, rules: dict, p_in, truth, p_out) -> dict:
    unk = clf.labels.index("unknown") if "unknown" in clf.labels else None
    return {name: kept_and_rejected(rule, t, p_in, truth, p_out, unk) for name, (rule, t) in rules.items()}


def dpan_split(dpan_root: Path, videos: Path):
    """DPAN rows of other signs: (shard 0/2, shard 1/2), as `import-videos --shard` splits them."""
    rows = Dataset(dpan_root).samples()
    first = {stable_id(v.key) for v in find_videos(videos)[0::2]}
    return ([(dpan_root, s) for s in rows if s.sequence_id in first],
            [(dpan_root, s) for s in rows if s.sequence_id not in first])


def asl_train(*args) -> None:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "train.cli", *args], check=True, cwd=REPO, stdout=subprocess.DEVNULL)
    print(f"  asl-train {args[0]}: {time.perf_counter() - t:.0f} s", file=sys.stderr)


def shipped(args, work: Path) -> dict:
    clf = Classifier(MODEL, LABELS)
    vocab = set(clf.labels) - {"unknown"}
    gislr = Path(args.gislr)
    inside = [(gislr, s) for s in Dataset(gislr).samples() if gislr_name(s.sign) in vocab]
    _, second = dpan_split(Path(args.dpan), Path(args.videos))
    oov = [(r, s) for r, s in second if gislr_name(s.sign) not in vocab and s.sign not in NEAR_VOCABULARY]
    truth = np.array([clf.labels.index(gislr_name(s.sign)) for _, s in inside])
    p_in, p_out = probs_of(clf, inside), probs_of(clf, oov)
    unk = clf.labels.index("unknown")
    cc = class_count_rule(len(clf.labels))
    out = {"model": "shipped", "classes": len(clf.labels), "in_vocabulary": len(inside), "oov": len(oov),
           "top1": float((p_in.argmax(1) == truth).mean()), "splits": {}}
    ia, ib = halves(list(range(len(inside))))
    oa, ob = halves(list(range(len(oov))))
    for name, (ci, co, ti, to) in {"A->B": (ia, oa, ib, ob), "B->A": (ib, ob, ia, oa)}.items():
        rule, t, _ = choose_rule(p_in[ci], truth[ci], p_out[co], args.keep, unk)
        rules = {"max_prob >= 0.4 (old default)": ("max_prob", 0.4),
                 f"class-count: {cc.rule} >= {cc.threshold:g}": (cc.rule, cc.threshold),
                 f"calibrated: {rule} >= {t:.4g}": (rule, t)}
        out["splits"][name] = score_rules(clf, rules, p_in[ti], truth[ti], p_out[to])
    rule, t, every = choose_rule(p_in, truth, p_out, args.keep, unk)
    out["calibrated_on_all"] = {"rule": rule, "threshold": t, "all_rules": every}
    # The same OOV clips as a dataset folder, for the shipped sidecar:
    #   asl-train calibrate assets/model.tflite --data GISLR --data WORK/oov_shipped
    link_dataset(work / "oov_shipped", oov, sorted({s.sign for _, s in oov}))
    return out


def model_250(args, work: Path) -> dict:
    mp, gislr, dpan = Path(args.mpdata), Path(args.gislr), Path(args.dpan)
    mp_rows = Dataset(mp).samples()
    six = sorted({s.sign for s in mp_rows})
    people = sorted({s.participant_id for s in mp_rows})
    train_pid, test_pid = people[-1], people[0]  # 72988 trains, 54320 is held out
    first, second = dpan_split(dpan, Path(args.videos))
    others = sorted([r for r in first + second if gislr_name(r[1].sign) not in six
                     and r[1].sign not in NEAR_VOCABULARY], key=lambda r: r[1].sign)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(others))
    n_dpan = CLASSES - len(six)
    in_dpan = [others[i] for i in sorted(order[:n_dpan])]
    oov = [others[i] for i in sorted(order[n_dpan:])]
    labels = six + [s.sign for _, s in in_dpan]
    assert len(labels) == CLASSES and len(set(labels)) == CLASSES
    train_rows = [(mp, s) for s in mp_rows if s.participant_id == train_pid] + in_dpan
    held = [(mp, s) for s in mp_rows if s.participant_id == test_pid] + \
        [(gislr, s) for s in Dataset(gislr).samples() if gislr_name(s.sign) in six]
    held = [(r, Sample(s.path, s.participant_id, s.sequence_id, gislr_name(s.sign))) for r, s in held]
    held_a, held_b = halves(held)
    oov_a, oov_b = halves(oov)

    data, run, model = work / "data_250", work / "run_250", work / "model_250"
    calib = work / "calibrate_250_A"
    if not (model / "model.tflite").is_file():
        link_dataset(data, train_rows, labels)
        link_dataset(calib, held_a + oov_a, sorted({s.sign for _, s in held_a + oov_a}))
        print(f"250-class model: fit on {len(train_rows)} samples", file=sys.stderr)
        fit_args = ["fit", "--data", str(data), "--out", str(run), "--all", "--parts", PARTS]
        if args.epochs:
            fit_args += ["--epochs", str(args.epochs)]
        asl_train(*fit_args)
        asl_train("export", str(run), "--out", str(model), "--calibrate", str(calib), "--keep", str(args.keep))
    side = read_sidecar(sidecar_path(model / "model.tflite"))
    clf = Classifier(model / "model.tflite", model / "sign_to_prediction_index_map.json")
    assert clf.rule.rule == side["rule"] and clf.rule.source.endswith(".unknown.json")
    truth_b = np.array([clf.labels.index(s.sign) for _, s in held_b])
    p_in, p_out = probs_of(clf, held_b), probs_of(clf, oov_b)
    cc = class_count_rule(CLASSES)
    rules = {"max_prob >= 0.4 (old default)": ("max_prob", 0.4),
             f"class-count: {cc.rule} >= {cc.threshold:g}": (cc.rule, cc.threshold),
             f"calibrated (sidecar): {side['rule']} >= {side['threshold']:.4g}": (side["rule"], side["threshold"])}
    for t in (0.2, 0.25, 0.3):
        rules[f"max_prob >= {t}"] = ("max_prob", t)
    truth_all = np.array([clf.labels.index(s.sign) for _, s in held])
    return {"model": "250-class (6 traduttore signs + 244 DPAN signs)", "classes": CLASSES,
            "train_samples": len(train_rows), "in_vocabulary_B": len(held_b), "oov_B": len(oov_b),
            "top1_B": float((p_in.argmax(1) == truth_b).mean()),
            "top1_gislr_B": float(np.mean([p.argmax() == t for p, t, (r, _) in zip(p_in, truth_b, held_b)
                                           if r == gislr])),
            "sidecar": {k: side[k] for k in ("rule", "threshold")}, "sidecar_measured_on_A": side["measured"],
            "splits": {"A->B": score_rules(clf, rules, p_in, truth_b, p_out)},
            "in_vocabulary_all": len(truth_all)}


def table(result: dict) -> str:
    lines = []
    for split, rules in result["splits"].items():
        lines.append(f"\n{result['model']} ({result['classes']} classes), calibrated {split[0]}, scored on {split[-1]}:\n")
        lines.append("| rule | right answers kept | out-of-vocabulary rejected | in-vocab / OOV sequences |")
        lines.append("|---|---|---|---|")
        for name, r in rules.items():
            lines.append(f"| {name} | {r['kept']:.3f} | {r['rejected']:.3f} | "
                         f"{r['in_vocabulary']} / {r['out_of_vocabulary']} |")
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dpan", required=True)
    p.add_argument("--videos", required=True)
    p.add_argument("--gislr", required=True)
    p.add_argument("--mpdata", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--keep", type=float, default=0.97)
    p.add_argument("--epochs", type=int)
    p.add_argument("--only", choices=("shipped", "250"))
    args = p.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    results = []
    if args.only in (None, "shipped"):
        results.append(shipped(args, work))
        print(table(results[-1]))
    if args.only in (None, "250"):
        results.append(model_250(args, work))
        print(table(results[-1]))
    (work / f"results_{args.only or 'all'}.json").write_text(json.dumps(results, indent=1))
    for r in results:
        print("\n" + json.dumps({k: v for k, v in r.items() if k != "splits"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
