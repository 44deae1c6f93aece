"""Sign or fingerspelling: real signs and real fingerspelled words, one stream, one transcript.

Signs: WLASL dictionary clips (`wlasl_landmarks.npz`); letters: one fingerspeller's manual
alphabet (`spoken_to_signed_letters.npz`); words are their letters one after another, as
`benchmarks/app/mixed_stream.py` builds them. Neither person is in any model's training data.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from asl_live import bundled
from asl_live.model.classifier import Classifier, Prediction
from asl_live.cli import main as asl_live
from asl_live.formats.gislr import write_parquet
from asl_live.formats.layout import empty_frames
from asl_live.reading.pipeline import Landmarks, Recognition, Recognizer, recognitions
from asl_live.formats.gislr import read_parquet
from asl_live.reading.letter_reader import DecodedLetters, HeldLetters, SpelledWord
from asl_live.reading.stretch_kind import CERTAIN_SIGN, SIGN, SPELLING, Motion, decide, measure
from asl_live.capture.sources import Item, Source

FIXTURES = Path(__file__).parent / "fixtures"
sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks" / "app"))
from mixed_stream import held_span  # noqa: E402


def full(rows75: np.ndarray) -> np.ndarray:
    f = empty_frames(len(rows75))
    f[:, 468:] = rows75
    return f


@pytest.fixture(scope="module")
def signs() -> dict[str, np.ndarray]:
    z = np.load(FIXTURES / "wlasl_landmarks.npz")
    return {k.removeprefix("wlasl_"): full(z[k]) for k in z.files}


@pytest.fixture(scope="module")
def letters() -> dict[str, np.ndarray]:
    z = np.load(FIXTURES / "spoken_to_signed_letters.npz")
    return {k.removeprefix("letter_"): full(z[k]) for k in z.files}


def word(letters, w: str) -> np.ndarray:
    parts = []
    for i, c in enumerate(w):
        first, last = held_span(letters[c])
        parts.append(letters[c][0 if i == 0 else first: None if i == len(w) - 1 else last + 1])
    return np.concatenate(parts)


def stream(parts: list[np.ndarray], gap: int = 15) -> np.ndarray:
    out = [empty_frames(gap)]
    for p in parts:
        out += [p, empty_frames(gap)]
    return np.concatenate(out)


class Frames(Source):
    name = "mixed"

    def __init__(self, frames):
        self.frames = frames

    def __iter__(self):
        for i, f in enumerate(self.frames):
            yield Item(i, i / 30.0, None, f, origin={"source": "mixed"})


@pytest.fixture(scope="module")
def reader_parts():
    return Classifier(), HeldLetters(Classifier(bundled.LETTERS_MODEL, bundled.LETTERS_LABELS))


def transcript(frames, reader_parts) -> list:
    signs_model, held = reader_parts
    rec = Recognizer(signs_model, letters=held, fps=30.0)
    return list(recognitions(Frames(frames), rec, Landmarks()))


def text(readings) -> list[str]:
    return [r.text if isinstance(r, Recognition) else "#" + r.word for r in readings]


def test_signs_and_spelled_words_in_one_stream_read_in_order(signs, letters, reader_parts):
    frames = stream([signs["no"], word(letters, "cat"), signs["please"], word(letters, "dan"),
                     signs["thankyou"], word(letters, "bob")])
    out = transcript(frames, reader_parts)
    assert text(out) == ["no", "#cat", "please", "#dan", "thankyou", "#bob"]
    w = out[1]
    assert isinstance(w, SpelledWord) and [x.letter for x in w.letters] == ["c", "a", "t"]
    assert w.decision["kind"] == SPELLING and out[0].decision["kind"] == SIGN
    assert w.t_start < w.letters[0].t_start <= w.letters[-1].t_end <= w.t_end
    line = json.loads(w.to_json())
    assert line["word"] == "cat" and "sign" not in line and line["source"] == "mixed"
    assert [x[0] for x in line["letters"]] == ["c", "a", "t"]


def test_every_wlasl_sign_stays_a_sign(signs, reader_parts):
    """Signs whose hand shapes the letters model reads as letters (`thankyou` as "cc", `please` as
    "j") and signs the sign model does not know (`name`, `sorry`) are never turned into words."""
    out = transcript(stream(list(signs.values())), reader_parts)
    assert len(out) == len(signs)
    assert all(isinstance(r, Recognition) for r in out), text(out)


def test_a_double_letter_and_a_name_are_kept_as_spelled(letters, reader_parts):
    out = transcript(stream([word(letters, "dot"), word(letters, "toad"), word(letters, "bobb")]), reader_parts)
    assert text(out) == ["#dot", "#toad", "#bobb"]


def test_decide_on_the_measured_hand():
    held = Motion(60, 0.5, 2.0, 0.05)
    moved = Motion(60, 2.5, 3.0, 0.05)
    sure_hello = Prediction("hello", 0.99, [])
    unknown = Prediction("unknown", 0.9, [])
    assert decide(held, "cat", unknown).kind == SPELLING
    assert decide(held, "cat", sure_hello).kind == SPELLING     # held, letters read: a spelled word
    assert decide(moved, "cat", sure_hello).kind == SIGN        # a sure sign that travelled
    assert decide(moved, "cat", unknown).kind == SPELLING
    assert decide(held, "cc", unknown).kind == SIGN             # one letter twice: a sign's hand shape
    assert decide(held, "w", unknown).kind == SIGN
    assert decide(Motion(60, 2.5, 0.1, 0.05), "ab", unknown).kind == SIGN  # travelled in one shape


def test_measure_in_palm_lengths_does_not_depend_on_the_hand_size(letters):
    f = word(letters, "cab")
    small = f.copy()
    small[:, :, :2] = 0.5 + (f[:, :, :2] - 0.5) * 0.5  # the same signer twice as far from the camera
    a, b = measure(f, 30.0), measure(small, 30.0)
    assert a.spread == pytest.approx(b.spread, rel=1e-3) and a.shape_rate == pytest.approx(b.shape_rate, rel=1e-3)
    assert measure(empty_frames(10), 30.0).hand_frames == 0


def test_replay_cli_prints_signs_and_words(tmp_path, capsys, signs, letters):
    path = write_parquet(tmp_path / "mixed.parquet", stream([signs["no"], word(letters, "cat")]))
    subs = tmp_path / "out.vtt"
    assert asl_live(["--replay", str(path), "--headless", "--subtitles", str(subs)]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x.get("sign") or "#" + x["word"] for x in lines] == ["no", "#cat"]
    assert lines[1]["reader"].startswith("decoded letters")  # the default letter reader
    assert "cat" in subs.read_text() and "no" in subs.read_text()
    assert asl_live(["--replay", str(path), "--headless", "--letter-reader", "held"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x.get("sign") or "#" + x["word"] for x in lines] == ["no", "#cat"] and lines[1]["reader"] == "held letters"
    assert asl_live(["--replay", str(path), "--headless", "--signs"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert all("sign" in x for x in lines)  # signs only: no words


def test_the_window_reads_signs_and_words_in_its_one_loop(tmp_path, signs, letters):
    """The real window under Xvfb on a mixed replay: the words reach the subtitles from the same loop."""
    import subprocess

    from display import Xvfb

    path = write_parquet(tmp_path / "mixed.parquet", stream([signs["no"], word(letters, "cat")]))
    subs = tmp_path / "out.srt"
    with Xvfb() as x:
        proc = subprocess.run([sys.executable, "-m", "asl_live", "--replay", str(path), "--subtitles", str(subs)],
                              env=x.env(), capture_output=True, text=True, timeout=180,
                              cwd=Path(__file__).parent.parent)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    text = subs.read_text()
    assert text.index("no") < text.index("cat"), text


@pytest.fixture(scope="module")
def decoding_parts():
    return Classifier(), DecodedLetters(Classifier(bundled.LETTERS_MODEL, bundled.LETTERS_LABELS))


def demo_no() -> np.ndarray:
    """The bundled demo's `no` (its 5th sign, frames 150-169), with the still frames around it."""
    return read_parquet(bundled.DEMO_PARQUET)[140:180]


