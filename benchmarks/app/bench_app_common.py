"""Shared pieces of the app benchmarks: a 640x480 test video made of real DPAN clips, the model."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

CLIPS = Path(os.environ.get("ASL_LIVE_SHARED", REPO.parent / "shared")) / "data" / "clips" / "recordthesehands"
# Real prompt videos where Holistic finds the signing hand in most frames (one sign each).
DEFAULT_CLIPS = ("tractor", "must", "broken", "bathtub", "block", "which", "hold", "each")


def model_arguments(p: argparse.ArgumentParser) -> None:
    from asl_live.model.classifier import DEFAULT_LABELS, DEFAULT_MODEL

    p.add_argument("--model", default=str(DEFAULT_MODEL))
    p.add_argument("--labels", default=str(DEFAULT_LABELS))


def make_video(out: Path, names=DEFAULT_CLIPS, size=(640, 480), repeat: int = 1,
               cuts: dict[str, tuple[int, int]] | None = None, folder: Path = CLIPS) -> tuple[Path, int]:
    """The clips one after another, scaled into `size` (letterboxed), written as mp4v.

    `cuts`: name -> (first, last) frame of that clip to keep (default: all of it).
    """
    w, h = size
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, size)
    n = 0
    canvas = np.zeros((h, w, 3), np.uint8)
    for _ in range(repeat):
        for name in names:
            cap = cv2.VideoCapture(str(folder / f"{name}.mp4"))
            first, last = (cuts or {}).get(name, (0, 1 << 30))
            i = -1
            while True:
                ok, img = cap.read()
                if not ok:
                    break
                i += 1
                if not first <= i <= last:
                    continue
                ih, iw = img.shape[:2]
                s = min(w / iw, h / ih)
                nw, nh = int(iw * s), int(ih * s)
                canvas[:] = 0
                y, x = (h - nh) // 2, (w - nw) // 2
                canvas[y:y + nh, x:x + nw] = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA)
                writer.write(canvas)
                n += 1
            cap.release()
    writer.release()
    return out, n


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20
