"""The window's picture: camera image, landmarks and the recognition HUD, drawn with OpenCV.

`render` is pure (image and frame in, a new BGR image out) so it can be tested
and benchmarked without a display. Mirroring is for display only: the frame
handed in is always the unmirrored one the model saw.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

import cv2
import numpy as np

from asl_live.formats.layout import FACE, LEFT_HAND, LIPS_FACE_INDEX, POSE, RIGHT_HAND

if TYPE_CHECKING:  # the classifier module loads a TFLite runtime; the overlay only reads its results
    from asl_live.model.classifier import Prediction


class Readout:
    """When the HUD's numbers (FPS, stage times) may change: at most every `every_s` seconds.

    Numbers that change 25 times a second cannot be read, and a HUD that did not change
    is not drawn again (`_hud_layer`).
    """

    def __init__(self, every_s: float = 0.5):
        self.every_s = every_s
        self._last = -float("inf")

    def due(self) -> bool:
        now = time.perf_counter()
        if now - self._last < self.every_s:
            return False
        self._last = now
        return True


class Spelled(str):
    """A fingerspelled word in the transcript: drawn as its letters, C-A-T, in its own colour."""

    def shown(self) -> str:
        return "-".join(self.upper())


@dataclass
class HUD:
    status: str                       # "no hands" | "signing" | "recognised" | "paused" | "recording"
    last: "Prediction | None" = None  # most recent result: large, with a confidence bar and its top-3
    history: list[str] = field(default_factory=list)  # chips of recent items (record: the takes saved)
    transcript: list[str] = field(default_factory=list)  # the running sentence of recognised signs
    provisional: "Prediction | None" = None  # a guess for the sign in progress, shown as not final
    fps: float = 0.0
    stage_ms: dict[str, float] = field(default_factory=dict)
    mirrored: bool = True
    source: str = ""
    banner: str | None = None         # big centred message, e.g. a recording countdown
    reading: str | None = None        # what the reader made of the stretch: "sign", "spelling" (? = so far)
    letter: tuple[str, float] | None = None  # the letter seen now and its confidence
    spelled: str = ""                 # the letters read so far in this stretch
    speech: bool | None = None        # speech on / off (None: not offered)


# MediaPipe's 21-point hand topology (mediapipe.solutions.hands.HAND_CONNECTIONS),
# written out because importing mediapipe costs ~0.6 s and the window needs none of it.
HAND_CONNECTIONS = (
    (0, 1), (1, 2), (2, 3), (3, 4),          # thumb
    (0, 5), (5, 6), (6, 7), (7, 8),          # index
    (5, 9), (9, 10), (10, 11), (11, 12),     # middle
    (9, 13), (13, 14), (14, 15), (15, 16),   # ring
    (13, 17), (0, 17), (17, 18), (18, 19), (19, 20),  # pinky and the palm's edge
)
# Upper body of MediaPipe's 33-point pose (a subset of POSE_CONNECTIONS): shoulders,
# arms and the pose model's own hand points. Hips are left out: in a webcam view
# they are below the picture, guessed, and say nothing about a sign.
POSE_UPPER_CONNECTIONS = (
    (11, 12), (11, 13), (13, 15), (12, 14), (14, 16),
    (15, 17), (15, 19), (15, 21), (17, 19),
    (16, 18), (16, 20), (16, 22), (18, 20),
)
POSE_UPPER_POINTS = tuple(sorted({i for c in POSE_UPPER_CONNECTIONS for i in c}))
# Lip contours as closed polygons of face-mesh indices; layout.LIPS_FACE_INDEX lists
# upper-outer (0-10), lower-outer (11-19), upper-inner (20-29), lower-inner (30-39).
_L = LIPS_FACE_INDEX
LIPS_OUTER = np.concatenate([_L[0:11], _L[11:20][::-1]])
LIPS_INNER = np.concatenate([_L[20:30], _L[30:40][::-1]])

# The face mesh's outline (mediapipe FACEMESH_FACE_OVAL as a closed path): without the
# camera picture (a replay) it shows where the head is, so the lips and hands read.
FACE_OVAL = np.array([10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379,
                      378, 400, 377, 152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127,
                      162, 21, 54, 103, 67, 109])

# Colours are BGR.
STATUS_COLOURS = {
    "no hands": (130, 130, 130),
    "signing": (0, 170, 255),     # amber
    "recognised": (60, 200, 60),  # green
    "paused": (230, 150, 40),     # blue
    "recording": (40, 40, 230),   # red
}
SPELLED_COLOUR = (255, 210, 120)     # spelled words and letters: light blue
READING_COLOURS = {"sign": (60, 200, 60), "spelling": SPELLED_COLOUR}
LEFT_HAND_COLOUR = (80, 220, 255)    # the signer's left hand: warm yellow
RIGHT_HAND_COLOUR = (255, 200, 60)   # the signer's right hand: cyan-blue
POSE_COLOUR = (200, 200, 200)
LIPS_COLOUR = (120, 120, 255)
FACE_COLOUR = (150, 150, 150)
WHITE = (255, 255, 255)
GREY = (170, 170, 170)
FONT = cv2.FONT_HERSHEY_DUPLEX
# A guess is amber, with a "?" and a PROVISIONAL tag: never mistaken for the answer (white).
PROVISIONAL_COLOUR = (0, 170, 255)
TOP_BAR_H, PANEL_H = 50, 170  # at 720 pixels high; scaled with the window
CANVAS_BG = (30, 26, 24)


def _shade(img: np.ndarray, x0: int, y0: int, x1: int, y1: int, keep: float = 0.35) -> None:
    """Darken a rectangle in place so text on it reads on any background."""
    h, w = img.shape[:2]
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if x1 > x0 and y1 > y0:
        roi = img[y0:y1, x0:x1]
        cv2.convertScaleAbs(roi, roi, alpha=keep)


def _text(img, s: str, org, scale: float, colour=WHITE, thick: int = 1) -> None:
    cv2.putText(img, s, org, FONT, scale, colour, thick, cv2.LINE_AA)


def _text_width(s: str, scale: float, thick: int = 1) -> int:
    return cv2.getTextSize(s, FONT, scale, thick)[0][0]


def _fit_scale(s: str, scale: float, thick: int, max_w: int) -> float:
    w = _text_width(s, scale, thick)
    return scale if w <= max_w else scale * max_w / w


@lru_cache(maxsize=4)
def _background(w: int, h: int) -> np.ndarray:
    # Broadcasting a BGR tuple over a whole picture costs ~5 ms in numpy; a copy costs 0.05.
    return cv2.rectangle(np.zeros((h, w, 3), np.uint8), (0, 0), (w, h), CANVAS_BG, -1)


def picture_rect(image_shape: tuple[int, ...] | None, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """Where the picture goes on a canvas of `size` (w, h): (x, y, w, h), letterboxed, centred.

    No picture (a replay): a 4:3 area, the usual webcam shape, between the top bar
    and the result panel, so that no part of the skeleton hides under the HUD.
    """
    W, H = size
    top = 0
    if image_shape is None:
        k = H / 720
        top, bottom = int(TOP_BAR_H * k), H - int(PANEL_H * k)
        image_shape, H = (3, 4), bottom - top
    ih, iw = image_shape[:2]
    s = min(W / iw, H / ih)
    w, h = max(1, round(iw * s)), max(1, round(ih * s))
    return (W - w) // 2, top + (H - h) // 2, w, h


def _place_image(image: np.ndarray | None, size: tuple[int, int], mirrored: bool):
    """The canvas with the image letterboxed into it, and the image's rectangle (x, y, w, h)."""
    rect = x, y, w, h = picture_rect(None if image is None else image.shape, size)
    if image is None:
        return _background(*size).copy(), rect
    if (w, h) == size:  # a 4:3 camera in the 4:3 window: the picture covers all of it
        canvas = np.empty((size[1], size[0], 3), np.uint8)
    else:
        canvas = _background(*size).copy()
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    roi = canvas[y:y + h, x:x + w]
    if (w, h) == (image.shape[1], image.shape[0]):
        roi[:] = image
    else:
        cv2.resize(image, (w, h), dst=roi, interpolation=cv2.INTER_LINEAR)
    if mirrored:
        cv2.flip(roi, 1, dst=roi)
    return canvas, rect