def test_a_certain_still_sign_stays_a_sign_over_two_letters(decoding_parts):
    """The demo's `no`: the hand barely moves, the decoding reader reads its shapes as K then N, and
    the sign model is all but certain of `no`: a sign, not the word "kn"."""
    frames = demo_no()
    assert measure(frames, 30.0).held  # still: the travelled-sign rule does not reach it
    out = transcript(stream([frames]), decoding_parts)
    assert text(out) == ["no"]
    d = out[0].decision
    assert d["kind"] == SIGN and len(set(d["letters"])) == 2 and d["sign_score"] >= CERTAIN_SIGN, d
    # The held-letter reader reads no letter in it (none is held a third of a second).
    assert text(transcript(stream([frames]), (decoding_parts[0], HeldLetters(decoding_parts[1].classifier)))) \
        == ["no"]


def test_two_letters_really_spelled_stay_a_word(letters, decoding_parts):
    """Two-letter words spelled with the demo's `no` between them: the sign model is not certain of a
    known sign on any of them (it says `unknown`), so each stays a spelled word."""
    ws = ["no", "on", "to", "at", "ab"]
    out = transcript(stream([word(letters, w) for w in ws[:2]] + [demo_no()] + [word(letters, w) for w in ws[2:]]),
                     decoding_parts)
    assert text(out) == ["#no", "#on", "no", "#to", "#at", "#ab"]
    for w in out[:2] + out[3:]:
        assert w.decision["sign"] == "unknown" or w.decision["sign_score"] < CERTAIN_SIGN, w.decision


