"""A dataset to train the model the stream benchmark scores DPAN signs with.

    python benchmarks/segmentation/make_dpan_stream_model.py --signs 48 --copies 12 --out /tmp/dpan48
    asl-train fit --data /tmp/dpan48 --out /tmp/dpan48-run --all --arch fc --epochs 80
    asl-train export /tmp/dpan48-run --out /tmp/dpan48-model

What the model is, honestly: DPAN has ONE clip per sign (one signer), so the model is
trained on exactly the clips the benchmark then joins into streams. Each clip is
copied `--copies` times with a different timing (real frames repeated or dropped to
play it 0.75x-1.33x as fast) and a different cut (0-4 frames more or fewer around the
hands' span), each copy as its own "participant"; `fit` adds its own augmentation. It
is a model that recognises these clips, whatever part of them a segmenter hands it;
the benchmark uses it only to compare the same model on the stream's segments with the
same model on each whole clip. It says nothing about recognising new signers.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from stream_data import DPAN, load_clips  # noqa: E402

from asl_live.formats.gislr import Dataset  # noqa: E402


def retime(frames: np.ndarray, speed: float) -> np.ndarray:
    """Play the real frames `speed` times as fast (nearest frame: each output is a real frame)."""
    n = max(2, int(round(len(frames) / speed)))
    idx = np.minimum(np.round(np.arange(n) * speed).astype(int), len(frames) - 1)
    return frames[idx]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--signs", type=int, default=48, help="the first N DPAN clips (in train.csv order)")
    p.add_argument("--copies", type=int, default=12)
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=3)
    args = p.parse_args()
    rng = np.random.default_rng(args.seed)
    clips = load_clips(DPAN, limit=args.signs)
    ds = Dataset(args.out)
    ds.ensure_signs([c.sign for c in clips])
    seq = 1000
    for c in clips:
        a, b = c.hand_span()
        for k in range(args.copies):
            speed = 1.0 if k == 0 else float(np.exp(rng.uniform(np.log(0.75), np.log(1.33))))
            lo = max(0, a + int(rng.integers(-4, 5))) if k else 0
            hi = min(len(c.frames), b + 1 + int(rng.integers(-4, 5))) if k else len(c.frames)
            ds.add(retime(c.frames[lo:hi], speed), c.sign, participant_id=k, sequence_id=seq)
            seq += 1
    print(f"{len(clips)} signs x {args.copies} copies -> {args.out}")


if __name__ == "__main__":
    main()
