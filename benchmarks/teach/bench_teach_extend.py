"""Teach on top of what the model knows (issue 16), on people the encoder never saw.

    python benchmarks/teach/bench_teach_extend.py --data data/all --work runs/teach_extend --shots 5 --recipe fine

`--data`: every licensed webcam and phone sequence, each under its own sign name
(traduttore's two people, the five mp_data/people with their other signs and idle
recordings (`idle`), the 10 GISLR participants; the demo's 8 sequences left out).
The people are held out in the groups of `bench_settings.FOLDS` (studio left out:
DPAN is not in this data). For each group k:

1. an encoder is trained on everyone else (`asl-train fit --all --trim --units 192`
   with the labels of `--recipe`: `fine` = every sign its own class; `coarse` = the
   default model's 6 signs + `unknown`);
2. the *base* model: the encoder exported, its head replaced by one over the same people
   (`asl_live.model.extend --fresh-head --vocabulary`: the 6 signs + `unknown`, every other sign
   and idle as `unknown`), the model that would ship; scored on the held-out people (the
   bundled signs per person and sign; other signs + idle answered `unknown`);
3. each held-out webcam person P teaches their own signs: `--shots` sequences of each
   (drawn with `--seed`), `asl_live.model.extend` on BASE as `asl-live teach` runs it (the bank
   of everyone else kept);
   scored on P's other sequences (the taught signs), on the other held-out people's
   sequences of those signs (people who taught nothing), and on the bundled signs of
   every held-out person but P before and after (does teaching cost the old signs?).

Answers come from the TFLite models through the app's `Classifier`: the argmax, and "as
the app" also the class-count threshold and "no hand seen -> unknown".
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "model"))  # the model benchmarks' helpers
from bench_default_model import link_dataset  # noqa: E402
from bench_settings import FOLDS, NEAR_VOCABULARY, VOCABULARY  # noqa: E402

from asl_live.model.unknown_rule import class_count_rule  # noqa: E402
from asl_live.formats.gislr import Dataset, Sample, gislr_name  # noqa: E402
from asl_live.formats.layout import hands_visible  # noqa: E402

PERSON = {"webcam:dmohazab": {54320, 104}}   # one signer, two archives (bench_settings.ALIASES)
UNKNOWN = "unknown"
IDLE = "idle"   # the webcam people's recordings of idle hands (data/all's name for them)


def people_of(group: list[str]) -> set[int]:
    out = set()
    for key in group:
        if key.startswith(("webcam:", "phone:")):
            out |= PERSON.get(key, {int(key.split(":")[1])} if key.split(":")[1].isdigit() else set())
    return out


def probabilities(model: Path, ds: Dataset, rows: list[Sample]) -> tuple[list[str], np.ndarray]:
    """The exported model through the app's Classifier (TFLite, as the app runs it)."""
    from asl_live.model.classifier import Classifier

    clf = Classifier(model, model.with_name("sign_to_prediction_index_map.json"))
    return clf.labels, np.stack([clf.probabilities(ds.read(s)) for s in rows])


def extend(model: Path, ds: Dataset, rows: list[Sample], out: Path, **kw) -> float:
    """asl_live.model.extend on these rows, as teach runs it; returns its seconds."""
    from asl_live.model.extend import Recording, extend as run

    recs = [Recording(ds.read(s), s.sign, s.participant_id) for s in rows]
    return run(model, model.with_name("sign_to_prediction_index_map.json"), recs, out, **kw)["seconds"]


