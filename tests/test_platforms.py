"""The install resolves on every platform and Python we support, from this Linux machine.

For each (platform, Python) and for the app alone and the app with every extra, uv resolves
pyproject.toml against constraints.txt (the universal lock) as pip would on that machine:
compiled packages only as wheels for that platform (`--only-binary :all:`), except srt, a
pure-Python package that ships only an sdist. A pin with no wheel for a platform fails here,
naming the package and the platform (test_a_pin_without_a_wheel_fails shows it once).

Cost: one universal resolution online (the lock's own `uv pip compile --universal`, which reads
PyPI's index of every package any supported platform and Python needs, and so refreshes uv's
cache of it), then each (platform, Python) resolution offline from that just-refreshed cache:
the same resolution from the same index pages, without asking PyPI again for each of the 40
(an online one spends ~5 s revalidating cached pages, an offline one ~0.2 s; a wheel's
metadata never changes, so its cached copy is as good as a download). An offline resolution
that misses the cache (a first run on a new machine) is run again online, so a failure is
always an online answer.
Needs PyPI; without it the tests skip, except under CI (CI=true), where they fail.
"""
import os
import shutil
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# uv's names for the README's platforms (README "Platforms"); Linux as glibc 2.28 and later
# (Debian 10, Ubuntu 20.04, Raspberry Pi OS 64-bit bookworm and newer).
PLATFORMS = {"linux-x86_64": "x86_64-manylinux_2_28", "linux-aarch64": "aarch64-manylinux_2_28",
             "windows-x86_64": "x86_64-pc-windows-msvc", "macos-arm64": "aarch64-apple-darwin"}
PYTHONS = ["3.10", "3.11", "3.12", "3.13", "3.14"]
EXTRAS = {"app": [], "app+all-extras": ["--all-extras"]}
PURE_SDISTS = ["srt"]  # pure Python, sdist only: may be built anywhere


def _uv():
    found = Path(sys.executable).with_name("uv")
    return str(found) if found.exists() else shutil.which("uv")


def _pypi_reachable():
    try:
        socket.create_connection(("pypi.org", 443), timeout=5).close()
        return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def uv():
    exe = _uv()
    if exe is None:
        pytest.fail("uv is not installed: it is in the dev extra (pip install -e '.[dev]')")
    if not _pypi_reachable():
        if os.environ.get("CI"):
            pytest.fail("PyPI is not reachable: the platform resolution check needs it")
        pytest.skip("PyPI is not reachable: the platform resolution check needs it")
    return exe


def _missed_the_cache(message: str) -> bool:
    """uv --offline without a page it needs ("... because the network was disabled")."""
    low = message.lower()
    return "network" in low and "disabled" in low


def resolve(uv, source, platform, python, *extra_args, offline=False):
    """Resolve `source` for one platform and Python; returns (ok, uv's message)."""
    cmd = [uv, "pip", "compile", str(source), *extra_args, "--only-binary", ":all:", "--no-header",
           "-q", "-o", os.devnull]
    cmd += ["--universal"] if platform is None else ["--python-platform", PLATFORMS[platform]]
    # --python: this interpreter, so that uv does not search PATH for one of each target version
    # (pyenv shims made that ~0.7 s a run); the target is still --python-version's
    cmd += ["--python", sys.executable, "--python-version", python]
    for name in PURE_SDISTS:
        cmd += ["--no-binary", name]
    run = subprocess.run(cmd + (["--offline"] if offline else []), cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    if offline and run.returncode != 0 and _missed_the_cache(run.stderr):
        return resolve(uv, source, platform, python, *extra_args)
    return run.returncode == 0, run.stderr.strip()


@pytest.fixture(scope="module")
def fresh_index(uv):
    """The universal resolution, online: the lock holds together, and uv's cache is current."""
    ok, message = resolve(uv, ROOT / "pyproject.toml", None, PYTHONS[0], "--all-extras",
                          "-c", str(ROOT / "constraints.txt"))
    assert ok, "the universal resolution of the lock fails:\n" + message
    return uv


def test_every_platform_and_python_resolves(fresh_index):
    jobs = [(platform, python, name) for platform in PLATFORMS for python in PYTHONS for name in EXTRAS]
    with ThreadPoolExecutor(max_workers=2) as pool:  # offline: CPU-bound now, and 2 cores here
        results = list(pool.map(
            lambda job: resolve(fresh_index, ROOT / "pyproject.toml", job[0], job[1],
                                "-c", str(ROOT / "constraints.txt"), *EXTRAS[job[2]], offline=True), jobs))
    failures = [f"{platform} Python {python} ({name}): {message}"
                for (platform, python, name), (ok, message) in zip(jobs, results) if not ok]
    assert not failures, "the install does not resolve:\n" + "\n\n".join(failures)


def test_a_pin_without_a_wheel_fails(fresh_index, tmp_path):
    # The bug this check exists for: the old constraints.txt pinned
    # tensorflow-io-gcs-filesystem==0.37.1, which has no Windows wheel.
    requirements = tmp_path / "requirements.in"
    requirements.write_text("tensorflow==2.19.1\n")
    pin = tmp_path / "pin.txt"
    pin.write_text("tensorflow-io-gcs-filesystem==0.37.1\n")
    # offline, as the check above runs: the fresh index already holds both packages' pages
    ok, message = resolve(fresh_index, requirements, "windows-x86_64", "3.11", "-c", str(pin), offline=True)
    assert not ok
    assert "tensorflow-io-gcs-filesystem" in message and "win_amd64" in message, message
    ok, message = resolve(fresh_index, requirements, "linux-x86_64", "3.11", "-c", str(pin), offline=True)
    assert ok, message


def test_no_xvfb_skips_with_a_reason_not_a_failure(monkeypatch):
    # macOS, Windows or a Linux without root: no Xvfb to install, so display tests skip.
    sys.path.insert(0, str(Path(__file__).parent))
    from display import Xvfb

    monkeypatch.setenv("PATH", os.devnull)
    with pytest.raises(pytest.skip.Exception, match="Xvfb is not installed"):
        Xvfb().start()


def test_paths_with_spaces_and_non_ascii(tmp_path):
    # Windows and macOS home folders often have both ("C:\\Users\\José María\\...").
    import json

    from asl_live.bundled import DEMO_PARQUET

    folder = tmp_path / "mis señas 手話 folder"
    folder.mkdir()
    replay = folder / "démo clip.parquet"
    shutil.copy(DEMO_PARQUET, replay)
    run = subprocess.run([str(Path(sys.executable).with_name("asl-live")), "--replay", str(replay),
                          "--headless", "--clip"], capture_output=True, text=True, encoding="utf-8",
                         timeout=300)
    assert run.returncode == 0, run.stderr
    (line,) = run.stdout.splitlines()
    assert json.loads(line)["source"] == str(replay)


def test_camera_refused_says_where_to_allow_it_on_each_platform():
    from asl_live.capture.sources import camera_permission_hint

    assert "Privacy & Security > Camera" in camera_permission_hint("darwin")
    assert "Let desktop apps access your camera" in camera_permission_hint("win32")
    assert "video group" in camera_permission_hint("linux")


def test_the_window_refuses_to_open_off_the_main_thread():
    # Linux would allow it; macOS aborts the process. Checked before any display is needed.
    import threading

    from asl_live.view.window import Window

    seen = []

    def make():
        try:
            Window()
        except RuntimeError as error:
            seen.append(str(error))

    worker = threading.Thread(target=make)
    worker.start()
    worker.join(30)
    assert seen and "main thread" in seen[0]
