"""Continuous-signing streams joined from real recordings, with their true sign boundaries.

Shared by `bench_stream_segmentation.py` (landmark streams, the app's video path) and
`make_dpan_stream_model.py`. Every frame in a stream is a real MediaPipe Holistic frame;
what is constructed is only the order, the rest between signs and, for the "waist"
streams, the framing and the position of the resting hand (see `waist_stream`).

A sign's true extent is the span from its first to its last frame with a hand in view:
the DPAN prompt clips start and end with the hands out of the picture (below it), so
that span holds the raise, the sign and the retraction to rest, all of which belong to
the sign. The traduttore and GISLR sequences are cut from longer recordings, some of
them mid-sign; they are joined the same way and scored the same way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asl_live.formats.gislr import Dataset
from asl_live.formats.layout import LEFT_HAND, POSE, RIGHT_HAND, empty_frames, hands_visible

_DATA = Path(__file__).resolve().parents[2] / "data"  # made here by `asl-train import-videos` / add-dataset
DPAN = Path(os.environ.get("ASL_LIVE_DPAN", _DATA / "dpan"))
# Other DPAN prompt clips (`asl-train import-videos ../shared/data/clips/recordthesehands --shard 7/10
# --out data/dpan_heldout`), held out from the tuning of issue 17's thresholds.
DPAN_HELDOUT = Path(os.environ.get("ASL_LIVE_DPAN_HELDOUT", _DATA / "dpan_heldout"))
TRADUTTORE = Path(os.environ.get("ASL_LIVE_TRADUTTORE", _DATA / "traduttore"))
SHARED = Path(os.environ.get("ASL_LIVE_SHARED", Path(__file__).resolve().parents[3] / "shared"))
HELLO_THANKYOU = SHARED / "data" / "gislr" / "hello_thankyou"
# The WLASL dictionary clips of ../shared/data/clips/wlasl_projectunmute, imported with
# `asl-train import-videos ... --out data/wlasl_pu` (the app's own Holistic extraction).
WLASL = Path(os.environ.get("ASL_LIVE_WLASL", _DATA / "wlasl_pu"))
WLASL_VIDEOS = SHARED / "data" / "clips" / "wlasl_projectunmute"
# Signs of those clips whose movement repeats (taps, nods, circles, snaps): yes, no, name, more,
# water, sorry, please; `want` and `family` do not repeat.
REPEATED = ("yes", "no", "name", "more", "water", "sorry", "please")


@dataclass
class Clip:
    sign: str
    frames: np.ndarray      # float32[T, 543, 3]
    participant: int

    def hand_span(self) -> tuple[int, int] | None:
        seen = np.flatnonzero(hands_visible(self.frames).any(axis=1))
        return (int(seen[0]), int(seen[-1])) if len(seen) else None


@dataclass
class Stream:
    name: str
    frames: np.ndarray                 # float32[N, 543, 3]
    truth: list[tuple[int, int]]       # each sign's first..last frame (inclusive)
    signs: list[str]
    clips: list[Clip]                  # the clip of each sign, as recorded (for clip-by-clip scoring)


def load_clips(root: Path, signs: list[str] | None = None, limit: int | None = None) -> list[Clip]:
    """The dataset's sequences that have a hand in view (all of them, or those of `signs`)."""
    ds = Dataset(root)
    out = []
    for s in ds.samples():
        if signs is not None and s.sign not in signs:
            continue
        c = Clip(s.sign, ds.read(s), s.participant_id)
        if c.hand_span() is not None:
            out.append(c)
        if limit and len(out) >= limit:
            break
    return out


def join(name: str, clips: list[Clip], rests: list[np.ndarray], trim: int | None = None) -> Stream:
    """clip, rest, clip, rest, ...; rests[i] comes before clips[i] (one more rest at the end).

    `trim`: keep only this many frames without hands before and after each clip's hand span.
    """
    parts, truth, pos = [], [], 0
    for clip, rest in zip(clips, rests):
        parts.append(rest)
        pos += len(rest)
        a, b = clip.hand_span()
        f = clip.frames
        if trim is not None:
            lo = max(a - trim, 0)
            f = f[lo: b + trim + 1]
            a, b = a - lo, b - lo
        truth.append((pos + a, pos + b))
        parts.append(f)
        pos += len(f)
    parts.append(rests[len(clips)])
    return Stream(name, np.concatenate(parts).astype(np.float32), truth, [c.sign for c in clips], clips)