def train_encoder(ds: Dataset, rows: list[Sample], root: Path, recipe: str, epochs: int, extra=(),
                  fit_args=(), export_args=(), reuse: Path | None = None) -> Path:
    """`asl-train fit` on `rows` (labels of `recipe`) and the (dataset, sample) pairs of `extra`
    (GISLR spelling, each sign its own class), exported; reused when already there."""
    labels = (lambda s: s.sign) if recipe == "fine" else (lambda s: s.sign if s.sign in VOCABULARY else UNKNOWN)
    pairs = [(ds.root, Sample(s.path, s.participant_id, s.sequence_id, labels(s))) for s in rows]
    # Datasets made by the importers all number their people from 0: give each (dataset, person)
    # of `extra` its own id, so their folders do not collide in the linked dataset.
    ids: dict = {}
    for d, s in extra:
        pid = ids.setdefault((d.root, s.participant_id), 900_000 + len(ids))
        folder = root / "extra" / "train_landmark_files" / str(pid)
        if not folder.exists():
            folder.parent.mkdir(parents=True, exist_ok=True)
            folder.symlink_to((d.root / "train_landmark_files" / str(s.participant_id)).resolve())
        pairs.append((root / "extra", Sample(f"train_landmark_files/{pid}/{Path(s.path).name}", pid,
                                             s.sequence_id, gislr_name(s.sign))))
    train_ds = link_dataset(root / "train", pairs, sorted({s.sign for _, s in pairs}))
    run = root / "encoder"
    if reuse is not None and not (run / "model.weights.h5").is_file():
        # the same people's encoder trained for another variant: only the export differs
        import shutil

        shutil.copytree(reuse / root.name / "encoder", run, ignore=shutil.ignore_patterns("export"))
    if not (run / "model.weights.h5").is_file():
        sec = asl_train("fit", "--data", str(train_ds.root), "--out", str(run), "--all", "--units", "192",
                        "--parts", "left_hand,right_hand,pose", "--trim", "--epochs", str(epochs), *fit_args)
        print(f"{root.name}: encoder trained in {sec:.0f} s", file=sys.stderr)
    if not (run / "export" / "model.tflite").is_file():
        asl_train("export", str(run), "--out", str(run / "export"), *export_args)
    return run / "export" / "model.tflite"


def answers(signs, probs, hands, app: bool) -> list[str]:
    out = []
    t = class_count_rule(len(signs)).threshold
    for p, h in zip(probs, hands):
        best = int(np.argmax(p))
        if app and (h < 0.01 or p[best] < t):
            out.append(UNKNOWN)
        else:
            out.append(signs[best])
    return out


