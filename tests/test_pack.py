"""Sign packs: made from a taught folder, listed, used with --model; a stranger's file is data, never code."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from test_teach import base_without_new_signs, new_sign_recordings

FIXTURES = Path(__file__).parent / "fixtures"


def run(*args, timeout=180):
    return subprocess.run([sys.executable, "-m", "asl_live", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)


def one_line(r, says: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stderr[-1500:])
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr, r.stderr
    assert says in r.stderr, r.stderr


@pytest.fixture(scope="module")
def taught(tmp_path_factory) -> Path:
    """A folder as `--learn --out` leaves it: the bundled model (its bank without cat/food) taught both."""
    from asl_live.model.learning import Learner

    tmp = tmp_path_factory.mktemp("taught")
    model, labels = base_without_new_signs(tmp)
    seqs = new_sign_recordings()
    learner = Learner(tmp / "folder", model, labels, taught_by="tester")
    for i in range(3):
        learner.correct(seqs["cat"][i], "cat", 103)
        learner.correct(seqs["food"][i], "food", 103)
    return learner.folder


@pytest.fixture(scope="module")
def pack(taught, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pack") / "cat-food.aslpack"
    r = run("pack", taught, "-o", out)
    assert r.returncode == 0, r.stderr
    return out


def replay_cat_food(tmp_path) -> Path:
    from asl_live.formats.gislr import Dataset

    seqs = new_sign_recordings()
    ds = Dataset(tmp_path / "replay")
    for i in range(3, 8):
        for sign in ("cat", "food"):
            ds.add(seqs[sign][i], sign, 103)
    return ds.root


def signs(r) -> list[str]:
    assert r.returncode == 0, r.stderr[-2000:]
    return [json.loads(line)["sign"] for line in r.stdout.splitlines() if line.strip()]


def test_a_pack_is_listed_and_answers_as_the_folder_it_was_made_from(pack, taught, tmp_path):
    with zipfile.ZipFile(pack) as z:
        assert sorted(z.namelist()) == sorted(["model.tflite", "sign_to_prediction_index_map.json",
                                                "model.bank.npz", "card.json"])   # no rule: one person each
    r = run("pack", "--list", pack)
    assert r.returncode == 0, r.stderr
    assert "taught by tester" in r.stdout and "cat (3), food (3); 6 samples" in r.stdout
    replay = replay_cat_food(tmp_path)
    from_pack = signs(run("--replay", replay, "--headless", "--clip", "--model", pack))
    from_folder = signs(run("--replay", replay, "--headless", "--clip", "--model", taught / "model" / "model.tflite"))
    assert from_pack == from_folder
    assert sum(a == b for a, b in zip(from_pack, ["cat", "food"] * 5)) >= 5   # 3 shots each; the base knows neither


def test_teach_extends_a_pack(pack):
    import argparse

    from asl_live.teach import base_of

    model, labels = base_of(argparse.Namespace(model=str(pack), labels=None))
    assert model.name == "model.tflite" and "cat" in json.loads(Path(labels).read_text())


def rezip(src: Path, dst: Path, change=None, add=()) -> Path:
    """A copy of pack `src` with members changed ({name: bytes or None to drop}) and entries added."""
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
        for info in z.infolist():
            data = z.read(info)
            if change and info.filename in change:
                data = change[info.filename]
                if data is None:
                    continue
            out.writestr(info.filename, data)
        for info, data in add:
            out.writestr(info, data)
    return dst


def test_not_a_pack_or_damaged_is_one_line(pack, tmp_path):
    text = tmp_path / "notes.aslpack"
    text.write_text("hello\n")
    one_line(run("--demo", "--headless", "--model", text), "not a sign pack (not a zip file)")
    one_line(run("pack", "--list", tmp_path / "missing.aslpack"), "no such sign pack")
    # A byte flipped inside the model's compressed data: the zip's CRC says so.
    data = bytearray(pack.read_bytes())
    with zipfile.ZipFile(pack) as z:
        info = z.getinfo("model.tflite")
    at = info.header_offset + 30 + len(info.filename) + info.compress_size // 2
    data[at] ^= 0xFF
    bad = tmp_path / "damaged.aslpack"
    bad.write_bytes(bytes(data))
    one_line(run("--demo", "--headless", "--model", bad), "damaged sign pack")
    # Cut short.
    short = tmp_path / "short.aslpack"
    short.write_bytes(pack.read_bytes()[: len(data) // 2])
    one_line(run("pack", "--list", short), "not a sign pack")
    one_line(run("--demo", "--headless", "--model", rezip(pack, tmp_path / "nocard.aslpack", {"card.json": None})),
             "lacks card.json")


def test_a_pack_made_for_another_model_is_one_line(pack, tmp_path):
    from asl_live.bundled import MODEL

    with zipfile.ZipFile(pack) as z:
        card = json.loads(z.read("card.json"))
    card["model_sha256"] = "0" * 64
    one_line(run("--demo", "--headless", "--model",
                 rezip(pack, tmp_path / "card.aslpack", {"card.json": json.dumps(card).encode()})),
             "made for another model")
    other_bank = MODEL.with_name("model.bank.npz").read_bytes()   # the bundled model's, not this one's
    one_line(run("--demo", "--headless", "--model",
                 rezip(pack, tmp_path / "bank.aslpack", {"model.bank.npz": other_bank})), "made for another model")


@pytest.mark.parametrize("name", ["../escaped.txt", "/tmp/escaped-abs.txt", "sub/model.tflite", "..\\escaped.txt",
                                  "extra.py"])
def test_no_member_can_write_outside_or_be_anything_but_the_known_files(pack, tmp_path, name):
    bad = rezip(pack, tmp_path / "bad.aslpack", add=[(zipfile.ZipInfo(name), b"print('ran')\n")])
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    r = subprocess.run([sys.executable, "-m", "asl_live", "--demo", "--headless", "--model", str(bad)],
                       capture_output=True, text=True, timeout=120, cwd=cwd,
                       env=dict(os.environ, TMPDIR=str(tmp_path)))
    one_line(r, "not a sign pack")
    assert not list(tmp_path.rglob("escaped*")) and not Path("/tmp/escaped-abs.txt").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("asl-live-pack-") and any(p.iterdir())]


def test_a_symlink_member_is_refused(pack, tmp_path):
    link = zipfile.ZipInfo("model.unknown.json")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    bad = rezip(pack, tmp_path / "link.aslpack", add=[(link, b"/etc/passwd")])
    one_line(run("pack", "--list", bad), "is a link")


def test_a_bank_is_never_unpickled(pack, tmp_path):
    """A bank whose arrays are pickled objects (which would create a file when unpickled) is refused unread."""
    import io

    marker = tmp_path / "unpickled"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    buf = io.BytesIO()
    np.savez(buf, embeddings=np.array([Payload()], dtype=object), labels=np.array(["a"]),
             signs=np.array(["a"]), participants=np.array([1]), model_sha256=np.array("x"))
    assert not marker.exists()
    bad = rezip(pack, tmp_path / "pickle.aslpack", {"model.bank.npz": buf.getvalue()})
    r = run("--demo", "--headless", "--model", bad)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr, r.stderr
    assert not marker.exists()


def test_pack_bad_input_is_one_line(taught, tmp_path):
    one_line(run("pack", taught, "-o", tmp_path / "x.zip"), "ends in .aslpack")
    one_line(run("pack", tmp_path / "nothing", "-o", tmp_path / "x.aslpack"), "no such folder")
    one_line(run("pack", tmp_path, "-o", tmp_path / "x.aslpack"), "no model.tflite")
    one_line(run("pack"), "give a folder")
    one_line(run("--demo", "--headless", "--model", tmp_path / "x.aslpack"), "no such sign pack")
    one_line(run("--demo", "--headless", "--model", tmp_path / "x.aslpack", "--labels", "y.json"),
             "brings its own label map")


def test_a_folder_without_a_card_is_packed_with_one_made_from_its_samples(taught, tmp_path):
    import shutil

    old = tmp_path / "old"
    shutil.copytree(taught, old)
    (old / "model" / "card.json").unlink()   # a teach folder from before cards
    r = run("pack", old, "-o", tmp_path / "old.aslpack")
    assert r.returncode == 0, r.stderr
    assert "has no card.json" in r.stderr and "cat (3), food (3); 6 samples, added to the bundled model" in r.stdout
