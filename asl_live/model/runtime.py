"""Running a TFLite model file: the interpreter, its outputs as probabilities, its identity.

The bottom of `asl_live.model`: it imports nothing else of the app but errors and the frame
layout, so every other module of the model file (head, bank, unknown rule, classifier,
extend) can use it without an import circle.

Interpreter: `ai_edge_litert`, else `tflite_runtime`, else `tf.lite`. The first
two do not import TensorFlow; the last is only a fallback for machines that
have nothing else (it costs seconds of import time and megabytes of memory).
"""

from __future__ import annotations

import hashlib
import os

import numpy as np

from asl_live.errors import UserError
from asl_live.formats.layout import DIMS, ROWS_PER_FRAME

SIGNATURE = "serving_default"


def interpreter_class():
    """The TFLite Interpreter class of the first runtime installed, in order of preference."""
    try:
        from ai_edge_litert.interpreter import Interpreter
        return Interpreter
    except ImportError:
        pass
    try:
        from tflite_runtime.interpreter import Interpreter
        return Interpreter
    except ImportError:
        pass
    try:
        import tensorflow as tf
        return tf.lite.Interpreter
    except ImportError:
        raise UserError("no TFLite runtime installed: pip install ai-edge-litert") from None


def probabilities(out: np.ndarray) -> np.ndarray:
    """The model's outputs as probabilities: passed through if they already are, else softmax."""
    out = np.asarray(out, dtype=np.float64).reshape(-1)
    if np.all(out >= 0.0) and np.all(out <= 1.0) and abs(out.sum() - 1.0) < 1e-3:
        return out
    e = np.exp(out - out.max())
    return e / e.sum()


def file_sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class Runner:
    """`runner(frames) -> outputs`: a model held in memory (not yet written), one interpreter."""

    def __init__(self, blob: bytes):
        self._run = interpreter_class()(model_content=blob).get_signature_runner(SIGNATURE)

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        out = self._run(inputs=np.asarray(frames, np.float32).reshape(-1, ROWS_PER_FRAME, DIMS))
        return np.asarray(next(iter(out.values())), np.float64).reshape(-1)


def signature_runner(model_path: str | os.PathLike):
    """The model file's `serving_default` signature runner (`asl-train` checks and evaluates through it)."""
    return interpreter_class()(model_path=str(model_path)).get_signature_runner(SIGNATURE)


def outputs(runner, frames: np.ndarray) -> np.ndarray:
    """What a signature runner returns for one sequence float32[T, 543, 3]: its `outputs` tensor."""
    return np.asarray(runner(inputs=np.asarray(frames, np.float32))["outputs"])
