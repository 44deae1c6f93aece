"""import-mpdata on real MP_Data fixtures: layout, NaN rules, names, signers, resume."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from asl_live.formats import mpdata
from asl_live.formats.gislr import Dataset
from asl_live.formats.layout import FACE, LEFT_HAND, POSE, RIGHT_HAND
from train import import_mpdata
from train.importing import stable_id

FIXTURES = Path(__file__).parent / "fixtures"


def competition_load(path):
    data = pd.read_parquet(path, columns=["x", "y", "z"])
    return data.values.reshape(len(data) // 543, 543, 3).astype(np.float32)


def test_folder_layout_round_trip(tmp_path):
    out = tmp_path / "ds"
    assert import_mpdata.main([str(FIXTURES / "mp_data"), "--out", str(out), "--participant", "7",
                               "--quiet"]) == 0
    ds = Dataset(out)
    rows = ds.samples()
    assert sorted(r.sign for r in rows) == ["hello", "water"]
    assert {r.participant_id for r in rows} == {7}
    for r in rows:
        frames = competition_load(out / r.path)
        raw = np.stack([np.load(FIXTURES / "mp_data" / "MP_Data" / r.sign / ("60" if r.sign == "hello" else "0")
                                / f"{i}.npy") for i in range(5)])
        assert frames.shape == (5, 543, 3)
        assert np.isnan(frames[:, FACE]).all()  # 258-value frames have no face
        # pose x,y,z in GISLR rows, visibility dropped
        np.testing.assert_allclose(frames[:, POSE], raw[:, :132].reshape(5, 33, 4)[:, :, :3])
        left, right = raw[:, 132:195].reshape(5, 21, 3), raw[:, 195:].reshape(5, 21, 3)
        for rows_, part in ((LEFT_HAND, left), (RIGHT_HAND, right)):
            seen = np.any(part != 0, axis=(1, 2))
            assert np.isnan(frames[~seen, rows_]).all()  # zeros became NaN
            np.testing.assert_allclose(frames[seen, rows_], part[seen])
    assert set(ds.label_map()) == {"hello", "water"}


def _write_mpdata(root: Path, vectors, signs, seqs):
    for v, s, q in zip(vectors, signs, seqs):
        d = root / "MP_Data" / s / q
        d.mkdir(parents=True)
        for i, f in enumerate(v):
            np.save(d / f"{i}.npy", f)


def test_signers_names_and_resume(tmp_path):
    d = np.load(FIXTURES / "traduttore_mpdata_subset.npz")
    # two of every sign x signer, thank-you among them
    pick = [i for s in np.unique(d["sign"]) for w in np.unique(d["signer"])
            for i in np.flatnonzero((d["sign"] == s) & (d["signer"] == w))[:2]]
    signs, seqs, who = d["sign"][pick], d["sequence"][pick], d["signer"][pick]
    _write_mpdata(tmp_path / "src", d["vectors"][pick], signs, seqs)
    signers = tmp_path / "signers.csv"
    with open(signers, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["sign", "sequence", "signer"])
        w.writerows(zip(signs, seqs, who))

    out = tmp_path / "ds"
    s1 = import_mpdata.import_mpdata(tmp_path / "src", out, signers=signers, progress=False)
    assert s1["added"] == len(pick)
    rows = {r.sequence_id: r for r in Dataset(out).samples()}
    assert len(rows) == len(pick)
    pid_of = {}
    for k, i in enumerate(pick):
        r = rows[stable_id(f"mpdata:{signs[k]}/{seqs[k]}")]
        assert r.sign == ("thankyou" if signs[k] == "thank-you" else signs[k])
        pid_of.setdefault(who[k], set()).add(r.participant_id)
        np.testing.assert_array_equal(competition_load(out / r.path), mpdata.to_gislr(d["vectors"][i]))
    # one stable participant id per signer, distinct between the two signers
    assert all(len(v) == 1 for v in pid_of.values()) and len(pid_of) == 2
    assert len(set.union(*pid_of.values())) == 2
    assert "thankyou" in {r.sign for r in rows.values()}

    # a second run adds nothing (resume without duplicates), same ids
    s2 = import_mpdata.import_mpdata(tmp_path / "src", out, signers=signers, progress=False)
    assert (s2["added"], s2["skipped"]) == (0, len(pick))
    assert len(Dataset(out).samples()) == len(pick)


def test_interrupted_import_resumes(tmp_path, monkeypatch):
    src = FIXTURES / "mp_data"
    out = tmp_path / "ds"
    calls = {"n": 0}
    real = mpdata.to_gislr

    def dies_on_second(v):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(v)

    monkeypatch.setattr(import_mpdata.mpdata, "to_gislr", dies_on_second)
    with pytest.raises(KeyboardInterrupt):
        import_mpdata.import_mpdata(src, out, progress=False)
    assert len(Dataset(out).samples()) == 1  # the first one was committed on the way out
    monkeypatch.setattr(import_mpdata.mpdata, "to_gislr", real)
    s = import_mpdata.import_mpdata(src, out, progress=False)
    assert (s["added"], s["skipped"]) == (1, 1)
    rows = Dataset(out).samples()
    assert len(rows) == len({r.sequence_id for r in rows}) == 2


def test_bad_input_is_one_line_exit_2(tmp_path, capsys):
    from asl_live.errors import run_main

    assert run_main(import_mpdata.main, [str(tmp_path / "nope"), "--out", str(tmp_path / "o")],
                    prog="asl-train import-mpdata") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no such folder" in err[0]
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    assert run_main(import_mpdata.main, [str(FIXTURES / "mp_data"), "--out", str(tmp_path / "o"),
                                         "--signers", str(bad)], prog="x") == 2


def test_gislr_spelling():
    g = import_mpdata.gislr_name
    assert g("thank-you") == g("Thank You") == g("thank_you") == g("Thanks") == "thankyou"
    assert g("my") == g("mine") == "minemy"
    assert g("tv") == "TV" and g("call on phone") == "callonphone"
    assert g("hello") == "hello" and g("a lot") == "a lot"


def test_one_hand_letters_go_to_the_right_hand_rows(tmp_path):
    """Real fingerspelling frames (63 values, one hand) -> right-hand rows, everything else NaN."""
    src = FIXTURES / "letters_mpdata"
    out = tmp_path / "ds"
    assert import_mpdata.main([str(src), "--out", str(out), "--keep-names", "--participant", "1",
                               "--quiet"]) == 0
    rows = Dataset(out).samples()
    assert sorted({r.sign for r in rows}) == ["A", "B", "L", "O", "W"]
    assert len(rows) == 10
    for r in rows:
        frames = competition_load(out / r.path)
        seq = r.path  # which folder: find it back from the stable id
        folder = next(s.folder for s in mpdata.sequences(src)
                      if stable_id(import_mpdata.sequence_key(s, 1)) == r.sequence_id)
        raw = np.stack([np.load(folder / f"{i}.npy") for i in range(3)]).reshape(3, 21, 3)
        assert frames.shape == (3, 543, 3), seq
        np.testing.assert_array_equal(frames[:, RIGHT_HAND], raw)
        others = np.ones(543, bool)
        others[RIGHT_HAND] = False
        assert np.isnan(frames[:, others]).all()


def test_one_frame_sequence(tmp_path):
    d = FIXTURES / "letters_mpdata" / "MP_Data" / "A" / "0"
    _write_mpdata(tmp_path / "src", [np.load(d / "0.npy")[None]], ["A"], ["7"])
    out = tmp_path / "ds"
    assert import_mpdata.import_mpdata(tmp_path / "src", out, progress=False)["added"] == 1
    (r,) = Dataset(out).samples()
    f = competition_load(out / r.path)
    assert f.shape == (1, 543, 3) and not np.isnan(f[0, RIGHT_HAND]).any()


@pytest.mark.parametrize("values,message", [(62, "got 62"), (63, "NaN")])
def test_bad_one_hand_frames_are_one_line(tmp_path, capsys, values, message):
    from asl_live.errors import run_main

    v = np.load(FIXTURES / "letters_mpdata" / "MP_Data" / "A" / "0" / "0.npy")[:values].copy()
    if values == 63:
        v[5] = np.nan
    _write_mpdata(tmp_path / "src", [v[None]], ["A"], ["0"])
    assert run_main(import_mpdata.main, [str(tmp_path / "src"), "--out", str(tmp_path / "o"), "--quiet"],
                    prog="asl-train import-mpdata") == 1
    err = capsys.readouterr().err.strip().splitlines()
    skipped = [e for e in err if "skipped A/0" in e]
    assert len(skipped) == 1 and message in skipped[0]
    assert not any("Traceback" in e for e in err) and "1 sequences skipped" in err[-1]


def test_a_saved_none_frame_skips_its_sequence_and_the_import_goes_on(tmp_path, capsys):
    """A frame saved as `np.save(path, None)` (an object array: "Object arrays cannot be loaded")
    in the middle of a real letters folder: that sequence is left out with one line, every other
    one is imported, and the exit status is 1 with the count."""
    from asl_live.errors import run_main

    src = tmp_path / "src"
    real = FIXTURES / "letters_mpdata" / "MP_Data"
    folders = sorted(p for p in real.glob("*/*") if p.is_dir())
    for f in folders:
        d = src / "MP_Data" / f.parent.name / f.name
        d.mkdir(parents=True)
        for npy in f.glob("*.npy"):
            (d / npy.name).write_bytes(npy.read_bytes())
    broken = [src / "MP_Data" / "B" / folders[2].name, src / "MP_Data" / "O" / folders[6].name]
    for b in broken:
        assert b.is_dir()
        np.save(b / "1.npy", np.array(None, dtype=object), allow_pickle=True)
    out = tmp_path / "ds"
    assert run_main(import_mpdata.main, [str(src), "--out", str(out), "--quiet", "--keep-names"],
                    prog="asl-train import-mpdata") == 1
    err = capsys.readouterr().err.strip().splitlines()
    skipped = [e for e in err if "skipped" in e and "Object arrays" in e]
    assert len(skipped) == 2 and not any("Traceback" in e for e in err)
    assert "2 sequences skipped" in err[-1]
    rows = Dataset(out).samples()
    assert len(rows) == len(folders) - 2
    # a second run: the good ones are already there, the bad ones are skipped again, never lost
    s = import_mpdata.import_mpdata(src, out, progress=False)
    assert (s["added"], s["skipped"], len(s["bad"])) == (0, len(folders) - 2, 2)


def test_two_peoples_folders_into_one_dataset(tmp_path):
    """Two MP_Data folders number their sequences alike (`hello/0`...): with a participant each,
    both land in one dataset, and importing either again adds nothing."""
    d = np.load(FIXTURES / "traduttore_mpdata_subset.npz")
    pick = np.flatnonzero(d["sign"] == d["sign"][0])[:3]
    seqs = np.array([str(k) for k in range(len(pick))])
    for who in ("a", "b"):
        _write_mpdata(tmp_path / who, d["vectors"][pick], d["sign"][pick], seqs)
    out = tmp_path / "ds"
    for pid, who in ((101, "a"), (102, "b")):
        s = import_mpdata.import_mpdata(tmp_path / who, out, participant=pid, progress=False)
        assert (s["added"], s["skipped"]) == (3, 0)
    assert len({r.sequence_id for r in Dataset(out).samples()}) == 6
    assert sorted({r.participant_id for r in Dataset(out).samples()}) == [101, 102]
    again = import_mpdata.import_mpdata(tmp_path / "b", out, participant=102, progress=False)
    assert (again["added"], again["skipped"]) == (0, 3)
