"""Sources on real recordings: the video fixture, parquet replays, a camera simulated from the video."""

from __future__ import annotations

import time

import numpy as np
import pytest
from conftest import CLIP

from asl_live.errors import UserError
from asl_live.formats.gislr import Dataset, write_parquet
from asl_live.formats.layout import FACE, LEFT_HAND, POSE, RIGHT_HAND, SLICES, hands_visible
from asl_live.capture.sources import ReplaySource, VideoSource, open_camera, simulated_camera


def test_video_source_yields_every_frame_in_order():
    with VideoSource(CLIP) as src:
        items = list(src)
    assert len(items) == 109 == src.frame_count
    assert [it.index for it in items] == list(range(109))
    assert src.fps == pytest.approx(29.97, abs=0.01)
    assert items[-1].t == pytest.approx(108 / src.fps)
    assert items[0].image.shape == (270, 480, 3) and items[0].image.dtype == np.uint8
    assert all(it.frame is None for it in items)


def test_holistic_on_real_clip_follows_the_frame_contract(clip_landmarks):
    frames, fps = clip_landmarks
    assert frames.shape == (109, 543, 3) and frames.dtype == np.float32
    assert fps == pytest.approx(29.97, abs=0.01)
    hands = hands_visible(frames)
    # The signer signs with the dominant right hand; frames are unmirrored, so it is `right_hand`.
    assert hands.any(axis=1).mean() > 0.7
    assert hands[:, 1].sum() > hands[:, 0].sum()
    # A part is seen whole or not at all: NaN never appears inside a seen part.
    for name, rows in SLICES.items():
        part = np.isnan(frames[:, rows, :])
        assert (part.all(axis=(1, 2)) | ~part.any(axis=(1, 2))).all(), name
    # Face and pose are found in every frame of this front-facing clip; coordinates are normalised.
    assert not np.isnan(frames[:, FACE]).any() and not np.isnan(frames[:, POSE]).any()
    # (pose legs are extrapolated below the picture, so only face and hands are checked)
    for rows in (FACE, LEFT_HAND, RIGHT_HAND):
        xy = frames[:, rows, :2][~np.isnan(frames[:, rows, 0])]
        assert (xy > -0.1).all() and (xy < 1.1).all()
    # The right hand is where the pose model puts the right wrist (pose 16): same frame, same spot.
    seen = hands[:, 1]
    wrist_hand = frames[seen, RIGHT_HAND.start, :2]
    wrist_pose = frames[seen, POSE.start + 16, :2]
    assert np.median(np.linalg.norm(wrist_hand - wrist_pose, axis=1)) < 0.1
    assert np.isnan(frames[~hands[:, 0], LEFT_HAND]).all()


def test_replay_of_one_file_and_of_a_dataset(tmp_path, clip_landmarks):
    frames, _ = clip_landmarks
    one = write_parquet(tmp_path / "one.parquet", frames)
    items = list(ReplaySource(one))
    assert len(items) == 109 and items[-1].end_of_sequence and not items[0].end_of_sequence
    assert all(it.image is None for it in items)
    np.testing.assert_array_equal(np.stack([it.frame for it in items]), frames)

    ds = Dataset(tmp_path / "ds")
    ds.add(frames[:40], "tractor", participant_id=1)
    ds.add(frames[40:], "tractor", participant_id=2)
    items = list(ReplaySource(ds.root))
    assert [it.index for it in items if it.end_of_sequence] == [39, 108]
    np.testing.assert_array_equal(np.stack([it.frame for it in items]), frames)


def test_live_source_drops_stale_frames_instead_of_queueing():
    """A consumer slower than the camera sees the newest frame each time; the rest are dropped."""
    with simulated_camera(CLIP, fps=30) as cam:
        seen = []
        for item in cam:
            seen.append((item.index, time.monotonic()))
            time.sleep(0.1)  # a consumer at 10 fps behind a 30 fps camera
        dropped = cam.dropped
    indices = [i for i, _ in seen]
    assert indices == sorted(indices) and len(set(indices)) == len(indices)
    assert len(seen) < 109 * 0.6 and dropped >= 109 - len(seen) - 1
    assert max(np.diff(indices)) >= 2  # frames were skipped, not queued up


def test_bad_inputs_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="does not open"):
        open_camera(57)
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(UserError, match="empty file"):
        VideoSource(tmp_path / "empty.mp4")
    (tmp_path / "text.mp4").write_text("not a video\n" * 100)
    with pytest.raises(UserError, match="not a video"):
        VideoSource(tmp_path / "text.mp4")
    with pytest.raises(UserError, match="no such"):
        VideoSource(tmp_path / "missing.mp4")
    with pytest.raises(UserError, match="no such"):
        ReplaySource(tmp_path / "missing.parquet")
    with pytest.raises(UserError, match="train.csv"):
        ReplaySource(tmp_path)
