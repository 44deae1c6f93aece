"""The letters model: one hand's shape -> a letter of the ASL manual alphabet.

`asl-train letters --data DIR [DIR ...] --out OUT` trains it on GISLR datasets
(e.g. made by `asl-train import-mpdata` from the fingerspelling MP_Data sets, one
dataset per source) and writes `letters.tflite` and `letters_map.json` with the
competition's contract: `serving_default(inputs float32[frames, 543, 3] with NaN)
-> outputs float32[letters]`. `benchmarks/letters/bench_letters.py` measures a recipe on
sources it never saw; `benchmarks/letters/bench_letters_nested.py` chose the shipped one.

Why it looks like this:
- **The hand's own frame.** Points relative to the wrist, divided by the palm's
  size (the mean wrist-to-knuckle length, in x and y): the same for any position
  in the picture, any hand size and any distance. Orientation is kept, since it
  tells letters apart (H from U, G and P from Q and K).
- **Either hand.** No source records which hand it is, and a selfie view swaps
  them. The model is trained on both mirror images, and the exported model
  averages its answers for the hand and its mirror image, so its output is the
  same, exactly, for a left and a right hand.
- **One frame at a time, then the mean.** Small MLPs on one frame's hand shape (x, y and
  the 210 point distances), three seeds averaged (0.08 ms in TFLite); over a clip, the mean of its per-frame probabilities where a
  hand was seen. The live speller (`asl_live.reading.spelling`) feeds one frame.
- **Which hand, in a frame with two**: the one whose wrist is higher in the
  picture (the spelling hand is raised; the other rests).
- Augmentation stands in for recording settings that the sources do not cover:
  rotation in the picture (+-25 deg) and out of it (+-30 deg about x and y, using
  the depth only to turn the points), x/y aspect by up to 1.8x either way (the
  tutorial sets' x and y are fractions of a 300x360 crop, a webcam's of 640x480:
  their palms' width/length differs by about 2x), size, depth scale and jitter.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, replace
from functools import partial
from pathlib import Path

import numpy as np

from asl_live.formats.layout import DIMS, LEFT_HAND, RIGHT_HAND, ROWS_PER_FRAME

WRIST = 0
KNUCKLES = (5, 9, 13, 17)  # index, middle, ring, pinky bases: the palm's size
MIDDLE_KNUCKLE = 9
EPS = 1e-4
TUTORIAL_FRAMES = (0, 10, 20)  # of a 30-frame "one photo" sequence: frames that differ by tracking jitter
# the three joints of each finger's bend (base, middle, tip side) for the curl angles
_CHAINS = ((0, 1, 2), (1, 2, 3), (2, 3, 4), (0, 5, 6), (5, 6, 7), (6, 7, 8), (0, 9, 10), (9, 10, 11),
           (10, 11, 12), (0, 13, 14), (13, 14, 15), (14, 15, 16), (0, 17, 18), (17, 18, 19), (18, 19, 20))


@dataclass(frozen=True)
class Recipe:
    """How the letters model is made: plain data, so a benchmark can compare a few side by side.

    frame:    "image" - wrist-relative x, y in palm sizes, orientation as the picture has it;
              "palm"  - the same turned so the wrist-to-middle-knuckle line points up (the same
                        for any roll of the hand), plus that line's direction (H/U, P/K, G/Q
                        differ mainly in it)
    pairs:    the 210 distances between every two points (where the thumb sits on each finger)
    extras:   15 finger-curl cosines, the index/middle crossing (R against U) and where the
              thumb tip sits along the knuckle line (T/N/M/S/A: which gap it is in)
    z:        use MediaPipe's depth as an input (the sources' trackers scale it differently)
    rot2d:    in-picture rotation augmentation, +- degrees
    rot3d:    augmentation by turning the hand out of the picture plane (about x and y), +-
              degrees, with the depth at a random scale (it is only used to turn the points)
    aspect:   x/y aspect augmentation, +- this in log scale: normalised coordinates are fractions
              of the picture's width and height, so a hand's aspect follows the picture's (the
              tutorial sets' 300x360 crops against a 640x480 webcam: a factor of 1.6)
    seeds:    an ensemble of this many models (the exported model averages them)
    """

    frame: str = "image"
    pairs: bool = True
    extras: bool = False
    z: bool = False
    rot2d: float = 15.0
    rot3d: float = 0.0
    aspect: float = 0.25
    seeds: int = 1
    epochs: int = 30


# The shipped recipe: of the candidates in benchmarks/letters/bench_letters_nested.py, the best mean
# over its 12 two-source trainings (each tested on the two sources it did not see); the same
# one the nested choice picked in 3 of 4 folds (docs/history/2026-12-02-letters-model.md).
RECIPE = Recipe(rot2d=25.0, rot3d=30.0, aspect=0.6, seeds=3)


# --- the hand's own frame (keras.ops: the same code in training and in the TFLite graph)

def hand_shape(hand, recipe: Recipe = RECIPE):
    """float32[N, 21, 3] raw image coordinates -> float32[N, features] in the hand's own frame."""
    from keras import ops

    local = hand - hand[:, WRIST:WRIST + 1, :]
    knuckles = ops.take(local, list(KNUCKLES), axis=1)[..., :2]
    palm = ops.mean(ops.sqrt(ops.sum(ops.square(knuckles), axis=-1)), axis=1)  # [N]
    local = local / ops.maximum(palm, EPS)[:, None, None]
    x, y, z = local[..., 0], local[..., 1], local[..., 2]
    pieces = []
    if recipe.frame == "palm":
        up = local[:, MIDDLE_KNUCKLE, :2]
        up = up / ops.maximum(ops.sqrt(ops.sum(ops.square(up), axis=-1, keepdims=True)), EPS)
        ux, uy = up[:, 0:1], up[:, 1:2]
        # turn every point so that `up` becomes (0, -1) (image y grows downwards)
        x, y = -uy * x + ux * y, -ux * x - uy * y
        pieces.append(up)
    elif recipe.frame != "image":
        raise ValueError(f"unknown frame {recipe.frame!r}")
    pieces += [x, y] + ([z] if recipe.z else [])
    if recipe.pairs:
        a, b = np.triu_indices(21, 1)
        dx = ops.take(x, a.tolist(), axis=1) - ops.take(x, b.tolist(), axis=1)
        dy = ops.take(y, a.tolist(), axis=1) - ops.take(y, b.tolist(), axis=1)
        pieces.append(ops.sqrt(dx * dx + dy * dy + 1e-8))
    if recipe.extras:
        pieces += _extras(x, y)
    return ops.concatenate(pieces, axis=-1)


