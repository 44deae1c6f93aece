"""overlay.render on a real frame of a real clip with the landmarks MediaPipe found in it."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from asl_live.model.classifier import Prediction
from asl_live.formats.layout import LEFT_HAND, RIGHT_HAND, empty_frames
from asl_live.view.overlay import STATUS_COLOURS, HUD, picture_rect, render

SIZE = (960, 720)
PANEL_TOP = 720 - 170  # the result panel's top edge at 960x720

# A real DPAN clip (sign "tractor", 480x270) of A1's fixtures; credit in tests/fixtures/README.md.
CLIP = Path(__file__).parent / "fixtures" / "dpan_tractor.mp4"


@pytest.fixture(scope="module")
def real():
    """(BGR image, its float32[543, 3] landmarks): the frame of CLIP with the most hand points
    in the part of the picture the HUD leaves uncovered."""
    from asl_live.capture.extract import HolisticExtractor

    from asl_live.capture.sources import VideoSource

    with VideoSource(CLIP) as src:
        images = [item.image for item in src]
    assert images, f"{CLIP} gave no frames"
    images = images[::8]  # a dozen spread over the sign is enough to find a good one, and fast
    with HolisticExtractor(video=False) as extract:
        frames = [extract(img) for img in images]
    uncovered = [len(visible(hand_pixels(f, img, mirrored=False))) for img, f in zip(images, frames)]
    best = int(np.argmax(uncovered))
    assert uncovered[best] >= 10, "no frame of the clip shows a hand MediaPipe can find"
    return images[best], frames[best]


def hand_pixels(frame, image, mirrored: bool) -> np.ndarray:
    """int[N, 2] canvas pixels (x, y) of the hand points that were seen."""
    x, y, w, h = picture_rect(image.shape, SIZE)
    pts = frame[np.r_[LEFT_HAND, RIGHT_HAND], :2]
    pts = pts[~np.isnan(pts).any(axis=1)]
    px = (1 - pts[:, 0]) if mirrored else pts[:, 0]
    return np.stack([x + px * w, y + pts[:, 1] * h], axis=1).round().astype(int)


def visible(pts: np.ndarray) -> np.ndarray:
    """The pixels between the top bar and the result panel."""
    return pts[(pts[:, 1] > 90) & (pts[:, 1] < PANEL_TOP)]


def prediction(sign="hello", score=0.82):
    return Prediction(sign, score, [(sign, score), ("thankyou", 0.1), ("water", 0.05), ("no", 0.02),
                                    ("can", 0.01)])


def test_landmarks_change_the_pixels_where_the_hands_are(real):
    image, frame = real
    hud = HUD(status="signing", mirrored=False)
    plain = render(image, None, hud, SIZE)
    drawn = render(image, frame, hud, SIZE)
    assert drawn.shape == (720, 960, 3) and drawn.dtype == np.uint8
    changed = np.abs(drawn.astype(int) - plain).sum(axis=2) > 30
    pts = visible(hand_pixels(frame, image, mirrored=False))
    hits = [changed[max(0, y - 2):y + 3, max(0, x - 2):x + 3].any() for x, y in pts]
    assert np.mean(hits) > 0.95
    # Outside the landmarks' bounding box the picture is untouched: drawing stays on the skeleton.
    ys, xs = np.nonzero(changed)
    x0, y0, w, h = picture_rect(image.shape, SIZE)
    seen = frame[~np.isnan(frame[:, 0]), :2]
    lx, ly = x0 + seen[:, 0] * w, y0 + seen[:, 1] * h
    margin = 12
    inside = (xs > lx.min() - margin) & (xs < lx.max() + margin) & (ys > ly.min() - margin) & (ys < ly.max() + margin)
    assert inside.all()
    outside_box = np.ones(changed.shape, bool)
    outside_box[int(ly.min()) - margin:int(ly.max()) + margin, int(lx.min()) - margin:int(lx.max()) + margin] = False
    assert outside_box[90:PANEL_TOP].mean() > 0.2  # the check above covered a real part of the picture


def test_the_recognised_sign_is_drawn_in_the_result_panel(real):
    image, frame = real
    empty = render(image, frame, HUD(status="no hands"), SIZE)
    with_sign = render(image, frame, HUD(status="recognised", last=prediction()), SIZE)
    other = render(image, frame, HUD(status="recognised", last=prediction("water")), SIZE)
    label_area = (slice(PANEL_TOP, PANEL_TOP + 80), slice(0, 590))
    differs = np.abs(with_sign.astype(int) - empty)[label_area].sum(axis=2) > 60
    assert differs.mean() > 0.05
    assert (with_sign[label_area] != other[label_area]).any()
    # The big label is bright text on the dark backing: readable on any picture.
    assert (with_sign[label_area].min(axis=2) > 220).sum() > 1500


def test_state_is_coloured(real):
    image, frame = real
    for status, colour in STATUS_COLOURS.items():
        out = render(image, frame, HUD(status=status), SIZE)
        assert tuple(int(v) for v in out[14, 14]) == colour, status


def test_history_and_top3_and_timings_and_banner_draw_something(real):
    image, frame = real
    base = HUD(status="recognised", last=prediction())
    plain = render(image, frame, base, SIZE)
    for change in ({"history": ["hello", "water", "no"]}, {"stage_ms": {"landmarks": 21.3, "draw": 2.0}},
                   {"banner": "Sign 'hello' in 3..."}, {"fps": 29.9}, {"source": "camera 0"}):
        hud = HUD(**{**base.__dict__, **change})
        assert (render(image, frame, hud, SIZE) != plain).any(), change


def test_mirrored_flips_the_picture_and_the_landmarks(real):
    image, frame = real
    x, y, w, h = picture_rect(image.shape, SIZE)
    band = slice(max(y, 90), min(y + h, PANEL_TOP))  # rows of picture not under the HUD
    straight = render(image, frame, HUD(status="signing", mirrored=False), SIZE)[band, x:x + w]
    mirrored = render(image, frame, HUD(status="signing", mirrored=True), SIZE)[band, x:x + w]
    assert not np.array_equal(straight, mirrored)
    # Landmarks are drawn after flipping, at mirrored positions: the two agree up to anti-aliasing.
    diff = np.abs(straight.astype(int) - mirrored[:, ::-1]).sum(axis=2)
    assert (diff > 60).mean() < 0.01
    # And a hand point lands where the mirrored x says.
    bare = render(image, None, HUD(status="signing", mirrored=True), SIZE)
    full = render(image, frame, HUD(status="signing", mirrored=True), SIZE)
    changed = np.abs(full.astype(int) - bare).sum(axis=2) > 30
    pts = visible(hand_pixels(frame, image, mirrored=True))
    assert np.mean([changed[py - 2:py + 3, px - 2:px + 3].any() for px, py in pts]) > 0.95


def test_replay_without_image_draws_the_skeleton_on_a_dark_canvas(real):
    _, frame = real
    out = render(None, frame, HUD(status="signing", source="demo.parquet"), SIZE)
    empty = render(None, None, HUD(status="signing", source="demo.parquet"), SIZE)
    assert out.shape == (720, 960, 3)
    middle = (slice(100, PANEL_TOP), slice(0, 960))
    assert np.median(empty[middle]) < 50  # dark
    assert (np.abs(out.astype(int) - empty)[middle].sum(axis=2) > 60).sum() > 500


def test_inputs_are_not_modified_and_odd_inputs_render(real):
    image, frame = real
    img0, fr0 = image.copy(), frame.copy()
    render(image, frame, HUD(status="recognised", last=prediction(), mirrored=True), SIZE)
    assert np.array_equal(image, img0)
    assert np.array_equal(frame, fr0, equal_nan=True)
    # Nothing seen, a grey image, another size, a portrait picture, a long label: no error.
    assert render(image, empty_frames(1)[0], HUD(status="no hands"), SIZE).shape == (720, 960, 3)
    assert render(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), frame, HUD(status="signing"),
                  (640, 480)).shape == (480, 640, 3)
    portrait = np.ascontiguousarray(image[:, : image.shape[0] * 3 // 4])
    long_word = prediction("a very long sign name that does not fit", 0.5)
    assert render(portrait, frame, HUD(status="recognised", last=long_word), (1280, 720)).shape == (720, 1280, 3)
    one_point = empty_frames(1)[0]
    one_point[RIGHT_HAND.start] = frame[RIGHT_HAND.start] if not np.isnan(frame[RIGHT_HAND.start, 0]) else 0.5
    assert render(None, one_point, HUD(status="signing"), SIZE).shape == (720, 960, 3)
    unknown = Prediction("unknown", 0.2, [("hello", 0.2), ("no", 0.19), ("can", 0.1)])
    assert render(image, frame, HUD(status="recognised", last=unknown), SIZE).shape == (720, 960, 3)


def test_an_unknown_answer_does_not_show_a_confident_bar(real):
    """The `prototype` rule can answer `unknown` where the softmax says `hello` at 0.99: the
    answer's bar is grey then, not the green of a sure answer (the top-3 still shows `hello`)."""
    from asl_live.view.overlay import GREY

    image, frame = real
    green = np.array((60, 200, 60))
    left = slice(0, int(960 * 0.62))   # the answer's side of the panel; the top-3 is to its right
    for sign, want_green in (("unknown", False), ("hello", True)):
        p = Prediction(sign, 0.99, [("hello", 0.99), ("no", 0.01)])
        shot = render(image, frame, HUD(status="recognised", last=p), SIZE)[PANEL_TOP:, left]
        n_green = int((np.abs(shot.astype(int) - green) <= 2).all(axis=2).sum())
        n_grey = int((np.abs(shot.astype(int) - np.array(GREY)) <= 2).all(axis=2).sum())
        assert (n_green > 1000) == want_green, (sign, n_green)
        if not want_green:
            assert n_grey > 1000, n_grey


