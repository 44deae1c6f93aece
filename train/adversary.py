"""A person adversary: the embedding learns the sign while hiding who signs it.

Domain-adversarial training (Ganin et al. 2016, "gradient reversal"), made class-conditional:
a small network reads the embedding *and the sign's label* and learns to name the person;
its gradient reaches the encoder reversed and scaled by `weight`, so the encoder learns to
make people of one sign look alike. Conditioning on the label keeps a sign that only one
person made from being hidden: its person follows from the label alone, so the adversary
has nothing to ask of the embedding there. (Unconditioned, with one person per sign for
most signs here, hiding the person would mean hiding the sign.)

Training only: `trainer` shares every layer of the sign model, and what is saved and
exported is the sign model alone.
"""

from __future__ import annotations

import keras
from keras import layers, ops

PERSON = "person"


class GradientReversal(layers.Layer):
    """Identity forward; the gradient times -weight backward (any Keras backend)."""

    def __init__(self, weight: float, **kwargs):
        super().__init__(**kwargs)
        self.weight = float(weight)

    def call(self, x):
        # forward: (1 + w) x - w x = x; backward: only the second term carries a gradient
        return ops.stop_gradient(x * (1.0 + self.weight)) - x * self.weight

    def get_config(self):
        return {**super().get_config(), "weight": self.weight}


def trainer(model: keras.Model, n_classes: int, n_people: int, weight: float) -> keras.Model:
    """The sign model with a person head beside it: inputs frames, positions, label (one-hot);
    outputs {"classifier": sign probabilities, "person": person probabilities}."""
    embedding = model.get_layer("classifier").input
    label = keras.Input((n_classes,), name="label")
    x = GradientReversal(weight, name="gradient_reversal")(embedding)
    x = layers.Concatenate(name="person_input")([x, label])
    x = layers.Dense(128, activation="gelu", name="person_hidden")(x)
    person = layers.Dense(n_people, activation="softmax", name=PERSON)(x)
    inputs = {**model.input, "label": label}
    return keras.Model(inputs, {"classifier": model.output, PERSON: person}, name="person_adversarial")