def _extras(x, y):
    """Finger curl (cosine of each joint's bend), index/middle crossing, thumb along the knuckles."""
    from keras import ops

    def pt(i):
        return x[:, i], y[:, i]

    def unit(ax, ay):
        n = ops.maximum(ops.sqrt(ax * ax + ay * ay), EPS)
        return ax / n, ay / n

    curl = []
    for a, b, c in _CHAINS:
        (xa, ya), (xb, yb), (xc, yc) = pt(a), pt(b), pt(c)
        ux, uy = unit(xb - xa, yb - ya)
        vx, vy = unit(xc - xb, yc - yb)
        curl.append(ux * vx + uy * vy)
    # crossing: the tips' order across the hand against the knuckles' order (negative when crossed)
    kx, ky = x[:, 5] - x[:, 9], y[:, 5] - y[:, 9]
    cross = ((x[:, 8] - x[:, 12]) * kx + (y[:, 8] - y[:, 12]) * ky) / ops.maximum(kx * kx + ky * ky, 0.05)
    # the thumb tip's place along the index-to-pinky knuckle line: 0 at the index, 1 at the pinky
    lx, ly = x[:, 17] - x[:, 5], y[:, 17] - y[:, 5]
    along = ((x[:, 4] - x[:, 5]) * lx + (y[:, 4] - y[:, 5]) * ly) / ops.maximum(lx * lx + ly * ly, 0.05)
    return [ops.stack(curl, axis=-1), ops.clip(ops.stack([cross, along], axis=-1), -3.0, 3.0)]


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


def build_model(classes: int, recipe: Recipe = RECIPE, units: int = 256, dropout: float = 0.2,
                name: str = "letters"):
    import keras
    from keras import layers

    inp = keras.Input((21, 3), name="hand")
    x = layers.Lambda(partial(hand_shape, recipe=recipe), name="hand_shape")(inp)
    for i in range(2):
        x = layers.Dense(units, activation="gelu", name=f"dense{i}")(x)
        x = layers.Dropout(dropout)(x)
    out = layers.Dense(classes, activation="softmax", name="letter")(x)
    return keras.Model(inp, out, name=name)


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
    from asl_live.formats.gislr import Dataset
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