SHIFT = 4  # fractional bits of pixel positions: sub-pixel, anti-aliased lines


def _to_pixels(points: np.ndarray, w: int, h: int, mirrored: bool) -> tuple[np.ndarray, np.ndarray]:
    """int32[N, 2] pixel positions (fixed-point, SHIFT fractional bits) and bool[N] seen.

    Called once per frame on all 543 points (a dozen numpy calls, not a dozen per part).
    """
    xy = np.asarray(points[:, :2], dtype=np.float32)
    unseen = np.isnan(xy)
    seen = ~unseen.any(axis=1)
    p = np.where(unseen, np.float32(0.0), xy)
    if mirrored:
        p[:, 0] = 1.0 - p[:, 0]
    # Points can lie outside the picture (pose below the frame); clip to keep ints sane.
    np.clip(p, -1.0, 2.0, out=p)
    p *= np.array([w, h], np.float32)
    p *= 1 << SHIFT
    return p.astype(np.int32), seen


def _segments(pts, seen, edges: np.ndarray) -> list[np.ndarray]:
    """The edges (int[E, 2] point pairs) whose both ends were seen, as int32[2, 2] polylines."""
    keep = seen[edges].all(axis=1)
    return list(pts[edges[keep]])


_HAND_EDGES = np.array(HAND_CONNECTIONS)
_POSE_EDGES = np.array(POSE_UPPER_CONNECTIONS) + POSE.start
_POSE_POINTS = np.array(POSE_UPPER_POINTS) + POSE.start
_FACE_CONTOURS = tuple(FACE.start + c for c in (FACE_OVAL, LIPS_OUTER, LIPS_INNER))


