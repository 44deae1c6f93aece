"""Run folder(s) -> `model.tflite` with the competition's contract, its label map, `submission.zip`.

Python API::

    from train.export import export
    paths = export("runs/mine", "models/mine")            # one model
    paths = export(["runs/t", "runs/fc"], "models/ens")   # ensemble: mean of the members' probabilities

The TFLite model takes `inputs` float32[frames, 543, 3] (NaN = missing) through
the signature `serving_default` and returns `outputs` float32[classes]; the
preprocessing (`train.preprocess.preprocess_tf`) is inside it. The Keras model
is saved through `keras.export.ExportArchive` as a SavedModel and converted from
there: wrapping a Keras 3 model in a plain tf.Module loses its variables.

Before anything is written to `out_dir`, the TFLite model is run on the real
sequences kept in the run folder and compared with the Keras model; a
difference beyond `PARITY_TOLERANCE` fails the export.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

from asl_live.errors import UserError
from asl_live.formats.gislr import atomic_write, write_label_map
from asl_live.formats.layout import DIMS, ROWS_PER_FRAME
from asl_live.model.runtime import outputs as run_tflite
from asl_live.model.runtime import signature_runner

from .fit import PARITY, load_run
from .models import landmark_group_weights
from .preprocess import selected_rows

PARITY_TOLERANCE = 1e-4   # max |p_tflite - p_keras| over all classes and sequences
PARITY_TOLERANCE_FLOAT16 = 1e-2
KAGGLE_SIZE_LIMIT = 40 * 2**20
KAGGLE_LATENCY_LIMIT_MS = 100.0


class ParityError(UserError):
    pass


def _members(run_dirs):
    members, signs, weights = [], None, []
    for run in run_dirs:
        config, run_signs, model = load_run(run)
        if signs is not None and run_signs != signs:
            raise UserError(f"{run}: its label map differs from {run_dirs[0]}'s; an ensemble needs the same signs")
        signs = run_signs
        members.append((model, selected_rows(config.parts, config.pose), config.trim))
        weights.append(landmark_group_weights(model, config))
    return members, signs, weights


def _parity_sequences(run_dirs) -> list[np.ndarray]:
    seqs = []
    for run in run_dirs:
        path = Path(run) / PARITY
        if path.is_file():
            with np.load(path) as z:
                seqs += [z[k] for k in sorted(z.files, key=lambda k: int(k[3:]))]
    unique = {s.tobytes(): s for s in seqs}  # an ensemble's runs may share their sequences
    seqs = list(unique.values())
    if not seqs:
        raise UserError(f"{run_dirs[0]}: no {PARITY} (real sequences for the parity check); re-run fit")
    if all(len(s) < 32 for s in seqs):
        seqs.append(np.concatenate(seqs))  # real frames, long enough for the mean-pooling path
    return seqs


def _with_handshape(members, letters_dir):
    """The one member's model with its last layer also reading the hand shape (train/handshape.py)."""
    from .handshape import HandshapeModel
    from .letters import load

    if len(members) != 1:
        raise UserError("--handshape takes one run, not an ensemble")
    model, rows, trim = members[0]
    letters, classes = load(letters_dir)
    return [(HandshapeModel(model, letters, len(classes), trim), rows, trim)]


def _member_probabilities(model, inputs, f, p):
    from .handshape import HandshapeModel

    if isinstance(model, HandshapeModel):
        return model(inputs, f, p)
    return model({"frames": f[None], "positions": p[None]}, training=False)[0]


def _keras_probabilities(members, frames: np.ndarray) -> np.ndarray:
    import tensorflow as tf

    from .preprocess import preprocess_tf

    out = []
    inputs = tf.constant(frames)
    for model, rows, trim in members:
        f, p = preprocess_tf(inputs, rows, trim=trim)
        out.append(np.asarray(_member_probabilities(model, inputs, f, p)))
    return np.mean(out, axis=0)


def _saved_model(members, path: Path) -> None:
    import keras
    import tensorflow as tf

    from .handshape import HandshapeModel
    from .preprocess import preprocess_tf

    archive = keras.export.ExportArchive()
    for model, _, _ in members:
        for m in (model.tracked() if isinstance(model, HandshapeModel) else [model]):
            archive.track(m)

    @tf.function(input_signature=[tf.TensorSpec([None, ROWS_PER_FRAME, DIMS], tf.float32, name="inputs")])
    def serve(inputs):
        probs = []
        for model, rows, trim in members:
            f, p = preprocess_tf(inputs, rows, trim=trim)
            probs.append(_member_probabilities(model, inputs, f, p))
        return {"outputs": tf.add_n(probs) / float(len(probs))}

    archive.add_endpoint("serving_default", serve)
    archive.write_out(str(path), verbose=False)


def _convert(saved: Path, float16: bool) -> bytes:
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved), signature_keys=["serving_default"])
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if float16:  # weights stored as float16 (half the size), computed in float32
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    return converter.convert()


def _calibration_samples(run_dirs, calibrate, signs):
    """(in-vocabulary, out-of-vocabulary) sequences no member trained on: --calibrate folders + validation folds."""
    from .calibrate import split_samples

    from .calibrate import UNKNOWN

    inside, outside = split_samples(calibrate or [], signs)
    for run in run_dirs:
        for ds, s in _validation_samples(run):  # an `unknown` class's held-out clips are other signs
            (outside if s.sign == UNKNOWN else inside).append((ds, s))
    return inside, outside


