"""The letters model: one hand's shape -> a letter of the ASL manual alphabet.

`asl-train letters --data DIR [DIR ...] --out OUT` trains it on GISLR datasets
(e.g. made by `asl-train import-mpdata` from the fingerspelling MP_Data sets, one
dataset per source) and writes `letters.tflite` and `letters_map.json` with the
competition's contract: `serving_default(inputs float32[frames, 543, 3] with NaN)
-> outputs float32[letters]`. `--holdout DIR` also measures it on a dataset it
never saw (what `benchmarks/bench_letters.py` does per source).

Why it looks like this:
- **The hand's own frame.** Points relative to the wrist, divided by the palm's
  size (the mean wrist-to-knuckle length, in x and y): the same for any position
  in the picture, any hand size and any distance. Orientation is kept, since it
  tells letters apart (H from U, G and P from Q and K).
- **Either hand.** No source records which hand it is, and a selfie view swaps
  them. The model is trained on both mirror images, and the exported model
  averages its answers for the hand and its mirror image, so its output is the
  same, exactly, for a left and a right hand.
- **One frame at a time, then the mean.** A small MLP on one frame's hand shape (x, y and the 210 point distances)
  (0.05 ms in TFLite); over a clip, the mean of its per-frame probabilities where a
  hand was seen. The live speller (`asl_live.spelling`) feeds one frame.
- **Which hand, in a frame with two**: the one whose wrist is higher in the
  picture (the spelling hand is raised; the other rests).
- Augmentation stands in for recording settings that the sources do not cover:
  rotation in the picture (+-15 deg), x/y aspect (the tutorial sets' x and y are
  fractions of a 300x360 crop, a webcam's of 640x480), depth scale and jitter.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from asl_live.layout import DIMS, LEFT_HAND, RIGHT_HAND, ROWS_PER_FRAME

WRIST = 0
KNUCKLES = (5, 9, 13, 17)  # index, middle, ring, pinky bases: the palm's size
EPS = 1e-4
# Depth: MediaPipe's hand z is relative to the wrist but its scale differs between trackers
# (Hands, Holistic, the web Hand Landmarker); the benchmark measures with and without it.
PAIRS = True  # the 210 pairwise distances too: mean LOSO recall 0.780 with, 0.737 without (BENCHMARKS.md)
USE_Z = False  # measured: mean LOSO recall 0.737 without z, 0.716 with (BENCHMARKS.md)
TUTORIAL_FRAMES = (0, 10, 20)  # of a 30-frame "one photo" sequence: frames that differ by tracking jitter


# --- the hand's own frame (keras.ops: the same code in training and in the TFLite graph)

def hand_shape(hand):
    """float32[N, 21, 3] raw image coordinates -> float32[N, 63] in the hand's own frame."""
    from keras import ops

    local = hand - hand[:, WRIST:WRIST + 1, :]
    knuckles = ops.take(local, list(KNUCKLES), axis=1)[..., :2]
    palm = ops.mean(ops.sqrt(ops.sum(ops.square(knuckles), axis=-1)), axis=1)  # [N]
    local = local / ops.maximum(palm, EPS)[:, None, None]
    if not USE_Z:
        local = local * ops.convert_to_tensor(np.array([1.0, 1.0, 0.0], np.float32))
    flat = ops.reshape(local, (-1, 21 * 3))
    if not PAIRS:
        return flat
    # every pair's distance (x, y), in palm sizes: where the thumb sits against each finger
    a, b = np.triu_indices(21, 1)
    d = ops.take(local, a.tolist(), axis=1)[..., :2] - ops.take(local, b.tolist(), axis=1)[..., :2]
    return ops.concatenate([flat, ops.sqrt(ops.sum(ops.square(d), axis=-1) + 1e-8)], axis=-1)


def mirror(hand):
    """The mirror image of a hand (x -> -x; the hand's frame is wrist-relative, so any flip will do)."""
    from keras import ops

    return ops.stack([-hand[..., 0], hand[..., 1], hand[..., 2]], axis=-1)


def select_hand(frames):
    """float32[T, 543, 3] with NaN -> (hand float32[T, 21, 3] with NaN as 0, seen bool[T]).

    Per frame: the hand seen (its wrist not NaN), or of two the one with the higher wrist.
    """
    from keras import ops

    left = frames[:, LEFT_HAND.start:LEFT_HAND.stop, :]
    right = frames[:, RIGHT_HAND.start:RIGHT_HAND.stop, :]

    def usable(h):
        return ops.all(ops.logical_not(ops.isnan(h)), axis=(1, 2))

    ok_l, ok_r = usable(left), usable(right)
    left = ops.where(ok_l[:, None, None], left, 0.0)
    right = ops.where(ok_r[:, None, None], right, 0.0)
    left_higher = left[:, WRIST, 1] < right[:, WRIST, 1]
    take_left = ops.logical_and(ok_l, ops.logical_or(ops.logical_not(ok_r), left_higher))
    hand = ops.where(take_left[:, None, None], left, right)
    return hand, ops.logical_or(ok_l, ok_r)


