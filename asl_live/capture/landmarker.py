"""The model bundle of the MediaPipe Tasks engine: Google's `holistic_landmarker.task`.

No mediapipe wheel ships it (the legacy engine's models are inside 0.10.21's wheel; the
maintained mediapipe has none), so ordinary MediaPipe apps fetch it once from Google's
model storage. This module owns where it comes from and where it is kept:

1. `--landmarker PATH` or `ASL_LIVE_LANDMARKER=PATH`: that file, as it is (offline machines,
   or another version of the bundle on purpose);
2. else the user's cache folder (platformdirs), when its copy has the pinned sha256;
3. else a download from the versioned official address (`.../float16/1/...`, never
   `latest`, which can change under us), checked against the pinned sha256 before it
   replaces anything. The user is told before it starts and sees its progress.

Only a run that turns images into landmarks gets here: replays, the demo, teaching from a
dataset and training never need the bundle.
"""

from __future__ import annotations

import hashlib
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

from asl_live.model.runtime import file_sha256
from asl_live.errors import UserError

# The versioned address Google's MediaPipe documentation and samples give for the bundle.
URL = ("https://storage.googleapis.com/mediapipe-models/holistic_landmarker/"
       "holistic_landmarker/float16/1/holistic_landmarker.task")
# Pinned as MediaPipe's own build pins it (third_party/external_files.bzl,
# com_google_mediapipe_holistic_landmarker_task); 13,683,609 bytes.
SHA256 = "e2dab61191e2dcd0a15f943d8e3ed1dce13c82dfa597b9dd39f562975a50c3f8"
SIZE = 13_683_609
FILENAME = "holistic_landmarker.task"
ENV = "ASL_LIVE_LANDMARKER"
TIMEOUT_S = 30.0


def cache_path() -> Path:
    """Where the downloaded bundle is kept (the user's cache folder, per platform)."""
    from platformdirs import user_cache_path

    return user_cache_path("asl-live", appauthor=False) / FILENAME


def how_to_get_it(url: str | None = None) -> str:
    what = url or "it"
    return f"download {what} on a machine with internet and pass --landmarker PATH (or set {ENV}=PATH)"


def landmarker_path(given: str | os.PathLike | None = None, *, url: str = URL, sha256: str = SHA256,
                    cache: Path | None = None, out=None) -> Path:
    """The bundle to use: the given file, the cached copy, or a fresh verified download."""
    given = given if given is not None else os.environ.get(ENV) or None
    if given is not None:
        path = Path(given).expanduser()
        if not path.is_file():
            raise UserError(f"the landmarker bundle {path} does not exist ({how_to_get_it(url)})")
        return path
    cache = cache if cache is not None else cache_path()
    if cache.is_file() and file_sha256(cache) == sha256:
        return cache
    download(url, cache, sha256, out=sys.stderr if out is None else out)
    return cache


def download(url: str, dest: Path, sha256: str, out) -> None:
    """`url` -> `dest`, atomically, only when its sha256 is `sha256`; UserError otherwise."""
    from tqdm import tqdm

    print(f"asl-live: the MediaPipe Tasks landmark engine needs its model bundle "
          f"({SIZE / 1e6:.1f} MB), downloaded once from {url} to {dest}", file=out)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"cannot create the cache folder {dest.parent} ({e.strerror or e}); "
                        f"{how_to_get_it(url)}") from None
    part = dest.with_name(dest.name + ".part")
    h = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            with open(part, "wb") as f, tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024,
                                             desc=dest.name, file=out, leave=False) as bar:
                for block in iter(lambda: response.read(1 << 16), b""):
                    f.write(block)
                    h.update(block)
                    bar.update(len(block))
    except (urllib.error.URLError, OSError, ValueError) as e:
        part.unlink(missing_ok=True)
        reason = getattr(e, "reason", None) or getattr(e, "strerror", None) or e
        raise UserError(f"cannot download the landmark model bundle from {url} ({reason}); "
                        f"{how_to_get_it()}") from None
    if h.hexdigest() != sha256:
        part.unlink(missing_ok=True)
        raise UserError(f"the landmark model bundle from {url} has sha256 {h.hexdigest()}, not the "
                        f"expected {sha256}: not used; {how_to_get_it()}")
    os.replace(part, dest)
    print(f"asl-live: saved {dest}", file=out)
