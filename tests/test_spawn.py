"""The engine's workers started as Windows and macOS start them: `spawn` (Linux forks by default).

A spawned worker is a fresh interpreter: it re-imports the driver's main module (an unguarded
script would run again in every worker), unpickles the task by name, and has none of the state
a fork would copy. Each test runs the real `asl-train import-videos` on one real clip, from a
driver script that makes spawn the default start method for the whole process (as it is there)
and tells Dask's nannies the same, then checks that

- every worker process really was spawned: its command line is multiprocessing's spawn entry,
  not a copy of the driver's (which is what a forked child shows);
- the dataset holds exactly the landmarks the app's own in-process extraction gives.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).parent.parent
CLIP = FIXTURES / "dpan_cut_small.mp4"  # the smallest real clip: the test is about processes

DRIVER = '''\
import multiprocessing
import sys

if __name__ == "__main__":  # spawn re-imports this file in each worker: the guard Windows needs
    multiprocessing.set_start_method("spawn")
    from train.cli import main

    sys.exit(main())
'''


def competition_load(path):
    data = pd.read_parquet(path, columns=["x", "y", "z"])
    return data.values.reshape(len(data) // 543, 543, 3).astype(np.float32)


@pytest.fixture(scope="module")
def reference():
    from asl_live.capture.sources import video_landmarks

    return video_landmarks(CLIP)[0]


def _watch_descendants(pid: int, seen: dict, stop: threading.Event) -> None:
    """Record the command line of every process under `pid` while it runs (workers come and go)."""
    import psutil

    try:
        root = psutil.Process(pid)
        while not stop.is_set():
            for child in root.children(recursive=True):
                try:
                    seen.setdefault(child.pid, child.cmdline())
                except psutil.Error:  # gone between listing and reading
                    pass
            time.sleep(0.02)
    except psutil.NoSuchProcess:
        pass


@pytest.mark.parametrize("engine", ["pool", "dask"])
def test_import_videos_with_spawned_workers(engine, tmp_path, reference):
    if engine == "dask":
        pytest.importorskip("distributed", reason='the engine extra: pip install "asl-live[scale]"')
    src = tmp_path / "src"
    src.mkdir()
    (src / "cut.mp4").write_bytes(CLIP.read_bytes())
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    out = tmp_path / "ds"
    # Dask's nannies take their start method from Dask's config, not from multiprocessing's default.
    env = {**os.environ, "PYTHONPATH": str(REPO), "DASK_DISTRIBUTED__WORKER__MULTIPROCESSING_METHOD": "spawn"}
    cmd = [sys.executable, str(driver), "import-videos", str(src), "--out", str(out), "--jobs", "1",
           "--engine", engine, "--quiet"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    seen: dict[int, list[str]] = {}
    stop = threading.Event()
    watcher = threading.Thread(target=_watch_descendants, args=(proc.pid, seen, stop), daemon=True)
    watcher.start()
    try:
        _, err = proc.communicate(timeout=300)
    finally:
        stop.set()
        watcher.join(10)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    where = "a process pool (1 worker)" if engine == "pool" else "dask (local cluster, 1 worker thread)"
    assert f"import-videos: 1 videos added, 0 already there, 0 not imported -> {out} on {where}" in err, err

    # multiprocessing's own helper (the resource tracker) is always exec'd, never forked: not a worker
    workers = {pid: line for pid, line in seen.items()
               if not any("resource_tracker" in part for part in line)}
    spawned = [line for line in workers.values() if any("spawn_main" in part for part in line)]
    forked = [line for line in workers.values() if line == cmd or line[1:] == cmd[1:]]
    assert spawned, f"no spawned worker seen; processes under the driver: {seen}"
    assert not forked, f"forked workers: {forked}"

    from asl_live.formats.gislr import Dataset

    (row,) = Dataset(out).samples()
    np.testing.assert_array_equal(competition_load(out / row.path), reference)
