"""Grow a model by new signs in seconds: its encoder frozen, a new head over the old and new signs.

    asl-train extend BASE --data NEW --out RUN [--export DIR]
    asl-train extend runs/encoder --data data/all --only-new --vocabulary hello,no --out RUN

The encoder is a trained run without its last layer: frames in, one embedding per
sequence out (the masked mean over time that feeds `classifier` in `train.models`).
Its weights stay as they are; only the head (softmax regression on the embeddings)
is learned, which takes a second where training the whole network takes half a
minute. So that the new model still knows the old signs, every model that can be
extended carries a *bank* (`bank.npz`): the embedding of every sequence its head
was trained on, with the class it was taught as (`labels`), what was really signed
(`signs`: an `unknown` example keeps its own sign name) and who signed it. The new
head is trained on the bank and the new sequences together:

- a new sign with a new name becomes a new class;
- a new sign with the name of a class is learned again from the old and new examples;
- a new sign that the bank holds as an `unknown` example (a sign the model was taught
  to reject) takes those examples back from `unknown`: more people behind it.

A base is a run folder (config.json, model.weights.h5, label map, bank.npz), or a
model file with its bundle beside it, `<stem>.extend/` (`export_bundle` writes one
next to every extended model, and the bundled model ships one), tied to that model
file by its sha256 as the "unknown" sidecar is. A model made elsewhere (a GISLR
competition model) has no encoder weights and no bank: it cannot be extended, and
`resolve_base` says so in one line.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asl_live.errors import UserError
from asl_live.gislr import atomic_write, gislr_name, write_label_map

from . import data as datamod
from .config import Config
from .fit import WEIGHTS, _save_parity_sequences, load_run
from .preprocess import cache_columns

BANK = "bank.npz"
BUNDLE_SUFFIX = ".extend"
BUNDLE_INFO = "extend.json"
UNKNOWN = "unknown"
IDLE = {"-", "idle", "IDLE"}   # idle-hands recordings of the MP_Data tutorials: one kind of non-sign
HEAD_C = 1.0                   # inverse L2 strength of the head (sklearn's default; see BENCHMARKS.md)


def bundle_dir(model_path) -> Path:
    p = Path(model_path)
    return p.with_name(p.stem + BUNDLE_SUFFIX)


# --------------------------------------------------------------------------- the bank

@dataclass
class Bank:
    embeddings: np.ndarray     # float32 [N, D]
    labels: np.ndarray         # str [N]: the class the head learns for it
    signs: np.ndarray          # str [N]: what was signed (an `unknown` example keeps its own name)
    participants: np.ndarray   # int64 [N]

    @classmethod
    def load(cls, path) -> "Bank":
        try:
            with np.load(path) as z:
                return cls(z["embeddings"].astype(np.float32), z["labels"].astype(str), z["signs"].astype(str),
                           z["participants"].astype(np.int64))
        except (OSError, KeyError, ValueError) as e:
            raise UserError(f"{path}: not a readable bank of embeddings ({e})") from None

    def save(self, path) -> Path:
        # float16 halves the file; the head's answers do not change (BENCHMARKS.md, "Teach").
        with atomic_write(path) as f:
            np.savez_compressed(f, embeddings=self.embeddings.astype(np.float16), labels=self.labels.astype(str),
                                signs=self.signs.astype(str), participants=self.participants)
        return Path(path)

    def __len__(self) -> int:
        return len(self.labels)

    def concat(self, other: "Bank") -> "Bank":
        return Bank(np.concatenate([self.embeddings, other.embeddings]),
                    np.concatenate([self.labels, other.labels]), np.concatenate([self.signs, other.signs]),
                    np.concatenate([self.participants, other.participants]))

    def taught(self, new_signs) -> "Bank":
        """The bank with the `unknown` examples of any of `new_signs` given back to that sign."""
        new = set(new_signs)
        back = (self.labels == UNKNOWN) & np.isin(self.signs, list(new))
        labels = np.where(back, self.signs, self.labels)
        return Bank(self.embeddings, labels, self.signs, self.participants)


# --------------------------------------------------------------------------- encoder

def encoder_of(model):
    """The Keras model up to the classifier's input: one embedding per sequence."""
    import keras

    return keras.Model(model.input, model.get_layer("classifier").input, name="encoder")