def _amber(picture: np.ndarray) -> int:
    from asl_live.view.overlay import PROVISIONAL_COLOUR

    return int((np.abs(picture[PANEL_TOP:].astype(int) - PROVISIONAL_COLOUR) <= 3).all(axis=2).sum())


def test_a_provisional_guess_is_amber_and_tagged_only_while_signing(real):
    image, frame = real
    guess = prediction("water", 0.7)
    signing = render(image, frame, HUD(status="signing", last=prediction(), provisional=guess), SIZE)
    assert _amber(signing) > 1500  # the PROVISIONAL tag and the amber bar
    # The big label area shows the guess, not the last final answer.
    final = render(image, frame, HUD(status="signing", last=prediction()), SIZE)
    assert (signing[PANEL_TOP:PANEL_TOP + 80, :590] != final[PANEL_TOP:PANEL_TOP + 80, :590]).any()
    assert _amber(final) == 0
    # Once the sign is over (or for an "unknown" guess) no guess is shown.
    done = render(image, frame, HUD(status="recognised", last=prediction(), provisional=guess), SIZE)
    assert np.array_equal(done, render(image, frame, HUD(status="recognised", last=prediction()), SIZE))
    unsure = Prediction("unknown", 0.2, [("water", 0.2), ("no", 0.19)])
    assert np.array_equal(render(image, frame, HUD(status="signing", last=prediction(), provisional=unsure), SIZE),
                          final)


