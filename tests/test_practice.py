"""`asl-live practice`: prompts, right or wrong with what the app saw, a score, a history and its picture;
words to fingerspell; keeping attempts, asked once.

Real landmarks (the traduttore fixture: the bundled model's signs; one webcam person's `cat`, which
it does not know; one fingerspeller's manual alphabet, `spoken_to_signed_letters.npz`, for spelled
words), the bundled models, the CLI in a subprocess; the window under Xvfb with keys."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from display import XClient, Xvfb, wait_for

import datasets
from asl_live.formats.gislr import Dataset, gislr_name, write_parquet
from asl_live.formats.layout import empty_frames
from test_stretch_kind import full, word
from test_teach import new_sign_recordings

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def letters() -> dict[str, np.ndarray]:
    z = np.load(FIXTURES / "spoken_to_signed_letters.npz")
    return {k.removeprefix("letter_"): full(z[k]) for k in z.files}


def run(*args, timeout=180, env=None):
    return subprocess.run([sys.executable, "-m", "asl_live", "practice", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, env=env)


def labelled(root: Path) -> Path:
    """2 sequences of each bundled sign by each traduttore person, then 3 of `cat` (not a sign it knows)."""
    ds = datasets.build(root, per_sign_and_signer=1, signs={"hello", "thank-you", "no"})
    for f in new_sign_recordings()["cat"][:3]:
        ds.add(f, "cat", 103)
    return ds.root


def test_practice_headless_scores_each_attempt_and_keeps_a_history(tmp_path):
    replay = labelled(tmp_path / "replay")
    history = tmp_path / "me" / "practice.jsonl"
    r = run("--replay", replay, "--headless", "--clip", "--history", history)
    assert r.returncode == 0, r.stderr[-2000:]
    attempts = [json.loads(line) for line in r.stdout.splitlines()]
    assert [a["asked"] for a in attempts] == [gislr_name(s.sign) for s in Dataset(replay).samples()]
    assert all(set(a) == {"asked", "saw", "score", "right"} for a in attempts)   # nothing kept
    assert all(a["right"] == (a["asked"] == a["saw"]) and 0 <= a["score"] <= 1 for a in attempts)
    known = [a for a in attempts if a["asked"] != "cat"]
    assert sum(a["right"] for a in known) >= len(known) - 1
    assert not any(a["right"] for a in attempts if a["asked"] == "cat")
    right = sum(a["right"] for a in attempts)
    assert f"score {right}/{len(attempts)}; practise again: cat" in r.stderr
    # The history holds every attempt; a second session adds to it, and the picture shows both.
    rows = [json.loads(l) for l in history.read_text().splitlines()]
    assert len(rows) == len(attempts) and len({r["session"] for r in rows}) == 1
    time.sleep(1.1)   # sessions are named by the second they started
    r = run("--replay", replay, "--headless", "--clip", "--history", history)
    assert r.returncode == 0
    rows = [json.loads(l) for l in history.read_text().splitlines()]
    assert len(rows) == 2 * len(attempts) and len({r["session"] for r in rows}) == 2
    picture = cv2.imread(str(history.with_name("practice.png")))
    assert picture is not None and picture.shape == (110 + 44 * len({a["asked"] for a in attempts}), 900, 3)
    # Weakest first: cat's row (0% right) is the first, its bar nearly empty and its squares red.
    first_square = picture[100 + 8 + 13, 640 + 12]
    assert first_square[2] > 200 and first_square[1] < 100   # red (BGR)
    shots = os.environ.get("ASL_LIVE_TEST_SHOTS")
    if shots:
        cv2.imwrite(str(Path(shots) / "practice_history.png"), picture)


def test_attempts_are_kept_only_when_asked(tmp_path):
    replay = labelled(tmp_path / "replay")
    kept = tmp_path / "kept"
    r = run("--replay", replay, "--headless", "--clip", "--history", tmp_path / "h.jsonl")
    assert r.returncode == 0 and not kept.exists() and "kept as a sample" not in r.stderr
    assert "asl-live practice: attempts are not kept (no one was asked: headless;" in r.stderr
    assert not (tmp_path / "samples").exists() and not (tmp_path / "practice-settings.json").exists()
    r = run("--replay", replay, "--headless", "--clip", "--history", tmp_path / "h.jsonl", "--keep-attempts", kept,
            "--participant", 7)
    assert r.returncode == 0, r.stderr
    assert f"every attempt is kept as a sample in {kept}" in r.stderr
    rows = Dataset(kept).samples()
    assert [s.sign for s in rows] == [gislr_name(s.sign) for s in Dataset(replay).samples()]
    assert {s.participant_id for s in rows} == {7}
    assert all(len(Dataset(kept).read(s)) >= 20 for s in rows)


@pytest.mark.parametrize("args, says", [
    (["--signs", "hello,cat"], "does not know cat"),
    (["--signs", "a/b"], "not a sign name"),
    (["--rounds", "0"], "--rounds must be at least 1"),
    (["--headless", "--replay", "{demo}"], "needs a labelled replay"),
    (["--headless", "--camera", "0"], "needs a labelled replay"),
    (["--words", ""], "--words has an empty word"),
    (["--words", "cat,,dog"], "--words has an empty word"),
    (["--words", "cat,c4t"], "'c4t' is not a word to fingerspell"),
    (["--spell", "--words", "don't"], "\"don't\" is not a word to fingerspell"),
    (["--keep-attempts", "x", "--no-keep-attempts"], "not allowed with"),
])
def test_practice_bad_input_is_one_line(tmp_path, args, says):
    from asl_live.bundled import DEMO_PARQUET

    args = [a.replace("{demo}", str(DEMO_PARQUET)) for a in args]
    if "--replay" not in args and "--camera" not in args:
        args += ["--replay", str(DEMO_PARQUET)]
    r = run(*args, "--history", tmp_path / "h.jsonl", "--headless", timeout=120)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and says in r.stderr, r.stderr


def test_a_history_that_is_a_folder_is_one_line(tmp_path):
    from asl_live.bundled import DEMO_PARQUET

    r = run("--history", tmp_path, "--headless", "--replay", DEMO_PARQUET, timeout=60)
    assert r.returncode == 2 and "is a folder" in r.stderr and len(r.stderr.strip().splitlines()) == 1


# --------------------------------------------------------------------------- the window

@pytest.fixture(scope="module")
def xvfb():
    with Xvfb() as x:
        yield x


def test_practice_window_asks_says_right_or_wrong_and_scores(xvfb, tmp_path):
    """Asked for `hello` three times; the replay signs hello, thankyou, hello: right, wrong, right."""
    frames, names, _ = datasets.fixture_sequences()
    pick = {s: [f for f, n in zip(frames, names) if gislr_name(n) == s] for s in ("hello", "thankyou")}
    parts = [empty_frames(90)]
    for sign, i in (("hello", 0), ("thankyou", 0), ("hello", 1)):
        parts += [pick[sign][i], empty_frames(90)]
    parts.append(empty_frames(600))   # rest, so the session's end stays on screen
    stream = write_parquet(tmp_path / "stream.parquet", np.concatenate(parts))
    history = tmp_path / "practice.jsonl"
    shots = Path(os.environ.get("ASL_LIVE_TEST_SHOTS", tmp_path))
    proc = subprocess.Popen([sys.executable, "-m", "asl_live", "practice", "--replay", str(stream), "--signs", "hello",
                             "--rounds", "3", "--history", str(history), "--no-keep-attempts"],
                            env=xvfb.env(), text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        with XClient(xvfb.display) as client:
            assert wait_for(lambda: client.windows("asl-live practice"), 60), "the window never appeared"
            win = client.windows("asl-live practice")[0]
            client.move_pointer(1279, 959)
            assert wait_for(lambda: history.is_file() and len(history.read_text().splitlines()) == 3, 90), \
                "three attempts were never made"
            time.sleep(1.0)
            cv2.imwrite(str(shots / "practice_window_done.png"), xvfb.screenshot())
            end = time.monotonic() + 30
            while proc.poll() is None and time.monotonic() < end:
                client.key(win, "q")
                time.sleep(1.0)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
    assert proc.returncode == 0, err[-2000:]
    said = [l for l in err.splitlines() if l.startswith("asl-live practice: ")]
    assert said.pop(0) == "asl-live practice: attempts are not kept (--no-keep-attempts)"
    assert len(said) == 4, err[-2000:]
    assert said[0] == "asl-live practice: right: hello (" + said[0].split("(")[1]
    assert said[1].startswith("asl-live practice: not quite: asked hello, saw thankyou")
    assert said[2].startswith("asl-live practice: right: hello")
    assert "score 2/3; practise again: hello" in said[3]
    rows = [json.loads(l) for l in history.read_text().splitlines()]
    assert [r["right"] for r in rows] == [True, False, True] and {r["sign"] for r in rows} == {"hello"}


@pytest.mark.parametrize("reader", ["held", "decoded"])
def test_practice_headless_reads_spelled_words_of_a_labelled_replay(tmp_path, letters, reader):
    """A replay labelled with words to spell (and a sign): each word read by the app's letter reader."""
    ds = Dataset(tmp_path / "replay")
    for w, label in (("cat", "cat"), ("dot", "cat"), ("toad", "toad")):
        ds.add(np.concatenate([empty_frames(10), word(letters, w), empty_frames(10)]), label, 1)
    frames, names, _ = datasets.fixture_sequences()
    ds.add(next(f for f, n in zip(frames, names) if gislr_name(n) == "hello"), "hello", 2)
    history = tmp_path / "h.jsonl"
    r = run("--replay", ds.root, "--headless", "--clip", "--history", history, "--words", "cat,toad", "--signs",
            "hello", "--keep-attempts", tmp_path / "kept", "--letter-reader", reader)
    assert r.returncode == 0, r.stderr[-2000:]
    got = [json.loads(line) for line in r.stdout.splitlines()]
    assert [(a["asked"], a["saw"], a["right"], a.get("spelled", False)) for a in got] == \
        [("cat", "cat", True, True), ("cat", "dot", False, True), ("toad", "toad", True, True),
         ("hello", "hello", True, False)]
    assert [x for x, _ in got[1]["letters"]] == ["d", "o", "t"] and all(0.5 < p <= 1 for _, p in got[1]["letters"])
    # Only the sign was kept, and the run said why the words were not.
    assert "kept" not in got[0] and "kept" in got[3]
    assert [s.sign for s in Dataset(tmp_path / "kept").samples()] == ["hello"]
    assert "spelled words are not: the app keeps no letter samples" in r.stderr
    assert "practise again: cat (spelled)" in r.stderr
    rows = [json.loads(l) for l in history.read_text().splitlines()]
    assert [r.get("spelled", False) for r in rows] == [True, True, True, False]


