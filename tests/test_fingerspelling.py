"""Fingerspelled words at a signer's pace (`asl_live.reading.fingerspelling`), on streams assembled
from real letter frames (tests/fixtures: one signer's alphabet as motion, one person's still photos)
read by the bundled letters model, frame by frame, with no hold."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from asl_live import bundled
from asl_live.model.classifier import Classifier
from asl_live.reading import fingerspelling as F
from train.letter_streams import assemble, clip_part, letter_run, tflite_letters

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def letters():
    return tflite_letters(Classifier(bundled.LETTERS_MODEL, bundled.LETTERS_LABELS))


@pytest.fixture(scope="module")
def ase():
    z = np.load(FIXTURES / "ase_alphabet_hands.npz")
    return {k: z[k] for k in z.files if len(k) == 1}


def spell(word, letters, pick, hold=3, trans=3):
    """5 letters a second at 30 fps: 3 frames of each letter, 3 of transition."""
    frames, times, spans = assemble(word, pick, hold, trans)
    probs, hands = letter_run(frames, letters)
    return F.read_word(times, probs, hands), times, spans


def test_a_real_word_at_five_letters_a_second(letters, ase):
    r, times, spans = spell("cat", letters, lambda c: clip_part(ase[c], c, 3))
    assert r.word == r.spelled == "cat" and r.source == "as spelled"
    assert [l.letter for l in r.letters] == list("cat")
    for l, (c, a, b) in zip(r.letters, spans):  # each letter's time is within its real frames
        assert times[a] - 1e-9 <= l.t_start <= l.t_end <= times[b - 1] + 1e-9
        assert l.confidence > 0.5
    d = r.to_dict()
    assert d["word"] == "cat" and [x["letter"] for x in d["letters"]] == list("cat")


def test_a_word_of_another_person_from_still_photos(letters):
    """One person's still photos (Techyrushi, frame 0 of each), a double L marked by a bounce."""
    def photo(c):
        return np.load(FIXTURES / "letters_mpdata" / "MP_Data" / c.upper() / "0" / "0.npy").reshape(1, 21, 3)

    assert spell("ball", letters, photo)[0].word == "ball"
    assert spell("blow", letters, photo)[0].word == "blow"


def test_a_name_stays_as_spelled(letters, ase):
    """A clearly spelled name that is no common word is kept, though words of its length exist."""
    r, _, _ = spell("tadeo", letters, lambda c: clip_part(ase[c], c, 3))
    assert r.word == "tadeo" and r.source == "as spelled"
    assert r.alternatives and r.alternatives[0][0] != "tadeo"  # the list had other candidates


@pytest.mark.parametrize("word", ["book", "all", "hello"])
def test_a_double_letter_from_a_bounce(letters, ase, word):
    r, _, _ = spell(word, letters, lambda c: clip_part(ase[c], c, 3))
    assert r.spelled == word and r.word == word


def test_a_double_letter_without_the_bounce_is_one_letter(letters, ase):
    """Without the hand moving between them, two held Ls are one L: the letters say "al";
    the word list may still prefer "all", but the letters are what the hand showed."""
    frames, times, spans = assemble("al", lambda c: clip_part(ase[c], c, 6), hold=6)
    probs, hands = letter_run(frames, letters)
    assert "".join(l.letter for l in F.decode_letters(times, probs, hands)) == "al"


def test_j_from_the_hook(letters, ase):
    r, times, spans = spell("jam", letters, lambda c: clip_part(ase[c], c, 3))
    assert r.spelled == "jam" and r.word == "jam"
    j = r.letters[0]
    assert j.letter == "j" and times[spans[0][1]] <= j.t_start < times[spans[0][2] - 1]


@pytest.mark.parametrize("word", ["zoo", "quiz", "pizza"])
def test_z_from_the_zigzag(letters, ase, word):
    """Z at the start, at the end, and twice (two zigzags, one after the other)."""
    r, _, _ = spell(word, letters, lambda c: clip_part(ase[c], c, 3))
    assert r.spelled == word and r.word == word


