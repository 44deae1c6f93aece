"""What the two importers (`import-mpdata`, `import-videos`) share.

- Sign names take their GISLR spelling through `asl_live.formats.gislr.gislr_name`.
- Stable ids: a sample's sequence id is derived from where it came from, so
  importing the same source again finds it already in `train.csv` (resume
  without duplicates) and a crash half-way leaves nothing to clean up (the
  orphan parquet of an unfinished batch is simply rewritten under the same id).
- Batched commits: parquet files are written one by one (atomically), and their
  `train.csv` rows are committed in batches (atomically), so an interrupted
  import keeps every committed row and never has a row without its file.
"""

from __future__ import annotations

import time
import zlib

import numpy as np

from asl_live.formats.gislr import Dataset, Sample, write_parquet

def stable_id(key: str, low: int = 1, high: int = 2**31 - 1) -> int:
    """A deterministic int in [low, high) for a source key (CRC32, not Python's salted hash)."""
    return low + zlib.crc32(key.encode("utf-8")) % (high - low)


def signer_id(name: str) -> int:
    """A stable 5-digit participant id for a signer's name (GISLR ids look like 16069)."""
    return stable_id("signer:" + name, 10000, 100000)


class BatchWriter:
    """Adds samples to a dataset: parquet at once, train.csv rows in batches.

    `Dataset.add` rewrites train.csv per sample, which is right for recording
    but costs an fsync and a full CSV rewrite per sample for thousands of
    imports. Use as a context manager: leaving it (normally, on Ctrl-C or on
    an error) commits what has been written.
    """

    def __init__(self, dataset: Dataset, every: int = 50, seconds: float = 5.0):
        self.dataset = dataset
        self.rows = dataset.samples() if dataset.train_csv.is_file() else []
        self.ids = {s.sequence_id for s in self.rows}
        self.pending: list[Sample] = []
        self.every, self.seconds = every, seconds
        self._last = time.monotonic()

    def has(self, sequence_id: int) -> bool:
        return sequence_id in self.ids

    def add(self, frames: np.ndarray, sign: str, participant_id: int, sequence_id: int) -> Sample:
        path = self.dataset.landmark_path(participant_id, sequence_id)
        write_parquet(path, frames)
        sample = Sample(path.relative_to(self.dataset.root).as_posix(), participant_id, sequence_id, sign)
        self.pending.append(sample)
        self.ids.add(sequence_id)
        if len(self.pending) >= self.every or time.monotonic() - self._last > self.seconds:
            self.commit()
        return sample

    def commit(self) -> None:
        if not self.pending:
            return
        # Label map first: a committed row's sign is then always in the map.
        self.dataset.ensure_signs([s.sign for s in self.pending])
        self.rows = self.rows + self.pending
        self.dataset.write_samples(self.rows)
        self.pending = []
        self._last = time.monotonic()

    def __enter__(self) -> "BatchWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.commit()