def draw_landmarks(img: np.ndarray, frame: np.ndarray, mirrored: bool) -> None:
    """Hands with their bones, the upper-body pose and the lips, drawn in place.

    `img` is the picture area only (a view into the canvas), so whatever lies
    outside the camera's view is clipped at its edges.
    """
    h, w = img.shape[:2]
    s = min(3, max(1, round(h / 300)))  # line width grows with the picture
    all_pts, all_seen = _to_pixels(frame, w, h, mirrored)
    segs = _segments(all_pts, all_seen, _POSE_EDGES)
    if segs:
        cv2.polylines(img, segs, False, POSE_COLOUR, s, cv2.LINE_AA, SHIFT)
    for i in _POSE_POINTS[all_seen[_POSE_POINTS]]:
        cv2.circle(img, tuple(all_pts[i]), (2 * s) << SHIFT, POSE_COLOUR, -1, cv2.LINE_AA, SHIFT)

    for contour, colour in zip(_FACE_CONTOURS, (FACE_COLOUR, LIPS_COLOUR, LIPS_COLOUR)):
        if all_seen[contour].all():
            cv2.polylines(img, [all_pts[contour]], True, colour, s, cv2.LINE_AA, SHIFT)

    for rows, colour in ((LEFT_HAND, LEFT_HAND_COLOUR), (RIGHT_HAND, RIGHT_HAND_COLOUR)):
        pts, seen = all_pts[rows], all_seen[rows]
        if seen.any():
            # Joints and bones in proportion to the hand, so a small (far) hand stays readable.
            span = np.ptp(pts[seen], axis=0).max() / (1 << SHIFT)
            thick = int(np.clip(span / 25, 1, 2 * s))
            radius = int(np.clip(span / 35, 1.5, 2 * s) * (1 << SHIFT))
            # A dark outline under each bone keeps the hand visible on skin and bright walls.
            segs = _segments(pts, seen, _HAND_EDGES)
            if segs:
                cv2.polylines(img, segs, False, (0, 0, 0), thick + 2, cv2.LINE_AA, SHIFT)
                cv2.polylines(img, segs, False, colour, thick, cv2.LINE_AA, SHIFT)
            for i in np.flatnonzero(seen):
                cv2.circle(img, tuple(pts[i]), radius + (1 << SHIFT), (0, 0, 0), -1, cv2.LINE_AA, SHIFT)
                cv2.circle(img, tuple(pts[i]), radius, WHITE, -1, cv2.LINE_AA, SHIFT)


def _score_colour(score: float):
    if score >= 0.6:
        return (60, 200, 60)
    if score >= 0.3:
        return (0, 190, 255)
    return (60, 60, 230)


def _bar(img, x, y, w, h, frac, colour) -> None:
    cv2.rectangle(img, (x, y), (x + w, y + h), (70, 70, 70), -1)
    fill = int(round(w * min(max(frac, 0.0), 1.0)))
    if fill:
        cv2.rectangle(img, (x, y), (x + fill, y + h), colour, -1)
    cv2.rectangle(img, (x, y), (x + w, y + h), (200, 200, 200), 1)


