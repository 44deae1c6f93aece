"""MediaPipe Tasks `HolisticLandmarker`: one BGR image in, one GISLR frame (float32[543, 3]) out.

The engine for every Python the legacy Holistic does not install on (3.13 and later, the
maintained mediapipe), with the same frame contract as `asl_live.capture.extract.HolisticExtractor`:
frames go in unmirrored, parts not found are NaN, rows in GISLR order. The Tasks face model
gives 478 points (the 468 of the face mesh, then 10 iris points): the first 468 are the
GISLR face rows. Its `left_hand`/`right_hand` are those of legacy Holistic (the same
pose-driven hand assignment), so they land in the same GISLR rows.

Time stamps: legacy Holistic's `process` advances a simulated clock by 1/30 s per image;
this engine does the same, so both smooth landmarks alike whatever the source's rate.
"""

from __future__ import annotations

import os

import numpy as np

from asl_live.capture.extract import import_mediapipe, quiet_native_logs
from asl_live.formats.layout import DIMS, FACE, LEFT_HAND, POSE, RIGHT_HAND, ROWS_PER_FRAME

STEP_US = 33_333  # 1/30 s, legacy Holistic's simulated frame interval

# GISLR rows <- the result's landmark lists (and the graph's output streams).
PARTS = ((FACE, "face_landmarks"), (LEFT_HAND, "left_hand_landmarks"),
         (POSE, "pose_landmarks"), (RIGHT_HAND, "right_hand_landmarks"))


def _rows(points) -> np.ndarray:
    return np.array([(p.x, p.y, p.z) for p in points], dtype=np.float32)


class TasksHolisticExtractor:
    """Wraps one `mediapipe.tasks.vision.HolisticLandmarker` built from a `.task` bundle.

    `video=True` tracks across consecutive frames; `video=False` treats each image alone.
    """

    def __init__(self, model_path: str | os.PathLike, video: bool = True):
        quiet_native_logs(os.environ.get("ASL_LIVE_VERBOSE") == "1")
        mp = import_mediapipe()
        from mediapipe.tasks.python import vision
        from mediapipe.tasks.python.core.base_options import BaseOptions

        self._mp = mp
        self._video = video
        mode = vision.RunningMode.VIDEO if video else vision.RunningMode.IMAGE
        # Its confidence thresholds default to 0.5, as legacy Holistic's do in extract.py.
        options = vision.HolisticLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(model_path)), running_mode=mode)
        try:
            self._landmarker = vision.HolisticLandmarker.create_from_options(options)
        except (RuntimeError, ValueError) as e:
            from asl_live.errors import UserError

            raise UserError(f"{model_path} is not a MediaPipe holistic landmarker bundle "
                            f"({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None
        # mediapipe 0.10.x (pybind): its result builder aborts the process when a part is
        # missing (an empty packet), so read the graph's packets, part by part. The
        # maintained mediapipe (1.x, ctypes) returns empty lists instead, through its API.
        self._packets = hasattr(self._landmarker, "_process_video_data")
        self._timestamp_us = 0

    def __call__(self, bgr: np.ndarray) -> np.ndarray:
        import cv2

        mp = self._mp
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        out = np.full((ROWS_PER_FRAME, DIMS), np.nan, dtype=np.float32)
        if self._packets:
            parts = self._read_packets(image)
        else:
            if self._video:
                result = self._landmarker.detect_for_video(image, self._timestamp_us // 1000)
            else:
                result = self._landmarker.detect(image)
            parts = {name: getattr(result, name) for _rows_, name in PARTS}
        self._timestamp_us += STEP_US
        for rows, name in PARTS:
            points = parts.get(name)
            if points:
                out[rows] = _rows(points)[: rows.stop - rows.start]
        return out

    def _read_packets(self, image) -> dict:
        from mediapipe.framework.formats import landmark_pb2
        from mediapipe.python import packet_creator, packet_getter

        packet = packet_creator.create_image(image)
        if self._video:
            packets = self._landmarker._process_video_data({"image_in": packet.at(self._timestamp_us)})
        else:
            packets = self._landmarker._process_image_data({"image_in": packet})
        parts = {}
        for _rows_, name in PARTS:
            if not packets[name].is_empty():
                landmarks = landmark_pb2.NormalizedLandmarkList()
                landmarks.MergeFrom(packet_getter.get_proto(packets[name]))
                parts[name] = landmarks.landmark
        return parts

    def close(self) -> None:
        self._landmarker.close()

    def __enter__(self) -> "TasksHolisticExtractor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
