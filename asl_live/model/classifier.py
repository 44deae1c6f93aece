"""A TFLite sign classifier with the GISLR competition's contract.

The model's signature `serving_default` takes `inputs`, float32[frames, 543, 3]
with NaN for missing landmarks, and returns `outputs`, float32[classes]. All
preprocessing lives inside the model, so any competition model runs here. The
label map (`{sign: index}`) must have exactly one entry per output class.

Interpreter: `ai_edge_litert`, else `tflite_runtime`, else `tf.lite`. The first
two do not import TensorFlow; the last is only a fallback for machines that
have nothing else (it costs seconds of import time and megabytes of memory).
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asl_live.errors import UserError
from asl_live.formats.layout import DIMS, ROWS_PER_FRAME, hands_visible
from asl_live.model import UNKNOWN
from asl_live.model.head import without_head
from asl_live.model.runtime import SIGNATURE, interpreter_class, probabilities
from asl_live.model.unknown_rule import rule_for_model

from asl_live.bundled import LABELS as DEFAULT_LABELS
from asl_live.bundled import MODEL as DEFAULT_MODEL

DEFAULT_THRESHOLD = None  # no --threshold: the model's sidecar, else the class-count rule (unknown_rule.py)
TOP_K = 5


@dataclass(frozen=True)
class Prediction:
    sign: str                      # the label, or "unknown" when the model's rejection rule says so
    score: float                   # best class probability, 0..1
    top: list[tuple[str, float]]   # top-5 (sign, probability), best first; real labels even when unknown


class Classifier:
    """One warm interpreter; `classifier(frames) -> Prediction`."""

    def __init__(self, model_path: str | os.PathLike = DEFAULT_MODEL,
                 labels_path: str | os.PathLike = DEFAULT_LABELS,
                 threshold: float | None = DEFAULT_THRESHOLD, warn=None):
        """`threshold`: max-probability threshold overriding the model's own rule (`--threshold`).

        `warn(line)` is told about a sidecar that belongs to another model file.
        """
        from asl_live.formats.gislr import labels_in_order, read_label_map

        model_path, labels_path = Path(model_path), Path(labels_path)
        if threshold is not None and not 0.0 <= threshold <= 1.0:
            raise UserError(f"threshold {threshold} is not between 0 and 1")
        self.model_path = model_path
        if model_path.is_dir():
            raise UserError(f"{model_path}: is a folder, not a TFLite model file")
        if not model_path.is_file():
            hint = " (the bundled model is missing from this install; pass --model PATH)" \
                if model_path == DEFAULT_MODEL else ""
            raise UserError(f"{model_path}: no such model file{hint}")
        with open(model_path, "rb") as f:
            head = f.read(8)
        # A TFLite flatbuffer carries the file identifier "TFL3" at bytes 4..8.
        if len(head) < 8 or head[4:8] != b"TFL3":
            raise UserError(f"{model_path}: not a TFLite model (no TFL3 identifier)")
        try:
            # The runtime's default is one thread; a sign is classified while Holistic waits for
            # the next frame, so the other cores are free (2 threads: 3.0 -> 2.0 ms on 2 cores).
            self._load(max(1, min(4, os.cpu_count() or 1)))
        except (ValueError, RuntimeError) as e:
            raise UserError(f"{model_path}: the TFLite runtime cannot load it "
                            f"({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None
        sigs = self._interpreter.get_signature_list()
        sig = sigs.get(SIGNATURE)
        if sig is None or list(sig.get("inputs", [])) != ["inputs"] or list(sig.get("outputs", [])) != ["outputs"]:
            found = "; ".join(f"{k}({', '.join(v.get('inputs', []))}) -> {', '.join(v.get('outputs', []))}"
                              for k, v in sigs.items()) or "none"
            raise UserError(f"{model_path}: expected signature {SIGNATURE}(inputs) -> outputs "
                            f"(GISLR contract), found {found}")
        in_detail = self._runner.get_input_details()["inputs"]
        if in_detail["dtype"] != np.float32 or len(in_detail["shape"]) != 3 or \
                tuple(in_detail["shape"][1:]) != (ROWS_PER_FRAME, DIMS):
            raise UserError(f"{model_path}: input 'inputs' must be float32[frames, 543, 3], "
                            f"got {np.dtype(in_detail['dtype']).name}{list(in_detail['shape'])}")
        # Warm the interpreter (first invoke allocates) and learn the number of classes.
        warm = np.zeros((16, ROWS_PER_FRAME, DIMS), np.float32)
        try:
            out = self._invoke(warm)
        except Exception as e:  # the runtime raises RuntimeError/ValueError with long native messages
            raise UserError(f"{model_path}: the model fails on a [16, 543, 3] input "
                            f"({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None
        self.num_classes = out.size
        label_map = read_label_map(labels_path)
        if len(label_map) != self.num_classes:
            raise UserError(f"{labels_path}: {len(label_map)} labels, but {model_path.name} "
                            f"has {self.num_classes} outputs")
        self.labels = labels_in_order(label_map)
        self.rule = rule_for_model(model_path, self.num_classes, threshold, warn, self.labels)
        if self.rule.needs_embedding:
            # The same network cut before its last layer (`head.without_head`): one invoke gives
            # the embedding, the last layer is applied here (to 1e-4 of the file's own, checked
            # when it was written), so the rule and the answer come from the same pass.

            self._blob, self._kernel, self._bias = without_head(model_path.read_bytes(), str(model_path))
            self._kernel, self._bias = self._kernel.astype(np.float64), self._bias.astype(np.float64)
            self._load(max(1, min(4, os.cpu_count() or 1)))
            self._invoke(warm)

    _blob = None   # the model without its last layer, when the rule reads the embedding

    def _load(self, threads: int) -> None:
        source = {"model_content": self._blob} if self._blob is not None else {"model_path": str(self.model_path)}
        self._interpreter = interpreter_class()(**source, num_threads=threads)
        # The runner only where the signature exists: its absence gets its own message below.
        has = SIGNATURE in self._interpreter.get_signature_list()
        self._runner = self._interpreter.get_signature_runner(SIGNATURE) if has else None

    def twin(self, threads: int = 1) -> "Classifier":
        """The same model, labels and rule on an interpreter of its own, for another thread.

        A TFLite interpreter must not be invoked from two threads at once: the window
        guesses in its drawing thread while the pipeline's thread classifies finished
        signs. One thread by default, so guesses leave the other cores to Holistic.
        """
        twin = copy.copy(self)
        twin._load(threads)
        twin._invoke(np.zeros((16, ROWS_PER_FRAME, DIMS), np.float32))  # the first invoke allocates
        return twin

    def _invoke(self, frames: np.ndarray) -> np.ndarray:
        # The signature runner resizes the input tensor to this call's frame count.
        return self._runner(inputs=frames)["outputs"]

    def outputs(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """(probabilities [C], the embedding [D] when the rule reads it, else None)."""
        frames = np.ascontiguousarray(frames, dtype=np.float32)
        if frames.ndim != 3 or frames.shape[1:] != (ROWS_PER_FRAME, DIMS) or len(frames) == 0:
            raise ValueError(f"frames must be float32[T>0, {ROWS_PER_FRAME}, {DIMS}], got {frames.shape}")
        out = self._invoke(frames)
        if self._blob is None:
            return probabilities(out), None
        embedding = np.asarray(out, np.float64).reshape(-1)
        return probabilities(embedding @ self._kernel + self._bias), embedding

    def probabilities(self, frames: np.ndarray) -> np.ndarray:
        return self.outputs(frames)[0]

    def predict(self, probs: np.ndarray, embedding: np.ndarray | None = None) -> Prediction:
        order = np.argsort(probs)[::-1][:TOP_K]
        top = [(self.labels[i], float(probs[i])) for i in order]
        best, score = top[0]
        return Prediction(best if self.rule.keeps(probs, embedding) else UNKNOWN, score, top)

    def __call__(self, frames: np.ndarray) -> Prediction:
        pred = self.predict(*self.outputs(frames))
        if pred.sign != UNKNOWN and not has_hand(frames):
            # No hand in any frame is no sign, whatever a model trained on signs makes of a
            # body at rest (the shipped model said `hello` to idle webcam recordings).
            return Prediction(UNKNOWN, pred.score, pred.top)
        return pred


def has_hand(frames: np.ndarray) -> bool:
    """Did MediaPipe see a hand in at least one frame?"""
    return bool(hands_visible(frames).any())
