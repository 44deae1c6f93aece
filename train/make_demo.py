"""Cut the bundled demo out of a dataset, and take its sequences out of training.

    python -m train.make_demo DATASET --participant ID --signs hello,thankyou,... \
        --out assets/demo.parquet

Picks, for each sign in `--signs` (in that order, repeats allowed), one
sequence of participant ID, chains them into one GISLR parquet with runs of
empty frames (no hands) between them, so the app's segmenter cuts them apart,
writes `demo.json` beside it (the true signs in order, and where each came from)
and REMOVES those rows from the dataset's train.csv, so a model fitted on the
dataset afterwards has never seen the demo's sequences.

Sequences are chosen by a fixed seed among those in which a hand is seen in
every frame (so that each one is replayed as a single sign); nothing here looks
at any model's answers.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from asl_live.errors import UserError, run_main
from asl_live.formats.gislr import Dataset, atomic_write, write_parquet
from asl_live.formats.layout import empty_frames, hands_visible

GAP_FRAMES = 15   # ~0.5 s without hands between signs
EDGE_FRAMES = 10


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="make_demo", description=__doc__.split("\n\n")[0])
    p.add_argument("dataset")
    p.add_argument("--participant", type=int, required=True)
    p.add_argument("--signs", required=True, help="comma-separated signs, in demo order")
    p.add_argument("--out", default=str(Path(__file__).parent / "demo.parquet"))
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    ds = Dataset(args.dataset)
    rows = ds.samples()
    signs = [s.strip() for s in args.signs.split(",") if s.strip()]
    rng = np.random.default_rng(args.seed)
    chosen = []
    for sign in signs:
        pool = [r for r in rows if r.sign == sign and r.participant_id == args.participant and r not in chosen]
        pool = [r for r in pool if hands_visible(ds.read(r)).any(axis=1).all()]
        if not pool:
            raise UserError(f"no sequence of {sign!r} by participant {args.participant} with hands in every frame")
        chosen.append(pool[int(rng.integers(len(pool)))])

    parts = [empty_frames(EDGE_FRAMES)]
    spans = []
    at = EDGE_FRAMES
    for i, r in enumerate(chosen):
        frames = ds.read(r)
        if i:
            parts.append(empty_frames(GAP_FRAMES))
            at += GAP_FRAMES
        parts.append(frames)
        spans.append({"sign": r.sign, "first_frame": at, "frames": len(frames),
                      "participant_id": r.participant_id, "sequence_id": r.sequence_id})
        at += len(frames)
    parts.append(empty_frames(EDGE_FRAMES))
    out = Path(args.out)
    write_parquet(out, np.concatenate(parts))
    with atomic_write(out.with_suffix(".json"), "w") as f:
        json.dump({"signs": [r.sign for r in chosen], "gap_frames": GAP_FRAMES, "edge_frames": EDGE_FRAMES,
                   "sequences": spans}, f, indent=1)
        f.write("\n")
    ds.write_samples([r for r in rows if r not in chosen])
    print(f"make_demo: {len(chosen)} signs -> {out}; removed them from {ds.train_csv}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, prog="make_demo"))
