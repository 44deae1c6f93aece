"""`.pose` files (pose-format, MediaPipe Holistic) -> GISLR frames (`train.pose_files`), on a real one:
the letter H of the ASL alphabet clips (tests/fixtures/ase_letter_h.pose)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from asl_live.errors import UserError
from asl_live.formats.layout import FACE, LEFT_HAND, POSE, RIGHT_HAND
from train.pose_files import read_pose

FIXTURES = Path(__file__).parent / "fixtures"


def test_a_holistic_pose_file_becomes_gislr_frames():
    frames, fps = read_pose(FIXTURES / "ase_letter_h.pose")
    assert frames.dtype == np.float32 and frames.shape[1:] == (543, 3) and fps == 25.0
    # the signing hand is the right one in every frame; the left was never seen
    assert not np.isnan(frames[:, RIGHT_HAND]).any() and np.isnan(frames[:, LEFT_HAND]).all()
    # pixels -> fractions of the 500x500 picture; the body and face are where a signer's are
    for rows in (RIGHT_HAND, POSE, FACE):
        xy = frames[:, rows, :2]
        xy = xy[~np.isnan(xy)]
        assert 0.0 <= np.median(xy) <= 1.0
    nose, wrist = frames[:, POSE][:, 0, :2], frames[:, RIGHT_HAND][:, 0, :2]
    assert (np.abs(nose[:, 0] - 0.5) < 0.2).all() and (nose[:, 1] < 0.5).all() and (wrist[:, 1] > nose[:, 1]).all()
    # the fixture the fingerspelling tests use came from the same clip
    z = np.load(FIXTURES / "ase_alphabet_hands.npz")
    np.testing.assert_array_equal(frames[:, RIGHT_HAND], z["h"])


def test_a_truncated_or_missing_pose_file_is_one_line(tmp_path):
    cut = tmp_path / "cut.pose"
    cut.write_bytes((FIXTURES / "ase_letter_h.pose").read_bytes()[:5000])
    with pytest.raises(UserError, match="not a readable .pose file"):
        read_pose(cut)
    with pytest.raises(UserError, match="no such .pose file"):
        read_pose(tmp_path / "none.pose")
