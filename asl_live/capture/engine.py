"""Which landmark engine turns images into GISLR frames, and opening it.

Two engines give the same frame (float32[543, 3], NaN when not seen):
- `holistic`: MediaPipe's legacy Holistic (`asl_live.capture.extract`), models inside the wheel of
  mediapipe 0.10.21, which installs on Python 3.10-3.12 only;
- `tasks`: MediaPipe Tasks `HolisticLandmarker` (`asl_live.capture.tasks_engine`), on every
  mediapipe, with a model bundle that no wheel ships (`asl_live.capture.landmarker`).
`auto` takes the legacy engine where this install has it, else Tasks. `hand_alone` (legacy engine
only) adds MediaPipe Hands where Holistic finds no hand: a hand close to the camera with no body
in view (`asl_live.capture.hand_fallback`).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from asl_live.errors import UserError

ENGINES = ("auto", "holistic", "tasks")
ENV = "ASL_LIVE_ENGINE"


def has_legacy_holistic() -> bool:
    """Whether the installed mediapipe still has `solutions.holistic` (0.10.29 and older).

    Looked up on disk, not imported: importing mediapipe costs most of a second.
    """
    spec = importlib.util.find_spec("mediapipe")
    if spec is None or not spec.submodule_search_locations:
        return False
    return any((Path(p) / "python" / "solutions" / "holistic.py").is_file()
               for p in spec.submodule_search_locations)


def mediapipe_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mediapipe")
    except PackageNotFoundError:
        return "none"


def choose(engine: str | None = None) -> str:
    """`holistic` or `tasks`: the one asked for (or ASL_LIVE_ENGINE), `auto` by what is installed."""
    engine = engine or os.environ.get(ENV) or "auto"
    if engine not in ENGINES:
        raise UserError(f"unknown landmark engine '{engine}' (choose one of {', '.join(ENGINES)})")
    if engine == "auto":
        return "holistic" if has_legacy_holistic() else "tasks"
    if engine == "holistic" and not has_legacy_holistic():
        raise UserError(f"the legacy Holistic engine needs mediapipe 0.10.21 (Python 3.10-3.12); "
                        f"this install has mediapipe {mediapipe_version()}: use --engine tasks")
    return engine


class Engine:
    """An engine chosen and made ready (its bundle found or fetched) but not yet started."""

    def __init__(self, engine: str | None = None, landmarker: str | os.PathLike | None = None,
                 hand_alone: bool = False):
        self.name = choose(engine)
        self.bundle: Path | None = None
        self.hand_alone = hand_alone
        if hand_alone and self.name != "holistic":
            # MediaPipe Hands' legacy graph ships only in the mediapipe that has legacy Holistic.
            raise UserError("--hand-alone needs the legacy Holistic engine (mediapipe 0.10.21, Python 3.10-3.12)")
        if self.name == "tasks":
            from asl_live.capture.landmarker import landmarker_path

            self.bundle = landmarker_path(landmarker)

    def open(self, video: bool = True):
        """A started extractor: `extractor(bgr) -> float32[543, 3]`, `close()`, a context manager."""
        if self.name == "tasks":
            from asl_live.capture.tasks_engine import TasksHolisticExtractor

            return TasksHolisticExtractor(self.bundle, video=video)
        from asl_live.capture.extract import HolisticExtractor

        if self.hand_alone:
            from asl_live.capture.hand_fallback import HandFallbackExtractor

            return HandFallbackExtractor(video=video)
        return HolisticExtractor(video=video)


def add_engine_arguments(parser) -> None:
    g = parser.add_argument_group("landmark engine (images to landmarks; replays need none)")
    g.add_argument("--engine", choices=ENGINES, default=None,
                   help="holistic: MediaPipe's legacy Holistic (mediapipe 0.10.21, Python 3.10-3.12); "
                        "tasks: MediaPipe Tasks HolisticLandmarker (any Python; its model bundle is "
                        f"downloaded once); auto (default, or ${ENV}): holistic where installed, else tasks")
    g.add_argument("--landmarker", metavar="PATH", default=None,
                   help="the Tasks engine's model bundle (holistic_landmarker.task) to use instead of "
                        "downloading it (default: $ASL_LIVE_LANDMARKER, else the cached download)")
    g.add_argument("--hand-alone", action="store_true",
                   help="where Holistic finds no hand, look for a hand by itself (MediaPipe Hands): a hand "
                        "held close to the camera with no body in view; costs about 30 ms on each frame "
                        "without a hand (legacy engine only)")