def gap_stream(name: str, clips: list[Clip], rng: np.random.Generator, lo: int, hi: int,
               trim: int | None = None) -> Stream:
    """Clips separated by lo..hi frames in which no one is seen (hands out of the picture)."""
    rests = [empty_frames(int(rng.integers(lo, hi + 1))) for _ in range(len(clips) + 1)]
    return join(name, clips, rests, trim)


# --- hands resting in view -------------------------------------------------------------

POSE_WRIST = {"left": POSE.start + 15, "right": POSE.start + 16}
HAND_ROWS = {"left": LEFT_HAND, "right": RIGHT_HAND}


def rest_runs(root: Path = TRADUTTORE, min_len: int = 6, speed: float = 0.005) -> list[tuple[str, np.ndarray]]:
    """Real runs of frames in which one hand is in view, low and still.

    Low: the hand's centre below 60% of the way from shoulders to hips; still: mean point
    motion below `speed` a frame (looser than the segmenter's own test, so real jitter stays).

    From the traduttore webcam recordings, whose camera sees the signer's waist. Each run
    is (hand, float32[n, 21, 3]): the hand's own 21 points with MediaPipe's real jitter.
    """
    ds = Dataset(root)
    runs = []
    for s in ds.samples():
        f = ds.read(s)
        sh = np.nanmean(f[:, POSE.start + 11: POSE.start + 13, 1], axis=1)
        hip = np.nanmean(f[:, POSE.start + 23: POSE.start + 25, 1], axis=1)
        for hand, rows in HAND_ROWS.items():
            xy = f[:, rows, :2]
            y = np.nanmean(xy[:, :, 1], axis=1)
            low = y > sh + 0.6 * (hip - sh)
            sp = np.concatenate([[np.inf], np.abs(np.diff(xy, axis=0)).mean(axis=(1, 2))])
            ok = low & (np.nan_to_num(sp, nan=np.inf) < speed)
            ok[:-1] |= ok[1:] & low[:-1]  # the first frame of a still run has no speed of its own
            i = 0
            while i < len(ok):
                if ok[i]:
                    j = i
                    while j < len(ok) and ok[j]:
                        j += 1
                    if j - i >= min_len:
                        runs.append((hand, f[i:j, rows].copy()))
                    i = j
                else:
                    i += 1
    return runs


def reframe(frames: np.ndarray, scale: float = 0.75, top: float = 0.08) -> np.ndarray:
    """The same frames as seen by a camera further away: the picture shows the waist too."""
    out = frames.copy()
    out[..., 0] = 0.5 + scale * (frames[..., 0] - 0.5)
    out[..., 1] = top + scale * frames[..., 1]
    out[..., 2] = scale * frames[..., 2]
    return out