def build_model(classes: int, units: int = 256, dropout: float = 0.2):
    import keras
    from keras import layers

    inp = keras.Input((21, 3), name="hand")
    x = layers.Lambda(hand_shape, name="hand_shape")(inp)
    for i in range(2):
        x = layers.Dense(units, activation="gelu", name=f"dense{i}")(x)
        x = layers.Dropout(dropout)(x)
    out = layers.Dense(classes, activation="softmax", name="letter")(x)
    return keras.Model(inp, out, name="letters")


def symmetric_probabilities(model, hand):
    """The model's answer for a hand and its mirror image, averaged: the same for either hand."""
    return (model(hand, training=False) + model(mirror(hand), training=False)) / 2.0


# --- data

def load_hands(dataset_dir, tutorial_frames=TUTORIAL_FRAMES, first_only: bool = False):
    """A GISLR dataset -> (hands float32[N, 21, 3], letters [N], group ids [N], participant [N]).

    Sequences of 30 frames (the tutorial sets: one still photo, tracked 30 times) give the
    frames in `tutorial_frames`, or frame 0 with `first_only`; all others every frame with a hand.
    `group` is the sequence: frames of one sequence never go to both sides of a split.
    """
    from asl_live.gislr import Dataset
    from asl_live.errors import UserError

    ds = Dataset(dataset_dir)
    if not ds.train_csv.is_file():
        raise UserError(f"{dataset_dir}: no train.csv (make one with asl-train import-mpdata)")
    hands, letters, groups, people = [], [], [], []
    for s in ds.samples():
        frames = ds.read(s)
        if first_only:
            pick = [0]
        elif len(frames) == 30:
            pick = list(tutorial_frames)
        else:
            pick = range(len(frames))
        for i in pick:
            f = frames[i]
            for rows in (RIGHT_HAND, LEFT_HAND):
                h = f[rows]
                if not np.isnan(h).any():
                    hands.append(h)
                    letters.append(s.sign.strip().lower())
                    groups.append(s.sequence_id)
                    people.append(s.participant_id)
                    break
    return (np.asarray(hands, np.float32).reshape(-1, 21, 3), np.asarray(letters),
            np.asarray(groups), np.asarray(people))


