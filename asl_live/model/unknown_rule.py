"""When a prediction becomes "unknown": the rejection rule of a model, and its sidecar file.

A rule is a confidence score computed from the model's probabilities and a
threshold on it; the answer is "unknown" when the score is below the threshold.
The scores:

- `max_prob`: the best probability.
- `margin`: the best probability minus the second best.
- `certainty`: 1 - entropy / ln(classes), 1 for a one-hot answer, 0 for a uniform one.

Which score and which threshold depend on the model (a 7-class and a 250-class
softmax spread their probability very differently), so `asl-train export`
measures them on sequences the model never trained on (held-out signs of its
vocabulary, and signs outside it) and writes them beside the model in a small
JSON sidecar, `<model stem>.unknown.json`::

    {"rule": "margin", "threshold": 0.31, "classes": 7, "model_sha256": "...",
     "measured": {"kept": 0.97, "rejected": 0.92, "in_vocabulary": 344, "out_of_vocabulary": 156, ...}}

A model with a bank (`extend`) may instead carry the `prototype` rule, on the
sequence's embedding rather than its probabilities: `{"rule": "prototype",
"threshold": 0.415, ...}`, the cosine similarity to the nearest prototype of the
predicted class (`bank.PrototypeSpace`, built from the bank when the model loads).

The app reads it (`rule_for_model`). A model without a sidecar (any GISLR model
from elsewhere) gets `class_count_rule`, measured in docs/history/2026-11-25-unknown-rule-class-count.md.
`--threshold P` overrides both with `max_prob >= P`. A sidecar written for
another model file (its sha256 differs) is ignored with a warning, so replacing
a model without recalibrating it falls back to the class-count rule.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from asl_live.errors import UserError
from asl_live.formats.json_file import read_json
from asl_live.formats.gislr import atomic_write
from asl_live.model.bank import Bank
from asl_live.model.runtime import file_sha256

SIDECAR_SUFFIX = ".unknown.json"
SCORES = ("max_prob", "margin", "certainty")
# Rules on the sequence's embedding rather than the probabilities: `prototype`, the cosine
# similarity to the nearest prototype of the predicted class in the model's bank
# (`bank.PrototypeSpace`); written by `asl-train extend` for a model whose bank has every
# class signed by two people or more (not for signs `teach` adds: one person each).
EMBEDDING_SCORES = ("prototype",)


def score(rule: str, probs: np.ndarray) -> np.ndarray:
    """The confidence score(s) of probability vector(s) `probs` [..., classes]; higher = surer."""
    p = np.asarray(probs, dtype=np.float64)
    if rule == "max_prob":
        return p.max(axis=-1)
    if rule == "margin":
        top2 = -np.partition(-p, 1, axis=-1)[..., :2] if p.shape[-1] > 1 else np.concatenate([p, 0 * p], -1)
        return top2[..., 0] - top2[..., 1]
    if rule == "certainty":
        n = p.shape[-1]
        if n < 2:
            return np.ones(p.shape[:-1])
        h = -(p * np.log(np.clip(p, 1e-12, 1.0))).sum(axis=-1)
        return 1.0 - h / math.log(n)
    raise ValueError(f"unknown rule {rule!r}; one of {', '.join(SCORES)}")


@dataclass(frozen=True)
class Rule:
    """Keep an answer when `score(rule, probs) >= threshold`; else it is "unknown"."""

    rule: str = "max_prob"
    threshold: float = 0.4
    source: str = ""            # where it came from, for --verbose and the benchmarks
    measured: dict = field(default_factory=dict, compare=False)
    space: object = field(default=None, compare=False)   # `prototype`: the model's PrototypeSpace

    @property
    def needs_embedding(self) -> bool:
        return self.rule in EMBEDDING_SCORES

    def keeps(self, probs: np.ndarray, embedding: np.ndarray | None = None) -> bool:
        if self.needs_embedding:
            if embedding is None or self.space is None:
                raise ValueError(f"the {self.rule!r} rule needs the sequence's embedding")
            return self.space.similarity(embedding, int(np.argmax(probs))) >= self.threshold
        return bool(score(self.rule, probs) >= self.threshold)

    def describe(self) -> str:
        return f"{self.rule} >= {self.threshold:g} ({self.source})" if self.source else \
            f"{self.rule} >= {self.threshold:g}"


# The class-count rule for models without a sidecar: a max-probability threshold that
# lies a fixed fraction of the way from chance (1/N) to certainty (1):
#     threshold(N) = 1/N + FRACTION * (1 - 1/N)
# FRACTION is set from the measurements in docs/history/2026-11-25-unknown-rule-class-count.md: a public 250-class
# GISLR model keeps 0.955 of its right answers and rejects 0.50 of 40 out-of-vocabulary
# clips at 0.25 (issue 10), and FRACTION = 0.247 gives 0.25 for 250 classes; the
# same rule gives 0.355 for a 7-class model and 0.62 for a 2-class one (where
# any threshold at or below 0.5 would reject nothing).
FRACTION = 0.247


def class_count_rule(num_classes: int) -> Rule:
    n = max(int(num_classes), 1)
    t = 1.0 / n + FRACTION * (1.0 - 1.0 / n)
    return Rule("max_prob", round(t, 4), f"class-count rule for {n} classes")


def sidecar_path(model_path: str | os.PathLike) -> Path:
    p = Path(model_path)
    return p.with_name(p.stem + SIDECAR_SUFFIX)


def read_sidecar(path: str | os.PathLike, num_classes: int | None = None) -> dict:
    """The sidecar's content, checked; UserError with one line when it is malformed."""
    path = Path(path)
    data = read_json(path, "calibration file")
    if not isinstance(data, dict):
        raise UserError(f"{path}: a calibration file is a JSON object {{\"rule\": ..., \"threshold\": ...}}")
    rule, t = data.get("rule"), data.get("threshold")
    if rule not in SCORES + EMBEDDING_SCORES:
        raise UserError(f"{path}: \"rule\" must be one of {', '.join(SCORES + EMBEDDING_SCORES)}, got {rule!r}")
    low = -1.0 if rule in EMBEDDING_SCORES else 0.0   # a cosine similarity
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not low <= t <= 1.0:
        raise UserError(f"{path}: \"threshold\" must be a number between {low:g} and 1, got {t!r}")
    classes = data.get("classes")
    if num_classes is not None and classes is not None and classes != num_classes:
        raise UserError(f"{path}: written for a model with {classes} classes, this one has {num_classes}")
    return data


