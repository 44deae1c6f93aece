"""Learning from corrections: a wrong answer corrected becomes a sample, and the model is extended.

A `Learner` owns one folder laid out as `asl-live teach` leaves it::

    FOLDER/data/    the user's own samples (GISLR layout: `gislr.Dataset`, each write atomic)
    FOLDER/model/   model.tflite + label map + bank + card.json: the model in use plus them

Each correction saves the stretch of landmarks that was answered wrong as a sample of the right
sign, then extends the *base* model (the one the session started with) with every sample in
the folder (`extend.extend`: the base's encoder and bank, a new last layer, a second or two, no
TensorFlow). Always from the base, so undoing a correction is just dropping its sample and
extending again, and a sign corrected ten times is learned from ten samples, not stacked ten
times. The new model is written next to the old one's files (each atomically) and the
`Classifier` on it is what the caller swaps in for the next answer.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asl_live.model.runtime import file_sha256
from asl_live.errors import UserError
from asl_live.formats.gislr import Dataset, Sample, gislr_name, writable_folder
from asl_live.model import UNKNOWN
from asl_live.model.card import card_path, read_card, write_card
from asl_live.model.extend import IDLE

MAX_NAME = 40


def sign_name(text: str) -> str:
    """A sign name a user typed or a dataset gave, in GISLR spelling; UserError (one line) if it is not one.

    `thank you` -> `thankyou`; idle-hands names -> `unknown` (no sign). Letters, digits and
    `-`, `_`, `'` only, so that it is a safe label map key and file name everywhere.
    """
    raw = (text or "").strip()
    if raw in IDLE:
        return UNKNOWN
    name = gislr_name(raw)
    if not name or len(name) > MAX_NAME or not all(c.isalnum() or c in "-_'" for c in name) \
            or not any(c.isalnum() for c in name):
        raise UserError(f"{text!r} is not a sign name: letters, digits, - _ ' only, up to {MAX_NAME} "
                        "characters (e.g. thankyou, see-you-later)")
    return name


def is_right(answer: str, label: str) -> bool:
    """Whether the app's `answer` is what was signed (`label`, as a dataset spells it)."""
    try:
        return answer == sign_name(label)
    except UserError:
        return False


class NoHand(UserError):
    """A correction of a stretch in which no hand was seen: the app's rule answers it `unknown` anyway."""


@dataclass
class Learned:
    sample: Sample
    sign: str
    seconds: float      # extending the model
    classes: list[str]


class Learner:
    """Corrections in, an extended model out (see the module's docstring)."""

    def __init__(self, folder, base_model, base_labels, threshold: float | None = None,
                 taught_by: str = "", warn=None):
        from asl_live.model.bank import Bank
        from asl_live.model.head import check_extendable

        self.folder = writable_folder(folder, "learning folder")
        self.dataset = Dataset(self.folder / "data")
        self.model_dir = self.folder / "model"
        self.base_model, self.base_labels = Path(base_model), Path(base_labels)
        self.threshold, self.taught_by, self.warn = threshold, taught_by, warn
        check_extendable(self.base_model)   # say now, not at the first correction, that it cannot learn
        Bank.load(self.base_model)
        self.base_sha256 = file_sha256(self.base_model)
        self.seconds = 0.0        # spent extending, in all
        self.corrections = 0      # made in this session
        self._lock = threading.Lock()   # one correction or undo at a time (the window's worker thread)
        self._frames: dict[str, np.ndarray] = {}   # sample path -> landmarks, read once
        self._embedder = None   # the base's, made at the first correction and kept
        if self.samples():
            card = card_path(self.model_dir / "model.tflite")
            if not card.is_file() or read_card(card)["base_sha256"] != self.base_sha256:
                raise UserError(f"{self.folder}: holds samples learned on another model; give another "
                                "folder, or that model")

    def samples(self) -> list[Sample]:
        return self.dataset.samples() if self.dataset.train_csv.is_file() else []

    @property
    def model(self) -> tuple[Path, Path]:
        """(model, label map) in use: the extended one once there is a sample, else the base."""
        if self.samples() and (self.model_dir / "model.tflite").is_file():
            return self.model_dir / "model.tflite", self.model_dir / "sign_to_prediction_index_map.json"
        return self.base_model, self.base_labels

    def classifier(self):
        from asl_live.model.classifier import Classifier

        model, labels = self.model
        return Classifier(model, labels, self.threshold, warn=self.warn)

    def correct(self, frames: np.ndarray, sign: str, participant: int = 0) -> Learned:
        """Save `frames` as a sample of `sign` and extend the model with it (seconds)."""
        from asl_live.model.classifier import has_hand

        name = sign_name(sign)
        frames = np.asarray(frames, np.float32) if frames is not None else np.zeros((0,))
        if frames.ndim != 3 or len(frames) == 0:
            raise UserError("nothing to correct: no answer yet")
        if name != UNKNOWN and not has_hand(frames):
            raise NoHand("no hand was seen in that stretch, so the app answers `unknown` to it whatever it "
                         "learns; nothing learned")
        with self._lock:
            sample = self.dataset.add(frames, name, int(participant))
            self._frames[sample.path] = frames
            self.corrections += 1
            seconds, classes = self._extend()
        return Learned(sample, name, seconds, classes)

    def undo(self) -> Sample | None:
        """Take the last sample back (its row, then its file) and extend again; None when there is none."""
        with self._lock:
            rows = self.samples()
            if not rows:
                return None
            last = rows[-1]
            self.dataset.write_samples(rows[:-1])   # the row first: a crash leaves an orphan file, never a row without one
            (self.dataset.root / last.path).unlink(missing_ok=True)
            self._frames.pop(last.path, None)
            self.corrections = max(0, self.corrections - 1)
            if rows[:-1]:
                self._extend()
            return last

    def _extend(self) -> tuple[float, list[str]]:
        from asl_live.model.extend import Recording, extend

        rows = self.samples()
        recordings = []
        for s in rows:
            if s.path not in self._frames:
                self._frames[s.path] = self.dataset.read(s)
            recordings.append(Recording(self._frames[s.path], s.sign, s.participant_id))
        started = time.perf_counter()
        if self._embedder is None:
            from asl_live.model.head import Embedder

            self._embedder = Embedder(self.base_model)
        result = extend(self.base_model, self.base_labels, recordings, self.model_dir, embedder=self._embedder)
        seconds = time.perf_counter() - started
        counts: dict[str, int] = {}
        for s in rows:
            counts[s.sign] = counts.get(s.sign, 0) + 1
        self.seconds += seconds
        write_card(result["model"], self.base_model, counts, result["classes"], self.taught_by,
                   learning_seconds=self.seconds, base_sha256=self.base_sha256)
        return seconds, result["classes"]

