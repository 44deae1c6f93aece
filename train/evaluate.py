"""Accuracy of a TFLite model (the competition's contract) on a dataset folder.

Every sample goes through the model exactly as the app and Kaggle run it: the raw
parquet frames into `serving_default`. The result is one dict (what `--json`
prints): `top1`, `top5`, `n`, `per_participant`, `per_sign`, the landmark group
weights when `export.json` beside the model has them, and the confusion-matrix
PNG path.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from asl_live.errors import UserError
from asl_live.formats.gislr import Dataset, labels_in_order, read_label_map

from . import data as datamod
from asl_live.model.runtime import outputs as run_tflite


def _load_model(model_path: Path):
    from asl_live.model.runtime import signature_runner

    if not model_path.is_file():
        raise UserError(f"{model_path}: no such model file")
    try:
        runner = signature_runner(model_path)
    except (ValueError, RuntimeError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise UserError(f"{model_path}: not a TFLite model with a 'serving_default' signature ({first})") from None
    details = runner.get_input_details()
    if "inputs" not in details:
        raise UserError(f"{model_path}: its signature has no 'inputs' (has {', '.join(details)})")
    return runner


def _accuracy(hit1, hit5) -> dict:
    n = int(len(hit1))
    return {"top1": float(np.mean(hit1)) if n else 0.0, "top5": float(np.mean(hit5)) if n else 0.0, "n": n}


def evaluate(model_path, data_dir, *, labels=None, figures=None, progress: bool = True) -> dict:
    from tqdm import tqdm

    model_path = Path(model_path)
    runner = _load_model(model_path)
    labels_path = Path(labels) if labels else model_path.parent / "sign_to_prediction_index_map.json"
    model_signs = labels_in_order(read_label_map(labels_path))
    data = datamod.load(data_dir)
    unknown = sorted({s.sign for s in data.samples} - set(model_signs))
    if unknown:
        raise UserError(f"the model does not know sign(s) {', '.join(map(repr, unknown[:5]))}"
                        f"{' ...' if len(unknown) > 5 else ''} used in {data.root}")
    index = {s: i for i, s in enumerate(model_signs)}
    truth = np.array([index[s.sign] for s in data.samples])
    ds = Dataset(data.root)

    probs = np.zeros((len(truth), len(model_signs)), np.float32)
    for i, sample in enumerate(tqdm(data.samples, desc="evaluate", unit="seq", file=sys.stderr,
                                    disable=not progress, dynamic_ncols=True)):
        out = run_tflite(runner, ds.read(sample))
        if out.shape != (len(model_signs),):
            raise UserError(f"{model_path}: outputs has shape {out.shape}, the label map has "
                            f"{len(model_signs)} signs")
        probs[i] = out
    order = np.argsort(-probs, axis=1)
    hit1 = order[:, 0] == truth
    hit5 = (order[:, :5] == truth[:, None]).any(axis=1)

    result = _accuracy(hit1, hit5)
    result["per_participant"] = {
        str(p): _accuracy(hit1[data.participants == p], hit5[data.participants == p])
        for p in sorted(np.unique(data.participants).tolist())}
    present = sorted(set(truth.tolist()))
    result["per_sign"] = {model_signs[c]: _accuracy(hit1[truth == c], hit5[truth == c]) for c in present}
    report = model_path.parent / "export.json"
    weights = None
    if report.is_file():
        try:
            weights = json.loads(report.read_text()).get("landmark_group_weights")
        except (OSError, json.JSONDecodeError):
            weights = None
    result["landmark_group_weights"] = weights
    result["confusion_png"] = str(_confusion_png(truth, order[:, 0], model_signs, present,
                                                 Path(figures) if figures else model_path.parent))
    return result


def _confusion_png(truth, pred, signs, present, folder: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = len(present)
    where = {c: i for i, c in enumerate(present)}
    matrix = np.zeros((k, k + 1), np.int64)  # last column: predicted a sign absent from the data
    for t, p in zip(truth, pred):
        matrix[where[t], where.get(p, k)] += 1
    rows = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    size = min(4 + 0.25 * k, 40)
    fig, ax = plt.subplots(figsize=(size, size * 0.9), dpi=100)
    im = ax.imshow(rows[:, :k], cmap="Blues", vmin=0, vmax=1)
    if k <= 40:
        names = [signs[c] for c in present]
        ax.set_xticks(range(k), names, rotation=90)
        ax.set_yticks(range(k), names)
        if k <= 15:
            for i in range(k):
                for j in range(k):
                    if matrix[i, j]:
                        ax.text(j, i, str(matrix[i, j]), ha="center", va="center",
                                color="white" if rows[i, j] > 0.5 else "black", fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"confusion (row-normalised), n={len(truth)}")
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "confusion.png"
    fig.savefig(path)
    plt.close(fig)
    return path


def print_report(result: dict) -> None:
    print(f"top-1 {result['top1']:.4f}  top-5 {result['top5']:.4f}  n={result['n']}")
    print("\nper participant:")
    for p, r in result["per_participant"].items():
        print(f"  {p:>12}  top-1 {r['top1']:.3f}  top-5 {r['top5']:.3f}  n={r['n']}")
    print("\nper sign:")
    for s, r in sorted(result["per_sign"].items(), key=lambda kv: kv[1]["top1"]):
        print(f"  {s:>16}  top-1 {r['top1']:.3f}  top-5 {r['top5']:.3f}  n={r['n']}")
    if result.get("landmark_group_weights"):
        print("\nlandmark group weights (softmax of the learned part weights):")
        for i, member in enumerate(result["landmark_group_weights"]):
            if member:
                shown = ", ".join(f"{k} {100 * v:.1f}%" for k, v in member.items())
                print(f"  model {i}: {shown}")
    print(f"\nconfusion matrix: {result['confusion_png']}")
