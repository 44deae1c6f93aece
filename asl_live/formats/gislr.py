"""The GISLR (Kaggle `asl-signs`) formats: landmark parquet, label map, dataset layout.

One owner for all three. Whatever is written here, the competition's own loader
reads::

    data = pd.read_parquet(path, columns=["x", "y", "z"])
    data.values.reshape(len(data) // 543, 543, 3).astype(np.float32)

A dataset folder holds `train.csv` (path, participant_id, sequence_id, sign),
`train_landmark_files/<participant>/<sequence>.parquet` and
`sign_to_prediction_index_map.json`. Every write is atomic (temporary file,
fsync, rename), so an interrupted program never leaves a half-written file.
"""

from __future__ import annotations

import csv
import json
import os
import re
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from asl_live.errors import UserError
from asl_live.formats.layout import DIMS, ROW_LANDMARK_INDEX, ROW_TYPES, ROWS_PER_FRAME

TRAIN_CSV = "train.csv"
LANDMARK_DIR = "train_landmark_files"
LABEL_MAP = "sign_to_prediction_index_map.json"
CSV_COLUMNS = ("path", "participant_id", "sequence_id", "sign")
PARQUET_COLUMNS = ("frame", "row_id", "type", "landmark_index", "x", "y", "z")


# --------------------------------------------------------------------------- atomic files

@contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator:
    """Open a temporary file beside `path`; on success fsync it and rename it over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes the file 0600; give it the mode an ordinary open() would (0666 & ~umask).
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def writable_folder(path: str | os.PathLike, what: str = "folder") -> Path:
    """Create `path` if needed and prove a file can be written in it; UserError in one line if not.

    Called before anything slow starts (a recording, an import, training), so a
    wrong `--out` is reported at once, not after the first sample.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UserError(f"{path}: is a file, not a folder (give the {what} to write into)")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"{path}: cannot create this {what} ({e.strerror})") from None
    try:
        fd, probe = tempfile.mkstemp(prefix=".write-test.", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise UserError(f"{path}: cannot write in this {what} ({e.strerror})") from None
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# --------------------------------------------------------------------------- parquet

def read_parquet(path: str | os.PathLike) -> np.ndarray:
    """One GISLR landmark file as float32[frames, 543, 3], NaN where missing.

    Reads exactly as the competition's loader does, after checking the file so
    that a wrong one gets a clear UserError instead of a reshape traceback.
    """
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such parquet file")
    try:
        # Only x, y, z are read, as the competition's loader does: the string columns
        # (row_id, type) would more than double the time per file.
        table = pq.read_table(path, columns=["x", "y", "z"], use_threads=False)
    except Exception as e:  # pyarrow raises several unrelated types for a bad file or schema
        try:
            names = pq.read_schema(path).names
        except Exception:
            raise UserError(f"{path}: not a readable parquet file ({type(e).__name__})") from None
        missing = [c for c in ("x", "y", "z") if c not in names]
        if missing:
            raise UserError(f"{path}: parquet file lacks column(s) {', '.join(missing)}; "
                            f"a GISLR landmark file has {', '.join(PARQUET_COLUMNS)}") from None
        raise UserError(f"{path}: not a readable parquet file ({type(e).__name__})") from None
    n = table.num_rows
    import pyarrow.types as pat

    wrong = [f"{c} ({table.schema.field(c).type})" for c in ("x", "y", "z")
             if not (pat.is_floating(table.schema.field(c).type) or pat.is_integer(table.schema.field(c).type))]
    if wrong:
        raise UserError(f"{path}: column(s) {', '.join(wrong)} are not numbers; x, y, z of a GISLR "
                        "landmark file are floats")
    if n == 0 or n % ROWS_PER_FRAME:
        raise UserError(f"{path}: {n} rows is not a positive multiple of {ROWS_PER_FRAME} "
                        "(one frame is 543 landmark rows)")
    xyz = np.stack([table.column(c).to_numpy(zero_copy_only=False) for c in ("x", "y", "z")], axis=1)
    return xyz.reshape(n // ROWS_PER_FRAME, ROWS_PER_FRAME, DIMS).astype(np.float32)


def frames_to_table(frames: np.ndarray, first_frame: int = 0):
    """float[T, 543, 3] -> a pyarrow Table in the competition's long format."""
    import pyarrow as pa

    frames = np.asarray(frames, dtype=np.float32)
    if frames.ndim != 3 or frames.shape[1:] != (ROWS_PER_FRAME, DIMS):
        raise ValueError(f"frames must be [T, {ROWS_PER_FRAME}, {DIMS}], got {frames.shape}")
    t = frames.shape[0]
    frame_no = np.repeat(np.arange(first_frame, first_frame + t, dtype=np.int16), ROWS_PER_FRAME)
    types = np.tile(ROW_TYPES, t)
    lm = np.tile(ROW_LANDMARK_INDEX, t)
    row_id = [f"{f}-{ty}-{i}" for f, ty, i in zip(frame_no.tolist(), types.tolist(), lm.tolist())]
    flat = frames.reshape(-1, DIMS).astype(np.float64)  # the competition's files hold doubles
    return pa.table({
        "frame": pa.array(frame_no, pa.int16()),
        "row_id": pa.array(row_id, pa.string()),
        "type": pa.array(types.tolist(), pa.string()),
        "landmark_index": pa.array(lm, pa.int16()),
        "x": pa.array(flat[:, 0], pa.float64()),
        "y": pa.array(flat[:, 1], pa.float64()),
        "z": pa.array(flat[:, 2], pa.float64()),
    })


def write_parquet(path: str | os.PathLike, frames: np.ndarray, first_frame: int = 0) -> Path:
    """Write frames as one GISLR landmark file, atomically."""
    import pyarrow.parquet as pq

    table = frames_to_table(frames, first_frame)
    path = Path(path)
    with atomic_write(path) as f:
        pq.write_table(table, f)
    return path


# --------------------------------------------------------------------------- label map

# Everyday spelling (lower case, spaces/hyphens/underscores removed) -> GISLR spelling.
# Only the signs whose GISLR name is not simply the everyday word, and the tutorials'
# common short names of them (MP_Data folders say `thanks` and `my`).
GISLR_SPELLING = {
    "thankyou": "thankyou",
    "thanks": "thankyou",
    "my": "minemy",
    "mine": "minemy",
    "callonphone": "callonphone",
    "glasswindow": "glasswindow",
    "hesheit": "hesheit",
    "weus": "weus",
    "minemy": "minemy",
    "haveto": "haveto",
    "tv": "TV",
}


def gislr_name(name: str) -> str:
    """`thank-you`, `Thank You`, `thanks` -> `thankyou`, `my` -> `minemy`; other names unchanged (trimmed)."""
    name = name.strip()
    key = re.sub(r"[\s_\-]+", "", name).lower()
    return GISLR_SPELLING.get(key, name)



def read_label_map(path: str | os.PathLike) -> dict[str, int]:
    """`{sign: index}` with indices 0..n-1, checked."""
    path = Path(path)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: no such label map") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UserError(f"{path}: not a JSON label map ({e})") from None
    if not isinstance(data, dict) or not data or not all(
            isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) for k, v in data.items()):
        raise UserError(f"{path}: a label map is a JSON object {{sign: index}} with integer indices")
    if sorted(data.values()) != list(range(len(data))):
        raise UserError(f"{path}: label indices must be 0..{len(data) - 1}, each once")
    return data


def labels_in_order(label_map: dict[str, int]) -> list[str]:
    """Sign names indexed by class number."""
    return [s for s, _ in sorted(label_map.items(), key=lambda kv: kv[1])]


def write_label_map(path: str | os.PathLike, label_map: dict[str, int] | list[str]) -> Path:
    if not isinstance(label_map, dict):
        label_map = {s: i for i, s in enumerate(label_map)}
    with atomic_write(path, "w") as f:
        json.dump(label_map, f, indent=1)
        f.write("\n")
    return Path(path)


# --------------------------------------------------------------------------- dataset

@dataclass(frozen=True)
class Sample:
    path: str            # relative to the dataset root, as in train.csv
    participant_id: int
    sequence_id: int
    sign: str


class Dataset:
    """A dataset folder in the competition layout."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    @property
    def train_csv(self) -> Path:
        return self.root / TRAIN_CSV

    @property
    def label_map_path(self) -> Path:
        return self.root / LABEL_MAP

    def landmark_path(self, participant_id: int, sequence_id: int) -> Path:
        return self.root / LANDMARK_DIR / str(participant_id) / f"{sequence_id}.parquet"

    def samples(self) -> list[Sample]:
        """The rows of train.csv, checked; UserError when it is missing or malformed."""
        if not self.train_csv.is_file():
            raise UserError(f"{self.root}: no {TRAIN_CSV} here; a dataset folder in the competition "
                            f"layout has {TRAIN_CSV}, {LANDMARK_DIR}/ and {LABEL_MAP}")
        try:
            with open(self.train_csv, newline="", encoding="utf-8") as f:
                reader = csv.DictReader(f)
                cols = reader.fieldnames or []
                missing = [c for c in CSV_COLUMNS if c not in cols]
                if missing:
                    raise UserError(f"{self.train_csv}: missing column(s) {', '.join(missing)}")
                return [Sample(r["path"], int(r["participant_id"]), int(r["sequence_id"]), r["sign"])
                        for r in reader]
        except (ValueError, UnicodeDecodeError, csv.Error) as e:
            raise UserError(f"{self.train_csv}: malformed ({e})") from None

    def label_map(self) -> dict[str, int]:
        return read_label_map(self.label_map_path)

    def read(self, sample: Sample) -> np.ndarray:
        return read_parquet(self.root / sample.path)

    def add(self, frames: np.ndarray, sign: str, participant_id: int,
            sequence_id: int | None = None) -> Sample:
        """Write one sample: its parquet first, then its train.csv row, both atomically.

        A crash between the two leaves an orphan parquet, never a row without its
        file. The sign is added to the label map if it is new.
        """
        existing = self.samples() if self.train_csv.is_file() else []
        if sequence_id is None:
            used = {s.sequence_id for s in existing}
            sequence_id = max(used, default=999) + 1
        path = self.landmark_path(participant_id, sequence_id)
        write_parquet(path, frames)
        sample = Sample(path.relative_to(self.root).as_posix(), participant_id, sequence_id, sign)
        self._write_rows(existing + [sample])
        self.ensure_signs([sign])
        return sample

    def _write_rows(self, rows: list[Sample]) -> None:
        with atomic_write(self.train_csv, "w") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(CSV_COLUMNS)
            for s in rows:
                w.writerow((s.path, s.participant_id, s.sequence_id, s.sign))

    def write_samples(self, rows: list[Sample]) -> None:
        """Replace train.csv with these rows (atomically)."""
        self._write_rows(rows)

    def ensure_signs(self, signs) -> dict[str, int]:
        """Add unknown signs to the label map (new indices at the end) and return it."""
        current = self.label_map() if self.label_map_path.is_file() else {}
        new = [s for s in dict.fromkeys(signs) if s not in current]
        if new or not self.label_map_path.is_file():
            for s in new:
                current[s] = len(current)
            write_label_map(self.label_map_path, current)
        return current