def embed(encoder, frames: np.ndarray, positions: np.ndarray, batch: int = 256) -> np.ndarray:
    out = [np.asarray(encoder({"frames": frames[i:i + batch], "positions": positions[i:i + batch]},
                              training=False)) for i in range(0, len(frames), batch)]
    return np.concatenate(out).astype(np.float32) if out else np.zeros((0, 0), np.float32)


def embed_dataset(encoder, config: Config, data: datamod.Data, progress: bool = True) -> np.ndarray:
    columns = cache_columns(config.parts, config.pose)
    frames, positions, _ = datamod.features(data, columns, None, None, progress, trim=config.trim)
    return embed(encoder, frames, positions)


# --------------------------------------------------------------------------- head

def fit_head(x: np.ndarray, labels: np.ndarray, classes: list[str], seed: int = 0, c: float = HEAD_C):
    """Softmax regression, classes weighted equally (5 new shots beside 500 bank examples):
    (kernel [D, C], bias [C]) in the order of `classes`."""
    from sklearn.linear_model import LogisticRegression

    y = np.array([classes.index(s) for s in labels])
    present = np.unique(y)
    head = LogisticRegression(C=c, class_weight="balanced", max_iter=2000, random_state=seed)
    head.fit(x, y)
    kernel = np.zeros((x.shape[1], len(classes)), np.float32)
    bias = np.full(len(classes), -30.0, np.float32)   # a class without examples is never the answer
    if len(present) == 2:  # sklearn keeps one weight vector for two classes
        w, b = head.coef_[0], head.intercept_[0]
        kernel[:, present[0]], kernel[:, present[1]] = -w / 2, w / 2
        bias[present[0]], bias[present[1]] = -b / 2, b / 2
    else:
        kernel[:, present] = head.coef_.T
        bias[present] = head.intercept_
    return kernel, bias


# --------------------------------------------------------------------------- base

def resolve_base(base, need_bank: bool = True) -> Path:
    """The run folder behind `base`: a run folder, or a model file / export folder with its bundle."""
    from asl_live.calibration import file_sha256

    base = Path(base)
    if base.is_dir() and (base / "config.json").is_file():
        run = base
    else:
        model = base / "model.tflite" if base.is_dir() else base
        if not model.is_file():
            raise UserError(f"{base}: no such model, export folder or run folder")
        run = bundle_dir(model)
        if not run.is_dir():
            raise UserError(f"{model}: cannot be extended: it has no {run.name}/ beside it (a model made "
                            "elsewhere, such as a GISLR competition model, brings neither its encoder's weights "
                            "nor the data its signs were learned from); teach with --fresh to learn the new "
                            "signs alone")
        info = _read_json(run / BUNDLE_INFO)
        if info.get("model_sha256") != file_sha256(model):
            raise UserError(f"{run}: written for another model file (sha256 differs from {model.name}'s); "
                            "teach with --fresh, or extend the model it was written for")
    for name in ("config.json", WEIGHTS, "sign_to_prediction_index_map.json", *([BANK] if need_bank else [])):
        if not (run / name).is_file():
            raise UserError(f"{run}: cannot be extended: no {name} (a run made by fit has no bank: "
                            "asl-train extend RUN --data ITS_DATA --only-new writes one)")
    return run


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise UserError(f"{path}: unreadable ({e})") from None


# --------------------------------------------------------------------------- extend

def dataset_bank(encoder, config: Config, roots, vocabulary=None, progress: bool = True) -> tuple[Bank, list]:
    """The embeddings of datasets' sequences, with their labels: GISLR spelling; with `vocabulary`,
    every sign outside it (and idle recordings) taught as `unknown`, its own name kept."""
    parts, loaded = [], []
    for root in roots:
        data = datamod.load(root)
        loaded.append(data)
        x = embed_dataset(encoder, config, data, progress)
        signs = np.array(["idle" if s.sign in IDLE else gislr_name(s.sign) for s in data.samples])
        labels = signs if vocabulary is None else np.where(np.isin(signs, list(vocabulary)), signs, UNKNOWN)
        parts.append(Bank(x, labels, signs, data.participants.astype(np.int64)))
    bank = parts[0]
    for b in parts[1:]:
        bank = bank.concat(b)
    return bank, loaded


