"""`asl-train`: prepare | fit | extend | export | calibrate | evaluate | import-videos | import-mpdata | letters.

Each subcommand imports its (heavy) module only when it runs, so `--help` and
argument errors are instant.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from asl_live.errors import UserError, run_main

PROG = "asl-train"
IMPORTERS = {"import-videos": "train.import_videos", "import-mpdata": "train.import_mpdata",
             "letters": "train.letters"}  # commands with their own parser


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as a UserError (one line, exit 2)."""

    def error(self, message):
        raise UserError(f"{message} (see {self.prog} --help)")


def _quiet_tensorflow():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _parts(text: str) -> list[str]:
    return [p.strip() for p in text.split(",") if p.strip()]


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Train, export and evaluate sign classifiers for asl-live "
                                       "on datasets in the GISLR competition layout.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    pr = sub.add_parser("prepare", help="build the feature cache of a dataset (parallel, resumable)")
    pr.add_argument("--data", required=True, metavar="DIR", help="dataset folder (train.csv, ...)")
    pr.add_argument("--cache", metavar="DIR", help="cache folder (default: DIR/.asl-train-cache)")
    pr.add_argument("--workers", type=int,
                    help="worker processes on this machine (default: one per CPU core; a cluster at "
                         "--address has the workers it was started with)")
    from .engine import add_arguments as engine_arguments

    engine_arguments(pr, "--workers")

    f = sub.add_parser("fit", help="train a model; writes a run folder")
    f.add_argument("--data", required=True, metavar="DIR")
    f.add_argument("--out", required=True, metavar="RUN", help="run folder to write")
    split = f.add_mutually_exclusive_group()
    split.add_argument("--fold", type=int, metavar="K",
                       help="validate on fold K (participants never shared); default 0")
    split.add_argument("--all", action="store_true", help="train on every sample, no validation")
    f.add_argument("--folds", type=int, help="number of folds (default 7, fewer if fewer participants)")
    f.add_argument("--epochs", type=int, help="default: chosen from the dataset size")
    f.add_argument("--arch", choices=("transformer", "fc", "conv"))
    f.add_argument("--parts", type=_parts, metavar="P,P", help="landmark groups: lips,left_hand,right_hand,pose")
    f.add_argument("--pose", choices=("upper", "all", "body"),
                   help="pose points: body (489-511: head, shoulders, arms; default), upper (502-511, the "
                        "reference's) or all")
    f.add_argument("--features", choices=("body", "reference"),
                   help="body: signer-invariant features in the model (default); reference: the reference "
                        "notebook's per-landmark standardisation")
    f.add_argument("--trim", action=argparse.BooleanOptionalAction, default=None,
                   help="drop the frames at both ends where no hand is above its elbow (the way to and "
                        "from rest), inside the model")
    f.add_argument("--batch-size", type=int)
    f.add_argument("--batch-all-signs", type=int, metavar="N", help="each batch holds N samples of every sign")
    f.add_argument("--person-alignment", type=float, metavar="W",
                   help="weight of a loss pulling each sign's people toward one place in the embedding "
                        "(default 0: off)")
    f.add_argument("--lr", type=float)
    f.add_argument("--weight-decay", type=float)
    f.add_argument("--label-smoothing", type=float)
    f.add_argument("--units", type=int)
    f.add_argument("--blocks", type=int)
    f.add_argument("--no-augment", action="store_true", help="switch every augmentation off")
    f.add_argument("--loader-workers", type=int, metavar="N",
                   help="threads preparing batches (default 1; 4 feeds a GPU ~4x faster)")
    f.add_argument("--seed", type=int)
    f.add_argument("--config", metavar="JSON", help="config file; options given here override it")
    f.add_argument("--wandb", action="store_true", help="log to Weights & Biases (offline without network)")
    f.add_argument("--cache", metavar="DIR")

    x = sub.add_parser("extend", help="add signs to a model in seconds: its layers as they are, a new last "
                                      "layer over its signs and the new ones (asl_live/model/extend.py)")
    x.add_argument("model", metavar="MODEL.tflite",
                   help="the model to extend; it needs its bank beside it (MODEL.bank.npz) unless --fresh-head")
    x.add_argument("--labels", metavar="JSON", help="its label map (default: beside the model)")
    x.add_argument("--data", required=True, action="append", metavar="DIR",
                   help="dataset folder(s) of the signs to add (repeatable)")
    x.add_argument("--out", required=True, metavar="DIR", help="folder for model.tflite, its label map and bank")
    x.add_argument("--fresh-head", action="store_true",
                   help="a last layer over the data's signs alone (the model's encoder, not its signs): "
                        "how a trained encoder becomes the shipped model, with its bank")
    x.add_argument("--vocabulary", type=_parts, metavar="S,S",
                   help="with --fresh-head: these signs are classes, every other one (and idle) is taught "
                        "as 'unknown', its own name kept in the bank")

    e = sub.add_parser("export", help="write model.tflite, its label map and submission.zip")
    e.add_argument("runs", nargs="+", metavar="RUN", help="run folder(s); several make an ensemble")
    e.add_argument("--out", required=True, metavar="DIR")
    e.add_argument("--float16", action="store_true", help="store weights as float16 (half the size)")
    e.add_argument("--calibrate", action="append", metavar="DIR",
                   help="dataset(s) the model never trained on, with signs of its vocabulary and others: "
                        "measure its 'unknown' rule and write model.unknown.json (repeatable; the run's "
                        "validation fold is added)")
    e.add_argument("--keep", type=float, default=0.97,
                   help="share of right answers the 'unknown' rule must keep (default 0.97)")
    e.add_argument("--handshape", metavar="LETTERS_DIR",
                   help="a folder written by `asl-train letters`: the model's last layer also reads the "
                        "letters model's mean letter probabilities (the hand's shape; learned by "
                        "`extend --fresh-head` and teach)")

    c = sub.add_parser("calibrate", help="measure a model's 'unknown' rule; writes MODEL.unknown.json")
    c.add_argument("model", metavar="MODEL.tflite")
    c.add_argument("--data", action="append", metavar="DIR",
                   help="dataset folder(s) the model never trained on: sequences of its signs are kept, "
                        "all others must come back 'unknown' (repeatable)")
    c.add_argument("--from-bank", action="store_true",
                   help="no data: the 'prototype' rule from the model's own bank, as `extend` writes it")
    c.add_argument("--labels", metavar="JSON", help="label map (default: beside the model)")
    c.add_argument("--exclude", type=_parts, metavar="S,S", help="signs to leave out (e.g. near-synonyms)")
    c.add_argument("--keep", type=float, default=0.97,
                   help="share of right answers the rule must keep (default 0.97)")
    c.add_argument("--json", action="store_true", help="print the result as one JSON object")

    v = sub.add_parser("evaluate", help="accuracy of a TFLite model on a dataset")
    v.add_argument("model", metavar="MODEL.tflite")
    v.add_argument("--data", required=True, metavar="DIR")
    v.add_argument("--labels", metavar="JSON", help="label map (default: beside the model)")
    v.add_argument("--figures", metavar="DIR", help="where confusion.png goes (default: beside the model)")
    v.add_argument("--json", action="store_true", help="print one JSON object instead of tables")

    for name, help_ in (("import-videos", "build a dataset from sign videos"),
                        ("import-mpdata", "build a dataset from an MP_Data folder"),
                        ("letters", "train the fingerspelling letters model")):
        sub.add_parser(name, help=help_, add_help=False)
    return p


