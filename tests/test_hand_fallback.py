"""A hand with no body in view (`asl_live.capture.hand_fallback`): close-ups cut from a real video
(the DPAN `tractor` fixture), where Holistic, which finds hands from the body, finds none."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from asl_live.formats.layout import LEFT_HAND, RIGHT_HAND

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def closeups():
    """(crop 480x480 BGR, the right hand's points in the crop from whole-frame Holistic), every 5th frame."""
    import cv2

    from asl_live.capture.extract import HolisticExtractor

    cap = cv2.VideoCapture(str(FIXTURES / "dpan_tractor.mp4"))
    out = []
    with HolisticExtractor(video=True) as full:
        i = 0
        while True:
            ok, img = cap.read()
            if not ok:
                break
            i += 1
            g = full(img)
            if i % 5 or np.isnan(g[RIGHT_HAND]).any():
                continue
            h, w = img.shape[:2]
            px = g[RIGHT_HAND, :2] * [w, h]
            side = 2.5 * float((px.max(0) - px.min(0)).max())
            cx, cy = px.mean(0)
            x0, y0 = int(max(0, cx - side / 2)), int(max(0, cy - side / 2))
            x1, y1 = int(min(w, cx + side / 2)), int(min(h, cy + side / 2))
            out.append((cv2.resize(img[y0:y1, x0:x1], (480, 480)), (px - [x0, y0]) / [x1 - x0, y1 - y0]))
    cap.release()
    return out


def test_a_hand_close_up_is_found_where_holistic_finds_none(closeups):
    from asl_live.capture.hand_fallback import HandFallbackExtractor
    from asl_live.capture.extract import HolisticExtractor

    with HolisticExtractor(video=False) as h:
        missed = [(c, t) for c, t in closeups
                  if np.isnan(h(c)[RIGHT_HAND]).all() and np.isnan(h(c)[LEFT_HAND]).all()]
    assert len(missed) >= 2, "the close-ups should include some Holistic misses"
    found = 0
    with HandFallbackExtractor(video=False) as e:
        for crop, truth in missed:
            f = e(crop)
            assert f.shape == (543, 3) and f.dtype == np.float32
            if np.isnan(f[RIGHT_HAND]).any():
                continue
            found += 1
            assert np.isnan(f[LEFT_HAND]).all() or not np.isnan(f[LEFT_HAND]).any()
            palm = np.linalg.norm(truth[[5, 9, 13, 17]] - truth[0], axis=1).mean()
            # the same hand, in the right-hand rows: its points where whole-frame Holistic put them
            assert np.median(np.linalg.norm(f[RIGHT_HAND, :2] - truth, axis=1)) < 0.5 * palm
        assert e.fallbacks >= found
    assert found >= len(missed) // 2


def test_the_app_option_hand_alone_finds_the_hands_holistic_misses(closeups, tmp_path):
    """`--hand-alone` reaches the engine: on a video of the close-ups the app's landmark step finds
    a hand in more frames with it than without it; with the Tasks engine it is one clear error."""
    import cv2

    from asl_live.capture.sources import VideoSource
    from asl_live.errors import UserError
    from asl_live.reading.pipeline import Landmarks

    video = tmp_path / "closeups.mp4"
    out = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (480, 480))
    for crop, _ in closeups:
        out.write(crop)
    out.release()

    def frames_with_a_hand(**kw) -> int:
        landmarks = Landmarks(**kw)
        try:
            with VideoSource(video) as src:
                seen = [landmarks(item) for item in src]
        finally:
            landmarks.close()
        return sum(not (np.isnan(f[LEFT_HAND]).all() and np.isnan(f[RIGHT_HAND]).all()) for f in seen)

    assert frames_with_a_hand(engine="holistic", hand_alone=True) > frames_with_a_hand(engine="holistic")
    with pytest.raises(UserError, match="legacy Holistic"):
        Landmarks(engine="tasks", landmarker=video, hand_alone=True).prepare()