def augment(hands: np.ndarray, rng: np.random.Generator, recipe: Recipe = RECIPE) -> np.ndarray:
    """Random mirror, rotation (in and out of the picture), aspect, size, depth scale and jitter."""
    n = len(hands)
    h = hands - hands[:, :1]
    flip = rng.random(n) < 0.5
    h[flip, :, 0] *= -1
    h[..., 2] *= np.exp(rng.uniform(-0.4, 0.4, n))[:, None]
    if recipe.rot3d:
        # turn about the picture's x axis (pitch), then its y axis (yaw); z only moves the points
        for axes in ((1, 2), (0, 2)):
            t = np.deg2rad(rng.uniform(-recipe.rot3d, recipe.rot3d, n))[:, None]
            p, q = h[..., axes[0]].copy(), h[..., axes[1]].copy()
            h[..., axes[0]] = np.cos(t) * p - np.sin(t) * q
            h[..., axes[1]] = np.sin(t) * p + np.cos(t) * q
    a = np.deg2rad(rng.uniform(-recipe.rot2d, recipe.rot2d, n))
    c, s = np.cos(a), np.sin(a)
    x, y = h[..., 0].copy(), h[..., 1].copy()
    h[..., 0] = c[:, None] * x - s[:, None] * y
    h[..., 1] = s[:, None] * x + c[:, None] * y
    aspect = np.exp(rng.uniform(-recipe.aspect, recipe.aspect, n))
    h[..., 0] *= aspect[:, None]
    h *= np.exp(rng.uniform(-0.5, 0.5, n))[:, None, None]
    palm = np.linalg.norm(h[:, list(KNUCKLES), :2], axis=-1).mean(axis=1)
    h += rng.normal(0, 0.03, h.shape) * palm[:, None, None]
    return (h + rng.uniform(0.2, 0.8, (n, 1, 3)) * np.array([1, 1, 0])).astype(np.float32)


