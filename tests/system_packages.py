"""The few Debian packages the tests need besides the venv, installed by the test run itself.

`pip` cannot install them: the Xvfb binary (the tests' private X server, started by
tests/display.py), the libGL / GLib shared libraries that the opencv wheel loads
on `import cv2` (present on any desktop, absent on a minimal Debian/Ubuntu), and espeak-ng,
the voice the speech tests write files with. When
one is missing and the tests run as root with apt-get (a fresh container, CI), they
are installed once before collection; otherwise a note says how. Without Xvfb the tests
that need a display skip with that reason (tests/display.py); without libGL / GLib the
tests that import cv2 fail.
"""

from __future__ import annotations

import ctypes.util
import os
import shutil
import subprocess
import sys

# Debian package -> how to tell it is there.
NEEDED = {
    "xvfb": lambda: shutil.which("Xvfb"),
    "libgl1": lambda: ctypes.util.find_library("GL"),
    "libglib2.0-0": lambda: ctypes.util.find_library("glib-2.0"),
    "libegl1": lambda: ctypes.util.find_library("EGL"),  # mediapipe 1.x (Python 3.13+) loads both
    "libgles2": lambda: ctypes.util.find_library("GLESv2"),
    # the offline voice behind --speak / --speak-to (pyttsx3's Linux driver loads libespeak-ng)
    "espeak-ng": lambda: shutil.which("espeak-ng"),
    "libespeak-ng1": lambda: ctypes.util.find_library("espeak-ng"),
}


def missing() -> list[str]:
    return [pkg for pkg, present in NEEDED.items() if not present()]


def _apt_name(pkg: str) -> str:
    """Debian 13 / Ubuntu 24.04 renamed libglib2.0-0 to libglib2.0-0t64 (64-bit time_t)."""
    t64 = pkg + "t64"
    probe = subprocess.run(["apt-cache", "show", t64], capture_output=True)
    return t64 if pkg.startswith("libglib") and probe.returncode == 0 and probe.stdout else pkg


def ensure() -> None:
    need = missing()
    if not need:
        return
    if not sys.platform.startswith("linux"):
        return  # Debian packages: nothing to do on macOS or Windows (no os.geteuid on Windows)
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        print(f"tests: missing system package(s) {', '.join(need)}; the tests that need them skip (xvfb) "
              f"or fail (libraries). "
              f"Install them once: sudo apt-get install {' '.join(need)}", file=sys.stderr)
        return
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    print(f"tests: installing {', '.join(need)} (apt-get) ...", file=sys.stderr)
    subprocess.run(["apt-get", "update", "-qq"], env=env, check=True, stdout=subprocess.DEVNULL)
    names = [_apt_name(p) for p in need]
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *names], env=env,
                   check=True, stdout=subprocess.DEVNULL)
    still = missing()
    if still:
        raise RuntimeError(f"apt-get installed {', '.join(names)} but {', '.join(still)} is still missing")
