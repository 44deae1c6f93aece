"""Datasets in the competition layout: the competition's loader reads them, folds keep
participants apart, the feature cache is reused and resumable, bad input gets one line."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from datasets import PARTICIPANTS, build, fixture_sequences

from asl_live.errors import UserError
from asl_live.formats.gislr import Dataset
from train import data as datamod
from train.cli import main
from train.preprocess import CACHE_ROWS, preprocess_numpy


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("ds")
    build(root)
    return root


def _copy(dataset, tmp_path) -> Path:
    dst = tmp_path / "ds"
    shutil.copytree(dataset, dst, ignore=shutil.ignore_patterns(".asl-train-cache"))
    return dst


def test_competition_loader_reads_every_file(dataset):
    frames, signs, people = fixture_sequences()
    train = pd.read_csv(dataset / "train.csv")
    assert list(train.columns) == ["path", "participant_id", "sequence_id", "sign"]
    assert len(train) == len(frames) == 144
    for (_, row), expected, sign, person in zip(train.iterrows(), frames, signs, people):
        # the competition's own loader, verbatim in spirit
        data = pd.read_parquet(dataset / row.path, columns=["x", "y", "z"])
        data = data.values.reshape(len(data) // 543, 543, 3).astype(np.float32)
        np.testing.assert_array_equal(data, expected)
        assert row.sign == sign and row.participant_id == person


def _split_participants(root: Path, per_signer: int) -> None:
    """Give each real signer's sequences `per_signer` participant ids (real data, more groups)."""
    ds = Dataset(root)
    rows, seen = [], {}
    for s in ds.samples():
        k = seen.get((s.participant_id, s.sign), 0)
        seen[(s.participant_id, s.sign)] = k + 1
        rows.append(type(s)(s.path, s.participant_id * 10 + k % per_signer, s.sequence_id, s.sign))
    ds.write_samples(rows)


def test_folds_never_share_a_participant(dataset, tmp_path, capsys):
    root = _copy(dataset, tmp_path)
    _split_participants(root, 3)  # 6 participants
    data = datamod.load(root)
    folds = datamod.fold_assignment(data, 7)
    assert "6 participants, so 6 folds instead of 7" in capsys.readouterr().err
    assert sorted(set(folds.tolist())) == list(range(6))
    for k in range(6):
        val = set(data.participants[folds == k].tolist())
        train = set(data.participants[folds != k].tolist())
        assert val and not (val & train)
        # stratified: every sign is in every validation fold (each participant signed all six)
        assert len(set(data.labels[folds == k].tolist())) == 6


def test_one_participant_cannot_be_folded(dataset, tmp_path):
    root = _copy(dataset, tmp_path)
    ds = Dataset(root)
    ds.write_samples([s for s in ds.samples() if s.participant_id == PARTICIPANTS["dmohazab"]])
    with pytest.raises(UserError, match="at least 2 participants.*--all"):
        datamod.fold_assignment(datamod.load(root))


def test_prepare_builds_a_cache_equal_to_preprocessing_and_reuses_it(dataset, tmp_path, capsys):
    root = _copy(dataset, tmp_path)
    assert main(["prepare", "--data", str(root), "--workers", "2"]) == 0
    shards = sorted((root / ".asl-train-cache").glob("shard-*.npz"))
    assert len(shards) == 1
    frames, positions, lengths = datamod.features(datamod.load(root), progress=False)
    ds = Dataset(root)
    for i, s in enumerate(ds.samples()[:10]):
        f, p = preprocess_numpy(ds.read(s), CACHE_ROWS)
        np.testing.assert_array_equal(frames[i], f)
        np.testing.assert_array_equal(positions[i], p)
        assert lengths[i] == 20
    stamp = shards[0].stat().st_mtime_ns
    assert main(["prepare", "--data", str(root)]) == 0
    assert shards[0].stat().st_mtime_ns == stamp  # unchanged data: reused, not rebuilt
    # a changed file invalidates its shard only
    first = ds.samples()[0]
    ds.add(ds.read(first)[::-1].copy(), first.sign, first.participant_id, first.sequence_id)
    datamod.features(datamod.load(root), progress=False)
    assert len(list((root / ".asl-train-cache").glob("shard-*.npz"))) == 2


