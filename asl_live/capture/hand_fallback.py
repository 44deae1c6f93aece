"""A hand with no body in view: Holistic, and where it finds no pose, MediaPipe Hands.

Holistic finds the hands from the body (its hand crops come from the pose's wrists), so a
hand held close to the camera with no shoulders in the picture gives nothing. The legacy
`mediapipe.solutions.hands` graph finds a hand by itself (its palm detector and landmark
models ship inside the mediapipe wheel, nothing is downloaded). `HandFallbackExtractor`
gives the same GISLR frame as `HolisticExtractor`: Holistic's where it finds a hand; where
it finds none, the hands' rows from MediaPipe Hands (pose and face as Holistic found them:
NaN with no body in view). Hands runs only on frames where Holistic found no hand.

Which hand: MediaPipe Hands names handedness for a mirrored (selfie) picture; the app's
frames are unmirrored (what the camera sees), so its "Left" is the signer's right hand,
and goes to the `right_hand` rows, as Holistic would put it.
"""

from __future__ import annotations

import os

import numpy as np

from asl_live.formats.layout import DIMS, LEFT_HAND, RIGHT_HAND, ROWS_PER_FRAME
from asl_live.capture.extract import HolisticExtractor, import_mediapipe, quiet_native_logs

ROWS_FOR_LABEL = {"Left": RIGHT_HAND, "Right": LEFT_HAND}  # unmirrored picture: the label is swapped


class HandsExtractor:
    """MediaPipe Hands alone: one BGR image -> a GISLR frame with only the hands' rows filled."""

    def __init__(self, video: bool = True, min_detection_confidence: float = 0.5,
                 min_tracking_confidence: float = 0.5, max_hands: int = 2):
        quiet_native_logs(os.environ.get("ASL_LIVE_VERBOSE") == "1")
        mp = import_mediapipe()
        self._hands = mp.solutions.hands.Hands(
            static_image_mode=not video, max_num_hands=max_hands, model_complexity=1,
            min_detection_confidence=min_detection_confidence, min_tracking_confidence=min_tracking_confidence)

    def __call__(self, bgr: np.ndarray) -> np.ndarray:
        import cv2

        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        rgb.flags.writeable = False
        res = self._hands.process(rgb)
        out = np.full((ROWS_PER_FRAME, DIMS), np.nan, dtype=np.float32)
        best: dict[str, float] = {}
        for lm, handed in zip(res.multi_hand_landmarks or [], res.multi_handedness or []):
            c = handed.classification[0]
            if c.score <= best.get(c.label, -1.0):
                continue  # two hands named alike: the surer one
            best[c.label] = c.score
            out[ROWS_FOR_LABEL[c.label]] = np.array([(p.x, p.y, p.z) for p in lm.landmark], np.float32)
        return out

    def close(self) -> None:
        self._hands.close()


class HandFallbackExtractor:
    """Holistic; where it finds no hand, MediaPipe Hands fills the hands' rows (the rest stays
    Holistic's: NaN where it saw no body; a close-up can also give a pose Holistic guessed from a
    bit of chin or shoulder, and then no hands, so a pose alone does not make the hands' absence
    believable)."""

    def __init__(self, video: bool = True, holistic: HolisticExtractor | None = None, **kw):
        self._holistic = holistic or HolisticExtractor(video=video, **kw)
        self._hands = HandsExtractor(video=video, **kw)
        self.fallbacks = 0  # frames whose hands came from MediaPipe Hands

    def __call__(self, bgr: np.ndarray) -> np.ndarray:
        out = self._holistic(bgr)
        if not np.isnan(out[LEFT_HAND]).all() or not np.isnan(out[RIGHT_HAND]).all():
            return out
        hands = self._hands(bgr)
        if np.isnan(hands[LEFT_HAND]).all() and np.isnan(hands[RIGHT_HAND]).all():
            return out
        self.fallbacks += 1
        out[LEFT_HAND], out[RIGHT_HAND] = hands[LEFT_HAND], hands[RIGHT_HAND]
        return out

    def close(self) -> None:
        self._holistic.close()
        self._hands.close()

    def __enter__(self) -> "HandFallbackExtractor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
