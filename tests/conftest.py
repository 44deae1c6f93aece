"""Shared fixtures: small REAL TFLite models built with TensorFlow, fixture paths.

Only tests (and train/) may import TensorFlow; the app never does. The models
follow the competition contract (signature `serving_default`, `inputs`
float32[frames, 543, 3] with NaN -> `outputs` float32[classes]) and are fitted
in closed form on the real traduttore landmark fixture so that their answers
mean something, in a few seconds.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).parent.parent
CLIP = FIXTURES / "dpan_tractor.mp4"  # a real DPAN prompt video, sign "tractor"
MPDATA_NPZ = FIXTURES / "traduttore_mpdata_subset.npz"


def pytest_configure(config):
    """Before any test module imports cv2 or starts Xvfb: the system packages they need.

    Under pytest-xdist only the controller installs them (it configures before it starts the
    workers), so that two workers never run apt-get at once.
    """
    import signal

    # The Ctrl-C tests interrupt the app as a terminal would, so SIGINT must reach it. A command
    # started in the background (`cmd &` in a script) inherits SIGINT ignored, and so would every
    # app the tests start; a handler of ours is reset to the default in them instead.
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if hasattr(config, "workerinput"):
        return
    import system_packages

    system_packages.ensure()


# The files that take longest (minutes of TensorFlow training and MediaPipe on video), handed
# out first: with one file per worker, a long file started last would run alone at the end.
SLOW_FIRST = ("test_train_fit.py", "test_teach.py", "test_import_engine.py", "test_app.py", "test_bad_input.py")


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))   # stable: the rest keep their order


def pytest_xdist_auto_num_workers(config):
    """`-n auto`: one worker per usable core, at most 4 (each worker may load TensorFlow, ~1 GB)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cores, 4))


def _hand_features(frames: np.ndarray) -> np.ndarray:
    """Mean over frames of the hand points (NaN -> 0): the numpy twin of the TF graph below."""
    from asl_live.formats.layout import HANDS

    x = np.nan_to_num(frames[:, HANDS, :], nan=0.0)
    return x.reshape(len(frames), -1).mean(axis=0)


def _fit_linear(signs_to_frames: list[tuple[str, np.ndarray]], labels: list[str]):
    """Ridge regression onto one-hot targets: weights [126, classes], bias [classes]."""
    X = np.stack([_hand_features(f) for _, f in signs_to_frames])
    Y = np.zeros((len(X), len(labels)))
    for i, (s, _) in enumerate(signs_to_frames):
        Y[i, labels.index(s)] = 1.0
    mu = X.mean(axis=0)
    Xc = X - mu
    W = np.linalg.solve(Xc.T @ Xc + 1e-3 * np.eye(X.shape[1]), Xc.T @ (Y - Y.mean(axis=0)))
    b = Y.mean(axis=0) - mu @ W
    # Sharpen the regression scores into logits so that confident answers exist.
    return (W * 8.0).astype(np.float32), (b * 8.0).astype(np.float32)


def build_tflite(path: Path, W: np.ndarray, b: np.ndarray, input_name="inputs", output_name="outputs",
                 signature="serving_default") -> Path:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    from asl_live.formats.layout import HANDS

    class HandMeanDense(tf.Module):
        def __init__(self):
            super().__init__()
            self.w = tf.Variable(W, trainable=False)
            self.b = tf.Variable(b, trainable=False)

        @tf.function(input_signature=[tf.TensorSpec([None, 543, 3], tf.float32, name=input_name)])
        def __call__(self, x):
            x = tf.where(tf.math.is_nan(x), tf.zeros_like(x), x)
            hands = tf.gather(x, HANDS.tolist(), axis=1)
            feat = tf.reduce_mean(tf.reshape(hands, [-1, len(HANDS) * 3]), axis=0)
            return {output_name: tf.linalg.matvec(self.w, feat, transpose_a=True) + self.b}

    module = HandMeanDense()
    fn = module.__call__.get_concrete_function()
    conv = tf.lite.TFLiteConverter.from_concrete_functions([fn], module)
    data = conv.convert()
    if signature != "serving_default":
        # Re-export under another signature key to get a model with a foreign contract.
        import tempfile

        with tempfile.TemporaryDirectory() as d:
            tf.saved_model.save(module, d, signatures={signature: fn})
            data = tf.lite.TFLiteConverter.from_saved_model(d, signature_keys=[signature]).convert()
    path.write_bytes(data)
    return path


def traduttore_sequences() -> list[tuple[str, np.ndarray]]:
    """The 144 real traduttore sequences as (sign, float32[20, 543, 3])."""
    from asl_live.formats.mpdata import to_gislr

    z = np.load(MPDATA_NPZ, allow_pickle=False)
    return [(str(s), to_gislr(v)) for s, v in zip(z["sign"], z["vectors"])]


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> tuple[Path, Path]:
    """(model.tflite, label map) of a real 6-sign TFLite model fitted on the traduttore fixture."""
    from asl_live.formats.gislr import write_label_map

    d = tmp_path_factory.mktemp("tiny_model")
    seqs = traduttore_sequences()
    labels = sorted({s for s, _ in seqs})
    W, b = _fit_linear(seqs, labels)
    model = build_tflite(d / "model.tflite", W, b)
    labels_path = write_label_map(d / "labels.json", labels)
    return model, labels_path


@pytest.fixture(scope="session")
def wrong_signature_model(tmp_path_factory) -> Path:
    """A real TFLite model whose signature is not the competition's (`predict(x) -> y`)."""
    d = tmp_path_factory.mktemp("wrong_sig")
    W = np.zeros((126, 6), np.float32)
    b = np.zeros(6, np.float32)
    return build_tflite(d / "wrong.tflite", W, b, input_name="x", output_name="y", signature="predict")


@pytest.fixture(scope="session")
def clip() -> Path:
    return CLIP


@pytest.fixture(scope="session")
def clip_landmarks() -> tuple[np.ndarray, float]:
    """The real MediaPipe Holistic landmarks of the fixture clip (float32[109, 543, 3]) and its fps."""
    from asl_live.capture.sources import video_landmarks

    return video_landmarks(CLIP)


def run_cli(*args, env=None, timeout=300, stdin=None):
    """Run `python -m asl_live ARGS` in a fresh process; returns CompletedProcess (text)."""
    import subprocess

    e = dict(os.environ)
    e.pop("DISPLAY", None)
    e.pop("WAYLAND_DISPLAY", None)
    if env:
        e.update(env)
    return subprocess.run([sys.executable, "-m", "asl_live", *map(str, args)], capture_output=True,
                          text=True, env=e, timeout=timeout, cwd=REPO, stdin=stdin)
