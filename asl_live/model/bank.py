"""The bank of a sign model: the embeddings its last layer was learned from, tied to the file.

A model that can be extended (`extend`) carries `<model stem>.bank.npz` beside it: the
embedding of every sequence its head was trained on, what it was taught as (`labels`),
what was really signed (`signs`) and who signed it, with the sha256 of the model file it
belongs to. The `prototype` unknown rule (`unknown_rule`) reads it as one prototype per
class and person (`PrototypeSpace`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asl_live.errors import UserError
from asl_live.formats.gislr import atomic_write
from asl_live.model import UNKNOWN
from asl_live.model.runtime import file_sha256 as model_sha256

BANK_SUFFIX = ".bank.npz"


def bank_path(model_path) -> Path:
    p = Path(model_path)
    return p.with_name(p.stem + BANK_SUFFIX)


# --------------------------------------------------------------------------- the bank

@dataclass
class Bank:
    embeddings: np.ndarray     # float32 [N, D]
    labels: np.ndarray         # str [N]: the class the head learns for it
    signs: np.ndarray          # str [N]: what was signed (an `unknown` example keeps its own name)
    participants: np.ndarray   # int64 [N]

    @classmethod
    def empty(cls, dim: int) -> "Bank":
        return cls(np.zeros((0, dim), np.float32), np.array([], str), np.array([], str), np.array([], np.int64))

    @classmethod
    def load(cls, model_path) -> "Bank":
        """The bank of a model file; UserError (one line) when it has none or it is another model's."""
        path = bank_path(model_path)
        if not path.is_file():
            raise UserError(f"{model_path}: cannot be extended: no {path.name} beside it (a model made elsewhere, "
                            "such as a GISLR competition model, does not bring the data its signs were learned "
                            "from, so it would forget them); teach with --fresh to learn the new signs alone")
        try:
            with np.load(path) as z:
                sha = str(z["model_sha256"])
                bank = cls(z["embeddings"].astype(np.float32), z["labels"].astype(str), z["signs"].astype(str),
                           z["participants"].astype(np.int64))
        except (OSError, KeyError, ValueError) as e:
            raise UserError(f"{path}: not a readable bank ({e})") from None
        if sha != model_sha256(model_path):
            raise UserError(f"{path}: written for another model file (sha256 differs from "
                            f"{Path(model_path).name}'s); teach with --fresh, or extend the model it belongs to")
        return bank

    def save(self, model_path) -> Path:
        # float16 halves the file; the head learned from it answers the same (docs/history/2026-12-02-teach-on-the-model-in-use.md).
        path = bank_path(model_path)
        with atomic_write(path) as f:
            np.savez_compressed(f, embeddings=self.embeddings.astype(np.float16), labels=self.labels.astype(str),
                                signs=self.signs.astype(str), participants=self.participants.astype(np.int64),
                                model_sha256=np.array(model_sha256(model_path)))
        return path

    def __len__(self) -> int:
        return len(self.labels)

    def concat(self, other: "Bank") -> "Bank":
        return Bank(np.concatenate([self.embeddings, other.embeddings]).astype(np.float32),
                    np.concatenate([self.labels, other.labels]).astype(str),
                    np.concatenate([self.signs, other.signs]).astype(str),
                    np.concatenate([self.participants, other.participants]).astype(np.int64))

    def prototypes(self, classes: list[str]) -> "PrototypeSpace":
        """One prototype per class and person: the mean direction of that person's examples of
        the class, in the bank's standardised embedding space (`unknown` gets none)."""
        x = self.embeddings.astype(np.float64)
        mean, std = x.mean(0), x.std(0) + 1e-6
        z = _unit((x - mean) / std)
        protos, owner, person = [], [], []
        for k, name in enumerate(classes):
            if name == UNKNOWN:
                continue
            mine = self.labels == name
            for q in np.unique(self.participants[mine]):
                protos.append(_unit(z[mine & (self.participants == q)].mean(0)))
                owner.append(k)
                person.append(q)
        d = x.shape[1]
        return PrototypeSpace(mean, std, np.array(protos).reshape(-1, d), np.array(owner, np.int64),
                              np.array(person, np.int64))

    def taught(self, new_signs) -> "Bank":
        """The bank with the `unknown` examples of any of `new_signs` given back to that sign."""
        back = (self.labels == UNKNOWN) & np.isin(self.signs, list(new_signs))
        return Bank(self.embeddings, np.where(back, self.signs, self.labels), self.signs, self.participants)


def _unit(a: np.ndarray) -> np.ndarray:
    return a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), 1e-12)


@dataclass(frozen=True)
class PrototypeSpace:
    """Where a sequence's embedding lies against the signs the model learned: its cosine
    similarity, in the bank's standardised space, to the nearest prototype (one person's mean
    direction) of a class. A sign outside the vocabulary lies far from every person's way of
    signing the class the softmax names, even when the softmax is sure (BENCHMARKS.md,
    "Rejecting by distance"); that is what the `prototype` rule reads."""

    mean: np.ndarray        # [D]
    std: np.ndarray         # [D]
    protos: np.ndarray      # [P, D] unit vectors
    owner: np.ndarray       # [P] the class index of each prototype
    person: np.ndarray      # [P] whose examples it is the mean of

    def similarity(self, embedding: np.ndarray, k: int) -> float:
        """Similarity to class `k`'s nearest prototype; -1 for a class without one (`unknown`)."""
        z = _unit((np.asarray(embedding, np.float64).reshape(-1) - self.mean) / self.std)
        sims = self.protos[self.owner == k] @ z
        return float(sims.max()) if len(sims) else -1.0

    def bank_quantile(self, bank: "Bank", classes: list[str], q: float) -> float | None:
        """The `q` quantile of how near the bank's examples lie to OTHER people's prototypes of
        their class: how a new person's signs fall. None when no class has two people."""
        index = {c: k for k, c in enumerate(classes)}
        z = _unit((bank.embeddings.astype(np.float64) - self.mean) / self.std)
        sims = []
        for i, c in enumerate(bank.labels):
            if c == UNKNOWN:
                continue
            others = (self.owner == index[c]) & (self.person != bank.participants[i])
            if others.any():
                sims.append(float((self.protos[others] @ z[i]).max()))
        return float(np.quantile(sims, q)) if sims else None