def test_decide_a_certain_sign_against_the_same_two_letters(letters):
    """The same real hand motion (N-O spelled) and the same letters read: only a known sign the
    sign model is certain of takes two letters; three letters stay a word, however sure the sign."""
    spelled = measure(word(letters, "no"), 30.0)
    certain_no, sure_no = Prediction("no", 0.9997, []), Prediction("no", 0.97, [])
    unknown = Prediction("unknown", 0.9999, [])
    assert decide(spelled, "kn", certain_no).kind == SIGN
    assert decide(lambda: pytest.fail("measured"), "kn", certain_no).kind == SIGN  # no wait for measuring
    assert decide(spelled, "kn", sure_no).kind == SPELLING
    assert decide(spelled, "kn", unknown).kind == SPELLING
    assert decide(spelled, "kno", certain_no).kind == SPELLING


def test_every_wlasl_sign_stays_a_sign_with_the_decoding_reader(signs, decoding_parts):
    # `more` (two hands, no sign the model knows) reads as the letters "on": it stays a sign
    # because both hands are up, and fingerspelling is one-handed.
    names = list(signs)
    out = transcript(stream([signs[n] for n in names]), decoding_parts)
    assert len(out) == len(names) and all(isinstance(r, Recognition) for r in out), text(out)


def test_both_hands_up_is_a_sign_whatever_the_letters():
    unknown = Prediction("unknown", 0.9999, [])
    held = Motion(60, 0.5, 2.0, 0.05)
    assert decide(held, "on", unknown).kind == SPELLING
    assert decide(Motion(60, 0.5, 2.0, 0.05, both_up=0.9), "on", unknown).kind == SIGN
    assert decide(Motion(60, 0.5, 2.0, 0.05, both_up=0.2), "on", unknown).kind == SPELLING


def test_read_as_sign_gives_every_stretch_as_a_sign_and_still_shows_the_letters(signs, letters, decoding_parts):
    """Practice's window: the learner was asked for something, so each stretch comes out as a sign
    with its frames (practice reads them as what it asked for), while the letters show as they come."""
    from asl_live.practice import LiveLetters
    from asl_live.reading.pipeline import steps

    signs_model, reader = decoding_parts
    frames = stream([word(letters, "cat"), signs["no"]])
    for shown in (True, False):
        live = LiveLetters(reader)
        live.shown = shown
        rec = Recognizer(signs_model, letters=live, fps=30.0, read_as=SIGN)
        seen = [(s.spelled, s.events) for s in steps(Frames(frames), rec, Landmarks())]
        events = [e for _, es in seen for e in es]
        assert len(events) == 2 and all(isinstance(e, Recognition) and e.frames is not None for e in events)
        assert events[1].text == "no"
        longest = max((sp for sp, _ in seen), key=len)
        assert longest == ("cat" if shown else ""), longest
