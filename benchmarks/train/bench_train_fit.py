"""Benchmark: training samples per second per epoch (the real `fit` loop: augmentation,
AdamW, callbacks), for each architecture, on real preprocessed features.

    # on this machine, from a dataset (its feature cache is built if needed)
    python benchmarks/train/bench_train_fit.py --data DIR [--archs transformer fc conv] [--epochs 3]
    # keep the features for a machine without the dataset (e.g. a GPU box with JAX only)
    python benchmarks/train/bench_train_fit.py --data DIR --save-features feats.npz --epochs 0
    KERAS_BACKEND=jax python benchmarks/train/bench_train_fit.py --features feats.npz

Reports the median over epochs 2..N (epoch 1 includes tracing / compilation) and the
first epoch's seconds separately. Needs no GPU; uses one where the backend finds it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main() -> None:
    p = argparse.ArgumentParser()
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--data")
    src.add_argument("--features")
    p.add_argument("--save-features")
    p.add_argument("--archs", nargs="+", default=["transformer", "fc", "conv"])
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[64])
    p.add_argument("--repeat", type=int, default=1, help="tile the samples this many times per epoch")
    p.add_argument("--loader-workers", type=int, nargs="+", default=[1])
    p.add_argument("--no-augment", action="store_true")
    args = p.parse_args()

    from train.config import Config
    from train.preprocess import cache_columns

    columns = cache_columns()  # the reference selection: lips, both hands, pose 502-511
    if args.data:
        from train import data as datamod

        data = datamod.load(args.data)
        frames, positions, _ = datamod.features(data, columns, progress=False)
        labels, n_classes = data.labels, len(data.signs)
        if args.save_features:
            np.savez_compressed(args.save_features, frames=frames, positions=positions, labels=labels,
                                n_classes=n_classes)
    else:
        with np.load(args.features) as z:
            frames, positions, labels, n_classes = z["frames"], z["positions"], z["labels"], int(z["n_classes"])
    if args.repeat > 1:
        frames, positions, labels = (np.concatenate([a] * args.repeat) for a in (frames, positions, labels))
    if args.epochs < 1:
        return

    import keras

    from train.fit import train_arrays

    try:
        import jax
        devices = [str(d) for d in jax.devices()] if keras.backend.backend() == "jax" else None
    except ImportError:
        devices = None
    idx = np.arange(len(labels))
    off = dict(mirror=0.0, affine=0.0, resample=0.0, drop_frames=0.0, drop_landmarks=0.0)
    runs = [(a, b, w) for a in args.archs for b in args.batch_sizes for w in args.loader_workers]
    for arch, batch, workers in runs:
        config = Config(arch=arch, epochs=args.epochs, batch_size=batch, seed=0, loader_workers=workers,
                        **(off if args.no_augment else {})).check()
        with tempfile.TemporaryDirectory() as run:
            history, *_ = train_arrays(frames, positions, labels, n_classes, idx, np.array([], int),
                                       config, Path(run), columns, progress=False)
        rates = history.history["samples_per_second"]
        secs = history.history["seconds"]
        print(json.dumps({
            "arch": arch, "batch": batch, "loader_workers": workers, "augment": not args.no_augment,
            "samples": len(labels), "backend": keras.backend.backend(),
            "devices": devices, "cpu_cores": os.cpu_count(),
            "samples_per_second_median": round(statistics.median(rates[1:] or rates), 1),
            "first_epoch_seconds": round(secs[0], 1),
            "params": history.model.count_params(),
        }), flush=True)


if __name__ == "__main__":
    main()
