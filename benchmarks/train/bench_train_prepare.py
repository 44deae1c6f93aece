"""Benchmark: `asl-train prepare` throughput at the competition's scale, extrapolated.

The competition has 94,477 sequences of 10-500 frames (mean about 38, most under 100);
all of it needs about 50 GB of disk. This script generates a dataset of N (default
10,000) sequences with that length distribution from REAL landmark frames (the
traduttore MP_Data webcam sequences for pose and hands, the face of a real GISLR
sequence), written as GISLR parquet by `asl_live.formats.gislr`, then measures

- `prepare` as the command runs it (worker processes, numpy twin of the preprocessing),
  from an empty cache, median of --repeats runs;
- a plain loop: one file at a time, read and put through the in-model TF
  preprocessing (`preprocess_tf` in a tf.function), on --loop-sample files;

and extrapolates both to 94,477 sequences.

    python benchmarks/train/bench_train_prepare.py [--out /tmp/asl-bench-prepare] [--n 10000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import statistics
import sys
import tarfile
import time
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
GISLR_FILE = SHARED / "gislr" / "10042041.parquet"
MP_TAR = SHARED / "mp_data" / "traduttore_MP_Data.tar.gz"
COMPETITION_SEQUENCES = 94_477


def lengths(n: int, rng) -> np.ndarray:
    """Median 30, mean about 38, 10-500 frames, about 4% over 100 (the competition's shape)."""
    return np.clip(np.round(rng.lognormal(np.log(30), 0.7, n)), 10, 500).astype(int)


def _sources(work: Path):
    from asl_live.formats import mpdata
    from asl_live.formats.gislr import read_parquet

    mp_root = work / "_mp_data"
    if not (mp_root / "MP_Data").is_dir():
        with tarfile.open(MP_TAR) as t:
            t.extractall(mp_root, filter="data")
    seqs = mpdata.sequences(mp_root)
    frames = [mpdata.to_gislr(s.load()) for s in seqs]
    return frames, [s.sign for s in seqs], read_parquet(GISLR_FILE)


def _write_chunk(job):
    from asl_live.formats.gislr import write_parquet
    from asl_live.formats.layout import FACE

    root, items, seed = job
    mp_frames, face_source = _SOURCES
    rng = np.random.default_rng(seed)
    for path, length, picks in items:
        joined = np.concatenate([mp_frames[i] for i in picks])
        idx = np.round(np.linspace(0, len(joined) - 1, length)).astype(int)
        frames = joined[idx].copy()
        start = rng.integers(len(face_source))
        frames[:, FACE] = face_source[(start + np.arange(length)) % len(face_source)][:, FACE]
        write_parquet(Path(root) / path, frames)
    return len(items)


_SOURCES = None


def _init(sources):
    global _SOURCES
    _SOURCES = sources


def generate(root: Path, n: int, seed: int = 0):
    from tqdm import tqdm

    from asl_live.formats.gislr import Dataset, Sample, write_label_map

    marker = root / ".generated.json"
    if marker.is_file() and json.loads(marker.read_text()) == {"n": n, "seed": seed}:
        return
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    mp_frames, signs, face = _sources(root.parent / (root.name + "-sources"))
    rng = np.random.default_rng(seed)
    lens = lengths(n, rng)
    samples, items = [], []
    for i, length in enumerate(lens):
        picks = rng.integers(len(mp_frames), size=int(np.ceil(length / 20)))
        participant, seq = 1000 + i % 21, 100000 + i
        path = f"train_landmark_files/{participant}/{seq}.parquet"
        samples.append(Sample(path, participant, seq, signs[picks[0]]))
        items.append((path, int(length), picks))
    chunks = [items[i:i + 200] for i in range(0, n, 200)]
    with multiprocessing.get_context("fork").Pool(os.cpu_count(), _init, ((mp_frames, face),)) as pool:
        with tqdm(total=n, desc="generate", unit="seq", file=sys.stderr) as bar:
            for k in pool.imap_unordered(_write_chunk, [(str(root), c, seed + j) for j, c in enumerate(chunks)]):
                bar.update(k)
    Dataset(root).write_samples(samples)
    write_label_map(root / "sign_to_prediction_index_map.json", sorted(set(signs)))
    marker.write_text(json.dumps({"n": n, "seed": seed}))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--out", default="/tmp/asl-bench-prepare")
    p.add_argument("--n", type=int, default=10_000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--loop-sample", type=int, default=1000)
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--generate-only", action="store_true")
    args = p.parse_args()

    root = Path(args.out) / f"gislr-like-{args.n}"
    generate(root, args.n)
    if args.generate_only:
        return

    from asl_live.formats.gislr import Dataset, read_parquet
    from train import data as datamod

    data = datamod.load(root)
    n = len(data.samples)
    disk = sum(f.stat().st_size for f in (root / "train_landmark_files").rglob("*.parquet"))

    prepare_s = []
    for _ in range(args.repeats):
        cache = Path(args.out) / "cache"
        shutil.rmtree(cache, ignore_errors=True)
        t = time.perf_counter()
        datamod.prepare(data, cache, workers=args.workers, progress=False)
        prepare_s.append(time.perf_counter() - t)
    t = time.perf_counter()
    datamod.prepare(data, Path(args.out) / "cache", workers=args.workers, progress=False)
    reuse_s = time.perf_counter() - t
    _, _, lens = datamod.features(data, cache_dir=Path(args.out) / "cache", progress=False)

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    from train.preprocess import CACHE_ROWS, preprocess_tf

    fn = tf.function(lambda x: preprocess_tf(x, CACHE_ROWS),
                     input_signature=[tf.TensorSpec([None, 543, 3], tf.float32)])
    ds = Dataset(root)
    sample = data.samples[:args.loop_sample]
    fn(ds.read(sample[0]))  # trace once
    loop_runs = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        for s in sample:
            f, q = fn(ds.read(s))
            f.numpy()
        loop_runs.append(time.perf_counter() - t)

    prepare_rate = n / statistics.median(prepare_s)
    loop_rate = len(sample) / statistics.median(loop_runs)
    result = {
        "sequences": n, "disk_gb": round(disk / 1e9, 2), "cpu_cores": os.cpu_count(),
        "frames_median": float(np.median(lens)), "frames_mean": round(float(lens.mean()), 1),
        "frames_under_100": round(float((lens < 100).mean()), 3), "frames_max": int(lens.max()),
        "prepare_seconds": [round(s, 1) for s in prepare_s],
        "prepare_seq_per_s": round(prepare_rate, 1),
        "prepare_minutes_for_94477": round(COMPETITION_SEQUENCES / prepare_rate / 60, 2),
        "prepare_reuse_seconds": round(reuse_s, 2),
        "plain_loop_files": len(sample),
        "plain_loop_seq_per_s": round(loop_rate, 1),
        "plain_loop_minutes_for_94477": round(COMPETITION_SEQUENCES / loop_rate / 60, 2),
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
