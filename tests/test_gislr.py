"""The GISLR formats module: what it writes, the competition's own loader reads back exactly."""

import os
import stat

import numpy as np
import pandas as pd
import pytest

from asl_live.formats import gislr
from asl_live.errors import UserError
from asl_live.formats.layout import ROWS_PER_FRAME

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def competition_loader(path):
    data = pd.read_parquet(path, columns=["x", "y", "z"])
    return data.values.reshape(len(data) // ROWS_PER_FRAME, ROWS_PER_FRAME, 3).astype(np.float32)


def real_sequence():
    [name] = [f for f in os.listdir(FIXTURES) if f.endswith(".parquet")][:1]
    return gislr.read_parquet(os.path.join(FIXTURES, name))


def test_real_file_round_trips_through_competition_loader(tmp_path):
    frames = real_sequence()
    assert frames.shape[1:] == (543, 3) and np.isnan(frames).any()
    path = gislr.write_parquet(tmp_path / "x.parquet", frames)
    back = competition_loader(path)
    np.testing.assert_array_equal(back, frames)
    table = pd.read_parquet(path)
    assert list(table.columns) == list(gislr.PARQUET_COLUMNS)
    assert table.row_id.iloc[543 + 468] == "1-left_hand-0"
    assert str(table.frame.dtype) == "int16" and str(table.landmark_index.dtype) == "int16"


def test_written_files_get_the_umask_mode_and_no_temp_file_is_left(tmp_path):
    path = gislr.write_label_map(tmp_path / "map.json", ["a", "b"])
    mode = stat.S_IMODE(os.stat(path).st_mode)
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask
    assert os.listdir(tmp_path) == ["map.json"]


def test_failed_write_leaves_the_old_file(tmp_path):
    path = tmp_path / "map.json"
    gislr.write_label_map(path, ["a"])
    with pytest.raises(ValueError):
        gislr.write_parquet(tmp_path / "bad.parquet", np.zeros((2, 10, 3)))
    assert sorted(os.listdir(tmp_path)) == ["map.json"]


def test_dataset_add_appends_rows_and_signs(tmp_path):
    frames = real_sequence()[:10]
    ds = gislr.Dataset(tmp_path)
    a = ds.add(frames, "hello", 7)
    b = ds.add(frames, "water", 7)
    assert [s.sign for s in ds.samples()] == ["hello", "water"]
    assert a.sequence_id != b.sequence_id
    assert ds.label_map() == {"hello": 0, "water": 1}
    np.testing.assert_array_equal(competition_loader(tmp_path / b.path), frames)


@pytest.mark.parametrize("content, message", [
    ('{"a": 0, "b": 2}', "0..1"),
    ("[1, 2]", "JSON object"),
    ("{not json", "not a JSON label map"),
])
def test_bad_label_maps_are_user_errors(tmp_path, content, message):
    p = tmp_path / "m.json"
    p.write_text(content)
    with pytest.raises(UserError, match=message.replace(".", r"\.")):
        gislr.read_label_map(p)
