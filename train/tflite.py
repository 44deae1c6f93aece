"""Running a TFLite model with the competition's contract, without importing TensorFlow."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def interpreter(model_path):
    """A TFLite interpreter: ai_edge_litert, else tflite_runtime, else tf.lite (DESIGN.md)."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        try:
            from tflite_runtime.interpreter import Interpreter
        except ImportError:
            from tensorflow.lite import Interpreter
    return Interpreter(model_path=str(Path(model_path)))


def run(runner, frames: np.ndarray) -> np.ndarray:
    """Probabilities for one sequence float32[T, 543, 3] through `serving_default`."""
    return np.asarray(runner(inputs=np.asarray(frames, np.float32))["outputs"])
