"""`.pose` files (the `pose-format` package, MediaPipe Holistic components) -> GISLR frames.

The one owner of that format here. pose-format stores points in pixels of the video
(x, y; z scaled like x) with a mask for what was not seen; a GISLR frame holds
MediaPipe's normalised image coordinates with NaN for that. Holistic's 478-point face
(with irises) keeps its first 468 points, the GISLR face.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from asl_live.errors import UserError
from asl_live.formats.layout import DIMS, FACE, LEFT_HAND, POSE, RIGHT_HAND, ROWS_PER_FRAME

# pose-format component name -> (GISLR rows, how many of the component's points)
COMPONENTS = {"POSE_LANDMARKS": (POSE, 33), "FACE_LANDMARKS": (FACE, 468),
              "LEFT_HAND_LANDMARKS": (LEFT_HAND, 21), "RIGHT_HAND_LANDMARKS": (RIGHT_HAND, 21)}


def read_pose(path: str | Path) -> tuple[np.ndarray, float]:
    """(float32[T, 543, 3] with NaN, fps) of the first person in a Holistic `.pose` file."""
    from pose_format import Pose

    path = Path(path)
    try:
        pose = Pose.read(path.read_bytes())
    except FileNotFoundError:
        raise UserError(f"{path}: no such .pose file") from None
    except (ValueError, EOFError, IndexError, KeyError, struct.error) as e:  # the reader's errors on a cut file
        raise UserError(f"{path}: not a readable .pose file ({type(e).__name__}: {e})") from None
    w, h = float(pose.header.dimensions.width), float(pose.header.dimensions.height)
    data = np.asarray(pose.body.data.data, np.float32)[:, 0]
    missing = np.ma.getmaskarray(pose.body.data)[:, 0].any(axis=-1)
    t = data.shape[0]
    out = np.full((t, ROWS_PER_FRAME, DIMS), np.nan, np.float32)
    at = 0
    found = set()
    for comp in pose.header.components:
        n = len(comp.points)
        if comp.name in COMPONENTS:
            rows, keep = COMPONENTS[comp.name]
            part = data[:, at:at + keep].copy()
            part[..., 0] /= w
            part[..., 1] /= h
            part[..., 2] /= w
            part[missing[:, at:at + keep]] = np.nan
            out[:, rows] = part
            found.add(comp.name)
        at += n
    if not found & {"LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS"}:
        raise UserError(f"{path}: no MediaPipe Holistic hand components "
                        f"(found {', '.join(c.name for c in pose.header.components)})")
    return out, float(pose.body.fps)