def extend(base, data_roots, out_run, *, only_new: bool = False, vocabulary=None, seed: int = 0,
           progress: bool = True) -> Path:
    """Write a run folder: the base's encoder, a head over the base's signs and the new ones, the bank."""
    import keras

    from .models import build_model

    started = time.perf_counter()
    base_run = resolve_base(base, need_bank=not only_new)
    config, base_signs, base_model = load_run(base_run)
    encoder = encoder_of(base_model)
    new, datasets = dataset_bank(encoder, config, data_roots, vocabulary, progress)
    if only_new:
        bank, old_order = new, []
    else:
        old = Bank.load(base_run / BANK).taught(set(new.labels))
        bank, old_order = old.concat(new), [s for s in base_signs if s in set(old.labels)]
    if len(new) == 0:
        raise UserError(f"{', '.join(map(str, data_roots))}: no sequences to learn from")
    # Old classes keep their numbers; new ones follow in name order (a class that lost all its
    # examples to a taught sign, e.g. an `unknown` made only of them, is dropped).
    present = set(bank.labels)
    classes = [s for s in old_order if s in present] + sorted(present - set(old_order))
    if len(classes) < 2:
        raise UserError(f"a model needs at least two classes; the data gives {classes}")
    kernel, bias = fit_head(bank.embeddings, bank.labels, classes, seed)

    out = Path(out_run)
    out.mkdir(parents=True, exist_ok=True)
    model = build_model(config, len(classes))
    for layer in base_model.layers:
        if layer.name != "classifier" and layer.weights:
            model.get_layer(layer.name).set_weights(layer.get_weights())
    model.get_layer("classifier").set_weights([kernel, bias])
    model.save_weights(str(out / (WEIGHTS + ".tmp.weights.h5")))
    (out / (WEIGHTS + ".tmp.weights.h5")).replace(out / WEIGHTS)
    keras.backend.clear_session()
    saved = {**config.to_dict(), "fold": None, "_base": str(base_run.resolve()), "_classes": len(classes),
             "_data": [str(Path(r).resolve()) for r in data_roots], "_head_c": HEAD_C}
    with atomic_write(out / "config.json", "w") as f:
        json.dump(saved, f, indent=1)
        f.write("\n")
    write_label_map(out / "sign_to_prediction_index_map.json", classes)
    _save_parity_sequences(datasets[0], np.arange(len(datasets[0].samples)), out, seed)
    bank.save(out / BANK)
    if progress:
        counts = {s: int((bank.labels == s).sum()) for s in classes}
        print(f"asl-train: head over {len(classes)} classes {counts} on the encoder of {base_run} "
              f"in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return out


def export_bundle(run, out_dir, progress: bool = True) -> dict:
    """Export an extended run (train.export) and put its bundle beside the model, so it can be
    extended again.

    No "unknown" sidecar: the bank is the encoder's own training data, on which every
    answer is sure (cross-validated on it, the rule came out as max_prob >= 0.96, which
    rejects most signs of people never seen); the class-count rule, measured on held-out
    people, applies (BENCHMARKS.md, "Teach")."""
    from asl_live.calibration import file_sha256

    from .export import export

    run, out_dir = Path(run), Path(out_dir)
    paths = export(run, out_dir, progress=progress)
    model = paths["model"]
    bundle = bundle_dir(model)
    tmp = bundle.with_name(bundle.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name in ("config.json", WEIGHTS, "sign_to_prediction_index_map.json", BANK):
        shutil.copy2(run / name, tmp / name)
    with open(tmp / BUNDLE_INFO, "w") as f:
        json.dump({"model_sha256": file_sha256(model), "model": model.name}, f, indent=1)
        f.write("\n")
    shutil.rmtree(bundle, ignore_errors=True)
    tmp.replace(bundle)
    paths["bundle"] = bundle
    return paths
