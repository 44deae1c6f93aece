"""`asl-train import-videos SRC --out DIR`: labelled videos into the competition layout.

`SRC/<sign>.mp4` or `SRC/<sign>/<anything>.mp4` (also .mov .avi .mkv .webm
.m4v); the sign is the file or folder name in its GISLR spelling
(`thank you.mp4` -> `thankyou`). Landmarks come from the app's own extraction
(`asl_live.capture.sources.video_landmarks`, i.e. `HolisticExtractor`), so imported
data matches what the app sees live.

- Parallel, on one machine or a cluster (`train.engine`): by default an
  embedded local Dask cluster, one worker process per core (`--jobs`); with
  `--address` (or `DASK_SCHEDULER_ADDRESS`) a running Dask cluster. Each worker
  runs one video at a time through a fresh Holistic graph (tracking must not
  carry over from one video to the next; the worker process, its MediaPipe
  import and model files stay loaded across videos). Workers return landmarks;
  only this process writes to the dataset, so a task retried after its worker
  died cannot write twice.
- Resumable: a video's sequence id is derived from its path relative to SRC
  and its size, so a second run skips everything already in train.csv and an
  interruption (Ctrl-C, kill) loses at most the last uncommitted batch, which
  the next run redoes without duplicates.
- Failures: a file that cannot be decoded, has no frames, or in which no hand
  is seen in any frame is not imported; all of them are listed at the end
  (path: reason) and the exit code is 1 (the others are imported and saved).
  A bad SRC or --out is a user error (exit 2).
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asl_live.errors import ArgumentParser
from asl_live.errors import UserError, run_main
from asl_live.formats.gislr import Dataset, gislr_name, writable_folder
from asl_live.formats.layout import hands_visible

from . import engine as eng
from .importing import BatchWriter, stable_id

VIDEO_SUFFIXES = {".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v"}
EXIT_SOME_FAILED = 1
# Below this many videos `--engine auto` runs them in this process: see SMALL_JOB in docs/history/2026-11-24-importers-and-dask-engine.md.
SMALL_JOB = 2


@dataclass(frozen=True)
class Video:
    path: Path
    rel: str      # path relative to SRC, posix
    sign: str     # raw name from the file or folder
    size: int

    @property
    def key(self) -> str:
        return f"video:{self.rel}:{self.size}"


def find_videos(src: str | os.PathLike) -> list[Video]:
    """`<sign>.<ext>` at the top of SRC and `<sign>/<anything>.<ext>` one level down."""
    src = Path(src)
    if not src.is_dir():
        raise UserError(f"{src}: no such folder (expected <sign>.mp4 or <sign>/<anything>.mp4 inside)")
    out = []
    for p in sorted(src.iterdir()):
        if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES:
            out.append(Video(p, p.name, p.stem, p.stat().st_size))
        elif p.is_dir():
            for q in sorted(p.iterdir()):
                if q.is_file() and q.suffix.lower() in VIDEO_SUFFIXES:
                    out.append(Video(q, f"{p.name}/{q.name}", p.name, q.stat().st_size))
    if not out:
        raise UserError(f"{src}: no videos found ({', '.join(sorted(VIDEO_SUFFIXES))}) as "
                        "<sign>.mp4 or <sign>/<anything>.mp4")
    return out


@dataclass(frozen=True)
class Extracted:
    """What a worker sends back for one video: landmarks, or the reason there are none."""
    frames: np.ndarray | None
    reason: str | None
    seconds: float   # time the worker spent on it (the engine-overhead benchmark uses it)


def _extract(path: str, data: bytes | None = None) -> Extracted:
    """Worker: one video through Holistic. Never raises, so one bad file stops nothing."""
    import time

    from asl_live.capture.sources import video_landmarks

    from .engine import LocalCopy

    t0 = time.perf_counter()

    def failed(reason):
        return Extracted(None, reason, time.perf_counter() - t0)

    copy = LocalCopy(path, data)
    try:
        with copy as local:
            frames, _fps = video_landmarks(local, progress=False)
    except UserError as e:  # a shipped file's message names its temporary copy: name the original
        return failed(str(e).replace(copy.local, path) if copy.local else str(e))
    except Exception as e:  # a decoder or MediaPipe failure on one file; a missing file on a worker
        return failed(f"{type(e).__name__}: {e}")
    if frames is None or len(frames) == 0:
        return failed("no frames could be decoded")
    if not hands_visible(frames).any():
        return failed(f"no hand seen in any of its {len(frames)} frames")
    return Extracted(np.asarray(frames, dtype=np.float32), None, time.perf_counter() - t0)


def parse_shard(text: str) -> tuple[int, int]:
    """`i/n` -> (i, n): the videos whose position in name order is i modulo n."""
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise UserError(f"--shard {text!r}: expected i/n, e.g. 0/2") from None
    if n < 1 or not 0 <= i < n:
        raise UserError(f"--shard {text!r}: need n >= 1 and 0 <= i < n")
    return i, n


def import_videos(src, out, participant: int = 0, jobs: int | None = None,
                  keep_names: bool = False, progress: bool = True, limit: int | None = None,
                  sign: str | None = None, shard: tuple[int, int] | None = None,
                  reuse: str | os.PathLike | None = None, engine: str = "auto",
                  address: str | None = None, send_files: bool = False) -> dict:
    """Import the videos under `src` into the dataset at `out`; returns a summary dict.

    `sign` labels every video with that one name (e.g. "unknown" for clips of
    signs outside a vocabulary); `shard=(i, n)` takes every n-th video from the
    i-th, in name order (a reproducible split of one folder into n parts).
    `reuse` is a dataset these same videos were imported into before: their
    landmarks are taken from there instead of running MediaPipe again.
    `engine`, `address`, `send_files`: where the extraction runs (`train.engine`).
    """
    import time

    from tqdm import tqdm

    videos = find_videos(src)
    if shard is not None:
        videos = videos[shard[0]::shard[1]]
    if limit is not None:
        videos = videos[:limit]
    dataset = Dataset(writable_folder(out, "dataset folder"))  # a wrong --out fails before any work
    failed: list[tuple[str, str]] = []
    added = frames_done = 0
    worker_seconds = 0.0
    summary = {"engine": None, "startup_s": 0.0}

    def label(v: Video) -> str:
        return sign or (v.sign if keep_names else gislr_name(v.sign))

    # A video costs about a second to extract; committing each one costs milliseconds.
    with BatchWriter(dataset, every=1) as writer:
        todo = [v for v in videos if not writer.has(stable_id(v.key))]
        skipped = len(videos) - len(todo)
        if reuse is not None:
            earlier = Dataset(reuse)
            known = {s.sequence_id: s for s in earlier.samples()}
            for v in [v for v in todo if stable_id(v.key) in known]:
                writer.add(earlier.read(known[stable_id(v.key)]), label(v), participant, stable_id(v.key))
                added += 1
                todo.remove(v)
        t0 = time.monotonic()
        if todo:
            jobs = max(1, min(jobs or eng.available_cores(), len(todo)))
            kind = eng.resolve(engine, address, jobs, len(todo), SMALL_JOB)
            bar = tqdm(total=len(todo), desc="import-videos", unit="video", disable=not progress,
                       file=sys.stderr, dynamic_ncols=True)
            try:
                with eng.open_runner(kind, jobs, address) as runner:
                    summary.update(engine=eng.describe(runner), startup_s=getattr(runner, "startup_s", 0.0))
                    # A generator: the runner submits a window at a time, so shipped bytes are
                    # read only as workers become free, never the whole corpus at once.
                    args = (((str(v.path), v.path.read_bytes()) if send_files and kind == "dask"
                             else (str(v.path),)) for v in todo)
                    for i, got in runner.results(_extract, args):
                        v = todo[i]
                        if isinstance(got, eng.Lost):
                            failed.append((v.rel, got.reason))
                        elif got.frames is None:
                            failed.append((v.rel, got.reason))
                            worker_seconds += got.seconds
                        else:
                            writer.add(got.frames, label(v), participant, stable_id(v.key))
                            added += 1
                            frames_done += len(got.frames)
                            worker_seconds += got.seconds
                        bar.set_postfix_str(eng.progress_line(frames_done, t0), refresh=False)
                        bar.update(1)
            except BaseException:
                bar.leave = False  # erase the bar: the error message stands alone
                raise
            finally:
                bar.close()
    summary.update(added=added, skipped=skipped, failed=failed, out=str(out), frames=frames_done,
                   seconds=time.monotonic() - t0, worker_seconds=worker_seconds)
    return summary


def build_parser() -> argparse.ArgumentParser:
    p = ArgumentParser(  # usage errors: one line, exit 2
        prog="asl-train import-videos",
        description="Import labelled videos (SRC/<sign>.mp4 or SRC/<sign>/<anything>.mp4) into the "
                    "competition layout, through the app's MediaPipe Holistic extraction. "
                    "Resumable: run it again after an interruption. Exit 1 if some files could "
                    "not be imported (listed at the end).")
    p.add_argument("src", help="folder of videos")
    p.add_argument("--out", required=True, help="dataset folder to create or extend")
    p.add_argument("--participant", type=int, default=0, help="participant id for these videos (default 0)")
    p.add_argument("--jobs", type=int, default=None,
                   help="worker processes on this machine (default: one per core; a cluster at --address "
                        "has the workers it was started with)")
    p.add_argument("--keep-names", action="store_true",
                   help="keep file names as sign names (default: GISLR spelling, 'thank you' -> thankyou)")
    p.add_argument("--sign", default=None,
                   help="label every video with this sign instead of its file/folder name "
                        "(e.g. unknown, for clips of signs outside your vocabulary)")
    p.add_argument("--shard", default=None, metavar="I/N",
                   help="only every N-th video from the I-th, in name order (e.g. 0/2 and 1/2 split a folder in halves)")
    p.add_argument("--reuse", metavar="DIR",
                   help="a dataset these videos were imported into before: take their landmarks from "
                        "there instead of running MediaPipe again (e.g. to import them under --sign unknown)")
    p.add_argument("--limit", type=int, default=None, help="import only the first N videos (in name order)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    eng.add_arguments(p, "--jobs")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.jobs is not None and args.jobs < 1:
        raise UserError("--jobs must be at least 1")
    shard = parse_shard(args.shard) if args.shard else None
    if args.sign is not None and (not args.sign.strip() or "," in args.sign):
        raise UserError(f"--sign {args.sign!r}: a sign name is one word without commas")
    s = import_videos(args.src, args.out, args.participant, args.jobs, args.keep_names,
                      progress=not args.quiet, limit=args.limit, sign=args.sign, shard=shard,
                      reuse=args.reuse, engine=args.engine, address=args.address, send_files=args.send_files)
    where = f" on {s['engine']}" if s["engine"] else ""
    print(f"import-videos: {s['added']} videos added, {s['skipped']} already there, "
          f"{len(s['failed'])} not imported -> {s['out']}{where}", file=sys.stderr)
    for rel, reason in s["failed"]:
        print(f"  not imported: {rel}: {reason}", file=sys.stderr)
    return EXIT_SOME_FAILED if s["failed"] else 0


if __name__ == "__main__":
    sys.exit(run_main(main, prog="asl-train import-videos"))
