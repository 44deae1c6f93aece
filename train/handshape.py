"""A sign model whose last layer also reads the hand's shape, as the letters model sees it.

`asl-train export RUN --handshape LETTERS_DIR` exports the run's model with its last layer
reading two things side by side: the encoder's embedding of the sequence, and the letters
model's (`train/letters.py`) mean letter probabilities over `HANDSHAPE_FRAMES` of the sign's
frames (of those `--trim` keeps that show a hand, evenly spread), a 26-number description of
the hand shapes in it.

Why: five shots of a person's `no` and `yes` (both small movements in front of the chest;
V/N-like fingers closing on the thumb against a fist) lie close in the encoder's embedding,
which learned hand shape from 16 signs only; the letters model learned it from 8,959 hands
of four sources. The exported model answers exactly as the run's model does (the letters'
part of the last layer is zero); `asl-train extend --fresh-head` and `asl-live teach` learn
the whole last layer, which then uses both (docs/history/2026-12-03-hand-shape-channel.md).
"""

from __future__ import annotations

import numpy as np

from asl_live.errors import UserError


# The letters model reads this many of the sign's frames (evenly spread): 0.3 ms instead of 0.04 ms
# a frame, whatever the sign's length (docs/history/2026-12-03-hand-shape-channel.md).
HANDSHAPE_FRAMES = 8


class HandshapeModel:
    """(the run's Keras model, the letters model) -> probabilities over the run's signs from
    [embedding, mean letter probabilities] (a Dense layer + softmax: the last layer that
    `asl_live.model.head` finds and replaces)."""

    def __init__(self, model, letters, n_letters: int, trim: bool):
        import keras
        from keras import layers

        try:
            classifier = model.get_layer("classifier")
        except ValueError:
            raise UserError("--handshape needs a model whose last layer is named 'classifier' "
                            "(made by asl-train fit)") from None
        self.encoder = keras.Model(model.inputs, classifier.input, name="encoder")
        kernel, bias = classifier.get_weights()
        self.letters, self.n_letters, self.trim = letters, n_letters, trim
        self.head = layers.Dense(kernel.shape[1], name="head")
        self.head.build((None, kernel.shape[0] + n_letters))
        # the letters' rows start at zero: the export answers as the run's model does
        self.head.set_weights([np.concatenate([kernel, np.zeros((n_letters, kernel.shape[1]), kernel.dtype)]),
                               bias])

    def tracked(self):
        return [self.encoder, self.letters, self.head]

    def __call__(self, inputs, frames, positions):
        """inputs float32[T, 543, 3] (NaN = missing); frames/positions: its preprocessing."""
        import tensorflow as tf

        from .letters import mean_probabilities
        from .preprocess import trim_window_tf

        emb = self.encoder({"frames": frames[None], "positions": positions[None]}, training=False)
        use = trim_window_tf(inputs) if self.trim else None
        shape = mean_probabilities(self.letters, inputs, self.n_letters, use=use, max_frames=HANDSHAPE_FRAMES)[None]
        return tf.nn.softmax(self.head(tf.concat([emb, shape], axis=-1)))[0]
