"""Letter timing on real letter frames through the bundled letters model: held, doubled, word end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from asl_live import bundled
from asl_live.model.classifier import Classifier
from asl_live.cli import main as asl_live
from asl_live.formats.gislr import write_parquet
from asl_live.formats.layout import RIGHT_HAND
from asl_live.reading.spelling import Letter, Speller, Word, hand_position

LETTERS = Path(__file__).parent / "fixtures" / "letters_mpdata" / "MP_Data"
FPS = 30.0


def real_frames(letter: str, n: int, shift: float = 0.0) -> np.ndarray:
    """n frames of a held letter: one real frame (photo 0's single-image detection), repeated.

    (The photos' tracked frames 1-2 drift by up to 1.5 palm lengths, e.g. W's: not a still hand.)"""
    raw = [np.load(LETTERS / letter / "0" / "0.npy").reshape(21, 3)] * 3
    out = np.full((n, 543, 3), np.nan, np.float32)
    for k in range(n):
        out[k, RIGHT_HAND] = raw[k % 3]
        out[k, RIGHT_HAND, 0] += shift  # the hand slid sideways
    return out


def no_hand(n: int) -> np.ndarray:
    return np.full((n, 543, 3), np.nan, np.float32)


@pytest.fixture(scope="module")
def classifier():
    return Classifier(bundled.LETTERS_MODEL, bundled.LETTERS_LABELS)


def spell(classifier, frames, **kw):
    sp = Speller(**kw)
    events = []
    for i, f in enumerate(frames):
        hand = hand_position(f)
        letter, score = None, 0.0
        if hand is not None:
            p = classifier(f[None])
            letter, score = p.sign, p.score
        events += sp.push(i, i / FPS, letter, score, hand)
    return events + sp.finish()


def letters_of(events):
    return "".join(e.letter for e in events if isinstance(e, Letter))


def words_of(events):
    return [e.word for e in events if isinstance(e, Word)]


def test_a_letter_counts_only_when_held(classifier):
    assert letters_of(spell(classifier, real_frames("B", 8))) == ""        # 0.27 s: not held
    assert letters_of(spell(classifier, real_frames("B", 11))) == "b"      # 0.37 s
    assert letters_of(spell(classifier, real_frames("B", 90))) == "b"      # held 3 s: still one b


def test_double_letter_needs_a_move_or_reopen(classifier):
    held = np.concatenate([real_frames("A", 15), real_frames("L", 30)])
    assert letters_of(spell(classifier, held)) == "al"
    palm = hand_position(real_frames("L", 1)[0])[2]
    slid = np.concatenate([real_frames("A", 15), real_frames("L", 15), real_frames("L", 15, shift=2 * palm)])
    assert letters_of(spell(classifier, slid)) == "all"
    reopened = np.concatenate([real_frames("A", 15), real_frames("L", 15), real_frames("B", 3),
                               real_frames("L", 15)])
    assert letters_of(spell(classifier, reopened)) == "all"  # 3 frames of B: too short to count


def test_word_ends_when_the_hand_drops_or_pauses(classifier):
    frames = np.concatenate([real_frames("B", 15), real_frames("O", 15), real_frames("W", 15), no_hand(20),
                             real_frames("A", 15), real_frames("W", 15), no_hand(5)])
    events = spell(classifier, frames)
    assert words_of(events) == ["bow", "aw"]  # the second one ended by the end of input
    assert [type(e).__name__ for e in events].index("Word") == 3  # right after its three letters
    paused = spell(classifier, np.concatenate([real_frames("O", 15), real_frames("W", 80)]))
    assert words_of(paused) == ["ow"] and isinstance(paused[-1], Word)
    w = paused[-1]
    assert w.start_frame == 0 and w.end_frame < 40


def test_replay_of_a_spelled_word_gives_one_word_line(tmp_path, capsys):
    frames = np.concatenate([no_hand(5), real_frames("B", 15), real_frames("O", 15), real_frames("W", 15),
                             no_hand(20)])
    path = write_parquet(tmp_path / "bow.parquet", frames)
    subs = tmp_path / "words.vtt"
    assert asl_live(["--letters", "--replay", str(path), "--headless", "--subtitles", str(subs)]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert not any("sign" in x for x in lines)  # letters are told apart from signs
    assert [x.get("letter") for x in lines if "letter" in x] == ["b", "o", "w"]
    assert [x["word"] for x in lines if "word" in x] == ["bow"]
    assert set(lines[0]) >= {"letter", "score", "start_frame", "end_frame", "t_start", "t_end"}
    assert "bow" in subs.read_text()