def test_a_remembered_answer_holds_headless_too(tmp_path):
    replay = labelled(tmp_path / "replay")
    settings = tmp_path / "practice-settings.json"
    settings.write_text('{"keep_attempts": false}')
    r = run("--replay", replay, "--headless", "--clip", "--history", tmp_path / "practice.jsonl")
    assert r.returncode == 0 and not (tmp_path / "samples").exists(), r.stderr
    assert f"attempts are not kept (your answer, remembered in {settings}; --keep-attempts decides" in r.stderr
    settings.write_text('{"keep_attempts": true}')
    r = run("--replay", replay, "--headless", "--clip", "--history", tmp_path / "practice.jsonl")
    assert r.returncode == 0, r.stderr
    assert len(Dataset(tmp_path / "samples").samples()) == len(r.stdout.splitlines())
    settings.write_text("[1, 2]")
    r = run("--replay", replay, "--headless", "--clip", "--history", tmp_path / "practice.jsonl")
    assert r.returncode == 2 and "not a practice settings file" in r.stderr and len(r.stderr.splitlines()) == 1


@pytest.mark.parametrize("reader", ["held", "decoded"])
def test_every_built_in_word_is_read_right_from_a_real_alphabet(reader):
    """`--spell`'s words, each letter held 0.4 s by a fingerspeller no model here was trained on
    (`ase_alphabet_hands.npz`), read by the letter reader as practice reads an attempt."""
    from asl_live.practice import WORDS
    from asl_live.reading.letter_reader import open_reader, read_stretch
    from train.letter_streams import assemble, clip_part

    z = np.load(FIXTURES / "ase_alphabet_hands.npz")
    ase = {k: z[k] for k in z.files if len(k) == 1}
    letter_reader = open_reader(reader)
    read = {}
    for w in WORDS:
        frames, _, _ = assemble(w, lambda c: clip_part(ase[c], c, 12), hold=12, trans=4)
        got = read_stretch(letter_reader, frames, 30.0)
        read[w] = got.word if got is not None else ""
    assert read == {w: w for w in WORDS}


