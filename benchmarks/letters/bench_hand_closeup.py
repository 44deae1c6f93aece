"""A hand close to the camera with no body in view: Holistic alone against Holistic + MediaPipe Hands
(`asl_live.capture.hand_fallback`), on close-ups cut from real video.

    nice python benchmarks/letters/bench_hand_closeup.py [CLIP.mp4 ...]

No close-up recording is in the shared data, so close-ups are cut from real ones: for each frame of
a DPAN prompt video (`clips/recordthesehands`, default: the first 6 clips), Holistic on the whole
frame finds the signer's right hand; the picture is cropped to a square of 2.5x the hand's larger
side around it (clipped to the frame) and scaled to 480x480. The engines then see only the crop.
Measured: frames with a right hand found, frames where Holistic found a pose in the crop, the hand's
points against the whole-frame Holistic hand mapped into the crop (median error, palm lengths),
which rows Hands put the hand in where both engines saw it on the whole frame (handedness), and
the time a frame with and without the Hands pass.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from asl_live.capture.hand_fallback import HandFallbackExtractor, HandsExtractor  # noqa: E402
from asl_live.capture.extract import HolisticExtractor  # noqa: E402
from asl_live.formats.layout import LEFT_HAND, POSE, RIGHT_HAND  # noqa: E402

CLIPS = Path("/work/shared/data/clips/recordthesehands")
SIZE = 480


def palm(h):
    return float(np.linalg.norm(h[[5, 9, 13, 17], :2] - h[0, :2], axis=1).mean())


def main() -> int:
    import cv2

    clips = [Path(p) for p in sys.argv[1:]] or sorted(CLIPS.glob("*.mp4"))[:6]
    full = HolisticExtractor(video=True)
    n = found_h = found_f = pose_in_crop = 0
    errs = []
    rows_same = rows_other = 0
    ms_f, ms_h = [], []  # the fallback extractor's time a frame: with Hands run, without
    for clip in clips:
        cap = cv2.VideoCapture(str(clip))
        crop_h = HolisticExtractor(video=True)
        crop_f = HandFallbackExtractor(video=True)
        hands_full = HandsExtractor(video=True)
        while True:
            ok, img = cap.read()
            if not ok:
                break
            g = full(img)
            hf = hands_full(img)
            for rows in (LEFT_HAND, RIGHT_HAND):
                if not np.isnan(g[rows]).any():
                    if not np.isnan(hf[rows]).any():
                        rows_same += 1
                    elif not np.isnan(hf[LEFT_HAND if rows == RIGHT_HAND else RIGHT_HAND]).any():
                        rows_other += 1
            hand = g[RIGHT_HAND]
            if np.isnan(hand).any():
                continue
            h, w = img.shape[:2]
            px = hand[:, :2] * [w, h]
            side = 2.5 * float((px.max(0) - px.min(0)).max())
            cx, cy = px.mean(0)
            x0, y0 = int(max(0, cx - side / 2)), int(max(0, cy - side / 2))
            x1, y1 = int(min(w, cx + side / 2)), int(min(h, cy + side / 2))
            if x1 - x0 < 16 or y1 - y0 < 16:
                continue
            crop = cv2.resize(img[y0:y1, x0:x1], (SIZE, SIZE))
            truth = (px - [x0, y0]) / [x1 - x0, y1 - y0]
            n += 1
            a = crop_h(crop)
            pose_in_crop += int(not np.isnan(a[POSE]).all())
            found_h += int(not np.isnan(a[RIGHT_HAND]).any())
            t0 = time.perf_counter()
            b = crop_f(crop)
            holistic_saw = not np.isnan(a[RIGHT_HAND]).all() or not np.isnan(a[LEFT_HAND]).all()
            (ms_h if holistic_saw else ms_f).append(1000 * (time.perf_counter() - t0))
            got = b[RIGHT_HAND] if not np.isnan(b[RIGHT_HAND]).any() else b[LEFT_HAND]
            if not np.isnan(got).any():
                found_f += 1
                errs.append(float(np.median(np.linalg.norm(got[:, :2] - truth, axis=1))) / palm(truth))
        cap.release()
        crop_h.close(), crop_f.close(), hands_full.close()
    print(f"{len(clips)} clips, {n} close-up crops of the right hand: found by Holistic alone {found_h} "
          f"(pose in the crop {pose_in_crop}), by Holistic + Hands {found_f}; "
          f"median point error {np.median(errs):.3f} palm lengths (p90 {np.percentile(errs, 90):.3f})")
    print(f"time a frame (median, load as it was): {np.median(ms_h):.0f} ms where Holistic found the hand, "
          f"{np.median(ms_f):.0f} ms where it did not and Hands ran too")
    print(f"whole frames, hands both engines saw: Hands put {rows_same} in Holistic's rows, {rows_other} in the other")
    return 0


if __name__ == "__main__":
    sys.exit(main())
