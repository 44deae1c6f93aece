"""Training configuration as plain data, saved as `config.json` in every run folder."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from asl_live.errors import UserError

from .preprocess import PART_NAMES, POSE_CHOICES

ARCHS = ("transformer", "fc", "conv")
# "body": signer-invariant features computed in the model (train.features); "reference": the
# reference notebook's per-landmark standardisation with the training set's statistics.
# "body_one_length" (y in shoulder widths too) and "body_no_mirror" (no dominant-hand mirroring)
# are the body features with one part switched off, kept for the measurements in BENCHMARKS.md.
FEATURES = ("body", "reference", "body_one_length", "body_no_mirror", "body_standardised")


@dataclass
class Config:
    arch: str = "transformer"
    parts: list[str] = field(default_factory=lambda: list(PART_NAMES))
    # "body": pose rows 489-511 (head, shoulders, arms), which the body features need;
    # "upper": the reference's 502-511; "all": 489-521
    pose: str = "body"
    features: str = "body"           # see FEATURES; "reference" + pose "upper" reproduce the notebook
    trim: bool = False               # drop the way to and from rest at both ends (train.preprocess)
    # model (the reference's transformer: 2 blocks x 384 units, MLP ratio 2)
    units: int = 384
    blocks: int = 2
    heads: int = 8
    mlp_ratio: int = 2
    mlp_dropout: float = 0.3
    classifier_dropout: float = 0.1
    # optimisation
    epochs: int | None = None        # None: chosen from the dataset size (see fit.auto_epochs)
    batch_size: int = 128
    batch_all_signs: int = 0         # > 0: each batch holds this many samples of every sign
    person_alignment: float = 0.0    # > 0: pull each sign's people together (train.alignment)
    lr: float = 1e-3
    weight_decay: float = 0.05
    warmup_epochs: float = 1.0
    label_smoothing: float = 0.1
    seed: int = 42
    loader_workers: int = 1          # threads preparing (augmenting) batches; more for a GPU
    # augmentation (probabilities per sample; 0 disables)
    mirror: float = 0.5
    affine: float = 0.75
    resample: float = 0.5
    drop_frames: float = 0.3
    drop_landmarks: float = 0.3
    crop: float = 0.0                # a shorter stretch of the sign's frames (start and end trimmed)
    body_shape: float = 0.0          # head, arm and hand proportions (train.augment)
    camera: float = 0.0              # picture aspect and perspective
    drop_hand: float = 0.0           # a hand lost in some frames
    jitter: float = 0.0              # landmark noise
    # data split: fold index, or None to train on everything (the reference's final model)
    fold: int | None = None
    folds: int = 7

    def check(self) -> "Config":
        if self.arch not in ARCHS:
            raise UserError(f"--arch must be one of {', '.join(ARCHS)}, not {self.arch!r}")
        bad = [p for p in self.parts if p not in PART_NAMES]
        if bad or not self.parts:
            raise UserError(f"parts must be a non-empty subset of {', '.join(PART_NAMES)}; got {self.parts}")
        self.parts = [p for p in PART_NAMES if p in self.parts]
        if self.pose not in POSE_CHOICES:
            raise UserError(f"pose must be one of {', '.join(POSE_CHOICES)}, not {self.pose!r}")
        if self.features not in FEATURES:
            raise UserError(f"features must be one of {', '.join(FEATURES)}, not {self.features!r}")
        if self.epochs is not None and self.epochs < 1:
            raise UserError("--epochs must be at least 1")
        if self.batch_size < 1:
            raise UserError("--batch-size must be at least 1")
        if not self.person_alignment >= 0:   # also NaN
            raise UserError("--person-alignment must be 0 (off) or more")
        if self.units % self.heads:
            raise UserError(f"units ({self.units}) must be a multiple of heads ({self.heads})")
        return self

    @classmethod
    def from_dict(cls, data: dict) -> "Config":
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise UserError(f"unknown config option(s): {', '.join(unknown)}")
        return cls(**data).check()

    def to_dict(self) -> dict:
        return asdict(self)

    def save(self, path: Path) -> None:
        from asl_live.formats.gislr import atomic_write

        with atomic_write(path, "w") as f:
            json.dump(self.to_dict(), f, indent=1)
            f.write("\n")

    @classmethod
    def load(cls, path: Path) -> "Config":
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise UserError(f"{path}: no such config file") from None
        except (OSError, json.JSONDecodeError) as e:
            raise UserError(f"{path}: not a JSON config ({e})") from None
        data = {k: v for k, v in data.items() if not k.startswith("_")}
        data.setdefault("trim", False)  # a run saved before `trim` existed was trained without it
        return cls.from_dict(data)