def practice_window(xvfb, tmp_path, stream: Path, args: list, attempts: int, history: Path, keys=(),
                    shot: str | None = None, shot_after: int = 0, ask: str | None = None):
    """Run the practice window on `stream` until `attempts` lines are in the history, then q.

    `ask`: a screenshot named so once the keep question is on screen, then `keys` are pressed;
    `shot`: a screenshot once `shot_after` attempts are made. Returns (exit code, stderr)."""
    shots = Path(os.environ.get("ASL_LIVE_TEST_SHOTS", tmp_path))
    before = len(history.read_text().splitlines()) if history.is_file() else 0
    err_path = tmp_path / f"stderr-{time.monotonic_ns()}.txt"
    with open(err_path, "w") as err_file:
        proc = subprocess.Popen([sys.executable, "-m", "asl_live", "practice", "--replay", str(stream),
                                 "--history", str(history), *map(str, args)],
                                env=xvfb.env(), text=True, stdout=subprocess.PIPE, stderr=err_file)
    made = lambda n: n == 0 or history.is_file() and len(history.read_text().splitlines()) >= before + n  # noqa: E731
    try:
        with XClient(xvfb.display) as client:
            assert wait_for(lambda: client.windows("asl-live practice"), 60), "the window never appeared"
            win = client.windows("asl-live practice")[0]
            client.move_pointer(1279, 959)
            if ask is not None:
                assert wait_for(lambda: "keep your attempts as samples in " in err_path.read_text(), 60), \
                    err_path.read_text()[-2000:]
                time.sleep(1.0)
                cv2.imwrite(str(shots / ask), xvfb.screenshot())
            for k in keys:
                client.key(win, k)
            if shot is not None:
                assert wait_for(lambda: made(shot_after), 90), err_path.read_text()[-2000:]
                time.sleep(0.7)
                cv2.imwrite(str(shots / shot), xvfb.screenshot())
            assert wait_for(lambda: made(attempts), 90), f"{attempts} attempts were never made: " + \
                err_path.read_text()[-2000:]
            time.sleep(0.5)
            end = time.monotonic() + 30
            while proc.poll() is None and time.monotonic() < end:
                client.key(win, "q")
                time.sleep(1.0)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
    return proc.returncode, err_path.read_text()


