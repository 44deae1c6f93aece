"""Learning from corrections (`asl-live --learn`) on the shared webcam people, and what it costs the old signs.

    python benchmarks/teach/bench_learn_corrections.py --people ../shared/data/mp_data/people \
        --gislr ../shared/data/gislr/hello_thankyou --work runs/learn --seed 0

For each person of `mp_data/people` (one archive each, imported with `asl-train import-mpdata
--participant 101..105` into `--work`/people if not there yet): their recordings in one order,
shuffled once (`--seed`), replayed through the app as a user who corrects every wrong answer
would (`asl-live --replay P --headless --clip --learn --out DIR`), and the same replay without
`--learn`. Reported per person: the share answered right in the first and second half (right =
the answer is the recording's sign in GISLR spelling; idle recordings are right as `unknown`),
the corrections it took, the seconds spent extending the model (the card's `learning_seconds`),
and the model the person leaves with, replayed on the GISLR phone people's `hello`/`thankyou`
(the bundled signs; share right and per-sign recall).

Every answer is the app's own (the CLI in a subprocess, the JSON line of each sequence: the
answer before any correction).

The bundled model was trained on these five people (its bank holds every one of these
recordings, their signs outside the six as `unknown` examples that teaching a sign gives back).
So by default each person starts from a *base without them*: the bundled model's encoder with
its last layer learned again (`extend.fit_head`) from its bank less that person's examples, and
that bank beside it; `--base bundled` starts from the bundled model itself. The encoder saw
every person either way: these are people it was trained on, not new ones.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ARCHIVES = {  # participant id -> archive: the archives in name order, as the bundled model's bank numbers them
    101: "FowlDeadPool__sign-sentence-net",
    102: "IlkerDEMIR-s__SignLanguageDetectionFromWebcam",
    103: "akashcodes23__Realtime-Sign-LanguageDetection",
    104: "dmohazab__FYDPASL",
    105: "electronicaddict__Jupyter",
}


def env() -> dict:
    return dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
                TF_CPP_MIN_LOG_LEVEL="2")


def import_person(people: Path, work: Path, pid: int) -> Path:
    out = work / "people" / str(pid)
    if (out / "train.csv").is_file():
        return out
    src = work / "src" / ARCHIVES[pid]
    if not (src / "MP_Data").is_dir():
        src.mkdir(parents=True, exist_ok=True)
        subprocess.run(["tar", "-xJf", str(people / f"{ARCHIVES[pid]}.tar.xz"), "-C", str(src)], check=True)
    subprocess.run([sys.executable, "-m", "train", "import-mpdata", str(src / "MP_Data"), "--out", str(out),
                    "--participant", str(pid)], check=True, env=env(), stdout=subprocess.DEVNULL)
    return out


def base_without(pid: int, work: Path) -> Path:
    """The bundled model with its bank less person `pid`'s examples and a head learned from the rest."""
    sys.path.insert(0, str(REPO))
    import numpy as np

    from asl_live.bundled import LABELS, MODEL
    from asl_live.model.bank import Bank
    from asl_live.model.extend import fit_head, write_prototype_rule
    from asl_live.formats.gislr import atomic_write, labels_in_order, read_label_map, write_label_map
    from asl_live.model.head import replace_head

    out = work / "bases" / f"without-{pid}"
    model = out / "model.tflite"
    if model.is_file():
        return model
    classes = labels_in_order(read_label_map(LABELS))
    bank = Bank.load(MODEL)
    keep = bank.participants != pid
    bank = Bank(bank.embeddings[keep], bank.labels[keep], bank.signs[keep], bank.participants[keep])
    kernel, bias = fit_head(bank.embeddings, bank.labels, classes)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_write(model) as f:
        f.write(replace_head(MODEL.read_bytes(), kernel, bias))
    write_label_map(out / "sign_to_prediction_index_map.json", classes)
    bank.save(model)
    write_prototype_rule(model, classes)
    return model