def _draw_top_bar(img, hud: HUD, k: float, shade) -> None:
    W = img.shape[1]
    bar_h = int(TOP_BAR_H * k)
    shade(img, 0, 0, W, bar_h)
    # Status pill: the one thing a signer glances at, in a colour that says it.
    label = hud.status.upper()
    colour = STATUS_COLOURS.get(hud.status, GREY)
    sc, th = 0.75 * k, max(1, round(2 * k))
    tw = _text_width(label, sc, th)
    pad = int(12 * k)
    x0, y0, y1 = int(10 * k), int(8 * k), bar_h - int(8 * k)
    cv2.rectangle(img, (x0, y0), (x0 + tw + 2 * pad, y1), colour, -1, cv2.LINE_AA)
    text_colour = (0, 0, 0) if sum(colour) > 380 else WHITE
    _text(img, label, (x0 + pad, (y0 + y1) // 2 + int(9 * k)), sc, text_colour, th)
    x = x0 + tw + 2 * pad + int(14 * k)
    for tag, colour in _tags(hud):
        tw = _text_width(tag, 0.6 * k, 1)
        cv2.rectangle(img, (x, y0 + int(4 * k)), (x + tw + 2 * pad, y1 - int(4 * k)), colour, 2, cv2.LINE_AA)
        _text(img, tag, (x + pad, (y0 + y1) // 2 + int(7 * k)), 0.6 * k, colour, 1)
        x += tw + 2 * pad + int(10 * k)
    src = "  ".join(part for part in (hud.source, "(mirrored)" if hud.mirrored else "") if part)
    right = f"{hud.fps:5.1f} FPS" if hud.fps > 0 else "-- FPS"
    rw = _text_width(right, 0.7 * k, max(1, round(2 * k)))
    if src:
        sc_src = _fit_scale(src, 0.6 * k, 1, W - x - rw - int(30 * k))
        _text(img, src, (x, (y0 + y1) // 2 + int(8 * k)), sc_src, GREY, 1)
    _text(img, right, (W - rw - int(12 * k), (y0 + y1) // 2 + int(9 * k)), 0.7 * k, WHITE,
          max(1, round(2 * k)))
    if hud.stage_ms:
        stages = "   ".join(f"{name} {ms:.1f} ms" for name, ms in hud.stage_ms.items())
        sc = _fit_scale(stages, 0.5 * k, 1, W - int(30 * k))
        sw = _text_width(stages, sc)
        shade(img, W - sw - int(20 * k), bar_h, W, bar_h + int(26 * k))
        _text(img, stages, (W - sw - int(10 * k), bar_h + int(19 * k)), sc, GREY, 1)


def _tags(hud: HUD) -> list[tuple[str, tuple]]:
    """Small outlined tags beside the status: what the reader decided, and speech on or off."""
    tags = []
    if hud.reading:
        sure = not hud.reading.endswith("?")
        colour = READING_COLOURS.get(hud.reading.rstrip("?"), GREY) if sure else PROVISIONAL_COLOUR
        tags.append((hud.reading.upper(), colour))
    if hud.speech is not None:
        tags.append(("SPEECH ON" if hud.speech else "speech off", WHITE if hud.speech else GREY))
    return tags


def _draw_spelling(img, hud: HUD, x: int, baseline: int, max_w: int, k: float) -> None:
    """The letters read so far in this stretch, then the letter seen now (amber, with its confidence)."""
    th = max(2, round(3 * k))
    done = " ".join(hud.spelled.upper())
    # the letter seen now, unless it is the one just counted (still held)
    fresh = hud.letter is not None and not hud.spelled.endswith(hud.letter[0])
    now = f"{hud.letter[0].upper()}?" if fresh else ""
    text = (done + "  " + now).strip() or "..."
    sc = _fit_scale(text, 2.0 * k, th, max_w)
    _text(img, done, (x, baseline), sc, SPELLED_COLOUR, th)
    if now:
        nx = x + (_text_width(done + "  ", sc, th) if done else 0)
        _text(img, now, (nx, baseline), sc, PROVISIONAL_COLOUR, th)


def _spelling_now(hud: HUD) -> bool:
    return hud.status == "signing" and (hud.reading or "").startswith("spelling") \
        and (bool(hud.spelled) or hud.letter is not None)


def _draw_result_panel(img, hud: HUD, k: float, shade) -> None:
    H, W = img.shape[:2]
    panel_h = int(PANEL_H * k)
    top = H - panel_h
    shade(img, 0, top, W, H, keep=0.25)
    margin = int(16 * k)
    split = int(W * 0.62)  # left: the answer; right: its top-3
    guess = _shown_guess(hud)
    last = guess or hud.last
    if hud.letter is not None:  # the letters model's reading of this frame, whatever the stretch is
        tag = f"letter now  {hud.letter[0].upper()}  {100 * hud.letter[1]:.0f}%"
        _text(img, tag, (W - _text_width(tag, 0.55 * k) - margin, top + int(26 * k)), 0.55 * k,
              SPELLED_COLOUR, 1)
    if _spelling_now(hud):
        _text(img, "spelling", (margin, top + int(24 * k)), 0.55 * k, SPELLED_COLOUR, 1)
        _draw_spelling(img, hud, margin, top + int(80 * k), W - 2 * margin, k)
    elif last is None:
        _text(img, "waiting for a sign...", (margin, top + int(62 * k)), 0.9 * k, GREY, 1)
    else:
        unknown = last.sign == "unknown"
        th = max(2, round(3 * k))
        if guess is not None:
            _provisional_word(img, guess.sign, margin, top + int(68 * k), split - 2 * margin, k)
        else:
            sc = _fit_scale(last.sign, 2.2 * k, th, split - 2 * margin)
            _text(img, last.sign, (margin, top + int(68 * k)), sc, GREY if unknown else WHITE, th)
        bw, bh = split - 2 * margin - int(80 * k), int(20 * k)
        by = top + int(84 * k)
        # An "unknown" answer's score is its best class's probability, which a rule on the
        # embedding may overrule at 99%: a grey bar, so it does not read as "sure it is unknown".
        colour = PROVISIONAL_COLOUR if guess is not None else GREY if unknown else _score_colour(last.score)
        _bar(img, margin, by, bw, bh, last.score, colour)
        _text(img, f"{100 * last.score:.0f}%", (margin + bw + int(10 * k), by + bh - int(3 * k)),
              0.7 * k, GREY if unknown else WHITE, max(1, round(2 * k)))
        x = split
        _text(img, "top 3", (x, top + int(26 * k)), 0.55 * k, GREY, 1)
        for j, (name, p) in enumerate(last.top[:3]):
            y = top + int((50 + 28 * j) * k)
            nm_sc = _fit_scale(name, 0.65 * k, 1, int(W * 0.2))
            _text(img, name, (x, y), nm_sc, WHITE if j == 0 and not unknown and guess is None else GREY, 1)
            bx = x + int(W * 0.21)
            _bar(img, bx, y - int(14 * k), W - bx - int(70 * k), int(14 * k), p, _score_colour(p))
            _text(img, f"{100 * p:.0f}%", (W - int(62 * k), y), 0.55 * k, GREY, 1)
    _draw_history(img, hud.history, top + int(124 * k), margin, k)


def _shown_guess(hud: HUD) -> "Prediction | None":
    """The provisional label worth showing: only while signing, and not an "unknown"."""
    p = hud.provisional
    if _spelling_now(hud):
        return None  # the letters are shown instead
    return p if hud.status == "signing" and p is not None and p.sign != "unknown" else None


def _provisional_word(img, sign: str, x: int, baseline: int, max_w: int, k: float) -> None:
    """`sign?` large and amber, then a filled PROVISIONAL tag."""
    tag, tag_sc, tag_th = "PROVISIONAL", 0.5 * k, 1
    pad = int(8 * k)
    tag_w = _text_width(tag, tag_sc, tag_th) + 2 * pad
    word, th = f"{sign}?", max(2, round(3 * k))
    sc = _fit_scale(word, 2.2 * k, th, max_w - tag_w - int(16 * k))
    _text(img, word, (x, baseline), sc, PROVISIONAL_COLOUR, th)
    tx = x + _text_width(word, sc, th) + int(16 * k)
    ty1 = baseline
    ty0 = ty1 - int(26 * k)
    cv2.rectangle(img, (tx, ty0), (tx + tag_w, ty1), PROVISIONAL_COLOUR, -1)
    _text(img, tag, (tx + pad, ty1 - int(8 * k)), tag_sc, (0, 0, 0), tag_th)


TRANSCRIPT_SCALE = 1.4  # at 720 pixels high: ~30-pixel capitals, readable across a room


def _draw_transcript(img, words: list[str], guess: str | None, k: float, shade) -> None:
    """The running sentence, newest words that fit, centred just above the result panel.

    A guess for the sign in progress ends it, amber with a "?", as live captions
    show a word they may still change.
    """
    if not words and guess is None:
        return
    H, W = img.shape[:2]
    sc, th, gap = TRANSCRIPT_SCALE * k, max(2, round(2 * k)), int(18 * k)
    margin = int(24 * k)
    parts = [(w.shown(), SPELLED_COLOUR) if isinstance(w, Spelled) else (w, WHITE) for w in words]
    if guess is not None:
        parts.append((f"{guess}?", PROVISIONAL_COLOUR))
    widths = [_text_width(w, sc, th) for w, _ in parts]
    shown, total = [], 0
    for part, w in zip(reversed(parts), reversed(widths)):
        if shown and total + gap + w > W - 2 * margin:
            break
        shown.append((part, w))
        total += w + (gap if len(shown) > 1 else 0)
    shown.reverse()
    if total > W - 2 * margin:  # one very long word alone: shrink it to fit
        sc *= (W - 2 * margin) / total
        shown = [(p, _text_width(p[0], sc, th)) for p, _ in shown]
        total = sum(w for _, w in shown)
    (_, cap), base = cv2.getTextSize("Ag", FONT, sc, th)
    bottom = H - int(PANEL_H * k) - int(8 * k)
    baseline = bottom - base - int(10 * k)
    x = (W - total) // 2
    shade(img, x - int(14 * k), baseline - cap - int(12 * k), x + total + int(14 * k), bottom, keep=0.2)
    for (word, colour), w in shown:
        _text(img, word, (x, baseline), sc, colour, th)
        x += w + gap


def _draw_history(img, history: list[str], y: int, margin: int, k: float) -> None:
    """Recent signs as chips, newest at the right end, as many as fit."""
    W = img.shape[1]
    sc = 0.6 * k
    pad, gap, h = int(10 * k), int(8 * k), int(32 * k)
    if not history:
        return
    _text(img, "recent", (margin, y + int(22 * k)), 0.5 * k, GREY, 1)
    x_min = margin + _text_width("recent", 0.5 * k) + int(12 * k)
    chips, x = [], W - margin
    for n, word in enumerate(reversed(history)):
        w = _text_width(word, sc) + 2 * pad
        if x - w < x_min:
            break
        x -= w
        chips.append((x, word, w, n))
        x -= gap
    for x, word, w, n in chips:
        fresh = n == 0
        cv2.rectangle(img, (x, y), (x + w, y + h), (90, 160, 60) if fresh else (75, 70, 65), -1,
                      cv2.LINE_AA)
        _text(img, word, (x + pad, y + h - int(10 * k)), sc, WHITE, 1)


def _draw_banner(img, text: str, k: float, colour, shade) -> None:
    """One line, large; several lines (a pick list) smaller, each its own size, left-aligned."""
    H, W = img.shape[:2]
    lines = text.split("\n")
    th = max(2, round(3 * k)) if len(lines) == 1 else max(1, round(2 * k))
    scales = [_fit_scale(line, (1.5 if len(lines) == 1 else 0.8) * k, th, W - int(120 * k)) for line in lines]
    sizes = [cv2.getTextSize(line, FONT, sc, th) for line, sc in zip(lines, scales)]
    tw = max(w for (w, _), _ in sizes)
    gap = int(14 * k)
    # High on the picture: below the top bar, above the face and hands the signer watches.
    cx, top = W // 2, int(110 * k)
    pad = int(24 * k)
    height = sum(h + b for (_, h), b in sizes) + gap * (len(lines) - 1)
    x0, y0, x1, y1 = cx - tw // 2 - pad, top - pad, cx + tw // 2 + pad, top + height + pad
    shade(img, x0, y0, x1, y1, keep=0.2)
    cv2.rectangle(img, (x0, y0), (x1, y1), colour, max(2, round(3 * k)), cv2.LINE_AA)
    y = top
    for line, sc, ((w, h), b) in zip(lines, scales, sizes):
        x = cx - w // 2 if len(lines) == 1 else cx - tw // 2
        _text(img, line, (x, y + h), sc, WHITE, th)
        y += h + b + gap


def _prediction_key(p: "Prediction | None"):
    return None if p is None else (p.sign, p.score, tuple(p.top))


def _hud_key(hud: HUD, size: tuple[int, int]) -> tuple:
    """Everything the HUD's drawing reads, as it is printed (so an unchanged readout is a hit)."""
    return (size, hud.status, hud.source, hud.mirrored, f"{hud.fps:5.1f}" if hud.fps > 0 else None,
            tuple((name, f"{ms:.1f}") for name, ms in hud.stage_ms.items()),
            _prediction_key(hud.last), _prediction_key(hud.provisional), tuple(hud.history),
            tuple((w, isinstance(w, Spelled)) for w in hud.transcript), hud.banner, hud.reading,
            None if hud.letter is None else (hud.letter[0], f"{100 * hud.letter[1]:.0f}"), hud.spelled, hud.speech)


@dataclass
class _Layer:
    """The HUD drawn once on black: what `render` lays over every picture until the HUD changes."""
    key: tuple
    shades: list[tuple]   # the rectangles to darken first: (x0, y0, x1, y1, keep)
    image: np.ndarray     # uint8[H, W, 3]: text, bars, chips
    mask: np.ndarray      # uint8[H, W]: where the HUD drew


_last_layer: _Layer | None = None  # one: the window draws from one thread, and the HUD changes rarely


def _hud_layer(hud: HUD, size: tuple[int, int]) -> _Layer:
    """The HUD's layer, drawn again only when what it shows changed.

    Text is most of the drawing's cost (anti-aliased Hershey glyphs, ~1.5 ms a picture at
    960x720); on a picture whose HUD did not change, darkening its boxes and one masked
    copy cost ~0.3 ms. Edges blend with black instead of the darkened picture beneath:
    the HUD sits only on boxes darkened to a quarter or a third, where that does not show.
    Pixels the HUD draws pure black (text on a light status pill) show the darkened
    picture instead, which reads the same.
    """
    global _last_layer
    key = _hud_key(hud, size)
    if _last_layer is not None and _last_layer.key == key:
        return _last_layer
    W, H = size
    k = H / 720
    shades: list[tuple] = []

    def shade(img, x0, y0, x1, y1, keep=0.35):
        shades.append((x0, y0, x1, y1, keep))

    layer = np.zeros((H, W, 3), np.uint8)
    _draw_top_bar(layer, hud, k, shade)
    _draw_result_panel(layer, hud, k, shade)
    guess = _shown_guess(hud)
    _draw_transcript(layer, hud.transcript, guess.sign if guess is not None else None, k, shade)
    colour = STATUS_COLOURS.get(hud.status, GREY)
    if hud.banner:
        _draw_banner(layer, hud.banner, k, colour, shade)
    elif hud.status == "paused":
        _draw_banner(layer, "paused - space to resume", k, colour, shade)
    _, mask = cv2.threshold(cv2.cvtColor(layer, cv2.COLOR_BGR2GRAY), 0, 255, cv2.THRESH_BINARY)
    _last_layer = _Layer(key, shades, layer, mask)
    return _last_layer


def render(image: np.ndarray | None, frame: np.ndarray | None, hud: HUD,
           size: tuple[int, int] = (960, 720)) -> np.ndarray:
    """Draw one window picture of `size` (width, height).

    `image` is the BGR camera picture (None for a parquet replay: a dark canvas),
    `frame` its float32[543, 3] landmarks or None. Neither is modified.
    """
    canvas, (x, y, w, h) = _place_image(image, size, hud.mirrored)
    if frame is not None:
        draw_landmarks(canvas[y:y + h, x:x + w], np.asarray(frame, dtype=np.float32), hud.mirrored)
    if hud.status == "paused":
        _shade(canvas, 0, 0, size[0], size[1], keep=0.6)
    layer = _hud_layer(hud, size)
    for box in layer.shades:
        _shade(canvas, *box)
    cv2.copyTo(layer.image, layer.mask, canvas)
    return canvas