def asl_train(*args) -> float:
    import subprocess

    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "train.cli", *args], cwd=REPO, capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(f"asl-train {' '.join(args)} failed:\n{r.stderr[-2000:]}")
    return time.perf_counter() - t


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--shots", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--recipe", choices=("fine", "coarse"), default="fine")
    p.add_argument("--pretrain-extra", metavar="DIR",
                   help="a dataset whose sequences also train every encoder (each sign its own class; not "
                        "the head, not the bank), except fold 3's, which holds the studio setting out: the "
                        "DPAN prompt clips (import-videos --keep-names)")
    p.add_argument("--pretrain-letters", nargs="+", metavar="DIR", default=[],
                   help="fingerspelling datasets (data/letters/*, import-mpdata --keep-names) that also train "
                        "the encoder, each letter its own class `letter-x` (`a` is also a DPAN sign); "
                        "with --two2third only")
    p.add_argument("--folds", default="0,1,2,3")
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--fit-args", default="", help="more `asl-train fit` options for every encoder, e.g. "
                   "--fit-args=--balance-people (with '='); the work folder gets --variant's name")
    p.add_argument("--variant", default="", help="a name for the encoders of --fit-args / --export-args")
    p.add_argument("--export-args", default="", help="more `asl-train export` options for every encoder, e.g. "
                   "--export-args='--handshape runs/letters' (with '=')")
    p.add_argument("--encoders-from", metavar="DIR", help="a recipe folder whose fold encoders to reuse "
                   "(copied, not retrained: for a variant that only exports differently)")
    p.add_argument("--tag", default="", help="a name for this variant's results file")
    p.add_argument("--two2third", action="store_true",
                   help="only the two-people scenario: an encoder trained on everyone but traduttore's two people "
                        "and webcam people 101, 102, 103, 105; a head on the two people's recordings (their 6 "
                        "signs) on it; tested on the four others")
    p.add_argument("--teach-idle", action="store_true",
                   help="teach the webcam people's idle recordings as a sign `idle` too (before 2026-12-03); "
                        "by default they are not taught, and the taught model should answer them `unknown`")
    p.add_argument("--dictionary", help="the WLASL/ProjectUnmute clips imported (test only): each base answers them")
    args = p.parse_args()
    work = Path(args.work) / (args.recipe + ("_extra" if args.pretrain_extra else "")
                              + (f"_{args.variant}" if args.variant else ""))
    args.fit_args = tuple(args.fit_args.split())
    args.export_args = tuple(args.export_args.split())
    reuse = Path(args.encoders_from) if args.encoders_from else None
    extra = [] if not args.pretrain_extra else \
        [(Dataset(args.pretrain_extra), s) for s in Dataset(args.pretrain_extra).samples()]
    letters = [(d, Sample(s.path, s.participant_id, s.sequence_id, f"letter-{s.sign.lower()}"))
               for d in map(Dataset, args.pretrain_letters) for s in d.samples()]
    results_name = f"results_s{args.seed}_k{args.shots}{args.tag}.jsonl"
    work.mkdir(parents=True, exist_ok=True)
    ds = Dataset(args.data)
    rows = ds.samples()
    hands = {(s.participant_id, s.sequence_id): float(hands_visible(ds.read(s)).any(axis=1).mean()) for s in rows}
    results = work / results_name

    def log(record):
        with open(results, "a") as f:
            f.write(json.dumps(record) + "\n")

    if args.two2third:
        return two_to_third(ds, rows, work, args, extra + letters)
    for k in [int(x) for x in args.folds.split(",")]:
        held = people_of(FOLDS[k])
        train_rows = [s for s in rows if s.participant_id not in held]
        test_rows = [s for s in rows if s.participant_id in held]
        fold = work / f"fold{k}"
        encoder = train_encoder(ds, train_rows, fold, args.recipe, args.epochs, extra if k != 3 else [],
                                args.fit_args, args.export_args, reuse)
        # the base: the vocabulary's head on the encoder, over the same people (their own sign names)
        base = fold / "base" / "model.tflite"
        if not base.is_file():
            extend(encoder, ds, train_rows, base.parent, fresh_head=True,
                   vocabulary=set(VOCABULARY))
        signs, probs = probabilities(base, ds, test_rows)
        h = [hands[(s.participant_id, s.sequence_id)] for s in test_rows]
        for app in (False, True):
            said = answers(signs, probs, h, app)
            for s, a in zip(test_rows, said):
                log({"recipe": work.name, "fold": k, "model": "base", "app": app, "person": s.participant_id,
                     "sign": s.sign, "said": a, "in_vocabulary": s.sign in VOCABULARY})

        if args.dictionary:
            dds = Dataset(args.dictionary)
            drows = [s for s in dds.samples() if gislr_name(s.sign) not in NEAR_VOCABULARY]
            dsigns, dprobs = probabilities(base, dds, drows)
            dh = [float(hands_visible(dds.read(s)).any(axis=1).mean()) for s in drows]
            for app in (False, True):
                for s, a in zip(drows, answers(dsigns, dprobs, dh, app)):
                    log({"recipe": work.name, "fold": k, "model": "base", "app": app, "person": "dictionary",
                         "sign": gislr_name(s.sign), "said": a, "in_vocabulary": gislr_name(s.sign) in VOCABULARY})

        rng = np.random.default_rng(args.seed)
        for person in sorted(held):
            mine = [s for s in test_rows if s.participant_id == person]
            idle = [s for s in mine if s.sign == IDLE]
            if not args.teach_idle:   # idle hands are no sign: the app should answer `unknown`
                mine = [s for s in mine if s.sign != IDLE]
            taught = sorted({s.sign for s in mine})
            if person > 1000 or len(taught) < 2:   # GISLR phone people teach nothing here
                continue
            shots, rest = [], []
            for sign in taught:
                seqs = [s for s in mine if s.sign == sign]
                order = rng.permutation(len(seqs))
                shots += [seqs[i] for i in order[:args.shots]]
                rest += [seqs[i] for i in order[args.shots:]]
            run = fold / f"teach{person}_s{args.seed}_k{args.shots}{args.tag}"
            sec = extend(base, ds, shots, run)
            others = [s for s in test_rows if s.participant_id != person]
            idle = [] if args.teach_idle else idle
            signs2, probs2 = probabilities(run / "model.tflite", ds, rest + others + idle)
            said = answers(signs2, probs2, [None] * len(probs2), False)
            for i, (s, a) in enumerate(zip(rest + others + idle, said)):
                log({"recipe": work.name, "fold": k, "model": f"taught_by_{person}", "app": False,
                     "teacher": person, "taught": taught, "person": s.participant_id, "sign": s.sign,
                     "said": a, "in_vocabulary": s.sign in VOCABULARY, "extend_seconds": round(sec, 1),
                     "shots": args.shots, "seed": args.seed, "teacher_idle": i >= len(rest) + len(others)})
            print(f"fold {k}: person {person} taught {taught} in {sec:.1f} s", file=sys.stderr)
    report(results)
    return 0


