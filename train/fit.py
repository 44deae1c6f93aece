"""Training: dataset folder -> run folder (config, metrics, best weights, plots).

Python API (used by `asl-train fit` and by the app's teach mode)::

    from train.fit import fit
    run = fit("data/mine", "runs/mine", {"parts": ["left_hand", "right_hand", "pose"]})

A run folder holds `config.json` (the resolved configuration, plus the data it was
trained on), `sign_to_prediction_index_map.json`, `model.weights.h5` (best on
validation, or the last epoch with no validation), `metrics.csv`, `loss.png`,
`accuracy.png`, `summary.json` and `parity_sequences.npz` (a few raw sequences the
export checks TFLite against Keras on).
"""

from __future__ import annotations

import csv
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

from asl_live.errors import UserError
from asl_live.formats.gislr import Dataset, atomic_write, write_label_map

from . import data as datamod
from .config import Config
from .preprocess import CACHE_ROWS, cache_columns

WEIGHTS = "model.weights.h5"
PARITY = "parity_sequences.npz"


def auto_epochs(n_train: int) -> int:
    """Enough updates for a tiny dataset (teach mode), without hours for a big one on a CPU."""
    return int(np.clip(math.ceil(2000 / max(n_train, 1)), 15, 60))


def auto_batch_size(n_train: int, wanted: int) -> int:
    return int(np.clip(n_train // 8, 8, wanted))


def _use_xla():
    """XLA on a CPU compiles for 20 s per batch shape and then runs slower than plain TF (measured)."""
    import keras

    if keras.backend.backend() != "tensorflow":
        return "auto"
    import tensorflow as tf

    return "auto" if tf.config.list_physical_devices("GPU") else False


def _as_config(config) -> Config:
    if config is None:
        return Config().check()
    if isinstance(config, Config):
        return config.check()
    return Config.from_dict(dict(config))


def _make_sequence(frames, positions, labels, n_classes, batch, config, rows, rng, shuffle_all=True,
                   people=None):
    import keras

    from .augment import Augmenter

    augment = Augmenter(config, rows, rng)
    by_class = [np.flatnonzero(labels == c) for c in range(n_classes)]
    present = [c for c in range(n_classes) if by_class[c].size]

    class Batches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__(workers=config.loader_workers, use_multiprocessing=False)
            self.order = rng.permutation(len(labels))

        def __len__(self):
            return max(1, math.ceil(len(labels) / batch))

        def on_epoch_end(self):
            self.order = rng.permutation(len(labels))

        def __getitem__(self, i):
            if config.batch_all_signs > 0:
                idx = np.concatenate([rng.choice(by_class[c], config.batch_all_signs) for c in present])
            else:  # the last batch wraps around: one batch shape, one graph trace (~10 s each on a CPU)
                idx = np.take(self.order, np.arange(i * batch, (i + 1) * batch), mode="wrap")
            f, p = augment(frames[idx], positions[idx])
            y = np.eye(n_classes, dtype=np.float32)[labels[idx]]
            if people is None:
                return {"frames": f, "positions": p}, y
            who = np.eye(int(people.max()) + 1, dtype=np.float32)[people[idx]]
            return ({"frames": f, "positions": p, "label": y, "person": who},
                    {"classifier": y, "alignment": np.zeros(len(idx), np.float32)})

    return Batches()


class _Progress:
    """One tqdm bar over epochs on stderr, with the latest metrics."""

    def __init__(self, epochs, enabled):
        import keras
        from tqdm import tqdm

        outer = self

        class Callback(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                outer.bar = tqdm(total=epochs, desc="fit", unit="epoch", file=sys.stderr,
                                 disable=not enabled, dynamic_ncols=True)

            def on_epoch_end(self, epoch, logs=None):
                logs = logs or {}
                shown = {k: f"{v:.3f}" for k, v in logs.items()
                         if k in ("loss", "accuracy", "val_loss", "val_accuracy")}
                outer.bar.set_postfix(shown)
                outer.bar.update(1)

            def on_train_end(self, logs=None):
                outer.bar.close()

        self.callback = Callback()


def _epoch_timer(n_samples: int):
    """Adds `seconds` and `samples_per_second` (training part of the epoch) to the epoch logs."""
    import keras

    class Callback(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start, self.stop = time.perf_counter(), None

        def on_test_begin(self, logs=None):
            self.stop = self.stop or time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds = (self.stop or time.perf_counter()) - self.start
            if logs is not None:
                logs["seconds"] = seconds
                logs["samples_per_second"] = n_samples / seconds

    return Callback()


class _BestWeights:
    """Keep the weights of the best validation epoch (top-1 accuracy, then loss), or the last."""

    def __init__(self, path: Path, has_validation: bool, model=None):
        import keras

        outer = self
        self.best = None
        self.best_epoch = None

        class Callback(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                logs = logs or {}
                if has_validation:
                    key = (logs.get("val_accuracy", 0.0), -logs.get("val_loss", 0.0))
                    if outer.best is not None and key <= outer.best:
                        return
                    outer.best = key
                outer.best_epoch = epoch + 1
                (model or self.model).save_weights(str(path) + ".tmp.weights.h5")
                os.replace(str(path) + ".tmp.weights.h5", path)

        self.callback = Callback()


def _wandb_callback(run_dir: Path, config: Config, data_root: Path):
    """A callback logging each epoch to Weights & Biases; offline when there is no network."""
    try:
        import wandb
    except ImportError:
        raise UserError("--wandb needs the wandb package: pip install 'asl-live[wandb]'") from None
    import keras

    if "WANDB_MODE" not in os.environ and not _wandb_reachable():
        os.environ["WANDB_MODE"] = "offline"
        print("asl-train: wandb.ai is not reachable: logging offline (wandb sync later)", file=sys.stderr)
    run = wandb.init(project=os.environ.get("WANDB_PROJECT", "asl-live"), dir=str(run_dir),
                     name=run_dir.name, config={**config.to_dict(), "data": str(data_root)},
                     reinit=True)

    class Callback(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            run.log({"epoch": epoch + 1, **{k: float(v) for k, v in (logs or {}).items()}})

        def on_train_end(self, logs=None):
            run.finish()

    return Callback()


def _wandb_reachable(timeout: float = 1.5) -> bool:
    import socket

    try:
        with socket.create_connection(("api.wandb.ai", 443), timeout=timeout):
            return True
    except OSError:
        return False


def plot_metrics(run_dir: Path) -> list[Path]:
    """loss.png and accuracy.png from metrics.csv."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(run_dir / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return []
    epochs = [int(r["epoch"]) + 1 for r in rows]

    def column(key):
        try:
            return [float(r[key]) for r in rows]
        except (KeyError, TypeError, ValueError):  # CSVLogger writes "NA" without validation
            return None

    out = []
    for metric, title in (("loss", "loss"), ("accuracy", "top-1 accuracy")):
        fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
        for key, label in ((metric, "train"), (f"val_{metric}", "validation")):
            values = column(key)
            if values is not None:
                ax.plot(epochs, values, label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(title)
        ax.set_title(f"{run_dir.name}: {title}")
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        path = run_dir / f"{metric}.png"
        fig.savefig(path)
        plt.close(fig)
        out.append(path)
    return out


def _save_parity_sequences(data: datamod.Data, idx: np.ndarray, run_dir: Path, seed: int, k: int = 6):
    """A few real raw sequences (short and long ones) for the export's parity check."""
    rng = np.random.default_rng(seed)
    ds = Dataset(data.root)
    raws = [ds.read(data.samples[i]) for i in rng.permutation(idx)[:40]]
    raws = [r for r in raws if len(r) <= 300]
    short = [r for r in raws if len(r) < 32]
    long = [r for r in raws if len(r) >= 32]
    seqs = short[:k // 2] + long[:k - min(len(short), k // 2)]
    seqs += [r for r in short if not any(r is s for s in seqs)][:k - len(seqs)]
    arrays = {f"seq{i}": s.astype(np.float32) for i, s in enumerate(seqs)}
    with atomic_write(run_dir / PARITY) as f:
        np.savez_compressed(f, **arrays)


def _sign_metrics_as_usual():
    """With person alignment the sign output's metrics are named `classifier_...`: give them
    their usual names (metrics.csv, plots, the best-weights choice and the summary read those)."""
    import keras

    class Callback(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            for key in list(logs or {}):
                for prefix in ("", "val_"):
                    if key.startswith(prefix + "classifier_"):
                        logs[prefix + key[len(prefix + "classifier_"):]] = logs.pop(key)

    return Callback()


def train_arrays(frames, positions, labels, n_classes, train_idx, val_idx, config: Config, run_dir: Path,
                 columns, *, progress: bool = True, callbacks=(), groups=None):
    """Train on preprocessed features; writes metrics.csv and the best weights into `run_dir`.

    Returns (history, best-weights tracker, epochs, batch size, seconds). Used by `fit` and
    by the training-speed benchmark (which brings its own features).
    """
    import keras

    from .models import build_model, set_statistics

    keras.utils.set_random_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    epochs = config.epochs or auto_epochs(len(train_idx))
    batch = (n_classes * config.batch_all_signs if config.batch_all_signs
             else auto_batch_size(len(train_idx), config.batch_size))

    model = build_model(config, n_classes)
    set_statistics(model, frames[train_idx])
    steps = max(1, math.ceil(len(train_idx) / batch))
    warmup = int(round(config.warmup_epochs * steps))
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=config.lr / 10 if warmup else config.lr,
        decay_steps=max(1, epochs * steps - warmup), alpha=0.01,
        warmup_target=config.lr if warmup else None, warmup_steps=warmup)
    optimizer = keras.optimizers.AdamW(learning_rate=schedule, weight_decay=config.weight_decay, clipnorm=1.0)
    optimizer.exclude_from_weight_decay(var_names=["bias", "gamma", "beta", "empty_embedding",
                                                   "landmark_weights", "embeddings", "mean", "std"])
    sign_loss = keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing)
    sign_metrics = ["accuracy", keras.metrics.TopKCategoricalAccuracy(k=min(5, n_classes), name="top5")]
    people = None
    trained = model
    if config.person_alignment > 0 and groups is not None:
        from .alignment import ALIGNMENT, scatter_loss, trainer

        _, people = np.unique(np.asarray(groups)[train_idx], return_inverse=True)
        trained = trainer(model, n_classes, int(people.max()) + 1)
        trained.compile(optimizer=optimizer, loss={"classifier": sign_loss, ALIGNMENT: scatter_loss},
                        loss_weights={"classifier": 1.0, ALIGNMENT: config.person_alignment},
                        metrics={"classifier": sign_metrics}, jit_compile=_use_xla())
    else:
        model.compile(optimizer=optimizer, loss=sign_loss, metrics=sign_metrics, jit_compile=_use_xla())

    rows = CACHE_ROWS[columns]
    batches = _make_sequence(frames[train_idx], positions[train_idx], labels[train_idx],
                             n_classes, batch, config, rows, rng, people=people)
    validation = None
    if len(val_idx):
        y = np.eye(n_classes, dtype=np.float32)[labels[val_idx]]
        validation = ({"frames": frames[val_idx], "positions": positions[val_idx]}, y)
        if people is not None:   # people never seen in training: their scatter is only logged; the sign decides
            validation = ({**validation[0], "label": y, "person": np.zeros((len(y), int(people.max()) + 1),
                                                                         np.float32)},
                          {"classifier": y, "alignment": np.zeros(len(y), np.float32)})

    best = _BestWeights(Path(run_dir) / WEIGHTS, validation is not None, model)
    callbacks = [*([_sign_metrics_as_usual()] if people is not None else []), _epoch_timer(len(batches) * batch),
                 keras.callbacks.CSVLogger(str(Path(run_dir) / "metrics.csv")), best.callback,
                 _Progress(epochs, progress).callback, *callbacks]
    started = time.perf_counter()
    history = trained.fit(batches, validation_data=validation, epochs=epochs, verbose=0,
                        callbacks=callbacks, batch_size=batch)
    return history, best, epochs, batch, time.perf_counter() - started


def fit(data_dir, out_run_dir, config=None, *, wandb: bool = False, progress: bool = True,
        cache_dir=None, workers: int | None = None) -> Path:
    """Train a model on a dataset folder; returns the run folder."""
    config = _as_config(config)
    data = datamod.load(data_dir)
    run_dir = Path(out_run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)

    columns = cache_columns(config.parts, config.pose)
    frames, positions, _ = datamod.features(data, columns, cache_dir, workers, progress, trim=config.trim)

    if config.fold is None:
        train_idx, val_idx = np.arange(len(data.samples)), np.array([], dtype=np.int64)
    else:
        folds = datamod.fold_assignment(data, config.folds, config.seed, quiet=not progress)
        k = int(folds.max()) + 1
        if not 0 <= config.fold < k:
            raise UserError(f"--fold must be between 0 and {k - 1} for this dataset ({k} folds)")
        train_idx, val_idx = np.flatnonzero(folds != config.fold), np.flatnonzero(folds == config.fold)

    saved = {**config.to_dict(), "_data": str(Path(data_dir).resolve()), "_classes": len(data.signs)}
    with atomic_write(run_dir / "config.json", "w") as f:
        json.dump(saved, f, indent=1)
        f.write("\n")
    write_label_map(run_dir / "sign_to_prediction_index_map.json", data.signs)
    _save_parity_sequences(data, val_idx if len(val_idx) else train_idx, run_dir, config.seed)
    extra = [_wandb_callback(run_dir, config, data.root)] if wandb else []
    history, best, epochs, batch, seconds = train_arrays(
        frames, positions, data.labels, len(data.signs), train_idx, val_idx, config, run_dir,
        columns, progress=progress, callbacks=extra, groups=data.participants)
    saved.update(_epochs_run=epochs, _batch_size_run=batch)
    with atomic_write(run_dir / "config.json", "w") as f:
        json.dump(saved, f, indent=1)
        f.write("\n")
    plot_metrics(run_dir)

    h = history.history
    summary = {
        "samples_train": int(len(train_idx)), "samples_validation": int(len(val_idx)),
        "participants_validation": sorted(int(p) for p in np.unique(data.participants[val_idx])),
        "epochs": epochs, "batch_size": batch, "best_epoch": best.best_epoch,
        "train_seconds": round(seconds, 2),
        "train_samples_per_second": round(float(np.median(h["samples_per_second"][1:] or
                                                          h["samples_per_second"])), 1),
        "final_train_accuracy": float(h["accuracy"][-1]),
    }
    if len(val_idx):
        i = best.best_epoch - 1
        summary.update(val_accuracy=float(h["val_accuracy"][i]), val_top5=float(h["val_top5"][i]),
                       val_loss=float(h["val_loss"][i]))
    with atomic_write(run_dir / "summary.json", "w") as f:
        json.dump(summary, f, indent=1)
        f.write("\n")
    return run_dir


def require_run(run_dir) -> Path:
    """`run_dir` as a Path; UserError unless it is a finished run folder (no TensorFlow needed)."""
    run_dir = Path(run_dir)
    if not (run_dir / "config.json").is_file() or not (run_dir / WEIGHTS).is_file():
        raise UserError(f"{run_dir}: not a finished run folder (needs config.json and {WEIGHTS})")
    return run_dir


def load_run(run_dir):
    """(config, signs, keras model with the run's best weights) of a run folder."""
    from asl_live.formats.gislr import labels_in_order, read_label_map

    run_dir = require_run(run_dir)
    config = Config.load(run_dir / "config.json")
    signs = labels_in_order(read_label_map(run_dir / "sign_to_prediction_index_map.json"))
    from .models import build_model

    model = build_model(config, len(signs))
    model.load_weights(run_dir / WEIGHTS)
    return config, signs, model