def fit(hands, letters, classes: list[str], recipe: Recipe = RECIPE, seed: int = 0, progress: bool = False):
    """Train on (hands, letters), each letter weighted the same; `recipe.seeds` models averaged."""
    import keras
    from keras import layers

    index = {c: i for i, c in enumerate(classes)}
    y = np.array([index[l] for l in letters])
    counts = np.bincount(y, minlength=len(classes)).astype(np.float64)
    weight = (len(y) / (len(classes) * np.maximum(counts, 1)))[y].astype(np.float32)
    members = []
    for k in range(recipe.seeds):
        keras.utils.set_random_seed(seed + k)
        rng = np.random.default_rng(seed + k)
        model = build_model(len(classes), recipe, name=f"letters_seed{seed + k}")
        steps = max(1, len(y) // 128) * recipe.epochs
        lr = keras.optimizers.schedules.CosineDecay(2e-3, steps)
        model.compile(keras.optimizers.AdamW(lr, weight_decay=1e-4), "sparse_categorical_crossentropy")
        # every epoch's own augmented copy, in one fit call (one call per epoch costs more than the steps)
        copies = np.concatenate([augment(hands, rng, recipe) for _ in range(recipe.epochs)])
        model.fit(copies, np.tile(y, recipe.epochs), sample_weight=np.tile(weight, recipe.epochs),
                  batch_size=128, epochs=1, shuffle=True, verbose=1 if progress else 0)
        members.append(model)
    if len(members) == 1:
        return members[0]
    inp = keras.Input((21, 3), name="hand")
    return keras.Model(inp, layers.Average(name="ensemble")([m(inp) for m in members]), name="letters")


def mean_probabilities(model, frames, n: int, use=None, max_frames: int | None = None):
    """float32[T, 543, 3] with NaN -> float32[n]: the mean of the per-frame letter probabilities
    over the frames with a hand (and `use`, bool[T], where given); every letter equally likely
    when there is none (the app's rule then says unknown). What letters.tflite answers, and the
    hand-shape part of a sign model exported with `--handshape`.

    `max_frames`: only that many of those frames, evenly spread (the cost grows with the frames:
    0.04 ms each for the 3-seed model; a sign's hand shapes need few)."""
    from keras import ops

    hand, seen = select_hand(frames)
    if use is not None:
        seen = ops.logical_and(seen, use)
    if max_frames is not None:
        import tensorflow as tf

        idx = tf.cast(tf.where(seen)[:, 0], tf.int32)
        count = tf.shape(idx)[0]
        # a blank hand stands in when no frame is usable (never an empty batch: Keras cannot run one)
        hand = tf.concat([hand, tf.zeros_like(hand[:1])], axis=0)
        idx = tf.concat([idx, tf.shape(hand)[:1] - 1], axis=0)
        k = tf.maximum(tf.minimum(count, max_frames), 1)
        # k frames evenly spread over the `count` usable ones (integer steps: TFLite has no linspace)
        step = tf.range(k) * tf.maximum(count - 1, 0) // tf.maximum(k - 1, 1)
        hand = tf.gather(hand, tf.gather(idx, step))
        seen = tf.fill(tf.reshape(k, [1]), count > 0)
    probs = symmetric_probabilities(model, hand)
    w = ops.cast(seen, "float32")[:, None]
    total = ops.sum(w)
    mean = ops.sum(probs * w, axis=0) / ops.maximum(total, 1.0)
    return ops.where(total > 0, mean, ops.full((n,), 1.0 / n))


WEIGHTS = "letters.weights.h5"
TRAINING = "letters_train.json"


def load(out_dir):
    """(the Keras letters model, its classes) from a folder `asl-train letters` wrote: the same
    ensemble rebuilt from letters_train.json and its weights loaded."""
    import keras
    from keras import layers

    from asl_live.errors import UserError

    out_dir = Path(out_dir)
    if not (out_dir / WEIGHTS).is_file() or not (out_dir / TRAINING).is_file():
        raise UserError(f"{out_dir}: no {WEIGHTS} and {TRAINING} (a folder written by asl-train letters)")
    info = json.loads((out_dir / TRAINING).read_text())
    recipe, classes, seed = Recipe(**info["recipe"]), info["classes"], info["seed"]
    members = [build_model(len(classes), recipe, name=f"letters_seed{seed + k}") for k in range(recipe.seeds)]
    if len(members) == 1:
        model = members[0]
    else:
        inp = keras.Input((21, 3), name="hand")
        model = keras.Model(inp, layers.Average(name="ensemble")([m(inp) for m in members]), name="letters")
    model.load_weights(out_dir / WEIGHTS)
    return model, classes


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

    from asl_live.formats.gislr import write_label_map

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    archive = keras.export.ExportArchive()
    archive.track(model)
    n = len(classes)

    @tf.function(input_signature=[tf.TensorSpec([None, ROWS_PER_FRAME, DIMS], tf.float32, name="inputs")])
    def serve(inputs):
        return {"outputs": mean_probabilities(model, inputs, n)}

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
    from asl_live.errors import ArgumentParser

    p = ArgumentParser(prog="asl-train letters",
                       description="Train the fingerspelling letters model on GISLR datasets of one-hand "
                                   "letter frames; write letters.tflite + letters_map.json.")
    p.add_argument("--data", nargs="+", required=True, metavar="DIR", help="training datasets")
    p.add_argument("--out", required=True, metavar="DIR", help="where letters.tflite goes")
    p.add_argument("--epochs", type=int, default=RECIPE.epochs, help=f"(default {RECIPE.epochs})")
    p.add_argument("--seeds", type=int, default=RECIPE.seeds,
                   help=f"models in the ensemble (default {RECIPE.seeds})")
    p.add_argument("--seed", type=int, default=0, help="the first model's seed")
    return p


def main(argv=None) -> int:
    from asl_live.errors import UserError
    from asl_live.formats.gislr import writable_folder

    args = build_parser().parse_args(argv)
    out = writable_folder(args.out, "output folder")
    parts = [load_hands(d) for d in args.data]
    hands = np.concatenate([p[0] for p in parts])
    letters = np.concatenate([p[1] for p in parts])
    if len(hands) == 0:
        raise UserError("no frames with a hand in the given datasets")
    classes = sorted(set(letters))
    if args.epochs < 1 or args.seeds < 1:
        raise UserError("--epochs and --seeds must be at least 1")
    recipe = replace(RECIPE, epochs=args.epochs, seeds=args.seeds)
    model = fit(hands, letters, classes, recipe, seed=args.seed)
    paths = export(model, classes, out)
    # parity: the TFLite model against Keras on training frames, one frame at a time
    from asl_live.model.runtime import signature_runner

    runner = signature_runner(paths["model"])
    pick = np.linspace(0, len(hands) - 1, 50).astype(int)
    keras_p = predict(model, hands[pick])
    frames = np.full((len(pick), ROWS_PER_FRAME, DIMS), np.nan, np.float32)
    frames[:, RIGHT_HAND] = hands[pick]
    lite_p = np.stack([runner(inputs=frames[i:i + 1])["outputs"] for i in range(len(pick))])
    diff = float(np.abs(lite_p - keras_p).max())
    if diff > 1e-4:
        raise UserError(f"the TFLite model differs from Keras by {diff:.2g}")
    info = {"classes": classes, "frames": int(len(hands)), "recipe": asdict(recipe), "seed": args.seed,
            "data": [str(d) for d in args.data], "parity_max_abs": diff}
    # the Keras weights too: a sign model takes the letters model in as its hand-shape part
    # (`asl-train export --handshape`)
    model.save_weights(out / WEIGHTS)
    (out / TRAINING).write_text(json.dumps(info, indent=1) + "\n")
    print(paths["model"])
    print(paths["labels"])
    return 0


if __name__ == "__main__":
    from asl_live.errors import run_main

    sys.exit(run_main(main, prog="asl-train letters"))