def augment(hands: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random mirror, in-picture rotation, aspect, size, depth scale and jitter, per hand."""
    n = len(hands)
    h = hands - hands[:, :1]
    flip = rng.random(n) < 0.5
    h[flip, :, 0] *= -1
    a = np.deg2rad(rng.uniform(-15, 15, n))
    c, s = np.cos(a), np.sin(a)
    x, y = h[..., 0].copy(), h[..., 1].copy()
    h[..., 0] = c[:, None] * x - s[:, None] * y
    h[..., 1] = s[:, None] * x + c[:, None] * y
    aspect = np.exp(rng.uniform(-0.25, 0.25, n))
    h[..., 0] *= aspect[:, None]
    h[..., 2] *= np.exp(rng.uniform(-0.4, 0.4, n))[:, None]
    h *= np.exp(rng.uniform(-0.5, 0.5, n))[:, None, None]
    palm = np.linalg.norm(h[:, list(KNUCKLES), :2], axis=-1).mean(axis=1)
    h += rng.normal(0, 0.03, h.shape) * palm[:, None, None]
    return (h + rng.uniform(0.2, 0.8, (n, 1, 3)) * np.array([1, 1, 0])).astype(np.float32)


def fit(hands, letters, classes: list[str], epochs: int = 60, seed: int = 0, progress: bool = False):
    """Train on (hands, letters); each source/letter weighted so every letter counts the same."""
    import keras

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    index = {c: i for i, c in enumerate(classes)}
    y = np.array([index[l] for l in letters])
    counts = np.bincount(y, minlength=len(classes)).astype(np.float64)
    weight = (len(y) / (len(classes) * np.maximum(counts, 1)))[y].astype(np.float32)
    model = build_model(len(classes))
    steps = max(1, len(y) // 128) * epochs
    lr = keras.optimizers.schedules.CosineDecay(2e-3, steps)
    model.compile(keras.optimizers.AdamW(lr, weight_decay=1e-4),
                  "sparse_categorical_crossentropy")
    for _ in range(epochs):
        model.fit(augment(hands, rng), y, sample_weight=weight, batch_size=128, epochs=1,
                  shuffle=True, verbose=1 if progress else 0)
    return model


def predict(model, hands) -> np.ndarray:
    """Symmetric probabilities float[N, classes] (what the TFLite model gives for one frame)."""
    return np.asarray(symmetric_probabilities(model, np.asarray(hands, np.float32)))


def recall_report(truth, predicted, classes) -> dict:
    """Per-letter recall over the letters present in `truth`, their mean, and the confusions."""
    per = {}
    confusions = {}
    for c in classes:
        m = truth == c
        if not m.any():
            continue
        per[c] = float((predicted[m] == c).mean())
        wrong, n = np.unique(predicted[m][predicted[m] != c], return_counts=True)
        confusions[c] = {str(w): int(k) for w, k in sorted(zip(wrong, n), key=lambda t: -t[1])}
    return {"mean_recall": float(np.mean(list(per.values()))) if per else float("nan"),
            "recall": per, "confusions": confusions, "samples": int(len(truth))}


# --- export

def export(model, classes: list[str], out_dir) -> dict:
    """letters.tflite (the competition's contract) and letters_map.json into `out_dir`."""
    import keras
    import tensorflow as tf

    from asl_live.gislr import write_label_map

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    archive = keras.export.ExportArchive()
    archive.track(model)
    n = len(classes)

    @tf.function(input_signature=[tf.TensorSpec([None, ROWS_PER_FRAME, DIMS], tf.float32, name="inputs")])
    def serve(inputs):
        hand, seen = select_hand(inputs)
        probs = symmetric_probabilities(model, hand)
        w = tf.cast(seen, tf.float32)[:, None]
        total = tf.reduce_sum(w)
        mean = tf.reduce_sum(probs * w, axis=0) / tf.maximum(total, 1.0)
        # no hand in any frame: every letter equally likely (the app's rule then says unknown)
        return {"outputs": tf.where(total > 0, mean, tf.fill([n], 1.0 / n))}

    archive.add_endpoint("serving_default", serve)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        archive.write_out(tmp, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(tmp, signature_keys=["serving_default"])
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        lite = converter.convert()
    model_path = out_dir / "letters.tflite"
    model_path.write_bytes(lite)
    labels_path = write_label_map(out_dir / "letters_map.json", {c: i for i, c in enumerate(classes)})
    return {"model": model_path, "labels": labels_path}


def build_parser():
    from asl_live.cli import ArgumentParser

    p = ArgumentParser(prog="asl-train letters",
                       description="Train the fingerspelling letters model on GISLR datasets of one-hand "
                                   "letter frames; write letters.tflite + letters_map.json.")
    p.add_argument("--data", nargs="+", required=True, metavar="DIR", help="training datasets")
    p.add_argument("--out", required=True, metavar="DIR", help="where letters.tflite goes")
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--seed", type=int, default=0)
    return p


def main(argv=None) -> int:
    from asl_live.errors import UserError
    from asl_live.gislr import writable_folder

    args = build_parser().parse_args(argv)
    out = writable_folder(args.out, "output folder")
    parts = [load_hands(d) for d in args.data]
    hands = np.concatenate([p[0] for p in parts])
    letters = np.concatenate([p[1] for p in parts])
    if len(hands) == 0:
        raise UserError("no frames with a hand in the given datasets")
    classes = sorted(set(letters))
    model = fit(hands, letters, classes, epochs=args.epochs, seed=args.seed)
    paths = export(model, classes, out)
    # parity: the TFLite model against Keras on training frames, one frame at a time
    from .tflite import interpreter

    runner = interpreter(paths["model"]).get_signature_runner("serving_default")
    pick = np.linspace(0, len(hands) - 1, 50).astype(int)
    keras_p = predict(model, hands[pick])
    frames = np.full((len(pick), ROWS_PER_FRAME, DIMS), np.nan, np.float32)
    frames[:, RIGHT_HAND] = hands[pick]
    lite_p = np.stack([runner(inputs=frames[i:i + 1])["outputs"] for i in range(len(pick))])
    diff = float(np.abs(lite_p - keras_p).max())
    if diff > 1e-4:
        raise UserError(f"the TFLite model differs from Keras by {diff:.2g}")
    info = {"classes": classes, "frames": int(len(hands)), "epochs": args.epochs, "seed": args.seed,
            "data": [str(d) for d in args.data], "parity_max_abs": diff}
    (out / "letters_train.json").write_text(json.dumps(info, indent=1) + "\n")
    print(paths["model"])
    print(paths["labels"])
    return 0


if __name__ == "__main__":
    from asl_live.errors import run_main

    sys.exit(run_main(main, prog="asl-train letters"))