WEBCAM = {72988, 54320, 101, 102, 103, 104, 105}


def setting_of(person) -> str:
    if person == "dictionary":
        return "dictionary"
    return "webcam" if int(person) in WEBCAM else "phone"


def settings_table(recs: list[dict]) -> None:
    """Per setting, as the app answers: per-sign recall, mean over people, other signs `unknown`."""
    print("\n### Base model per setting (as the app answers; every fold's held-out people)\n")
    print("| recipe | setting | mean per-sign recall | mean over people | per sign | other signs + idle `unknown` |")
    print("|---|---|---|---|---|---|")
    for recipe in sorted({r["recipe"] for r in recs}):
        base = [r for r in recs if r["recipe"] == recipe and r["model"] == "base" and r["app"]]
        for setting in ("webcam", "phone", "dictionary"):
            rs = [r for r in base if setting_of(r["person"]) == setting]
            voc = [r for r in rs if r["in_vocabulary"]]
            oov = [r for r in rs if not r["in_vocabulary"]]
            per = {sg: (sum(r["said"] == sg for r in voc if r["sign"] == sg), sum(r["sign"] == sg for r in voc))
                   for sg in sorted({r["sign"] for r in voc})}
            people = []
            for person in {r["person"] for r in voc if setting != "dictionary"}:
                mine = [r for r in voc if r["person"] == person]
                people.append(np.mean([np.mean([r["said"] == sg for r in mine if r["sign"] == sg])
                                       for sg in {r["sign"] for r in mine}]))
            mean = np.mean([a / b for a, b in per.values()]) if per else float("nan")
            print(f"| {recipe} | {setting} | {mean:.3f} | {np.mean(people) if people else float('nan'):.3f} | "
                  + ", ".join(f"{sg} {a}/{b}" for sg, (a, b) in per.items())
                  + f" | {sum(r['said'] == UNKNOWN for r in oov)}/{len(oov)} |")


THIRD = {101, 102, 103, 105}   # webcam people of other projects (104 is traduttore's 54320)
FRIENDS = {72988, 54320, 104}  # traduttore's two people (54320 = 104, dmohazab)


def two_to_third(ds: Dataset, rows: list[Sample], work: Path, args, extra=()) -> int:
    """A user who records two friends: a head on their recordings, on an encoder pretrained on
    everyone here but the people it is tested on (and on `extra`: other datasets' signs)."""
    # Neither the people tested nor the two friends: the shipped encoder never saw a user's friends.
    pre_rows = [s for s in rows if s.participant_id not in THIRD | FRIENDS]
    root = work / "two2third"
    encoder = train_encoder(ds, pre_rows, root, args.recipe, args.epochs, extra, fit_args=args.fit_args,
                            export_args=args.export_args,
                            reuse=Path(args.encoders_from) if args.encoders_from else None)
    friends = [s for s in rows if s.participant_id in (72988, 54320)]   # their six signs
    sec = extend(encoder, ds, friends, root / "friends", fresh_head=True)
    third = [s for s in rows if s.participant_id in THIRD and s.sign in {"hello", "no", "thankyou"}]
    signs, probs = probabilities(root / "friends" / "model.tflite", ds, third)
    said = [signs[int(np.argmax(p))] for p in probs]
    print(f"\n### Two webcam people (traduttore, {len(friends)} sequences, head in {sec:.1f} s) -> the others\n")
    print("| recipe | person | per sign | mean |")
    print("|---|---|---|---|")
    means = []
    for person in sorted(THIRD):
        mine = [(s, a) for s, a in zip(third, said) if s.participant_id == person]
        per = {sg: np.mean([a == sg for s, a in mine if s.sign == sg]) for sg in sorted({s.sign for s, _ in mine})}
        means.append(np.mean(list(per.values())))
        print(f"| {args.recipe} | {person} | " + ", ".join(f"{k} {v:.3f}" for k, v in per.items())
              + f" | {means[-1]:.3f} |")
    print(f"| {args.recipe} | mean over people | | **{np.mean(means):.3f}** |")
    return 0


