"""Find where each sign starts and ends in a continuous stream of frames.

A sign starts when a hand comes into view (or starts moving again after a
rest) and ends when the hands drop out of view or come to rest. Each completed
sign is emitted once, as a `Segment`. Short hand dropouts (MediaPipe loses a
hand for a frame or two mid-sign) do not split a sign: it ends only after
`gap_frames` consecutive frames without hands. A sign longer than `max_frames`
is cut there, so memory stays bounded however long someone signs.

The per-frame path does no allocation beyond copying the frame into a buffer
allocated once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .layout import DIMS, LEFT_HAND, RIGHT_HAND, ROWS_PER_FRAME


@dataclass
class Segment:
    start_frame: int      # source frame index of the first frame of the sign
    end_frame: int        # source frame index of its last frame (inclusive)
    t_start: float        # seconds
    t_end: float
    frames: np.ndarray    # float32[T, 543, 3], the frames from start to end (NaN where unseen)


class Segmenter:
    """Feed frames one by one with `push`; it returns a `Segment` when a sign ends."""

    def __init__(self, min_frames: int = 8, max_frames: int = 300, gap_frames: int = 6,
                 min_hand_frames: int = 6, rest_frames: int = 15, rest_speed: float = 0.002,
                 move_speed: float = 0.006, hold_frames: int = 5):
        if not 1 <= min_frames <= max_frames:
            raise ValueError("need 1 <= min_frames <= max_frames")
        self.min_frames = min_frames            # shorter candidates are noise (a hand flashing by)
        self.max_frames = max_frames            # a longer sign is cut here
        self.gap_frames = gap_frames            # frames without hands that end a sign
        self.min_hand_frames = min_hand_frames  # frames with a hand a sign needs
        self.rest_frames = rest_frames          # still frames (hands in view) that end a sign
        self.rest_speed = rest_speed            # mean landmark motion per frame below which hands rest
        self.move_speed = move_speed            # motion that (re)starts a sign / shows one happened
        self.hold_frames = hold_frames          # still frames kept at the end of a sign that came to rest
        self._buf = np.empty((max_frames, ROWS_PER_FRAME, DIMS), np.float32)
        self._index = np.empty(max_frames, np.int64)
        self._t = np.empty(max_frames, np.float64)
        self._prev = np.full((2, 21, 2), np.nan, np.float32)  # previous x,y of each hand
        self._prev_seen = np.zeros(2, bool)
        self.reset()

    def reset(self) -> None:
        self._n = 0              # frames in the current segment
        self._last_hand = -1     # buffer position of the last frame with a hand
        self._hand_frames = 0    # counted in source frames, like the next two
        self._missing = 0        # consecutive frames without hands
        self._still = 0          # consecutive frames with hands at rest
        self._still_from = 0     # buffer position where the hands came to rest
        self._moved = False      # the current segment had real motion
        self._resting = False    # a sign just ended by rest; wait for motion or for the hands to go
        self._prev_index = None
        self._prev_seen[:] = False

    @property
    def state(self) -> str:
        """'signing' while a sign is in progress, else 'no hands' (or 'resting')."""
        if self._n:
            return "signing"
        return "resting" if self._resting else "no hands"

    def frames_so_far(self) -> np.ndarray:
        """The frames of the sign in progress (empty when none), read-only; valid until the next push.

        For provisional labels: a view, not a copy, so a caller that keeps it must copy it.
        """
        view = self._buf[: self._n]
        view.flags.writeable = False
        return view

    def _motion(self, frame: np.ndarray, step: int) -> tuple[bool, float]:
        """(a hand is seen, the largest mean x/y displacement of a hand per source frame)."""
        seen_any, speed = False, 0.0
        for h, rows in enumerate((LEFT_HAND, RIGHT_HAND)):
            xy = frame[rows, :2]
            # MediaPipe gives a hand whole or not at all: its first point says which.
            seen = not np.isnan(xy[0, 0])
            if seen:
                seen_any = True
                if self._prev_seen[h]:
                    speed = max(speed, float(np.abs(xy - self._prev[h]).mean()) / step)
                self._prev[h] = xy
            self._prev_seen[h] = seen
        return seen_any, speed

    def push(self, frame: np.ndarray, index: int, t: float) -> Segment | None:
        """Add the frame with source frame number `index` (taken at `t` s); a Segment when a sign ended.

        Durations (gap, rest, minimum length) are counted in source frames, so a
        live camera whose stale frames were dropped (gaps in `index`) keeps the
        same timing as a stream processed frame by frame.
        """
        # Frames that a live source dropped count as more of whatever this frame shows.
        step = 1 if self._prev_index is None else min(max(index - self._prev_index, 1), self.gap_frames)
        self._prev_index = index
        seen, speed = self._motion(frame, step)
        if self._n == 0:
            if not seen:
                self._resting = False
                return None
            if self._resting and speed < self.move_speed:
                return None
            self._resting = False
            self._missing = self._still = self._hand_frames = 0
            self._moved = False
            step = 1
        n = self._n
        self._buf[n] = frame
        self._index[n] = index
        self._t[n] = t
        self._n = n + 1
        if seen:
            self._hand_frames += step
            self._last_hand = n
            self._missing = 0
            if speed >= self.move_speed:
                self._moved = True
            if speed < self.rest_speed and n > 0:
                if self._still == 0:
                    self._still_from = n
                self._still += step
            else:
                self._still = 0
        else:
            self._missing += step
            self._still = 0
        if self._missing >= self.gap_frames:
            return self._emit(self._last_hand)
        if self._moved and self._still >= self.rest_frames:
            end = min(self._still_from + self.hold_frames, n)
            seg = self._emit(end)
            self._resting = True
            return seg
        if self._n >= self.max_frames:
            return self._emit(self._last_hand)
        return None

    def flush(self) -> Segment | None:
        """End of the stream: the sign in progress, if it is long enough."""
        seg = self._emit(self._last_hand) if self._n else None
        self.reset()
        return seg

    def _emit(self, end: int) -> Segment | None:
        """The segment buffer[0..end] if it is a sign; the buffer starts over either way."""
        n_hands = self._hand_frames
        self._n = 0
        self._missing = self._still = 0
        if end < 0 or self._index[end] - self._index[0] + 1 < self.min_frames or n_hands < self.min_hand_frames:
            return None
        return Segment(int(self._index[0]), int(self._index[end]), float(self._t[0]), float(self._t[end]),
                       self._buf[: end + 1].copy())