def test_the_transcript_shows_the_newest_words_that_fit(real):
    image, frame = real
    words = ["hello", "thankyou", "water", "please", "no", "can"] * 2
    band = (slice(PANEL_TOP - 80, PANEL_TOP), slice(0, 960))
    base = render(image, frame, HUD(status="recognised", transcript=words), SIZE)
    none = render(image, frame, HUD(status="recognised"), SIZE)
    assert (np.abs(base.astype(int) - none)[band].sum(axis=2) > 60).sum() > 3000
    assert (base[band].min(axis=2) > 220).sum() > 1500  # large white words
    older = render(image, frame, HUD(status="recognised", transcript=["apple"] + words[1:]), SIZE)
    newer = render(image, frame, HUD(status="recognised", transcript=words[:-1] + ["apple"]), SIZE)
    assert np.array_equal(older, base)  # the oldest word did not fit: changing it changes nothing
    assert not np.array_equal(newer[band], base[band])
    # A guess ends the line in amber while a sign is in progress.
    guessing = render(image, frame, HUD(status="signing", transcript=words,
                                        provisional=prediction("water", 0.7)), SIZE)
    from asl_live.view.overlay import PROVISIONAL_COLOUR

    amber_band = (np.abs(guessing[band].astype(int) - PROVISIONAL_COLOUR) <= 40).all(axis=2).sum()
    assert amber_band > 300


