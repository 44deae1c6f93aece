"""`asl-train import-videos SRC --out DIR`: labelled videos into the competition layout.

`SRC/<sign>.mp4` or `SRC/<sign>/<anything>.mp4` (also .mov .avi .mkv .webm
.m4v); the sign is the file or folder name in its GISLR spelling
(`thank you.mp4` -> `thankyou`). Landmarks come from the app's own extraction
(`asl_live.sources.video_landmarks`, i.e. `HolisticExtractor`), so imported
data matches what the app sees live.

- Parallel: a process pool, one worker per core by default (`--jobs`); each
  worker runs one video at a time through a fresh Holistic graph (tracking
  must not carry over from one video to the next). Only the main process
  writes to the dataset.
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
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asl_live.cli import ArgumentParser
from asl_live.errors import UserError, run_main
from asl_live.gislr import Dataset, gislr_name, writable_folder
from asl_live.layout import hands_visible

from .importing import BatchWriter, stable_id

VIDEO_SUFFIXES = {".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v"}
EXIT_SOME_FAILED = 1


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


def _init_worker() -> None:
    from asl_live.extract import quiet_native_logs

    verbose = os.environ.get("ASL_LIVE_VERBOSE") == "1"
    quiet_native_logs(verbose)
    if not verbose:
        # MediaPipe/absl and FFmpeg write straight to fd 2 from C++, past any env setting;
        # a worker reports its failures as return values, so its stderr is only that noise.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _extract(path: str):
    """Worker: (frames, None) or (None, reason). Never raises, so one bad file stops nothing."""
    from asl_live.sources import video_landmarks

    try:
        frames, _fps = video_landmarks(path, progress=False)
    except UserError as e:
        return None, str(e)
    except Exception as e:  # a decoder or MediaPipe failure on one file
        return None, f"{type(e).__name__}: {e}"
    if frames is None or len(frames) == 0:
        return None, "no frames could be decoded"
    if not hands_visible(frames).any():
        return None, f"no hand seen in any of its {len(frames)} frames"
    return np.asarray(frames, dtype=np.float32), None


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
                  reuse: str | os.PathLike | None = None) -> dict:
    """Import the videos under `src` into the dataset at `out`; returns a summary dict.

    `sign` labels every video with that one name (e.g. "unknown" for clips of
    signs outside a vocabulary); `shard=(i, n)` takes every n-th video from the
    i-th, in name order (a reproducible split of one folder into n parts).
    `reuse` is a dataset these same videos were imported into before: their
    landmarks are taken from there instead of running MediaPipe again.
    """
    import multiprocessing as mp

    from tqdm import tqdm

    videos = find_videos(src)
    if shard is not None:
        videos = videos[shard[0]::shard[1]]
    if limit is not None:
        videos = videos[:limit]
    dataset = Dataset(writable_folder(out, "dataset folder"))  # a wrong --out fails before any work
    failed: list[tuple[str, str]] = []
    added = 0
    # A video costs about a second to extract; committing each one costs milliseconds.
    with BatchWriter(dataset, every=1) as writer:
        todo = [v for v in videos if not writer.has(stable_id(v.key))]
        skipped = len(videos) - len(todo)
        if reuse is not None:
            earlier = Dataset(reuse)
            known = {s.sequence_id: s for s in earlier.samples()}
            for v in [v for v in todo if stable_id(v.key) in known]:
                name = sign or (v.sign if keep_names else gislr_name(v.sign))
                writer.add(earlier.read(known[stable_id(v.key)]), name, participant, stable_id(v.key))
                added += 1
                todo.remove(v)
        jobs = max(1, min(jobs or available_cores(), len(todo) or 1))
        bar = tqdm(total=len(todo), desc="import-videos", unit="video", disable=not progress, file=sys.stderr)
        # spawn, not fork: the caller may hold threads (TensorFlow, tqdm) that fork would copy half-way
        with ProcessPoolExecutor(jobs, mp_context=mp.get_context("spawn"), initializer=_init_worker) as pool:
            futures = {pool.submit(_extract, str(v.path)): v for v in todo}
            try:
                for fut in as_completed(futures):
                    v = futures[fut]
                    frames, reason = fut.result()
                    if frames is None:
                        failed.append((v.rel, reason))
                    else:
                        name = sign or (v.sign if keep_names else gislr_name(v.sign))
                        writer.add(frames, name, participant, stable_id(v.key))
                        added += 1
                    bar.update(1)
            except BaseException:
                for f in futures:
                    f.cancel()
                raise
            finally:
                bar.close()
    return {"added": added, "skipped": skipped, "failed": failed, "out": str(out)}


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
    p.add_argument("--jobs", type=int, default=None, help="worker processes (default: one per core)")
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
                      reuse=args.reuse)
    print(f"import-videos: {s['added']} videos added, {s['skipped']} already there, "
          f"{len(s['failed'])} not imported -> {s['out']}", file=sys.stderr)
    for rel, reason in s["failed"]:
        print(f"  not imported: {rel}: {reason}", file=sys.stderr)
    return EXIT_SOME_FAILED if s["failed"] else 0


if __name__ == "__main__":
    sys.exit(run_main(main, prog="asl-train import-videos"))