_FIT_OPTIONS = ("folds", "epochs", "arch", "parts", "pose", "features", "trim", "batch_size", "batch_all_signs", "person_alignment", "lr",
                "weight_decay", "label_smoothing", "units", "blocks", "seed", "loader_workers")


def _fit(args) -> int:
    from .config import Config

    try:
        config = Config.load(args.config).to_dict() if args.config else {}
    except UnicodeDecodeError as e:
        raise UserError(f"{args.config}: not a JSON config ({e.reason})") from None
    except AttributeError:  # JSON, but not an object
        raise UserError(f"{args.config}: not a config of options {{name: value}}") from None
    except (TypeError, ValueError) as e:  # an option of the wrong type, e.g. "epochs": "ten"
        raise UserError(f"{args.config}: an option has the wrong type ({e})") from None
    for key in _FIT_OPTIONS:
        value = getattr(args, key)
        if value is not None:
            config[key] = value
    if args.no_augment:
        config.update(mirror=0.0, affine=0.0, resample=0.0, drop_frames=0.0, drop_landmarks=0.0,
                      crop=0.0, body_shape=0.0, camera=0.0, drop_hand=0.0, jitter=0.0)
    config = Config.from_dict(config)  # wrong types can only come from --config, checked above
    if args.all:
        config.fold = None
    elif args.fold is not None:
        config.fold = args.fold
    else:
        from . import data as datamod

        people = len(set(datamod.load(args.data).participants.tolist()))
        config.fold = 0 if people >= 2 else None
        if config.fold is None:
            print("asl-train: one participant only: training on everything (--all), no validation",
                  file=sys.stderr)
    _quiet_tensorflow()
    from .fit import fit

    run = fit(args.data, args.out, config, wandb=args.wandb, cache_dir=args.cache)
    summary = json.loads((run / "summary.json").read_text())
    line = f"{run}: {summary['epochs']} epochs, {summary['train_samples_per_second']} samples/s"
    if "val_accuracy" in summary:
        line += (f", best validation top-1 {summary['val_accuracy']:.3f} top-5 {summary['val_top5']:.3f}"
                 f" (epoch {summary['best_epoch']})")
    print(line)
    return 0