def shuffled(person: Path, dst: Path, seed: int) -> Path:
    """The person's dataset with its train.csv rows in one shuffled order (files referred to in place)."""
    rows = list(csv.DictReader(open(person / "train.csv", newline="")))
    random.Random(seed).shuffle(rows)
    dst.mkdir(parents=True, exist_ok=True)
    with open(dst / "train.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["path", "participant_id", "sequence_id", "sign"])
        for r in rows:
            w.writerow([str((person / r["path"]).resolve()), r["participant_id"], r["sequence_id"], r["sign"]])
    return dst


def replay(dataset: Path, *extra, log: list | None = None) -> tuple[list[dict], float]:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "asl_live", "--replay", str(dataset), "--headless", "--clip",
                           *extra], capture_output=True, text=True, env=env())
    if proc.returncode != 0:
        raise SystemExit(f"asl-live failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    if log is not None:
        log.extend(proc.stderr.splitlines())
    return [json.loads(l) for l in proc.stdout.splitlines() if l.strip()], time.perf_counter() - started


def halves(lines: list[dict], hand_seen_only: bool = False) -> tuple[float, float]:
    """The share right in the first and second half of the replay's order (of the sequences in
    which a hand is seen, with `hand_seen_only`: the app answers `unknown` to the others whatever it learns)."""
    sys.path.insert(0, str(REPO))
    from asl_live.formats.gislr import read_parquet
    from asl_live.formats.layout import hands_visible
    from asl_live.model.learning import is_right

    ok = [is_right(x["sign"], x["label"]) for x in lines]
    h = len(ok) // 2
    keep = [not hand_seen_only or bool(hands_visible(read_parquet(x["source"])).any()) for x in lines]
    first = [o for o, k in zip(ok[:h], keep[:h]) if k]
    second = [o for o, k in zip(ok[h:], keep[h:]) if k]
    return sum(first) / len(first), sum(second) / len(second)


def recall(lines: list[dict]) -> dict:
    per = {}
    for x in lines:
        per.setdefault(x["label"], []).append(x["sign"] == x["label"])
    out = {s: round(sum(v) / len(v), 4) for s, v in sorted(per.items())}
    out["all"] = round(sum(x["sign"] == x["label"] for x in lines) / len(lines), 4)
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--people", required=True, help="mp_data/people (the five archives)")
    p.add_argument("--gislr", required=True, help="the GISLR hello/thankyou dataset folder")
    p.add_argument("--work", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--participants", default=",".join(map(str, ARCHIVES)))
    p.add_argument("--base", choices=("without-person", "bundled"), default="without-person")
    args = p.parse_args()
    work = Path(args.work).resolve()
    gislr_before, _ = replay(Path(args.gislr))
    results = {"seed": args.seed, "base": args.base, "gislr_bundled": recall(gislr_before), "people": {}}
    print(f"bundled model on the GISLR people: {results['gislr_bundled']}", flush=True)
    for pid in map(int, args.participants.split(",")):
        person = import_person(Path(args.people), work, pid)
        order = shuffled(person, work / "shuffled" / f"{pid}-seed{args.seed}", args.seed)
        base = [] if args.base == "bundled" else ["--model", str(base_without(pid, work))]
        before, _ = replay(order, *base)
        out = work / "learned" / f"{args.base}-{pid}-seed{args.seed}"
        if out.exists():
            import shutil

            shutil.rmtree(out)
        log: list[str] = []
        after, wall = replay(order, *base, "--learn", "--out", str(out), log=log)
        extends = sorted(float(l.rsplit(" in ", 1)[1].split()[0]) for l in log if l.startswith("asl-live: learned "))
        (out / "answers.jsonl").write_text("".join(json.dumps(x) + "\n" for x in after))
        if (out / "model" / "card.json").is_file():
            card = json.loads((out / "model" / "card.json").read_text())
            gislr, _ = replay(Path(args.gislr), "--model", str(out / "model" / "model.tflite"))
        else:   # nothing was wrong, so nothing learned: the person leaves with the base
            card = {"samples": 0, "learning_seconds": 0.0, "signs": {}}
            gislr, _ = replay(Path(args.gislr), *base)
        row = {"sequences": len(after), "without_learn": [round(v, 4) for v in halves(before)],
               "with_learn": [round(v, 4) for v in halves(after)],
               "hand_seen_without": [round(v, 4) for v in halves(before, True)],
               "hand_seen_with": [round(v, 4) for v in halves(after, True)],
               "corrections": card["samples"],
               "not_learned_no_hand": sum(l.startswith("asl-live: not learned") for l in log),
               "median_extend_seconds": round(extends[len(extends) // 2], 2) if extends else None,
               "learning_seconds": card["learning_seconds"],
               "seconds_per_correction": round(card["learning_seconds"] / max(1, card["samples"]), 3),
               "replay_wall_seconds": round(wall, 1), "taught": card["signs"], "gislr_after": recall(gislr)}
        results["people"][pid] = row
        print(f"{pid}: {json.dumps(row)}", flush=True)
    (work / f"results-{args.base}-seed{args.seed}.json").write_text(json.dumps(results, indent=1))
    print("\n| person | sequences | 2nd half without --learn | 2nd half with | (hand seen: without / with) | "
          "1st half with | corrections (no hand, not learned) | s learning (median per correction) | "
          "GISLR hello/thankyou after |")
    print("|---|---|---|---|---|---|---|---|---|")
    for pid, r in results["people"].items():
        g = r["gislr_after"]
        print(f"| {pid} | {r['sequences']} | {r['without_learn'][1]:.3f} | {r['with_learn'][1]:.3f} | "
              f"{r['hand_seen_without'][1]:.3f} / {r['hand_seen_with'][1]:.3f} | "
              f"{r['with_learn'][0]:.3f} | {r['corrections']} ({r['not_learned_no_hand']}) | "
              f"{r['learning_seconds']:.1f} ({r['median_extend_seconds']}) | "
              f"{g['all']:.3f} ({g.get('hello', 0):.2f}/{g.get('thankyou', 0):.2f}) |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
