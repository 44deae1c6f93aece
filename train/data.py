"""A dataset in the competition layout -> checked samples, cached features and folds.

The feature cache holds, for every sample, the preprocessed frames of the widest
landmark selection (`preprocess.CACHE_ROWS`: lips, both hands, all pose points),
so one cache serves every `--parts` / `--pose` choice. It is written in shards of
consecutive train.csv rows; a shard's file name is a hash of its rows and of
their parquet files' sizes and modification times, so an unchanged dataset
reuses every shard, an interrupted `prepare` resumes where it stopped, and a
changed file recomputes only its shard.
"""

from __future__ import annotations

import hashlib
import os
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asl_live.errors import UserError
from asl_live.formats.gislr import Dataset, Sample, atomic_write, labels_in_order, read_parquet

from .preprocess import CACHE_ROWS, INPUT_FRAMES, preprocess_numpy

CACHE_VERSION = 1
SHARD_SIZE = 256
DEFAULT_FOLDS = 7


@dataclass
class Data:
    root: Path
    samples: list[Sample]
    signs: list[str]          # label names by class index
    labels: np.ndarray        # int32[N]
    participants: np.ndarray  # int64[N]


def load(root) -> Data:
    """The dataset's samples and labels, checked (UserError for anything a user must fix)."""
    ds = Dataset(root)
    if not ds.root.is_dir():
        raise UserError(f"{ds.root}: no such dataset folder")
    samples = ds.samples()
    if not samples:
        raise UserError(f"{ds.train_csv}: the dataset is empty (no rows)")
    label_map = ds.label_map()
    missing = sorted({s.sign for s in samples} - set(label_map))
    if missing:
        shown = ", ".join(repr(m) for m in missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise UserError(f"{ds.label_map_path}: sign(s) used in train.csv but missing from the label map: {shown}")
    return Data(ds.root, samples, labels_in_order(label_map),
                np.array([label_map[s.sign] for s in samples], np.int32),
                np.array([s.participant_id for s in samples], np.int64))


# --------------------------------------------------------------------------- cache

def _shard_key(root: Path, rows: list[Sample], trim: bool = False) -> str:
    h = hashlib.sha1(f"v{CACHE_VERSION}:{INPUT_FRAMES}:{CACHE_ROWS.tobytes().hex()}{':trim' if trim else ''}".encode())
    for s in rows:
        try:
            st = os.stat(root / s.path)
            stamp = f"{st.st_size}:{st.st_mtime_ns}"
        except OSError:
            stamp = "missing"
        h.update(f"|{s.path}:{stamp}".encode())
    return h.hexdigest()[:20]


def _shard_features(root: str, paths: list[str], data: list[bytes] | None = None, trim: bool = False) -> dict:
    """Worker: the cache arrays of one shard. Returns them (the driver writes the file), so a
    cluster's workers need no shared cache folder and a retried task cannot write twice."""
    from .engine import LocalCopy

    frames = np.zeros((len(paths), INPUT_FRAMES, CACHE_ROWS.size, 3), np.float32)
    positions = np.zeros((len(paths), INPUT_FRAMES), np.float32)
    lengths = np.zeros(len(paths), np.int32)
    for i, p in enumerate(paths):
        full = str(Path(root) / p)
        copy = LocalCopy(full, None if data is None else data[i])
        try:
            with copy as local:
                raw = read_parquet(local)
        except UserError as e:  # a shipped file's message names its temporary copy: name the original
            raise UserError(str(e).replace(copy.local, full) if copy.local else str(e)) from None
        except FileNotFoundError as e:
            raise UserError(str(e)) from None
        frames[i], positions[i] = preprocess_numpy(raw, CACHE_ROWS, trim=trim)
        lengths[i] = len(raw)
    return {"frames": frames, "positions": positions, "lengths": lengths}


def _write_shard(path: Path, arrays: dict) -> int:
    with atomic_write(path) as f:
        np.savez(f, **arrays)
    return len(arrays["lengths"])


def default_cache_dir(root) -> Path:
    return Path(root) / ".asl-train-cache"


def prepare(data: Data, cache_dir=None, workers: int | None = None, progress: bool = True,
            engine: str = "auto", address: str | None = None, send_files: bool = False,
            trim: bool = False) -> list[Path]:
    """Build (or reuse, or resume) the feature cache; returns the shard files in order.

    Shards are computed where `engine` / `address` say (`train.engine`: an embedded local
    Dask cluster by default, a running one at `address`) and written here, atomically.
    """
    from tqdm import tqdm

    from . import engine as eng

    cache = Path(cache_dir) if cache_dir else default_cache_dir(data.root)
    try:
        cache.mkdir(parents=True, exist_ok=True)
        probe = cache / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise UserError(f"{cache}: cannot write the feature cache there ({e.strerror}); pass --cache DIR") from None
    shards, jobs, todo = [], [], 0
    for start in range(0, len(data.samples), SHARD_SIZE):
        rows = data.samples[start:start + SHARD_SIZE]
        path = cache / f"shard-{_shard_key(data.root, rows, trim)}.npz"
        shards.append(path)
        if not path.is_file():
            jobs.append((path, [s.path for s in rows]))
            todo += len(rows)
    if not jobs:
        return shards
    workers = workers or min(len(jobs), eng.available_cores())
    # One shard, or one worker: this process (no workers to start), as before the engine.
    kind = eng.resolve(engine, address, workers, len(jobs), small_job=2)
    root = str(data.root)

    def args():  # a generator: shipped bytes are read a window of shards at a time
        for _, paths in jobs:
            if send_files and kind == "dask":
                yield root, paths, [(data.root / p).read_bytes() for p in paths], trim
            else:
                yield root, paths, None, trim

    bar = tqdm(total=todo, desc="prepare", unit="seq", disable=not progress, file=sys.stderr,
               initial=0, dynamic_ncols=True)
    try:
        with eng.open_runner(kind, workers, address, quiet=False) as runner:
            for i, arrays in runner.results(_shard_features, args()):
                if isinstance(arrays, eng.Lost):
                    raise UserError(f"prepare: shard {jobs[i][0].name} was lost: {arrays.reason}")
                bar.update(_write_shard(jobs[i][0], arrays))
    except BaseException:
        bar.leave = False  # erase the bar: the error message stands alone
        raise
    finally:
        bar.close()
    return shards


def features(data: Data, columns: np.ndarray | None = None, cache_dir=None, workers=None,
             progress: bool = True, trim: bool = False):
    """(frames float32[N, 32, C, 3], positions float32[N, 32], lengths int32[N]) for all samples.

    `columns` picks columns of the cache (see `preprocess.cache_columns`); all by default.
    """
    shards = prepare(data, cache_dir, workers, progress, trim=trim)
    n = len(data.samples)
    ncol = CACHE_ROWS.size if columns is None else len(columns)
    frames = np.empty((n, INPUT_FRAMES, ncol, 3), np.float32)
    positions = np.empty((n, INPUT_FRAMES), np.float32)
    lengths = np.empty(n, np.int32)
    at = 0
    for path in shards:
        with np.load(path) as z:
            f = z["frames"]
            k = len(f)
            frames[at:at + k] = f if columns is None else f[:, :, columns]
            positions[at:at + k] = z["positions"]
            lengths[at:at + k] = z["lengths"]
        at += k
    return frames, positions, lengths


# --------------------------------------------------------------------------- folds

def n_folds(data: Data, wanted: int = DEFAULT_FOLDS) -> int:
    people = len(np.unique(data.participants))
    return min(wanted, people)


def fold_assignment(data: Data, folds: int = DEFAULT_FOLDS, seed: int = 42, quiet: bool = False) -> np.ndarray:
    """int[N]: the validation fold of each sample; stratified by sign, grouped by participant."""
    from sklearn.model_selection import StratifiedGroupKFold

    people = len(np.unique(data.participants))
    if people < 2:
        raise UserError(f"{data.root}: folds need at least 2 participants, this dataset has {people}; "
                        "use --all to train on everything")
    k = min(folds, people)
    if k < folds and not quiet:
        print(f"asl-train: {people} participants, so {k} folds instead of {folds} "
              f"(each participant is in exactly one validation fold)", file=sys.stderr)
    out = np.full(len(data.samples), -1, np.int64)
    splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "least populated class has fewer members than n_splits"
        for i, (_, val) in enumerate(splitter.split(np.zeros(len(out)), data.labels, data.participants)):
            out[val] = i
    return out