def _extend(args) -> int:
    from pathlib import Path

    from asl_live.model.extend import Recording, extend
    from asl_live.formats.gislr import Dataset, writable_folder
    from tqdm import tqdm

    if args.vocabulary and not args.fresh_head:
        raise UserError("--vocabulary goes with --fresh-head (an extended model keeps its own classes)")
    writable_folder(args.out, "output folder")
    labels = args.labels or Path(args.model).with_name("sign_to_prediction_index_map.json")
    recordings = []
    for root in args.data:
        ds = Dataset(root)
        recordings += [Recording(ds.read(s), s.sign, s.participant_id) for s in ds.samples()]
    bar = tqdm(total=len(recordings), desc="embed", unit="seq", file=sys.stderr)

    def progress(stage, done, total):
        if stage == "embedding":
            bar.n = done
            bar.refresh()

    try:
        out = extend(args.model, labels, recordings, args.out, fresh_head=args.fresh_head,
                     vocabulary=set(args.vocabulary) if args.vocabulary else None, progress=progress)
    finally:
        bar.close()
    print(f"asl-train: {len(out['classes'])} classes {out['counts']} in {out['seconds']:.1f} s", file=sys.stderr)
    for key in ("model", "labels", "bank"):
        print(out[key])
    return 0


def main(argv=None) -> int:
    """The `asl-train` entry point: user errors -> one line and exit 2, Ctrl-C -> 130."""
    return run_main(_main, argv, PROG)


def _main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in IMPORTERS:
        import importlib

        return importlib.import_module(IMPORTERS[argv[0]]).main(argv[1:])
    args = _parser().parse_args(argv)
    if args.command is None:
        _parser().print_help(sys.stderr)
        return 2
    if args.command == "prepare":
        from . import data as datamod

        data = datamod.load(args.data)
        from .config import Config

        shards = datamod.prepare(data, args.cache, args.workers, engine=args.engine,
                                 address=args.address, send_files=args.send_files, trim=Config().trim)
        print(f"{len(data.samples)} sequences ready in {shards[0].parent} ({len(shards)} shards)")
        return 0
    if args.command == "fit":
        from asl_live.formats.gislr import writable_folder

        writable_folder(args.out, "run folder")  # before minutes of training, not after
        return _fit(args)
    if args.command == "extend":
        return _extend(args)
    if args.command == "export":
        _quiet_tensorflow()
        from asl_live.formats.gislr import writable_folder

        from .fit import require_run

        # Bad arguments are told at once, before TensorFlow takes seconds to import.
        writable_folder(args.out, "export folder")
        if not 0.5 <= args.keep < 1.0:
            raise UserError(f"--keep {args.keep}: must be at least 0.5 and below 1")
        for run in args.runs:
            require_run(run)
        if args.handshape is not None and len(args.runs) != 1:
            raise UserError("--handshape takes one run, not an ensemble")
        from .export import export

        paths = export(args.runs, args.out, float16=args.float16, calibrate=args.calibrate, keep=args.keep,
                       handshape=args.handshape)
        for key in ("model", "labels", "submission", "unknown_rule"):
            if key in paths:
                print(paths[key])
        return 0
    if args.command == "calibrate":
        from .calibrate import main as calibrate_main

        return calibrate_main(args)
    if args.command == "evaluate":
        _quiet_tensorflow()
        from .evaluate import evaluate, print_report

        if args.figures:
            from asl_live.formats.gislr import writable_folder

            writable_folder(args.figures, "figures folder")

        result = evaluate(args.model, args.data, labels=args.labels, figures=args.figures,
                          progress=not args.json)
        if args.json:
            print(json.dumps(result))
        else:
            print_report(result)
        return 0
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main())
