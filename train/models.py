"""Models over the preprocessed features, written with keras.ops only (any Keras backend).

Inputs of every model: `frames` float32[B, 32, L, 3] (0 = missing coordinate) and
`positions` float32[B, 32] (original frame number of each input frame, -1 = padding),
as produced by `train.preprocess`. Output: class probabilities [B, classes].

The first layer turns the frames into one feature vector per part and frame:
`train.features.BodyFeatures` (config `features="body"`: relative to the body, the
hand's own frame, motion) or `Normalise` (`features="reference"`: the reference
notebook's per-landmark standardisation with the training set's statistics).

- `transformer`: the reference notebook's model. Each part (lips, hands, pose) is
  embedded by a two-layer MLP, a frame where the part is missing gets a learned
  "empty" embedding instead; the parts are merged with softmax-normalised learned
  weights (the "landmark group weights" `evaluate` reports), then a positional
  embedding of the normalised frame position is added, followed by pre-norm
  transformer blocks and a masked mean pool. Differences from the reference: the
  attention mask hides padded *keys* (the reference masks query rows, which does
  not stop attention to padding), the residual path follows the standard
  pre-norm block, and real frames take positions 0..31 so the last one does
  not share the padding slot 32.
- `fc`: the reference's second model, linear + batch norm + ReLU layers on the
  flattened features.
- `conv`: 1D depthwise convolutions over time interleaved with transformer blocks,
  in the spirit of the competition's winning solutions.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import layers, ops

from .config import Config
from .features import BodyFeatures, feature_sizes
from .preprocess import INPUT_FRAMES, part_rows


@keras.saving.register_keras_serializable("asl_live")
class Normalise(layers.Layer):
    """Per-landmark (x, y) standardisation with statistics of the training data.

    Only x and y are used, as in the reference. A coordinate equal to 0 is missing
    and stays 0. The statistics are non-trainable weights, so they travel inside
    the weights file and the exported model.
    """

    def __init__(self, n_landmarks: int, **kwargs):
        super().__init__(**kwargs)
        self.n_landmarks = n_landmarks
        self.mean = self.add_weight(shape=(n_landmarks, 2), initializer="zeros", trainable=False, name="mean")
        self.std = self.add_weight(shape=(n_landmarks, 2), initializer="ones", trainable=False, name="std")

    def call(self, frames):
        xy = frames[..., :2]
        return ops.where(ops.equal(xy, 0.0), 0.0, (xy - self.mean.value) / self.std.value)

    def get_config(self):
        return {**super().get_config(), "n_landmarks": self.n_landmarks}


@keras.saving.register_keras_serializable("asl_live")
class Standardise(layers.Layer):
    """Per-feature standardisation of one part's body features with training-set statistics.

    The body features mix scales (positions in body lengths, hand shape in palm lengths,
    motion per frame, about 20x smaller); standardising each lets every kind count. 0 (a
    missing value) stays 0, as in `Normalise`.
    """

    def __init__(self, size: int, **kwargs):
        super().__init__(**kwargs)
        self.size = size
        self.mean = self.add_weight(shape=(size,), initializer="zeros", trainable=False, name="mean")
        self.std = self.add_weight(shape=(size,), initializer="ones", trainable=False, name="std")

    def call(self, x):
        return ops.where(ops.equal(x, 0.0), 0.0, (x - self.mean.value) / self.std.value)

    def get_config(self):
        return {**super().get_config(), "size": self.size}


def _nonzero_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std of each column of x[..., D] over its non-zero values (0 = missing)."""
    x = x.reshape(-1, x.shape[-1])
    present = x != 0
    count = present.sum(axis=0)
    mean = np.where(count > 0, np.where(present, x, 0).sum(axis=0, dtype=np.float64) / np.maximum(count, 1), 0)
    sq = np.where(present, (x - mean) ** 2, 0).sum(axis=0, dtype=np.float64)
    std = np.sqrt(np.where(count > 0, sq / np.maximum(count, 1), 1.0))
    return mean.astype(np.float32), np.where(std > 1e-6, std, 1.0).astype(np.float32)


