"""Every file, folder and value a user hands `asl-live` and `asl-train`: one clear line, exit 2, no traceback.

Real conditions, not mocks: an `--out` that is a file, a folder the user may not
write (as another user when the tests run as root, since root writes anywhere), a
disk that fills up during a recording (a 1 MB tmpfs when the tests may mount one,
else a kernel file-size limit), and files with the right columns but wrong content.
"""

from __future__ import annotations

import json
import re
import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import CLIP, FIXTURES, REPO
from test_record import chained_replay, competition_load, real_sequences

from asl_live.formats.gislr import Dataset, write_label_map, write_parquet


def run(module: str, *args, cwd=REPO, **kw) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    return subprocess.run([sys.executable, "-m", module, *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=300, **kw)


def assert_one_line(proc, prog: str, expected: str) -> str:
    # `record` reports each saved sample on stderr ("record: saved ...") and long steps draw a
    # progress bar there; the error is one more line.
    lines = [ln for ln in proc.stderr.replace("\r", "\n").splitlines()
             if ln.strip() and not ln.startswith("record: saved ") and not re.match(r"^[\w-]+: +\d+%\|", ln)]
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(lines) == 1 and lines[0].startswith(f"{prog}: error: ") and expected in lines[0], lines
    return lines[0]


@pytest.fixture(scope="module")
def replay(tmp_path_factory) -> Path:
    """A real replay with 12 performances of one sign (traduttore landmarks), gaps between them."""
    return chained_replay(tmp_path_factory.mktemp("replay") / "twelve.parquet", real_sequences(12), gap=8)


def record(out, replay, **kw):
    return run("asl_live", "record", "--sign", "no", "--out", out, "--replay", replay, "--headless", **kw)


# --------------------------------------------------------------------------- record --out

def test_record_out_is_a_file(tmp_path, replay):
    f = tmp_path / "data.csv"
    f.write_text("precious\n")
    assert_one_line(record(f, replay), "asl-live record", "is a file, not a folder")
    assert f.read_text() == "precious\n"


def test_record_out_below_a_file(tmp_path, replay):
    f = tmp_path / "afile"
    f.write_text("x")
    assert_one_line(record(f / "ds", replay), "asl-live record", "cannot create this dataset folder")


def _small_disk(path: Path):
    """Mount a 1 MB tmpfs at `path` if this process may; returns an unmount function or None."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        return None
    path.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(path)],
                      capture_output=True).returncode != 0:
        return None
    return lambda: subprocess.run(["umount", str(path)], check=True)


def test_record_out_not_writable_keeps_what_is_there(tmp_path, replay):
    """Root writes through any permission bits, so as root the folder is a read-only filesystem."""
    disk = tmp_path / "disk"
    unmount = _small_disk(disk)
    out = (disk if unmount else tmp_path) / "ds"
    try:
        Dataset(out).add(real_sequences(1)[0][1], "no", 0)  # one sample already recorded
        before = (out / "train.csv").read_text()
        if unmount:
            subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
            reason = "Read-only file system"
        else:
            for p in [out, *out.rglob("*")]:
                os.chmod(p, 0o555 if p.is_dir() else 0o444)
            reason = "Permission denied"
        proc = record(out, replay)
        assert_one_line(proc, "asl-live record", f"cannot write in this dataset folder ({reason})")
        assert (out / "train.csv").read_text() == before
        assert len(Dataset(out).samples()) == 1
    finally:
        if unmount:
            unmount()
        else:
            for p in [out, *out.rglob("*")]:
                os.chmod(p, 0o755)


def _file_size_limit(limit: int):
    """preexec_fn: the kernel refuses writes past `limit` bytes per file (EFBIG), like a full disk."""
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_full_disk_mid_recording_is_one_line_and_keeps_every_saved_sample(tmp_path, replay):
    disk = tmp_path / "disk"
    unmount = _small_disk(disk)
    try:
        if unmount is not None:  # a real full disk: ENOSPC
            out, limits, reason = disk / "ds", None, "No space left on device"
        else:  # no mount allowed: the train.csv outgrows a per-file size limit (EFBIG)
            out, limits, reason = tmp_path / "ds", _file_size_limit(600), "File too large"
        proc = record(out, replay, preexec_fn=limits)
        line = assert_one_line(proc, "asl-live record", reason)
        assert "saved before it are kept" in line
        rows = Dataset(out).samples()  # train.csv parses: it was never half-written
        assert 1 <= len(rows) < 12, line
        assert f"the {len(rows)} saved before it" in line or f"the {len(rows) - 1} saved" in line
        for s in rows:
            assert competition_load(out / s.path).shape == (20, 543, 3)
        assert not [p for p in out.rglob(".*.tmp")]  # no temporary file left behind
    finally:
        if unmount is not None:
            unmount()


def test_record_into_a_dataset_with_a_broken_label_map(tmp_path, replay):
    ds = Dataset(tmp_path / "ds")
    ds.add(real_sequences(1)[0][1], "no", 0)
    ds.label_map_path.write_text('{"no": "zero"}')
    proc = record(ds.root, replay)
    assert_one_line(proc, "asl-live record", "a label map is a JSON object")
    assert len(ds.samples()) == 1


# --------------------------------------------------------------------------- asl-live inputs

def _files(tmp_path: Path) -> dict[str, Path]:
    """Files with the right names and columns, and the wrong content."""
    f = {}
    f["str_xyz"] = tmp_path / "strings.parquet"
    pq.write_table(pa.table({c: ["0.5"] * 543 for c in "xyz"}), f["str_xyz"])
    f["ragged"] = tmp_path / "ragged.parquet"
    pq.write_table(pa.table({c: np.full(543 + 100, 0.5) for c in "xyz"}), f["ragged"])
    f["bool_map"] = tmp_path / "bool_map.json"
    f["bool_map"].write_text(json.dumps({s: i == 1 for i, s in enumerate("abcdef")}))
    f["list_map"] = tmp_path / "list_map.json"
    f["list_map"].write_text(json.dumps(list("abcdef")))
    f["str_map"] = tmp_path / "str_map.json"
    f["str_map"].write_text(json.dumps({s: str(i) for i, s in enumerate("abcdef")}))
    f["gap_map"] = tmp_path / "gap_map.json"
    f["gap_map"].write_text(json.dumps({s: 2 * i for i, s in enumerate("abcdef")}))
    no_cols = tmp_path / "no_cols"
    no_cols.mkdir()
    (no_cols / "train.csv").write_text("path,participant_id\nx.parquet,1\n")
    f["csv_missing_columns"] = no_cols
    bad_ids = tmp_path / "bad_ids"
    bad_ids.mkdir()
    (bad_ids / "train.csv").write_text("path,participant_id,sequence_id,sign\nx.parquet,one,1,hello\n")
    f["csv_bad_ids"] = bad_ids
    lost = Dataset(tmp_path / "lost_parquet")
    s = lost.add(real_sequences(1)[0][1], "no", 1)
    (lost.root / s.path).unlink()
    f["row_without_file"] = lost.root
    wrong = Dataset(tmp_path / "wrong_parquet")
    s = wrong.add(real_sequences(1)[0][1], "no", 1)
    shutil.copy(f["ragged"], wrong.root / s.path)
    f["row_with_ragged_file"] = wrong.root
    f["folder"] = tmp_path
    return f


APP_CASES = {
    "x,y,z that are strings": (["--replay", "{str_xyz}"], "are not numbers"),
    "x,y,z with a wrong row count": (["--replay", "{ragged}"], "not a positive multiple of 543"),
    "label map with true/false indices": (["--labels", "{bool_map}"], "a label map is a JSON object"),
    "label map that is a list": (["--labels", "{list_map}"], "a label map is a JSON object"),
    "label map with string indices": (["--labels", "{str_map}"], "a label map is a JSON object"),
    "label map with gaps in its indices": (["--labels", "{gap_map}"], "label indices must be 0..5"),
    "train.csv missing columns": (["--replay", "{csv_missing_columns}"], "missing column(s) sequence_id, sign"),
    "train.csv with a participant that is not a number": (["--replay", "{csv_bad_ids}"], "malformed"),
    "a train.csv row whose parquet is gone": (["--replay", "{row_without_file}"], "no such parquet file"),
    "a train.csv row whose parquet is ragged": (["--replay", "{row_with_ragged_file}"], "multiple of 543"),
    "a folder as the model": (["--model", "{folder}"], "is a folder, not a TFLite model"),
    "a video as the label map": (["--labels", "{clip}"], "not a JSON label map"),
    "a threshold that is not a number": (["--threshold", "high"], "invalid float value"),
    "a threshold above 1": (["--threshold", "1.5"], "not between 0 and 1"),
    "a threshold that is NaN": (["--threshold", "nan"], "not between 0 and 1"),
    "a camera index that is not a number": (["--camera", "front"], "invalid int value"),
}


@pytest.mark.parametrize("case", list(APP_CASES))
def test_asl_live_bad_input(case, tmp_path, tiny_model):
    names = {k: str(v) for k, v in _files(tmp_path).items()}
    args, expected = APP_CASES[case]
    args = [a.format(clip=CLIP, **names) for a in args]
    if "--labels" not in args:
        args += ["--labels", str(tiny_model[1])]
    if "--model" not in args:
        args += ["--model", str(tiny_model[0])]
    if not any(a in args for a in ("--replay", "--camera")):
        args += ["--demo"]
    proc = run("asl_live", "--headless", *args)
    assert_one_line(proc, "asl-live", expected)
    assert proc.stdout == ""


# --------------------------------------------------------------------------- asl-train inputs

TRAIN_CASES = {
    "fit --out is a file": (["fit", "--data", "{ds}", "--out", "{afile}"], "is a file, not a folder"),
    "fit on a train.csv missing columns": (["fit", "--data", "{csv_missing_columns}", "--out", "{tmp}/r"],
                                           "missing column(s)"),
    "fit --config that is a list": (["fit", "--data", "{ds}", "--out", "{tmp}/r", "--config", "{list_map}"],
                                    "not a config of options"),
    "fit --config with a wrong type": (["fit", "--data", "{ds}", "--out", "{tmp}/r", "--config", "{cfg_type}"],
                                       "an option has the wrong type"),
    "fit --config that is not JSON": (["fit", "--data", "{ds}", "--out", "{tmp}/r", "--config", "{clip}"],
                                      "not a JSON config"),
    "fit --person-alignment below 0": (["fit", "--data", "{ds}", "--out", "{tmp}/r", "--person-alignment", "-1"],
                                       "--person-alignment must be 0 (off) or more"),
    "prepare on a row whose parquet is ragged": (["prepare", "--data", "{row_with_ragged_file}"],
                                                 "multiple of 543"),
    "export --out is a file": (["export", "{tmp}", "--out", "{afile}"], "is a file, not a folder"),
    "export --keep out of range": (["export", "{tmp}", "--out", "{tmp}/m", "--keep", "2"], "--keep 2"),
    "export of a folder that is not a run": (["export", "{tmp}", "--out", "{tmp}/m"], "not a finished run folder"),
    "evaluate --labels with true/false indices": (["evaluate", "{model}", "--data", "{ds}", "--labels", "{bool_map}"],
                                                  "a label map is a JSON object"),
    "evaluate --figures is a file": (["evaluate", "{model}", "--data", "{ds}", "--labels", "{labels}",
                                      "--figures", "{afile}"], "is a file, not a folder"),
    "calibrate a file that is not a model": (["calibrate", "{afile}", "--labels", "{labels}", "--data", "{ds}"],
                                             "not a TFLite model"),
    "calibrate without other signs": (["calibrate", "{model}", "--labels", "{labels}", "--data", "{ds}"],
                                      "no sequence of a sign outside"),
    "calibrate with a label map of the wrong size": (["calibrate", "{model}", "--labels", "{list6}", "--data", "{ds}"],
                                                     "labels, but"),
    "import-videos --out is a file": (["import-videos", "{fixtures}", "--out", "{afile}"], "is a file, not a folder"),
    "import-mpdata --out below a file": (["import-mpdata", "{mp_data}", "--out", "{afile}/x"], "cannot create"),
    "import-mpdata --signers with wrong columns": (["import-mpdata", "{mp_data}", "--out", "{tmp}/o",
                                                    "--signers", "{csv_missing_columns}/train.csv"],
                                                   "a signers CSV has the columns"),
}


@pytest.mark.parametrize("case", list(TRAIN_CASES))
def test_asl_train_bad_input(case, tmp_path, tiny_model):
    from datasets import build

    names = {k: str(v) for k, v in _files(tmp_path).items()}
    afile = tmp_path / "afile"
    afile.write_text("not a folder\n")
    (tmp_path / "cfg_type.json").write_text('{"epochs": "ten"}')
    list6 = write_label_map(tmp_path / "five.json", list("abcde"))
    ds = build(tmp_path / "ds", per_sign_and_signer=1)
    names.update(afile=afile, tmp=tmp_path, ds=ds.root, cfg_type=tmp_path / "cfg_type.json", clip=CLIP,
                 model=tiny_model[0], labels=tiny_model[1], list6=list6, fixtures=FIXTURES,
                 mp_data=FIXTURES / "mp_data" / "MP_Data")
    args, expected = TRAIN_CASES[case]
    proc = run("train.cli", *[a.format(**names) for a in args])
    assert_one_line(proc, "asl-train", expected)
    assert afile.read_text() == "not a folder\n"


def test_write_parquet_of_frames_with_the_wrong_shape_is_refused(tmp_path):
    with pytest.raises(ValueError):
        write_parquet(tmp_path / "x.parquet", np.zeros((3, 542, 3), np.float32))
    assert not (tmp_path / "x.parquet").exists()


def test_a_missing_system_library_is_one_line_with_the_package_to_install(capsys):
    """On a minimal server `import cv2` fails on libGL.so.1; the real message, turned into one line."""
    from asl_live.errors import run_main

    def needs_opencv(argv):
        raise ImportError("libGL.so.1: cannot open shared object file: No such file or directory")

    assert run_main(needs_opencv, [], "asl-live") == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("asl-live: error: a system library is missing (libGL.so.1") and "libgl1" in line

    def bug(argv):
        raise ImportError("cannot import name 'nothing' from 'asl_live'")

    with pytest.raises(ImportError):  # a real import bug keeps its traceback
        run_main(bug, [], "asl-live")
