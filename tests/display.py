"""A private X server (Xvfb) for tests that open real windows, and screenshots of it.

    with Xvfb() as x:                       # picks a free display number itself
        subprocess.run([...], env=x.env())  # DISPLAY points at it
        shot = x.screenshot()               # uint8[H, W, 3] BGR of the whole screen

Windows are opened in child processes, not in the pytest process: OpenCV's Qt
binds to the first display it meets for the life of the process, and aborts the
process when that display goes away.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time

import numpy as np


class Xvfb:
    def __init__(self, width: int = 1280, height: int = 960, depth: int = 24):
        self.size = (width, height, depth)
        self.display: str | None = None
        self._proc: subprocess.Popen | None = None
        self._dir: str | None = None

    def start(self) -> "Xvfb":
        exe = shutil.which("Xvfb")
        if exe is None:
            raise RuntimeError("Xvfb is not installed (Debian/Ubuntu: apt-get install xvfb)")
        self._dir = tempfile.mkdtemp(prefix="asl-live-xvfb-")
        w, h, d = self.size
        read_fd, write_fd = os.pipe()
        # -displayfd: Xvfb picks a free display number and writes it once it accepts connections,
        # so parallel test runs never collide and no sleep-and-hope is needed.
        self._proc = subprocess.Popen(
            [exe, "-displayfd", str(write_fd), "-screen", "0", f"{w}x{h}x{d}",
             "-fbdir", self._dir, "-nolisten", "tcp", "-noreset"],
            pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(write_fd)
        with os.fdopen(read_fd) as f:
            number = f.readline().strip()
        if not number:
            self.stop()
            raise RuntimeError("Xvfb did not start")
        self.display = f":{number}"
        return self

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> "Xvfb":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def env(self, **extra: str) -> dict[str, str]:
        """os.environ with DISPLAY set to this server (and WAYLAND_DISPLAY removed)."""
        env = {k: v for k, v in os.environ.items() if k != "WAYLAND_DISPLAY"}
        env["DISPLAY"] = self.display
        env.update(extra)
        return env

    def screenshot(self) -> np.ndarray:
        """The screen as uint8[H, W, 3] BGR, read from the framebuffer file Xvfb keeps (XWD format)."""
        with open(os.path.join(self._dir, "Xvfb_screen0"), "rb") as f:
            return read_xwd(f.read())


def read_xwd(data: bytes) -> np.ndarray:
    """Decode a 24/32-bit TrueColor XWD image (what Xvfb's -fbdir writes) to BGR."""
    header = np.frombuffer(data, dtype=">u4", count=25)
    (header_size, version, _fmt, _depth, width, height, _xoff, byte_order, _unit, _bit_order,
     _pad, bits_per_pixel, bytes_per_line, _cls, red_mask, green_mask, blue_mask, _bits_rgb,
     _cmap_entries, ncolors) = (int(v) for v in header[:20])
    if version != 7 or bits_per_pixel != 32:
        raise ValueError(f"unsupported XWD: version {version}, {bits_per_pixel} bits per pixel")
    start = header_size + 12 * ncolors  # then the colour map, then the pixels
    pixels = np.frombuffer(data, dtype="<u4" if byte_order == 0 else ">u4",
                           count=bytes_per_line // 4 * height, offset=start)
    pixels = pixels.reshape(height, bytes_per_line // 4)[:, :width]
    out = np.empty((height, width, 3), np.uint8)
    for channel, mask in enumerate((blue_mask, green_mask, red_mask)):
        shift = (mask & -mask).bit_length() - 1
        out[..., channel] = (pixels >> shift) & 0xFF
    return out


def wait_for(condition, timeout: float = 20.0, interval: float = 0.1) -> bool:
    """Poll `condition()` until it is true or `timeout` seconds pass."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(interval)
    return bool(condition())