def test_prepare_resumes_after_an_interruption(dataset, tmp_path, monkeypatch):
    root = _copy(dataset, tmp_path)
    monkeypatch.setattr(datamod, "SHARD_SIZE", 50)  # 3 shards
    calls = []
    real = datamod._shard_features

    def interrupted(*job):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(job)
        return real(*job)

    monkeypatch.setattr(datamod, "_shard_features", interrupted)
    with pytest.raises(KeyboardInterrupt):
        datamod.prepare(datamod.load(root), workers=1, progress=False)
    assert len(list((root / ".asl-train-cache").glob("shard-*.npz"))) == 2
    monkeypatch.setattr(datamod, "_shard_features", lambda *job: calls.append(job) or real(*job))
    datamod.prepare(datamod.load(root), workers=1, progress=False)
    assert len(calls) == 3  # only the missing shard was computed
    assert len(list((root / ".asl-train-cache").glob("shard-*.npz"))) == 3


def test_prepare_on_the_engine_writes_the_in_process_cache(dataset, tmp_path, monkeypatch):
    """Shards computed by a local Dask cluster's worker processes (bytes shipped or read in place)
    and written by the driver are the shards this process computes."""
    pytest.importorskip("distributed")
    root = _copy(dataset, tmp_path)
    monkeypatch.setattr(datamod, "SHARD_SIZE", 50)  # 3 shards
    data = datamod.load(root)
    here = datamod.prepare(data, tmp_path / "inline", engine="inline", progress=False)
    there = datamod.prepare(data, tmp_path / "dask", workers=2, engine="dask", send_files=True,
                            progress=False)
    assert [p.name for p in here] == [p.name for p in there] and len(here) == 3
    for a, b in zip(here, there):
        with np.load(a) as x, np.load(b) as y:
            for key in ("frames", "positions", "lengths"):
                np.testing.assert_array_equal(x[key], y[key])


def _one_line_error(capsys, argv, expected):
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2
    # what a terminal shows: text after a carriage return overwrites the line (progress bars)
    lines = [ln.rsplit("\r", 1)[-1].strip() for ln in err.split("\n")]
    lines = [ln for ln in lines if ln]
    assert len(lines) == 1 and lines[0].startswith("asl-train: error:"), err
    assert "Traceback" not in err
    assert expected in lines[0]


def test_bad_datasets_get_one_line_and_exit_2(dataset, tmp_path, capsys):
    root = _copy(dataset, tmp_path)
    (root / "train.csv").rename(root / "moved.csv")
    _one_line_error(capsys, ["prepare", "--data", str(root)], "no train.csv")
    _one_line_error(capsys, ["fit", "--data", str(root), "--out", str(tmp_path / "r")], "no train.csv")
    (root / "moved.csv").rename(root / "train.csv")

    label_map = (root / "sign_to_prediction_index_map.json").read_text()
    (root / "sign_to_prediction_index_map.json").write_text('{"hello": 0}')
    _one_line_error(capsys, ["prepare", "--data", str(root)], "missing from the label map")
    (root / "sign_to_prediction_index_map.json").write_text(label_map)

    broken = root / Dataset(root).samples()[5].path
    broken.write_bytes(b"this is not parquet")
    _one_line_error(capsys, ["prepare", "--data", str(root)], "not a readable parquet file")
    _one_line_error(capsys, ["prepare", "--data", str(root), "--workers", "2"], "not a readable parquet file")

    with open(root / "train.csv", "w", newline="") as f:
        csv.writer(f).writerow(["path", "participant_id", "sequence_id", "sign"])
    _one_line_error(capsys, ["fit", "--data", str(root), "--out", str(tmp_path / "r")], "empty")
    _one_line_error(capsys, ["fit", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "r")],
                    "no such dataset folder")
    _one_line_error(capsys, ["fit", "--data", str(root)], "required: --out")
    _one_line_error(capsys, ["fit", "--data", str(root), "--out", "r", "--parts", "lips,nose"], "parts")


def test_add_dataset_relabels_with_as(tmp_path):
    """`add_dataset --signs ... --as unknown`: a person's other signs become negatives, ids kept."""
    from train import add_dataset

    src = build(tmp_path / "src", per_sign_and_signer=2)
    picked = [r for r in src.samples() if r.sign in ("can", "water")]
    assert add_dataset.main([str(tmp_path / "dst"), "--from", str(src.root), "--signs", "can,water",
                             "--as", "unknown"]) == 0
    rows = Dataset(tmp_path / "dst").samples()
    assert {r.sign for r in rows} == {"unknown"}
    assert sorted((r.participant_id, r.sequence_id) for r in rows) == \
        sorted((r.participant_id, r.sequence_id) for r in picked)
    assert add_dataset.main([str(tmp_path / "rest"), "--from", str(src.root), "--skip", "can,water"]) == 0
    assert {r.sign for r in Dataset(tmp_path / "rest").samples()} == {r.sign for r in src.samples()} - {"can", "water"}
