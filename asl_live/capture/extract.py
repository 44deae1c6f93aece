"""MediaPipe Holistic: one BGR image in, one GISLR frame (float32[543, 3]) out.

The one place that runs MediaPipe. Frames go in unmirrored (what the camera
sees), so a signer's dominant right hand lands in the `right_hand` rows, as in
the GISLR data. Parts that Holistic did not find are NaN.
"""

from __future__ import annotations

import os
import sys

import numpy as np

from asl_live.formats.layout import DIMS, FACE, LEFT_HAND, POSE, RIGHT_HAND, ROWS_PER_FRAME

# Holistic 0.10.21 ships only the complexity-1 pose model in its wheel; 0 and 2
# try to download theirs, which fails offline.
MODEL_COMPLEXITY = 1


def quiet_native_logs(verbose: bool = False) -> None:
    """Silence glog/absl/TF C++ log noise; must run before mediapipe is imported."""
    if verbose:
        return
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "2")


def import_mediapipe():
    """Import MediaPipe without the TensorFlow it drags in when TensorFlow happens to be installed.

    `import mediapipe` imports `mediapipe.tasks`, whose optional docs helper does
    `from tensorflow.tools.docs import doc_controls` and falls back to a no-op when
    TensorFlow is missing. Where the `train` extra is installed that one line costs
    about 5 s of start-up and hundreds of MB; the app needs none of it. Marking
    `tensorflow` as not importable for the duration of the import takes the
    fallback; the mark is removed afterwards, so TensorFlow stays importable.
    """
    quiet_native_logs(os.environ.get("ASL_LIVE_VERBOSE") == "1")  # glog reads its level at import
    if "mediapipe" in sys.modules or "tensorflow" in sys.modules:
        import mediapipe
        return mediapipe
    sys.modules["tensorflow"] = None  # makes `import tensorflow...` raise ModuleNotFoundError
    try:
        import mediapipe
    finally:
        if sys.modules.get("tensorflow", 0) is None:
            del sys.modules["tensorflow"]
    return mediapipe


def _fill(out: np.ndarray, rows: slice, landmarks) -> None:
    if landmarks is None:
        return
    pts = landmarks.landmark
    out[rows] = np.array([(p.x, p.y, p.z) for p in pts], dtype=np.float32)[: rows.stop - rows.start]


class HolisticExtractor:
    """Wraps one `mediapipe.solutions.holistic.Holistic` graph.

    `video=True` tracks across consecutive frames (faster, steadier); use
    `video=False` for unrelated still images.
    """

    def __init__(self, video: bool = True, min_detection_confidence: float = 0.5,
                 min_tracking_confidence: float = 0.5):
        quiet_native_logs(os.environ.get("ASL_LIVE_VERBOSE") == "1")
        mp = import_mediapipe()  # heavy import, deferred until needed

        self._holistic = mp.solutions.holistic.Holistic(
            static_image_mode=not video,
            model_complexity=MODEL_COMPLEXITY,
            smooth_landmarks=True,
            refine_face_landmarks=False,  # 468 face points, as in GISLR (refine adds iris: 478)
            min_detection_confidence=min_detection_confidence,
            min_tracking_confidence=min_tracking_confidence,
        )

    def __call__(self, bgr: np.ndarray) -> np.ndarray:
        import cv2

        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        rgb.flags.writeable = False
        res = self._holistic.process(rgb)
        out = np.full((ROWS_PER_FRAME, DIMS), np.nan, dtype=np.float32)
        _fill(out, FACE, res.face_landmarks)
        _fill(out, LEFT_HAND, res.left_hand_landmarks)
        _fill(out, POSE, res.pose_landmarks)
        _fill(out, RIGHT_HAND, res.right_hand_landmarks)
        return out

    def close(self) -> None:
        self._holistic.close()

    def __enter__(self) -> "HolisticExtractor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
