"""The built package runs like any installed Python app: sdist -> wheel -> new venv -> `asl-live --demo`.

`python -m build` makes the sdist and, from it, the wheel (so the sdist is proven
to carry the package data too). The wheel goes into a brand-new venv, and the
installed `asl-live` runs the demo from a temporary folder, far from the checkout.

Kept fast and offline on purpose: the build runs `--no-isolation` (setuptools and
build come with the `dev` extra, pinned in constraints.txt), and the new venv sees
the dependencies already installed in this test environment through a `.pth`
file, the wheel itself being installed with `--no-deps`. What is tested is the
package: its data, its entry points and `importlib.resources`, not pip's resolver.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from conftest import REPO

from asl_live.bundled import DEMO_JSON

SHIPPED = ["model.tflite", "sign_to_prediction_index_map.json", "MODEL_CARD.md", "CREDITS.md",
           "demo.parquet", "demo.json", "LICENSES/LICENSE-traduttore", "LICENSES/LICENSE-recordthesehands"]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(REPO)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (wheel,) = out.glob("asl_live-*.whl")
    (sdist,) = out.glob("asl_live-*.tar.gz")
    return {"wheel": wheel, "sdist": sdist}


def test_wheel_carries_the_model_and_demo(built):
    names = set(zipfile.ZipFile(built["wheel"]).namelist())
    missing = [f for f in SHIPPED if f"asl_live/assets/{f}" not in names]
    assert not missing, missing
    assert "asl_live/bundled.py" in names and "train/cli.py" in names
    entry = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    scripts = zipfile.ZipFile(built["wheel"]).read(entry).decode()
    assert "asl-live = asl_live.cli:main" in scripts and "asl-train = train.cli:main" in scripts


def test_installed_wheel_runs_the_demo_from_any_folder(built, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    # The dependencies (mediapipe, opencv, ...) from this environment; asl_live itself only from the wheel.
    (site / "test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    proc = subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps",
                           "--no-index", str(built["wheel"])], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr

    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "PYTHONPATH")}
    where = subprocess.run([str(py), "-c", "import asl_live.bundled as b; print(b.MODEL)"], cwd=work, env=env,
                           capture_output=True, text=True, timeout=120)
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(site), where.stdout  # not the checkout

    proc = subprocess.run([str(venv / "bin" / "asl-live"), "--demo", "--headless"], cwd=work, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    recs = [json.loads(line) for line in proc.stdout.splitlines()]
    truth = json.loads(DEMO_JSON.read_text())["signs"]
    assert [r["sign"] for r in recs] == truth
    assert all(Path(r["source"]).is_relative_to(site) for r in recs)

    proc = subprocess.run([str(venv / "bin" / "asl-train"), "--help"], cwd=work, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "calibrate" in proc.stdout, proc.stderr


def test_sdist_carries_the_package_data(built):
    import tarfile

    with tarfile.open(built["sdist"]) as t:
        names = {n.split("/", 1)[1] for n in t.getnames() if "/" in n}
    missing = [f for f in SHIPPED if f"assets/{f}" not in names]  # the sdist keeps the source layout
    assert not missing, missing