def test_the_hud_is_drawn_again_exactly_when_what_it_shows_changes(real):
    """The HUD layer is reused while the HUD is unchanged: the window mutates one HUD in place."""
    from asl_live.view import overlay

    image, frame = real
    hud = HUD(status="recognised", last=prediction(), transcript=["hello"], fps=25.0,
              stage_ms={"landmarks": 36.04}, source="camera 0")
    first = render(image, frame, hud, SIZE)
    layer = overlay._last_layer
    hud.stage_ms = {"landmarks": 35.96}  # prints as the same "36.0 ms"
    assert np.array_equal(render(image, frame, hud, SIZE), first) and overlay._last_layer is layer
    hud.last = prediction("water")  # in place, as run_window does
    changed = render(image, frame, hud, SIZE)
    assert overlay._last_layer is not layer
    assert not np.array_equal(changed[PANEL_TOP:], first[PANEL_TOP:])
    hud.last = prediction()
    again = render(image, frame, hud, SIZE)
    assert np.array_equal(again, first)
    # The picture under an unchanged HUD is still new every time.
    moved = render(np.ascontiguousarray(image[::-1]), frame, hud, SIZE)
    assert not np.array_equal(moved[100:PANEL_TOP], first[100:PANEL_TOP])


def test_readout_lets_numbers_change_at_a_readable_rate():
    from asl_live.view.overlay import Readout

    r = Readout(every_s=3600)
    assert r.due() and not r.due()
    assert Readout(every_s=0).due() and Readout(every_s=0).due()


def test_spelled_words_letters_and_the_reading_are_drawn_apart_from_signs(real):
    from asl_live.view.overlay import PROVISIONAL_COLOUR, SPELLED_COLOUR, Spelled

    image, frame = real

    def count(img, colour, box):
        x0, y0, x1, y1 = box
        return int((np.abs(img[y0:y1, x0:x1].astype(int) - colour).sum(axis=2) < 40).sum())

    sentence = (0, PANEL_TOP - 80, 960, PANEL_TOP)
    signs_only = render(image, frame, HUD(status="recognised", transcript=["no", "please"]), SIZE)
    spelled = render(image, frame, HUD(status="recognised", transcript=["no", Spelled("cat"), "please"]), SIZE)
    assert count(signs_only, SPELLED_COLOUR, sentence) == 0 and count(spelled, SPELLED_COLOUR, sentence) > 200
    # a word being spelled: its letters (light blue) and the letter seen now (amber) in the panel
    spelling = HUD(status="signing", reading="spelling?", spelled="ca", letter=("t", 0.9))
    picture = render(image, frame, spelling, SIZE)
    panel = (0, PANEL_TOP, 600, 720)
    assert count(picture, SPELLED_COLOUR, panel) > 200 and count(picture, PROVISIONAL_COLOUR, panel) > 100
    # the same letters while the reader takes the stretch for a sign: the panel shows no letters
    as_sign = render(image, frame, HUD(status="signing", reading="sign?", spelled="c", letter=("c", 0.9)), SIZE)
    assert count(as_sign, SPELLED_COLOUR, panel) < count(picture, SPELLED_COLOUR, panel) / 4
    # the reading's tag in the top bar
    top = (0, 0, 960, 50)
    assert count(picture, PROVISIONAL_COLOUR, top) > count(render(image, frame, HUD(status="signing"), SIZE),
                                                            PROVISIONAL_COLOUR, top)
