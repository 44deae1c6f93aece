"""Person alignment: a sign's examples of different people pulled toward one place.

Trained with signs only, an encoder that sees each sign from few people keeps who signs it in
the embedding (measured in BENCHMARKS.md: a GISLR phone person's `hello` lies nearest one webcam
person's other sign). This adds to the loss, per batch, how far each sign's per-person means
lie from the sign's mean, in the direction of the embedding centred on the batch (near the
cosine space the app's `prototype` rule judges in): the within-sign, between-person scatter,
zero when every person of a sign looks alike. A sign that one person made adds nothing (its person mean is its
sign mean), so it is not pulled to anything else. Bounded (at most 4 per example) and stable,
unlike an adversary through gradient reversal, which on these people diverged (the encoder
made the person head confidently wrong and lost the signs: train accuracy 0.77 after 15 epochs,
against 0.998).

Training only: `trainer` shares every layer of the sign model, and what is saved and
exported is the sign model alone.
"""

from __future__ import annotations

import keras
from keras import layers, ops

ALIGNMENT = "alignment"


class PersonScatter(layers.Layer):
    """Per example: |mean of its (sign, person) - mean of its sign|^2 over unit-length embeddings."""

    def call(self, inputs):
        embedding, label, person = inputs
        # centred on the batch first: every embedding shares a large common part, in which the
        # raw cosine says little (the app's rule standardises by the bank for the same reason)
        e = embedding - ops.mean(embedding, axis=0, keepdims=True)
        e = e / ops.maximum(ops.norm(e, axis=-1, keepdims=True), 1e-6)
        pair = ops.reshape(label[:, :, None] * person[:, None, :], (ops.shape(e)[0], -1))   # (B, C*P)

        def mean_of(groups):   # each example's group mean: groups (B, G) one-hot
            sums = ops.matmul(ops.transpose(groups), e)                                       # (G, D)
            counts = ops.maximum(ops.sum(groups, axis=0), 1.0)[:, None]
            return ops.matmul(groups, sums / counts)                                          # (B, D)

        return ops.sum(ops.square(mean_of(pair) - mean_of(label)), axis=-1)


def trainer(model: keras.Model, n_classes: int, n_people: int) -> keras.Model:
    """The sign model with the scatter beside it: inputs frames, positions, label and person
    (one-hot); outputs {"classifier": sign probabilities, "alignment": scatter per example}."""
    embedding = model.get_layer("classifier").input
    label = keras.Input((n_classes,), name="label")
    person = keras.Input((n_people,), name="person")
    scatter = PersonScatter(name=ALIGNMENT)([embedding, label, person])
    inputs = {**model.input, "label": label, "person": person}
    return keras.Model(inputs, {"classifier": model.output, ALIGNMENT: scatter}, name="person_aligned")


def scatter_loss(_, scatter):
    """The alignment output is already the loss."""
    return ops.mean(scatter)