def fit_normalisation(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std of each landmark's non-zero x and y over the training features."""
    xy = frames[..., :2].reshape(-1, frames.shape[2], 2)
    present = xy != 0
    count = present.sum(axis=0)
    total = np.where(present, xy, 0).sum(axis=0, dtype=np.float64)
    mean = np.where(count > 0, total / np.maximum(count, 1), 0.0)
    sq = np.where(present, (xy - mean) ** 2, 0).sum(axis=0, dtype=np.float64)
    std = np.sqrt(np.where(count > 0, sq / np.maximum(count, 1), 1.0))
    std = np.where(std > 1e-6, std, 1.0)
    return mean.astype(np.float32), std.astype(np.float32)


class LandmarkEmbedding(layers.Layer):
    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.hidden = layers.Dense(units, use_bias=False, activation="gelu",
                                   kernel_initializer="glorot_uniform")
        self.out = layers.Dense(units, use_bias=False, kernel_initializer="he_uniform")

    def build(self, input_shape):
        self.empty = self.add_weight(shape=(self.units,), initializer="zeros", name="empty_embedding")
        self.hidden.build(input_shape)
        self.out.build(tuple(input_shape[:-1]) + (self.units,))

    def call(self, x):
        missing = ops.all(ops.equal(x, 0.0), axis=-1, keepdims=True)
        return ops.where(missing, self.empty.value, self.out(self.hidden(x)))


class FrameEmbedding(layers.Layer):
    """Parts -> one vector per frame: part embeddings, softmax weights, MLP, positions.

    `sizes` maps each part to the length of its feature vector per frame; the input
    is one float32[B, T, size] per part (all zero where the part is missing).
    """

    def __init__(self, sizes: dict[str, int], units: int, frames: int = INPUT_FRAMES,
                 relative_time: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.sizes = dict(sizes)
        self.frames = frames
        # relative_time: time runs from the first to the last real frame, so a clip that starts
        # earlier or later (before the hands come up) gives the same positions
        self.relative_time = relative_time
        self.parts = [LandmarkEmbedding(units, name=f"{p}_embedding") for p in sizes]
        self.fc1 = layers.Dense(units, use_bias=False, activation="gelu", kernel_initializer="glorot_uniform")
        self.fc2 = layers.Dense(units, use_bias=False, kernel_initializer="he_uniform")
        self.positional = layers.Embedding(frames + 1, units, embeddings_initializer="zeros")
        self.units = units

    def build(self, input_shape):
        self.landmark_weights = self.add_weight(shape=(len(self.sizes),), initializer="zeros",
                                                name="landmark_weights")
        b, t = input_shape[1][0], input_shape[1][1]
        for emb, n in zip(self.parts, self.sizes.values()):
            emb.build((b, t, n))
        self.fc1.build((b, t, self.units))
        self.fc2.build((b, t, self.units))
        self.positional.build((b, t))

    def call(self, inputs):
        parts, positions = inputs  # [[B, T, size] per part], [B, T]
        embedded = [emb(part) for emb, part in zip(self.parts, parts)]
        x = ops.stack(embedded, axis=-1) * ops.softmax(self.landmark_weights.value)
        x = self.fc2(self.fc1(ops.sum(x, axis=-1)))
        last = ops.max(positions, axis=1, keepdims=True)
        if self.relative_time:
            real = ops.not_equal(positions, -1.0)
            first = ops.min(ops.where(real, positions, 1e9), axis=1, keepdims=True)
            first = ops.where(first > last, 0.0, first)  # no real frame at all
            positions = ops.where(real, positions - first, -1.0)
            last = last - first
        last = ops.maximum(last, 1.0)
        slot = ops.cast(ops.floor(positions / last * (self.frames - 1)), "int32")
        slot = ops.where(ops.equal(positions, -1.0), self.frames, ops.clip(slot, 0, self.frames - 1))
        return x + self.positional(slot)


class SelfAttention(layers.Layer):
    """Multi-head self-attention from plain Dense layers (TFLite has no fused op for Keras' MHA)."""

    def __init__(self, units: int, heads: int, **kwargs):
        super().__init__(**kwargs)
        self.units, self.heads, self.depth = units, heads, units // heads
        self.q = layers.Dense(units)
        self.k = layers.Dense(units)
        self.v = layers.Dense(units)
        self.o = layers.Dense(units)

    def build(self, input_shape):
        for d in (self.q, self.k, self.v, self.o):
            d.build(input_shape[0])

    def _heads(self, x, t):
        return ops.transpose(ops.reshape(x, (-1, t, self.heads, self.depth)), (0, 2, 1, 3))

    def call(self, inputs):
        x, mask = inputs  # [B, T, C], [B, T] (1 = real frame)
        t = x.shape[1]
        q, k, v = (self._heads(f(x), t) for f in (self.q, self.k, self.v))
        scores = ops.matmul(q, ops.transpose(k, (0, 1, 3, 2))) / math.sqrt(self.depth)
        scores = scores + (1.0 - mask[:, None, None, :]) * -1e9
        out = ops.matmul(ops.softmax(scores, axis=-1), v)
        out = ops.reshape(ops.transpose(out, (0, 2, 1, 3)), (-1, t, self.units))
        return self.o(out)


class TransformerBlock(layers.Layer):
    def __init__(self, units: int, heads: int, mlp_ratio: int, dropout: float, **kwargs):
        super().__init__(**kwargs)
        self.ln1 = layers.LayerNormalization(epsilon=1e-6)
        self.attention = SelfAttention(units, heads)
        self.ln2 = layers.LayerNormalization(epsilon=1e-6)
        self.mlp1 = layers.Dense(units * mlp_ratio, activation="gelu", kernel_initializer="glorot_uniform")
        self.dropout = layers.Dropout(dropout)
        self.mlp2 = layers.Dense(units, kernel_initializer="he_uniform")

    def build(self, input_shape):
        shape = input_shape[0]
        self.ln1.build(shape)
        self.attention.build(input_shape)
        self.ln2.build(shape)
        self.mlp1.build(shape)
        self.mlp2.build(tuple(shape[:-1]) + (self.mlp1.units,))

    def call(self, inputs, training=False):
        x, mask = inputs
        x = x + self.attention((self.ln1(x), mask))
        return x + self.mlp2(self.dropout(self.mlp1(self.ln2(x)), training=training))


class DepthwiseConvBlock(layers.Layer):
    """Gated depthwise temporal convolution with a residual (padding frames zeroed first)."""

    def __init__(self, units: int, kernel: int = 7, dropout: float = 0.2, **kwargs):
        super().__init__(**kwargs)
        self.norm = layers.LayerNormalization(epsilon=1e-6)
        self.expand = layers.Dense(units * 2)
        self.conv = layers.DepthwiseConv1D(kernel, padding="same")
        self.bn = layers.BatchNormalization(momentum=0.95)
        self.project = layers.Dense(units)
        self.dropout = layers.Dropout(dropout)

    def build(self, input_shape):
        shape = input_shape[0]
        self.norm.build(shape)
        self.expand.build(shape)
        half = tuple(shape[:-1]) + (shape[-1],)
        self.conv.build(half)
        self.bn.build(half)
        self.project.build(half)

    def call(self, inputs, training=False):
        x, mask = inputs
        h = self.expand(self.norm(x))
        a, g = ops.split(h, 2, axis=-1)
        h = (a * ops.sigmoid(g)) * mask[..., None]
        h = ops.silu(self.bn(self.conv(h), training=training))
        return x + self.dropout(self.project(h), training=training)


def _inputs(config: Config):
    """The model's inputs and its per-part feature tensors (see `Config.features`)."""
    rows = part_rows(config.parts, config.pose)
    n = sum(len(r) for r in rows.values())
    frames = keras.Input((INPUT_FRAMES, n, 3), name="frames")
    positions = keras.Input((INPUT_FRAMES,), name="positions")
    if config.features.startswith("body"):
        layer = BodyFeatures(rows, one_length=config.features == "body_one_length",
                             dominant_right=config.features != "body_no_mirror", name="body_features")
        parts, sizes = layer(frames), feature_sizes(rows)
        if config.features == "body_standardised":
            parts = [Standardise(sizes[p], name=f"standardise_{p}")(x) for p, x in zip(sizes, parts)]
        return frames, positions, parts, sizes
    xy = Normalise(n, name="normalise")(frames)
    parts, start = [], 0
    for r in rows.values():
        parts.append(layers.Reshape((INPUT_FRAMES, len(r) * 2))(xy[:, :, start:start + len(r), :]))
        start += len(r)
    return frames, positions, parts, {p: len(r) * 2 for p, r in rows.items()}


def _masked_mean(x, mask):
    return ops.sum(x * mask[..., None], axis=1) / ops.maximum(ops.sum(mask, axis=1, keepdims=True), 1.0)


def build_model(config: Config, n_classes: int) -> keras.Model:
    frames, positions, parts, sizes = _inputs(config)
    mask = ops.cast(ops.not_equal(positions, -1.0), "float32")
    if config.arch == "fc":
        x = layers.Flatten()(layers.Concatenate()(parts) if len(parts) > 1 else parts[0])
        for i, width in enumerate((512, 256)):
            x = layers.Dense(width, use_bias=False, name=f"fc{i}")(x)
            x = layers.BatchNormalization(name=f"bn{i}")(x)
            x = layers.ReLU()(x)
            x = layers.Dropout(0.3)(x)
    else:
        x = FrameEmbedding(sizes, config.units, relative_time=config.features.startswith("body"),
                           name="frame_embedding")((parts, positions))
        for i in range(config.blocks):
            if config.arch == "conv":
                for j in range(2):
                    x = DepthwiseConvBlock(config.units, name=f"conv{i}_{j}")((x, mask))
            x = TransformerBlock(config.units, config.heads, config.mlp_ratio, config.mlp_dropout,
                                 name=f"block{i}")((x, mask))
        x = _masked_mean(x, mask)
    x = layers.Dropout(config.classifier_dropout)(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="classifier")(x)
    return keras.Model({"frames": frames, "positions": positions}, outputs, name=config.arch)


def set_statistics(model: keras.Model, frames: np.ndarray) -> None:
    """Store the training data's statistics in the model's normalising layers (if it has any)."""
    names = {layer.name for layer in model.layers}
    if "normalise" in names:
        set_normalisation(model, *fit_normalisation(frames))
    if any(n.startswith("standardise_") for n in names):
        body = model.get_layer("body_features")
        feats = [body(frames[i:i + 256]) for i in range(0, len(frames), 256)]
        for k, part in enumerate(body.part_rows):
            x = np.concatenate([np.asarray(f[k]) for f in feats])
            layer = model.get_layer(f"standardise_{part}")
            mean, std = _nonzero_stats(x)
            layer.mean.assign(mean)
            layer.std.assign(std)


def set_normalisation(model: keras.Model, mean: np.ndarray, std: np.ndarray) -> None:
    """Store the training data's per-landmark statistics in a `reference`-features model."""
    try:
        layer = model.get_layer("normalise")
    except ValueError:
        return
    layer.mean.assign(mean)
    layer.std.assign(std)


def landmark_group_weights(model: keras.Model, config: Config) -> dict[str, float] | None:
    """Softmax of the learned part weights (the reference's 'landmark attention weights')."""
    try:
        layer = model.get_layer("frame_embedding")
    except ValueError:
        return None
    w = np.asarray(layer.landmark_weights.numpy(), dtype=np.float64)
    w = np.exp(w - w.max())
    w /= w.sum()
    return {p: float(v) for p, v in zip(config.parts, w)}