def test_practice_window_asks_for_a_word_to_spell_and_reads_it_letter_by_letter(xvfb, tmp_path, letters):
    """Asked to spell `cat` twice; the replay spells C-A-T, then D-O-T: right, then wrong."""
    stream = write_parquet(tmp_path / "spelled.parquet", np.concatenate([
        empty_frames(60), word(letters, "cat"), empty_frames(120), word(letters, "dot"), empty_frames(300)]))
    history = tmp_path / "practice.jsonl"
    rc, err = practice_window(xvfb, tmp_path, stream, ["--words", "cat", "--rounds", "2", "--no-keep-attempts"], 2,
                              history, shot="practice_spell.png", shot_after=1)
    assert rc == 0, err[-2000:]
    said = [l for l in err.splitlines() if l.startswith("asl-live practice: ")]
    assert said[0] == "asl-live practice: attempts are not kept (--no-keep-attempts)"
    assert said[1].startswith("asl-live practice: right: spelled cat, read C-A-T ("), said
    assert said[2].startswith("asl-live practice: not quite: spell cat, read D-O-T ("), said
    assert "score 1/2; practise again: cat (spelled)" in said[3]
    rows = [json.loads(l) for l in history.read_text().splitlines()]
    assert [(r["sign"], r["saw"], r["right"], r["spelled"]) for r in rows] == \
        [("cat", "cat", True, True), ("cat", "dot", False, True)]
    assert cv2.imread(str(history.with_name("practice.png"))).shape == (110 + 44, 900, 3)


def test_keeping_attempts_is_asked_once_remembered_and_a_flag_overrides_it(xvfb, tmp_path):
    """First session: the window asks, y keeps; second: not asked, kept; third: --no-keep-attempts keeps nothing."""
    frames, names, _ = datasets.fixture_sequences()
    hello = next(f for f, n in zip(frames, names) if gislr_name(n) == "hello")
    stream = write_parquet(tmp_path / "hello.parquet", np.concatenate([empty_frames(60), hello, empty_frames(300)]))
    history = tmp_path / "me" / "practice.jsonl"
    settings, samples = tmp_path / "me" / "practice-settings.json", tmp_path / "me" / "samples"
    args = ["--signs", "hello", "--rounds", "1"]

    rc, err = practice_window(xvfb, tmp_path, stream, args, 0, history, keys=["q"], ask="practice_ask_keep.png")
    assert rc == 0 and "closed before the first prompt; nothing kept, nothing remembered" in err, err[-2000:]
    assert not settings.exists() and not samples.exists() and not history.exists()

    rc, err = practice_window(xvfb, tmp_path, stream, args, 1, history, keys=["y"], ask="practice_ask_keep.png")
    assert rc == 0, err[-2000:]
    assert f"asl-live practice: keep your attempts as samples in {samples}? (y/n in the window; asked once)" in err
    assert f"every attempt is kept as a sample in {samples} (your answer, remembered in {settings})" in err
    assert json.loads(settings.read_text()) == {"keep_attempts": True}
    assert [s.sign for s in Dataset(samples).samples()] == ["hello"]

    rc, err = practice_window(xvfb, tmp_path, stream, args, 1, history)   # no key: not asked again
    assert rc == 0, err[-2000:]
    assert "keep your attempts as samples" not in err
    assert f"kept as a sample in {samples} (your answer, remembered in {settings}; --no-keep-attempts " in err
    assert len(Dataset(samples).samples()) == 2

    rc, err = practice_window(xvfb, tmp_path, stream, args + ["--no-keep-attempts"], 1, history)
    assert rc == 0, err[-2000:]
    assert "keep your attempts as samples" not in err
    assert "asl-live practice: attempts are not kept (--no-keep-attempts)" in err
    assert len(Dataset(samples).samples()) == 2 and json.loads(settings.read_text()) == {"keep_attempts": True}
    assert len(history.read_text().splitlines()) == 3