def _ping_pong(run: np.ndarray, n: int) -> np.ndarray:
    loop = np.concatenate([run, run[-2:0:-1]]) if len(run) > 2 else run
    reps = -(-n // len(loop))
    return np.concatenate([loop] * reps)[:n]


def waist_stream(name: str, clips: list[Clip], runs: list[tuple[str, np.ndarray]],
                 rng: np.random.Generator) -> Stream:
    """DPAN clips in a wider framing, the signing hand resting in view at the waist between signs.

    The DPAN camera shows the signer down to the chest: at rest the hands are below the
    picture. Here the clips are joined as recorded and every frame is reframed
    (`reframe`: the camera further away) so the waist is in the picture; in each run of
    frames between two signs (the clips' own frames without hands: their face and pose
    stay as recorded) the signing hand is put back in view at rest: a real still, low
    hand from the traduttore webcam recordings (one run per rest, looped back and forth
    with its own MediaPipe jitter), scaled to the DPAN signer's size and placed with its
    wrist where Holistic's pose puts the DPAN signer's own wrist in those frames (the pose
    model estimates it below the picture too), averaged over the rest.
    """
    framed = [reframe(c.frames) for c in clips]
    stream = join(name, clips, [np.zeros((0,) + clips[0].frames.shape[1:], np.float32)] * (len(clips) + 1))
    frames = np.concatenate(framed).astype(np.float32)
    inside = np.zeros(len(frames), bool)
    for a, b in stream.truth:
        inside[a: b + 1] = True
    vis = hands_visible(frames)
    hand = "right" if vis[:, 1].sum() >= vis[:, 0].sum() else "left"
    other = "left" if hand == "right" else "right"
    cand = [r for h, r in runs if h == hand] or [r for _, r in runs]
    i = 0
    while i < len(frames):
        if inside[i]:
            i += 1
            continue
        j = i
        while j < len(frames) and not inside[j]:
            j += 1
        f = frames[i:j]
        run = _ping_pong(cand[int(rng.integers(len(cand)))], j - i)
        wrist = np.nanmean(f[:, POSE_WRIST[hand], :2], axis=0)
        shoulder_w = np.nanmean(np.abs(f[:, POSE.start + 11, 0] - f[:, POSE.start + 12, 0]))
        hxy = run[:, :, :2]
        size = np.nanmedian(np.linalg.norm(hxy[:, 9] - hxy[:, 0], axis=-1))  # wrist to middle knuckle
        k = 0.45 * shoulder_w / size if size > 0 else 1.0
        placed = run.copy()
        placed[:, :, :2] = (hxy - hxy[:1, :1]) * k + wrist
        placed[:, :, 2] *= k
        f[:, HAND_ROWS[hand]] = placed
        f[:, HAND_ROWS[other]] = np.nan
        i = j
    stream.frames = frames
    return stream


# --- tracking dropouts and signs without rests -------------------------------------------

_SH = (POSE.start + 11, POSE.start + 12)
_HIP = (POSE.start + 23, POSE.start + 24)


def _torso(frames: np.ndarray) -> tuple[float, float]:
    return (float(np.nanmean(frames[:, _SH, 1])), float(np.nanmean(frames[:, _HIP, 1])))


def dropout_clip(clip: Clip, rng: np.random.Generator, lo: int = 2, hi: int = 12) -> Clip:
    """The clip with its signing hand lost for lo..hi frames in the middle of the sign.

    Exactly what Holistic reports when it loses a hand: the hand's 21 points NaN, the pose
    (its wrist included) and the other hand as recorded. Where: a run that starts on a frame
    with the hand in view, mid-movement, with the wrist above the waist (above 60% of
    shoulders -> hips), inside the middle 70% of the hand's span; the hand is in view again
    after it, so the true span does not change.
    """
    f = clip.frames.copy()
    vis = hands_visible(f)
    h = int(vis[:, 1].sum() >= vis[:, 0].sum())
    rows = (LEFT_HAND, RIGHT_HAND)[h]
    seen = np.flatnonzero(vis[:, h])
    a, b = int(seen[0]), int(seen[-1])
    sh, hip = _torso(f)
    wrist = f[:, rows.start, 1]
    k = int(rng.integers(lo, hi + 1))
    lo_i, hi_i = a + int(0.15 * (b - a)), b - int(0.15 * (b - a)) - k
    cand = [i for i in range(lo_i, hi_i + 1) if vis[i, h] and wrist[i] < sh + 0.6 * (hip - sh)
            and vis[i - 1, h] and np.abs(f[i, rows, :2] - f[i - 1, rows, :2]).mean() > 0.003]
    if not cand:  # short clip: any frame in view inside the span
        cand = [i for i in range(a + 1, max(b - k, a + 1)) if vis[i, h]] or [a + 1]
        k = min(k, max(b - cand[0] - 1, 1))
    i = cand[int(rng.integers(len(cand)))]
    f[i: i + k, rows] = np.nan
    return Clip(clip.sign, f, clip.participant)


def two_dropouts(clip: Clip, rng: np.random.Generator) -> Clip:
    """The clip with its signing hand lost twice mid-sign, for 7 and then 9 frames: what Holistic
    did to the issue's `zipper` clip (each as in `dropout_clip`; the two may touch)."""
    return dropout_clip(dropout_clip(clip, rng, 7, 7), rng, 9, 9)


def cut_at_sign(clip: Clip, low: float = 0.6, edge: float = 0.9) -> Clip:
    """The clip cut to the sign itself: from the first to the last frame with a hand's wrist above
    the waist (`low` of shoulders -> hips) and inside the picture (above `edge`), so the raise
    from rest and the way back are cut off. A clip that never shows that is kept whole."""
    f = clip.frames
    sh, hip = _torso(f)
    line = min(sh + low * (hip - sh), edge)
    up = np.zeros(len(f), bool)
    for rows in (LEFT_HAND, RIGHT_HAND):
        y = f[:, rows.start, 1]
        up |= np.nan_to_num(y, nan=np.inf) < line
    idx = np.flatnonzero(up)
    if len(idx) < 8:
        return clip
    return Clip(clip.sign, f[idx[0]: idx[-1] + 1].copy(), clip.participant)


def no_rest_stream(name: str, clips: list[Clip]) -> Stream:
    """Signs cut at the sign (`cut_at_sign`), joined with no frame between them: the hands go
    from the end of one sign straight into the next, as in a signed sentence."""
    empty = np.zeros((0,) + clips[0].frames.shape[1:], np.float32)
    return join(name, [cut_at_sign(c) for c in clips], [empty] * (len(clips) + 1))
