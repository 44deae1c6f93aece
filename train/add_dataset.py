"""Copy the sequences of one dataset (competition layout) into another, keeping their ids.

    python -m train.add_dataset data/default --from data/gislr_hello_thankyou

Used to build the default model's training set from several sources (see MODEL_CARD.md).
Participant and sequence ids are kept, so the per-person folds of `asl-train fit` and the
cross-person benchmark keep seeing the source's people; a sequence already in the target
(same participant and sequence id) is skipped, so the copy can be re-run after an
interruption. `--signs` copies only those signs, `--skip` all but those; `--as unknown` copies them under one label
(a person's recordings of signs outside the vocabulary, or idle hands, as negatives).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from asl_live.errors import UserError, run_main
from asl_live.formats.gislr import Dataset


def main(argv=None) -> int:
    return run_main(_main, argv, "add_dataset")


def _main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="add_dataset", description=__doc__.split("\n\n")[0])
    p.add_argument("target", help="dataset folder to extend (created if missing)")
    p.add_argument("--from", dest="source", required=True, help="dataset folder to copy from")
    p.add_argument("--signs", help="comma-separated signs to copy (default: all)")
    p.add_argument("--skip", help="comma-separated signs NOT to copy (e.g. signs too near the vocabulary)")
    p.add_argument("--as", dest="label", help="label every copied sequence with this sign instead "
                                               "(e.g. unknown)")
    args = p.parse_args(argv)

    src, dst = Dataset(args.source), Dataset(args.target)
    if Path(src.root).resolve() == Path(dst.root).resolve():
        raise UserError("--from and the target are the same dataset")
    wanted = {s.strip() for s in args.signs.split(",")} if args.signs else None
    skipped = {s.strip() for s in args.skip.split(",")} if args.skip else set()
    rows = [r for r in src.samples() if (wanted is None or r.sign in wanted) and r.sign not in skipped]
    have = {(s.participant_id, s.sequence_id) for s in dst.samples()} if dst.train_csv.is_file() else set()
    todo = [r for r in rows if (r.participant_id, r.sequence_id) not in have]
    for r in tqdm(todo, desc="add", unit="seq", file=sys.stderr):
        dst.add(src.read(r), args.label or r.sign, r.participant_id, r.sequence_id)
    print(f"add_dataset: {len(todo)} sequences added, {len(rows) - len(todo)} already there -> {dst.root}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