def report(results: Path) -> None:
    recs = [json.loads(x) for x in results.read_text().splitlines()]
    settings_table(recs)
    print("\n### Base model (the vocabulary's head) on held-out people\n")
    print("| recipe | answer | person | per sign (recall) | other signs + idle `unknown` |")
    print("|---|---|---|---|---|")
    for recipe in sorted({r["recipe"] for r in recs}):
        for app in (False, True):
            base = [r for r in recs if r["recipe"] == recipe and r["model"] == "base" and r["app"] == app]
            for person in sorted({r["person"] for r in base}, key=str):
                mine = [r for r in base if r["person"] == person]
                per = {s: np.mean([r["said"] == s for r in mine if r["sign"] == s])
                       for s in sorted({r["sign"] for r in mine if r["in_vocabulary"]})}
                oov = [r["said"] == UNKNOWN for r in mine if not r["in_vocabulary"]]
                print(f"| {recipe} | {'app' if app else 'argmax'} | {person} | "
                      + ", ".join(f"{s} {v:.2f}" for s, v in per.items())
                      + f" | {f'{sum(oov)}/{len(oov)}' if oov else '-'} |")
    print("\n### Taught (extend, the bank kept): the teacher's other samples, other people, the old signs\n")
    print("| recipe | teacher | taught | seconds | teacher's other samples | other people, taught signs | "
          "old signs on other held-out people: before -> after | teacher's idle recordings `unknown` |")
    print("|---|---|---|---|---|---|---|---|")
    for recipe in sorted({r["recipe"] for r in recs}):
        for model in sorted({r["model"] for r in recs if r["recipe"] == recipe and r["model"] != "base"}):
            mine = [r for r in recs if r["recipe"] == recipe and r["model"] == model]
            teacher, taught = mine[0]["teacher"], mine[0]["taught"]
            own = [r["said"] == r["sign"] for r in mine if r["person"] == teacher and not r.get("teacher_idle")]
            idle = [r["said"] == UNKNOWN for r in mine if r.get("teacher_idle")]
            other = [r["said"] == r["sign"] for r in mine if r["person"] != teacher and r["sign"] in taught
                     and r["sign"] != IDLE]
            old_after = [r["said"] == r["sign"] for r in mine if r["person"] != teacher and r["in_vocabulary"]
                         and r["sign"] not in taught]
            keys = {(r["person"], r["sign"]) for r in mine if r["person"] != teacher and r["in_vocabulary"]
                    and r["sign"] not in taught}
            base = [r for r in recs if r["recipe"] == recipe and r["model"] == "base" and not r["app"]
                    and r["fold"] == mine[0]["fold"] and (r["person"], r["sign"]) in keys]
            old_before = [r["said"] == r["sign"] for r in base]
            fmt = (lambda v: f"{np.mean(v):.3f} ({len(v)})" if v else "-")
            print(f"| {recipe} | {teacher} | {','.join(taught)} | {mine[0]['extend_seconds']} | {fmt(own)} | "
                  f"{fmt(other)} | {fmt(old_before)} -> {fmt(old_after)} | {fmt(idle)} |")


if __name__ == "__main__":
    sys.exit(main())
