"""Speech: `--speak-to out.wav` writes one utterance per sign or spelled word; `--speak` with no
audio is one line and the app goes on. The voice is the real offline one (espeak-ng through pyttsx3);
the stream is real signs and real fingerspelling (tests/test_stretch_kind.py)."""

from __future__ import annotations

import json

import pytest

from asl_live.cli import main as asl_live
from asl_live.formats.gislr import write_parquet
from asl_live.view.speech import read_wav, utterances

from test_stretch_kind import letters, signs, stream, word  # noqa: F401  (fixtures)


@pytest.fixture(scope="module")
def mixed(tmp_path_factory, signs, letters):  # noqa: F811
    path = tmp_path_factory.mktemp("speech") / "mixed.parquet"
    return write_parquet(path, stream([signs["no"], word(letters, "cat"), signs["thankyou"], word(letters, "bob")]))


def test_speak_to_writes_one_utterance_per_sign_or_word_at_its_time(tmp_path, capsys, mixed):
    out = tmp_path / "speech.wav"
    assert asl_live(["--replay", str(mixed), "--headless", "--speak-to", str(out)]) == 0
    captured = capsys.readouterr()
    lines = [json.loads(x) for x in captured.out.splitlines()]  # nothing but JSON on stdout
    assert [x.get("sign") or "#" + x["word"] for x in lines] == ["no", "#cat", "thankyou", "#bob"]
    samples, rate = read_wav(out)
    said = utterances(samples, rate)
    assert len(said) == len(lines)
    for (start, end), line in zip(said, lines):
        assert start >= line["t_end"] - 0.01  # said once the sign or word has ended, in order
        assert 0.1 < end - start < 2.0        # a word's length of speech


def test_speak_without_an_audio_device_is_one_line_and_goes_on(tmp_path, capsys, monkeypatch, mixed):
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no aplay, paplay or pw-play here
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.delenv("PULSE_SERVER", raising=False)
    assert asl_live(["--replay", str(mixed), "--headless", "--speak"]) == 0
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 4
    err = [x for x in captured.err.splitlines() if x.strip()]
    assert len(err) == 1 and "no speech aloud" in err[0] and "going on" in err[0]


@pytest.mark.parametrize("name", ["speech.mp3", "missing/speech.wav"])
def test_bad_speak_to_path_is_one_line_and_exit_2(tmp_path, capsys, mixed, name):
    assert asl_live(["--replay", str(mixed), "--headless", "--speak-to", str(tmp_path / name)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and ("speech" in err[0] or ".wav" in err[0])


def test_the_window_key_without_audio_leaves_speech_off_and_says_why_once(tmp_path, monkeypatch):
    from asl_live.view.speech import Speech

    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.delenv("PULSE_SERVER", raising=False)
    said: list[str] = []
    speech = Speech(speak=False, warn=said.append)  # as the window offers it: off, not asked for
    try:
        assert said == []  # nothing said until the user asks
        assert speech.toggle() is False and speech.toggle() is False
        assert len(said) == 1 and "no speech aloud" in said[0]
    finally:
        speech.close()