def _validation_samples(run) -> list:
    """The validation fold of a run folder (none for an `--all` run), re-derived as fit derived it."""
    from asl_live.formats.gislr import Dataset

    from . import data as datamod
    from .config import Config

    config = Config.load(Path(run) / "config.json")
    raw = json.loads((Path(run) / "config.json").read_text())
    root = raw.get("_data")
    if config.fold is None or not root or not Path(root).is_dir():
        return []
    data = datamod.load(root)
    folds = datamod.fold_assignment(data, config.folds, config.seed, quiet=True)
    ds = Dataset(data.root)
    return [(ds, data.samples[i]) for i in np.flatnonzero(folds == config.fold)]


def export(run_dirs, out_dir, *, float16: bool = False, progress: bool = True, calibrate=None,
           keep: float = 0.97, handshape=None) -> dict[str, Path]:
    """Write model.tflite, sign_to_prediction_index_map.json, submission.zip and export.json.

    With `calibrate` (dataset folders the model never trained on, holding signs of its
    vocabulary and others), also measure its "unknown" rule and write model.unknown.json
    (train/calibrate.py); the runs' validation folds add in-vocabulary sequences.
    """
    if isinstance(run_dirs, (str, os.PathLike)):
        run_dirs = [run_dirs]
    run_dirs = [Path(r) for r in run_dirs]
    if not run_dirs:
        raise UserError("export needs at least one run folder")
    out_dir = Path(out_dir)
    members, signs, group_weights = _members(run_dirs)
    if handshape is not None:
        members = _with_handshape(members, handshape)
    sequences = _parity_sequences(run_dirs)

    work = Path(tempfile.mkdtemp(prefix="asl-export-"))
    try:
        if progress:
            print("asl-train: saving the model and converting it to TFLite ...", file=sys.stderr)
        _saved_model(members, work / "saved_model")
        blob = _convert(work / "saved_model", float16)
        tolerance = PARITY_TOLERANCE_FLOAT16 if float16 else PARITY_TOLERANCE
        tmp_model = work / "model.tflite"
        tmp_model.write_bytes(blob)

        runner = signature_runner(tmp_model)
        worst, agree = 0.0, 0
        for seq in sequences:
            lite = run_tflite(runner, seq)
            ref = _keras_probabilities(members, seq)
            if lite.shape != (len(signs),):
                raise ParityError(f"TFLite output shape {lite.shape} is not ({len(signs)},)")
            worst = max(worst, float(np.abs(lite - ref).max()))
            agree += int(lite.argmax() == ref.argmax())
        if not worst <= tolerance:
            raise ParityError(f"parity check failed: TFLite and Keras differ by {worst:.2e} "
                              f"(> {tolerance:.0e}) on real sequences; nothing was written")

        timings = []
        for _ in range(5):
            for seq in sequences:
                t = time.perf_counter()
                run_tflite(runner, seq)
                timings.append((time.perf_counter() - t) * 1000)

        out_dir.mkdir(parents=True, exist_ok=True)
        model_path = out_dir / "model.tflite"
        with atomic_write(model_path) as f:
            f.write(blob)
        labels_path = write_label_map(out_dir / "sign_to_prediction_index_map.json", signs)
        zip_path = out_dir / "submission.zip"
        with atomic_write(zip_path) as f:
            with zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as z:
                z.write(model_path, "model.tflite")
        report = {
            "runs": [str(r) for r in run_dirs],
            "classes": len(signs),
            "size_bytes": len(blob),
            "size_limit_bytes": KAGGLE_SIZE_LIMIT,
            "latency_ms_median": round(float(np.median(timings)), 3),
            "latency_limit_ms": KAGGLE_LATENCY_LIMIT_MS,
            "latency_frames": [int(len(s)) for s in sequences],
            "parity_max_abs_diff": worst,
            "parity_top1_agreement": f"{agree}/{len(sequences)}",
            "parity_tolerance": tolerance,
            "float16": float16,
            "handshape": str(handshape) if handshape is not None else None,
            "landmark_group_weights": group_weights,
        }
        report_path = out_dir / "export.json"
        with atomic_write(report_path, "w") as f:
            json.dump(report, f, indent=1)
            f.write("\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if progress:
        size_mb = report["size_bytes"] / 2**20
        print(f"asl-train: {model_path}: {size_mb:.1f} MB (limit 40 MB), "
              f"{report['latency_ms_median']:.2f} ms per sequence median (limit 100 ms), "
              f"parity max diff {worst:.1e} on {len(sequences)} real sequences", file=sys.stderr)
    if report["size_bytes"] > KAGGLE_SIZE_LIMIT or report["latency_ms_median"] > KAGGLE_LATENCY_LIMIT_MS:
        print("asl-train: warning: over the competition's limits (40 MB, 100 ms); try --float16 "
              "or fewer ensemble members", file=sys.stderr)
    paths = {"model": model_path, "labels": labels_path, "submission": zip_path, "report": report_path}
    from asl_live.model.unknown_rule import sidecar_path

    stale = sidecar_path(model_path)
    if stale.is_file():
        stale.unlink()  # measured on the model this export replaced
    inside, outside = _calibration_samples(run_dirs, calibrate, signs)
    if inside and outside:
        from .calibrate import calibrate as measure

        measure(model_path, inside, outside, labels_path, keep, progress)
        paths["unknown_rule"] = stale
    elif progress:
        print("asl-train: no 'unknown' rule measured (needs held-out sequences of the model's signs and "
              "of other signs: --calibrate DIR); the app uses the rule set by the number of classes",
              file=sys.stderr)
    return paths
