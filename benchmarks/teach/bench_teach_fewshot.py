"""Teach mode: training + export time, and few-shot accuracy on real recordings.

    python benchmarks/teach/bench_teach_fewshot.py --mpdata data/traduttore --work runs/bench_teach --shots 5,10,20

`--mpdata`: the traduttore MP_Data set imported with `asl-train import-mpdata --signers`
(6 signs, two participants). For each participant P and each K: K samples per sign
of P (random, fixed seed) are trained and exported exactly as `asl-live teach` does
(`asl_live.teach.train_and_export`: `asl-train fit` + `export` in subprocesses),
then the exported TFLite model is run through the app's `Classifier` on

- P's other samples (same person, unseen recordings), and
- every other participant's samples of the same signs (people never seen).

Accuracy is top-1 of the argmax (the app would answer "unknown" below its threshold;
the share above it is reported too). Time is wall-clock seconds for fit + export.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "model"))  # the model benchmarks' helpers
from bench_default_model import REPO, link_dataset  # noqa: E402

sys.path.insert(0, str(REPO))
from asl_live.model.classifier import Classifier  # noqa: E402
from asl_live.model.unknown_rule import score  # noqa: E402
from asl_live.formats.gislr import Dataset  # noqa: E402
from asl_live.teach import train_and_export  # noqa: E402


def evaluate(model_dir: Path, ds: Dataset, rows) -> dict:
    clf = Classifier(model_dir / "model.tflite", model_dir / "sign_to_prediction_index_map.json")
    probs = np.stack([clf.probabilities(ds.read(s)) for s in rows])
    truth = np.array([clf.labels.index(s.sign) for s in rows])
    right = probs.argmax(1) == truth
    return {"n": len(rows), "top1": float(right.mean()),
            "recognised": float((right & (score(clf.rule.rule, probs) >= clf.rule.threshold)).mean())}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mpdata", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--shots", default="5,10,20")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--participants", default=None, help="comma-separated ids to train on (default: each)")
    args = p.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    root = Path(args.mpdata)
    ds = Dataset(root)
    rows = ds.samples()
    signs = sorted({s.sign for s in rows})
    people = sorted({s.participant_id for s in rows})
    rng = np.random.default_rng(args.seed)
    results = []
    for k in [int(x) for x in args.shots.split(",")]:
        for person in people:
            if args.participants and str(person) not in args.participants.split(","):
                continue
            # Each person's own signs (people of mp_data/people recorded different ones); the
            # "person never seen" is every other person's samples of those signs.
            own = sorted({s.sign for s in rows if s.participant_id == person})
            train, rest = [], []
            for sign in own:
                mine = [s for s in rows if s.sign == sign and s.participant_id == person]
                pick = set(rng.choice(len(mine), size=min(k, len(mine) - 1), replace=False).tolist())
                train += [s for i, s in enumerate(mine) if i in pick]
                rest += [s for i, s in enumerate(mine) if i not in pick]
            name = f"k{k}_p{person}_s{args.seed}"
            data = link_dataset(work / f"data_{name}", [(root, s) for s in train], own)
            import resource

            cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            seconds = train_and_export(data.root, work / f"run_{name}", work / f"model_{name}")
            cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            # CPU seconds of the fit + export processes: steadier than wall time on a shared machine
            cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
            others = [s for s in rows if s.participant_id != person and s.sign in own]
            entry = {"shots": k, "participant": person, "signs": own, "train_samples": len(train),
                     "fit_export_seconds": round(seconds, 1), "fit_export_cpu_seconds": round(cpu, 1),
                     "same_person": evaluate(work / f"model_{name}", ds, rest),
                     "other_person": evaluate(work / f"model_{name}", ds, others) if others else
                     {"n": 0, "top1": float("nan")}}
            results.append(entry)
            print(json.dumps(entry), file=sys.stderr)
    (work / "results.json").write_text(json.dumps(results, indent=1))

    print("| shots per sign | trained on | fit + export wall s (CPU s) | same person, other samples: top-1 (n) "
          "| person never seen: top-1 (n) |")
    print("|---|---|---|---|---|")
    for e in results:
        print(f"| {e['shots']} | participant {e['participant']} ({e['train_samples']} samples) "
              f"| {e['fit_export_seconds']} ({e['fit_export_cpu_seconds']}) | {e['same_person']['top1']:.3f} ({e['same_person']['n']}) "
              f"| {e['other_person']['top1']:.3f} ({e['other_person']['n']}) |")
    for k in sorted({e["shots"] for e in results}):
        t = [e["fit_export_seconds"] for e in results if e["shots"] == k]
        same = [e["same_person"]["top1"] for e in results if e["shots"] == k]
        print(f"\nK={k}: fit+export median {np.median(t):.1f} s over {len(t)} runs; same person, other "
              f"samples: mean {np.mean(same):.3f} (worst {min(same):.3f})", end="")
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