def slow(word, letters, ase, trans=3):
    """About a letter a second, the way a teacher spells: each letter's whole held part (the clip
    less its first and last 15%, where the hand arrives and leaves; the first letter keeps its way
    up, the last its way down), at 30 fps by repeating every fifth frame of the 25 fps clips (as a
    replay of such a video gives them)."""
    def part(c, i):
        h, t = ase[c], len(ase[c])
        h = h[0 if i == 0 else int(0.15 * t):t if i == len(word) - 1 else int(np.ceil(0.85 * t))]
        return h[np.floor(np.arange(0, len(h) * 30 / 25) * 25 / 30).astype(int)]

    order = iter(range(len(word)))
    frames, times, spans = assemble(word, lambda c: part(c, next(order)), hold=1, trans=trans)
    probs, hands = letter_run(frames, letters)
    return F.read_word(times, probs, hands), times, spans


@pytest.mark.parametrize("word", ["cat", "dan", "bob", "max", "zoe", "quiz"])
def test_a_slow_word_long_holds_are_one_letter_each(letters, ase, word):
    """Held for most of a second, a letter is one letter (not "pcaat", "ddaan", "bbob": the
    hand arriving, settling, or passing through a shape between two letters is no letter)."""
    r, times, spans = slow(word, letters, ase)
    assert r.spelled == word and r.word == word
    for l, (c, a, b) in zip(r.letters, spans):  # each letter inside its own frames
        assert l.letter == c and times[a] - 0.2 <= l.t_start <= l.t_end <= times[b - 1] + 0.2


def test_a_slow_double_letter_needs_the_bounce(letters, ase):
    assert slow("all", letters, ase)[0].spelled == "all"  # the bounce between the two Ls
    assert slow("all", letters, ase, trans=0)[0].spelled == "al"  # one long L: one L


def test_a_still_i_is_no_j_and_a_moving_j_no_i(letters, ase):
    held, t_held, _ = assemble("i", lambda c: ase["i"][10:11], hold=12)
    p, h = letter_run(held, letters)
    assert [l.letter for l in F.decode_letters(t_held, p, h)] == ["i"]
    moving = ase["j"][2:23]
    frames, times, _ = assemble("j", lambda c: moving)
    p, h = letter_run(frames, letters)
    assert [l.letter for l in F.decode_letters(times, p, h)] == ["j"]
    assert F.motion_letters(times, h, p)[0][0] == "j"


def test_bad_input(letters, ase):
    t = np.arange(5) / 30
    p = np.full((5, 26), 1 / 26)
    h = np.repeat(ase["a"][10:11], 5, axis=0)
    with pytest.raises(ValueError, match="probs must be"):
        F.read_word(t, p[:, :25], h)
    with pytest.raises(ValueError, match="hands must be"):
        F.read_word(t, p, h[:4])
    with pytest.raises(ValueError, match="increasing"):
        F.read_word(t[::-1], p, h)
    bad = p.copy()
    bad[2, 3] = np.nan
    with pytest.raises(ValueError, match="finite"):
        F.read_word(t, bad, h)
    # nothing to read: no frames, or no hand in any frame
    assert F.read_word(np.zeros(0), np.zeros((0, 26)), np.zeros((0, 21, 3))) is None
    assert F.read_word(t, p, np.full((5, 21, 3), np.nan)) is None
    # a hand lost for a few frames mid-word: the letters on both sides are still read
    frames, times, spans = assemble("cat", lambda c: clip_part(ase[c], c, 3))
    probs, hands = letter_run(frames, letters)
    hands[spans[1][1] - 2:spans[1][1]] = np.nan
    probs[spans[1][1] - 2:spans[1][1]] = 1 / 26
    assert F.read_word(times, probs, hands).word == "cat"


def test_a_stretch_fed_frame_by_frame_reads_as_the_whole(ase):
    """The live loop's way in: frame by frame, with the model's probabilities in its label order."""
    classifier = Classifier(bundled.LETTERS_MODEL, bundled.LETTERS_LABELS)
    frames, times, _ = assemble("fox", lambda c: clip_part(ase[c], c, 3))
    s = F.Stretch(classifier.labels)
    for t, f in zip(times, frames):
        hand = F.spelling_hand(f)
        s.push(t, None if np.isnan(hand).any() else classifier.probabilities(f[None]), hand)
    assert len(s) == len(frames) and s.word().word == "fox"
    with pytest.raises(ValueError, match="increase"):
        s.push(times[0], None, None)
    with pytest.raises(ValueError, match="no j, z"):
        F.Stretch([c for c in F.LETTERS if c not in "jz"])
    assert F.Stretch().word() is None
