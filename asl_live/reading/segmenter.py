"""Find where each sign starts and ends in a continuous stream of frames.

A sign is everything a hand does between two rests: the raise, the sign itself
(holds and repeated movements included) and the way back to rest. A hand is
*at rest* when it is out of the picture, or in view, low (wrist below `low` =
80% of the way from shoulders to hips, on the signer's own pose: at the waist,
below signs made at the belly) and still (its centre within `rest_radius` of
where it arrived). So:

- a sign starts on the first frame on which a hand is in view and not at rest
  (it comes into the picture, or leaves its rest at the waist);
- it ends when every hand is at rest again: gone from the picture, or low and
  still for `rest_frames` frames. Where a hand went when it is gone, Holistic's
  pose still says: its wrist (pose landmarks 15/16) is tracked when the hand
  model loses the hand. Up in the signing space (in the picture, or out of it
  at a side: a close-up phone's framing): tracking was lost mid-sign, or the hand
  left at the side mid-sign; the gap is bridged (up to `lost_frames`), unless
  the hand was last seen on its way to rest and the wrist goes on down below
  `pose_exit_low` of the torso. Nobody in view (no pose): the sign
  is over on the next frame. Otherwise the hand's own way out decides: one that
  left the picture on its way down (below `exit_low` of the torso, faster than
  `exit_speed`) ends the sign after `exit_frames` frames without hands (1: the
  next frame), one lost anywhere else only after `gap_frames`;
- signs without a rest between them (`no_rest`, on by default): the hands,
  once up in the signing space, drop below `dip_low` of the torso and come back
  up by `dip_rise`, after a sign of at least `dip_min_frames`: the next sign
  starts after the lowest point (`_dipped`). A sign's own dip (`heavy`,
  `which`) comes earlier, so it stays one sign. `no_rest=False` (the app's
  `--rest-only`) ends signs at rests alone;
- a hold or a pause in the signing space is not a rest (the hand is not low):
  it stays in the sign, and so does a repeated movement;
- a sign longer than `max_frames` is cut there (memory stays bounded); a
  candidate shorter than `min_frames` or with fewer than `min_hand_frames`
  frames with a hand is dropped as noise, and so is one that ends at rest in
  view without real motion (`move_speed`: the jitter of a resting hand).

The segment's last frame is the last frame on which a hand was in view and not
at rest, so the label of a sign whose hand drops out of the picture is ready
one frame after the sign's last frame.

Durations are counted in source frames (`index`), so a live camera whose stale
frames were dropped keeps the same timing as a stream processed frame by frame.
Per frame the work is O(1) and allocates no array (a few Python scalars): the frame is copied into a
buffer allocated once, the motion is computed in scratch arrays.

Provisional labels: while a sign is in progress (`in_progress`), `so_far()`
returns a read-only VIEW of its frames up to now (no copy; valid until the
next `push`/`flush`/`reset`). Classify it at a bounded rate (e.g. every 5th
frame, and only once it has `min_frames` frames); the final label comes from
the `Segment` that `push` returns when the sign ends.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from asl_live.formats.layout import DIMS, LEFT_HAND, POSE, RIGHT_HAND, ROWS_PER_FRAME


@dataclass
class Segment:
    start_frame: int      # source frame index of the first frame of the sign
    end_frame: int        # source frame index of its last frame (inclusive)
    t_start: float        # seconds
    t_end: float
    frames: np.ndarray    # float32[T, 543, 3], the frames from start to end (NaN where unseen)


# Pose rows of the shoulders and the hips (MediaPipe pose landmarks 11, 12 and 23, 24), and of
# the wrists (15 = the left hand's, 16 = the right's, in GISLR's left/right naming).
_SHOULDERS = (POSE.start + 11, POSE.start + 12)
_HIPS = (POSE.start + 23, POSE.start + 24)
_POSE_WRISTS = (POSE.start + 15, POSE.start + 16)


class Segmenter:
    """Feed frames one by one with `push`; it returns a `Segment` when a sign ends."""

    def __init__(self, min_frames: int = 8, max_frames: int = 300, gap_frames: int = 6,
                 min_hand_frames: int = 6, rest_frames: int = 2, rest_radius: float = 0.04,
                 move_speed: float = 0.006, exit_frames: int = 1, exit_speed: float = 0.02,
                 exit_low: float = 0.4, low: float = 0.8, pose_exit_low: float = 0.5,
                 hold_frames: int = 0, lost_frames: int = 30, dip_low: float = 0.45,
                 dip_rise: float = 0.2, dip_min_frames: int = 22, no_rest: bool = True):
        if not 1 <= min_frames <= max_frames:
            raise ValueError("need 1 <= min_frames <= max_frames")
        if not 1 <= exit_frames <= gap_frames <= lost_frames:
            raise ValueError("need 1 <= exit_frames <= gap_frames <= lost_frames")
        self.min_frames = min_frames            # shorter candidates are noise (a hand flashing by)
        self.max_frames = max_frames            # a longer sign is cut here
        self.gap_frames = gap_frames            # frames without hands that end a sign (hand lost mid-air)
        self.exit_frames = exit_frames          # ... when the hand left the picture low (to rest)
        self.exit_speed = exit_speed            # going down faster than this (x torso length / frame)
        self.exit_low = exit_low                # ... and below this fraction of shoulders -> hips
        self.pose_exit_low = pose_exit_low      # the same for the pose wrist of a hand gone from view
        self.min_hand_frames = min_hand_frames  # frames with a hand a sign needs
        self.rest_frames = rest_frames          # frames a hand in view must be low and still to rest
        self.rest_radius = rest_radius          # a still hand's centre stays this near (x torso length)
        self.move_speed = move_speed            # motion that shows a sign happened
        self.low = low                          # "low": below this fraction of shoulders -> hips
        self.hold_frames = hold_frames          # frames of the rest kept at the end of a sign
        self.lost_frames = lost_frames          # longest tracking dropout bridged (pose wrist up)
        self.dip_low = dip_low                  # a dip of the hands below this (x torso) and back
        self.dip_rise = dip_rise                # ... up by this much is a boundary between signs
        self.dip_min_frames = dip_min_frames    # ... once the sign before it is this long (source frames)
        # On by default since the dip must follow a sign of `dip_min_frames`: of 264 DPAN signs
        # the rule was not tuned on, one (`snowsuit`) still comes out in two (BENCHMARKS.md).
        self.no_rest = no_rest
        self._buf = np.empty((max_frames, ROWS_PER_FRAME, DIMS), np.float32)
        self._index = np.empty(max_frames, np.int64)
        self._t = np.empty(max_frames, np.float64)
        self._prev = np.full((2, 21, 2), np.nan, np.float32)  # previous x,y of each hand
        self._diff = np.empty((21, 2), np.float32)            # scratch: motion of one hand
        self._centre = np.empty(2, np.float32)                # scratch: centre of one hand
        self._anchor = np.full((2, 2), np.nan, np.float32)    # where each hand arrived at rest
        self._prev_seen = np.zeros(2, bool)
        self._gone = np.zeros(2, np.int64)       # source frames each hand has been out of view
        self._still = np.zeros(2, np.int64)      # source frames each hand has been low and still
        self._leaving = np.zeros(2, bool)        # when last seen, the hand was going down to rest
        self._wait = np.zeros(2, np.int64)       # frames a gone hand must stay gone to be at rest
        self._pose_y = np.full(2, np.nan)        # each pose wrist's y on the previous frame
        self._seen_at = np.zeros(2, np.int64)    # buffer position of each hand's last frame in view
        self._rest_at = np.zeros(2, np.int64)    # buffer position where its current still run began
        self._body = np.array([0.5, 1.0])        # last known y of shoulders and hips
        self._top = np.inf                       # this frame: the highest seen wrist (x torso below the shoulders)
        self.reset()

    def reset(self) -> None:
        self._n = 0              # frames in the current segment
        self._start_dip()
        self._last_active = -1   # buffer position of the last frame with a hand not at rest
        self._hand_frames = 0    # counted in source frames, like the counters below
        self._moved = False      # the current segment had real motion
        self._prev_index = None
        self._prev_seen[:] = False
        self._gone[:] = self.gap_frames
        self._still[:] = 0
        self._leaving[:] = True
        self._wait[:] = self.exit_frames
        self._pose_y[:] = np.nan
        self._anchor[:] = np.nan

    def _start_dip(self) -> None:
        self._high = np.inf      # highest wrist (smallest y) of the sign so far
        self._deep = -np.inf     # lowest point of the hands since they were last up
        self._deep_at = -1       # its buffer position

    @property
    def in_progress(self) -> bool:
        """A sign is being signed now (its frames so far: `so_far()`)."""
        return self._n > 0

    def so_far(self) -> np.ndarray:
        """The frames of the sign in progress, float32[n, 543, 3]: a read-only view, valid until the next push."""
        view = self._buf[: self._n]
        view.flags.writeable = False
        return view

    @property
    def state(self) -> str:
        """'signing' while a sign is in progress, else 'no hands' (or 'resting': hands in view at rest)."""
        if self._n:
            return "signing"
        return "resting" if not self._gone.all() else "no hands"

    def _update_body(self, frame: np.ndarray) -> None:
        s = 0.5 * (frame[_SHOULDERS[0], 1] + frame[_SHOULDERS[1], 1])
        h = 0.5 * (frame[_HIPS[0], 1] + frame[_HIPS[1], 1])
        if s == s and h == h and h > s:  # not NaN, and upright
            self._body[0], self._body[1] = s, h

    def _hands(self, frame: np.ndarray, step: int) -> tuple[bool, bool, float]:
        """Update each hand's counters: (a hand is seen, one is active = in view and not at rest, speed)."""
        seen_any = active = False
        top = 0.0
        self._top = np.inf
        shoulders, hips = self._body
        low_y = shoulders + self.low * (hips - shoulders)
        radius = self.rest_radius * (hips - shoulders)
        exit_speed = self.exit_speed * (hips - shoulders)
        exit_y = shoulders + self.exit_low * (hips - shoulders)
        pose_exit_y = shoulders + self.pose_exit_low * (hips - shoulders)
        for h, rows in enumerate((LEFT_HAND, RIGHT_HAND)):
            xy = frame[rows, :2]
            px, py = float(frame[_POSE_WRISTS[h], 0]), float(frame[_POSE_WRISTS[h], 1])
            pdown = (py - self._pose_y[h]) / step  # NaN if either is missing
            self._pose_y[h] = py
            # MediaPipe gives a hand whole or not at all: its first point says which.
            if xy[0, 0] != xy[0, 0]:
                self._gone[h] += step
                self._still[h] = 0
                self._anchor[h, 0] = np.nan
                self._prev_seen[h] = False
                # Where did it go? Holistic's pose keeps the wrist when the hand model loses the
                # hand. Up in the signing space (in the picture or out at a side, as a close-up
                # phone's signer's hand goes: GISLR): tracking was lost or the hand is briefly out
                # mid-sign, bridge the gap (up to `lost_frames`); unless the hand was last seen leaving for
                # rest and the wrist goes on down below half the torso (a sign's own movement down
                # the chest stays above that; a hand lost mid-air whose wrist then moves down and
                # stops above the waist, as in `thankyou`, was not leaving). Nobody in view (no pose
                # at all): the sign is over at once. Otherwise the hand's own way out decides: it
                # left low and going down (to rest: `exit_frames`), or else `gap_frames`.
                exiting = self._leaving[h] and py > pose_exit_y and pdown > exit_speed
                if frame[_SHOULDERS[0], 1] != frame[_SHOULDERS[0], 1]:
                    self._wait[h] = self.exit_frames
                elif py < low_y and py < 1.0 and px == px and not exiting:
                    self._wait[h] = self.lost_frames
                else:
                    self._wait[h] = self.exit_frames if self._leaving[h] else self.gap_frames
                continue
            seen_any = True
            if self._prev_seen[h]:
                np.subtract(xy, self._prev[h], out=self._diff)
                down = float(self._diff[0, 1]) / step  # the wrist's way down, per frame
                np.abs(self._diff, out=self._diff)
                speed = float(self._diff.mean()) / step
            else:
                speed = np.inf  # it just came into view
                down = np.inf   # (if it is lost again at once, low: a flicker on its way out)
            self._prev[h] = xy
            self._prev_seen[h] = True
            self._gone[h] = 0
            low = float(xy[0, 1]) > low_y  # the wrist
            self._seen_at[h] = self._n
            # Still = the hand's centre stays near where it arrived. A radius rather than a
            # per-frame speed: MediaPipe's jitter of a resting hand comes and goes, it does not add up.
            xy.mean(axis=0, out=self._centre)
            a = self._anchor[h]
            if not low:
                self._still[h] = 0
                a[0] = np.nan
            elif a[0] == a[0] and abs(self._centre[0] - a[0]) <= radius and abs(self._centre[1] - a[1]) <= radius:
                self._still[h] += step
            else:  # it arrives here (or moved on): the next frames tell whether it stays
                a[:] = self._centre
                self._rest_at[h] = self._n
                self._still[h] = 0
            if self._still[h] < self.rest_frames:
                active = True
            # If it is lost now, did it leave to rest? Low and on its way down (not a hand held
            # low, at the belly say, that MediaPipe loses), or already resting.
            wrist = float(xy[0, 1])
            u = (wrist - shoulders) / (hips - shoulders)
            if u < self._top:
                self._top = u
            self._leaving[h] = (wrist > exit_y and down > exit_speed) or (low and self._still[h] >= self.rest_frames)
            if speed != np.inf and speed > top:
                top = speed
        return seen_any, active, top

    def _all_at_rest(self) -> bool:
        for h in range(2):
            g = self._gone[h]
            if g == 0:
                if self._still[h] < self.rest_frames:
                    return False
            elif g < self._wait[h]:
                return False
        return True

    def push(self, frame: np.ndarray, index: int, t: float) -> Segment | None:
        """Add the frame with source frame number `index` (taken at `t` s); a Segment when a sign ended.

        Durations (gap, rest, minimum length) are counted in source frames, so a
        live camera whose stale frames were dropped (gaps in `index`) keeps the
        same timing as a stream processed frame by frame.
        """
        # Frames that a live source dropped count as more of whatever this frame shows.
        step = 1 if self._prev_index is None else min(max(index - self._prev_index, 1), self.gap_frames)
        self._prev_index = index
        self._update_body(frame)
        seen, active, speed = self._hands(frame, step)
        if self._n == 0:
            if not active:
                return None
            self._hand_frames = 0
            self._moved = False
            step = 1
            for h in range(2):
                if self._gone[h]:
                    self._seen_at[h] = -1  # not in view during this sign (so far)
                elif self._still[h] >= self.rest_frames:
                    self._rest_at[h] = -1  # resting since before this sign (its position is stale)
        n = self._n
        self._buf[n] = frame
        self._index[n] = index
        self._t[n] = t
        self._n = n + 1
        if seen:
            self._hand_frames += step
        if active:
            self._last_active = n
        if speed >= self.move_speed:
            self._moved = True
        if self._all_at_rest():
            # Ended at rest in view without real motion: the jitter of a resting hand, not a sign.
            in_view = bool(self._gone.min() == 0)
            return self._emit(self._sign_end(n), need_motion=in_view)
        if self._n >= self.max_frames:
            return self._emit(self._last_active)
        if self.no_rest and seen and self._dipped(n):
            return self._cut(self._deep_at)
        return None

    def _dipped(self, n: int) -> bool:
        """Signs without a rest between them: the hands, up in the signing space, drop towards the
        waist (below `dip_low` of shoulders -> hips) and come back up (by `dip_rise`): the next
        sign begins after the lowest point. A sign's own movements that stay above the line
        (circles on the chest, taps, repeats) do not cut it."""
        u = self._top
        if u < self._high:
            self._high = u
        if self._high > self.dip_low - self.dip_rise:
            return False  # not yet up in the signing space (the raise)
        if u > self._deep:
            self._deep, self._deep_at = u, n
        elif u <= self._deep - self.dip_rise:
            # A sign's own dip comes early in it (the raise, a move down and up again: `heavy`,
            # `which`); a sign that runs into the next one is whole by then (BENCHMARKS.md).
            if self._deep >= self.dip_low and \
                    self._index[self._deep_at] - self._index[0] + 1 >= self.dip_min_frames:
                return True
            self._deep, self._deep_at = u, n  # a movement above the line: start over from here
        return False

    def _cut(self, end: int) -> Segment | None:
        """The sign buffer[0..end]; the frames after it stay in the buffer as the next sign's start."""
        k = self._n - (end + 1)
        hands_after = min(self._hand_frames, k)
        self._hand_frames -= hands_after
        seg = self._make(end)
        # Rare (once per boundary): move the next sign's frames to the front of the buffer.
        self._buf[:k] = self._buf[end + 1: self._n]
        self._index[:k] = self._index[end + 1: self._n]
        self._t[:k] = self._t[end + 1: self._n]
        self._n = k
        self._hand_frames = hands_after
        self._moved = True  # it just came up by `dip_rise`
        self._last_active = max(self._last_active - end - 1, -1)
        for h in range(2):
            self._seen_at[h] = max(self._seen_at[h] - end - 1, -1)
            self._rest_at[h] = max(self._rest_at[h] - end - 1, -1)
        self._start_dip()
        self._high = self._top
        return seg

    def _sign_end(self, n: int) -> int:
        """Buffer position of the sign's last frame, now that every hand is at rest.

        A hand that left the picture: its last frame in view. One resting in view: the
        frame before it arrived at rest (the first still frame is measured against the
        arrival frame, which already shows the hand at rest).
        """
        end = -1
        for h in range(2):
            if self._gone[h] == 0:
                e = self._rest_at[h] - 1
            elif self._seen_at[h] >= 0:
                e = self._seen_at[h]
            else:
                continue  # not seen during this sign
            end = max(end, e)
        end = min(end, self._last_active)
        return min(end + self.hold_frames, n) if end >= 0 else self._last_active

    def flush(self) -> Segment | None:
        """End of the stream: the sign in progress, if it is long enough."""
        seg = self._emit(self._last_active) if self._n else None
        self.reset()
        return seg

    def _emit(self, end: int, need_motion: bool = False) -> Segment | None:
        """The segment buffer[0..end] if it is a sign; the buffer starts over either way."""
        seg = self._make(end, need_motion)
        self._n = 0
        self._last_active = -1
        self._start_dip()
        return seg

    def _make(self, end: int, need_motion: bool = False) -> Segment | None:
        """The segment buffer[0..end], if it is a sign."""
        n_hands, moved = self._hand_frames, self._moved
        if end < 0 or (need_motion and not moved) or self._index[end] - self._index[0] + 1 < self.min_frames \
                or n_hands < self.min_hand_frames:
            return None
        return Segment(int(self._index[0]), int(self._index[end]), float(self._t[0]), float(self._t[end]),
                       self._buf[: end + 1].copy())