def write_sidecar(model_path: str | os.PathLike, rule: str, threshold: float, classes: int,
                  measured: dict) -> Path:
    path = sidecar_path(model_path)
    data = {"rule": rule, "threshold": round(float(threshold), 6), "classes": int(classes),
            "model_sha256": file_sha256(model_path), "measured": measured}
    with atomic_write(path, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    return path


def rule_for_model(model_path: str | os.PathLike, num_classes: int, threshold: float | None = None,
                   warn=None, labels: list[str] | None = None) -> Rule:
    """--threshold if given, else the model's sidecar, else the class-count rule.

    A `prototype` sidecar also needs the model's bank and its `labels` (in output order); a
    model whose bank is missing or belongs to another file falls back to the class-count rule.
    """
    if threshold is not None:
        return Rule("max_prob", float(threshold), "--threshold")
    side = sidecar_path(model_path)
    if side.is_file():
        data = read_sidecar(side, num_classes)
        sha = data.get("model_sha256")
        if sha is None or sha == file_sha256(model_path):
            if data["rule"] not in EMBEDDING_SCORES:
                return Rule(data["rule"], float(data["threshold"]), side.name, data.get("measured", {}))
            try:
                space = Bank.load(model_path).prototypes(list(labels or []))
            except UserError as e:
                if warn is not None:
                    warn(f"{side}: its rule needs the model's bank, which cannot be read ({e}); "
                         "using the class-count rule")
                return class_count_rule(num_classes)
            return Rule(data["rule"], float(data["threshold"]), side.name, data.get("measured", {}), space)
        if warn is not None:
            warn(f"{side}: written for another model file (sha256 differs); "
                 f"using the class-count rule (recalibrate: asl-train calibrate {model_path} ...)")
    return class_count_rule(num_classes)


# --------------------------------------------------------------------------- measuring

def kept_and_rejected(rule: str, threshold: float, in_probs: np.ndarray, in_truth: np.ndarray,
                      oov_probs: np.ndarray, unknown_index: int | None = None) -> dict:
    """Right answers kept (of those right before any rule) and out-of-vocabulary sequences rejected.

    An answer is "unknown" when the rule rejects it or when the model's own `unknown`
    class (if it has one) wins.
    """
    in_probs, oov_probs = np.atleast_2d(in_probs), np.atleast_2d(oov_probs)
    right = in_probs.argmax(1) == np.asarray(in_truth)
    keep_in = score(rule, in_probs) >= threshold
    keep_oov = score(rule, oov_probs) >= threshold
    if unknown_index is not None:
        keep_oov &= oov_probs.argmax(1) != unknown_index
    n_right = int(right.sum())
    return {
        "kept": round(float((right & keep_in).sum() / n_right), 4) if n_right else 0.0,
        "rejected": round(float(1.0 - keep_oov.mean()), 4) if len(oov_probs) else 0.0,
        "top1": round(float(right.mean()), 4) if len(right) else 0.0,
        "in_vocabulary": int(len(in_probs)),
        "out_of_vocabulary": int(len(oov_probs)),
    }


def choose_rule(in_probs: np.ndarray, in_truth: np.ndarray, oov_probs: np.ndarray, keep: float = 0.97,
                unknown_index: int | None = None) -> tuple[str, float, dict]:
    """The score and threshold that keep at least `keep` of the right answers and reject the most OOV.

    For each score: `t_keep`, the highest threshold that still keeps `keep` of the
    in-vocabulary sequences the model answers right, fixes how many out-of-vocabulary
    sequences can be rejected. Any threshold between the highest score of an OOV
    sequence rejected at `t_keep` and `t_keep` rejects exactly as many; the rule takes
    the middle of that gap, so that right answers of new signers, a little less
    confident than the calibration data, are not lost for nothing. Of the scores, the
    one that rejects the most OOV sequences wins (ties: the one that keeps more right
    answers, then the simpler one, in `SCORES` order). Returns (rule, threshold,
    measurements of every score).
    """
    in_probs, oov_probs = np.atleast_2d(in_probs), np.atleast_2d(oov_probs)
    right = in_probs.argmax(1) == np.asarray(in_truth)
    if not right.any():
        raise UserError("the model answers none of the in-vocabulary sequences right; nothing to calibrate on")
    n = in_probs.shape[1]
    results = {}
    for rule in SCORES:
        s = np.sort(score(rule, in_probs[right]))
        # keep >= `keep`: at most floor((1-keep)*n) right answers may fall below the threshold
        drop = int(math.floor((1.0 - keep) * len(s) + 1e-9))
        t_keep = float(s[drop])
        o = score(rule, oov_probs)
        by_rule = o[o < t_keep]
        if unknown_index is not None:
            by_rule = o[(o < t_keep) & (oov_probs.argmax(1) != unknown_index)]
        floor = 1.0 / n if rule == "max_prob" else 0.0
        low = float(by_rule.max()) if len(by_rule) else floor
        t = (low + t_keep) / 2.0
        t = math.floor(t * 1e6) / 1e6  # rounded down, so the written value keeps what was measured
        results[rule] = {"threshold": t, "threshold_keep_limit": round(t_keep, 6),
                         **kept_and_rejected(rule, t, in_probs, in_truth, oov_probs, unknown_index)}
    best = max(SCORES, key=lambda r: (results[r]["rejected"], results[r]["kept"], -SCORES.index(r)))
    return best, results[best]["threshold"], results
