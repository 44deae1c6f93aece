"""A private X server (Xvfb) for tests that open real windows, and screenshots of it.

    with Xvfb() as x:                       # picks a free display number itself
        subprocess.run([...], env=x.env())  # DISPLAY points at it
        shot = x.screenshot()               # uint8[H, W, 3] BGR of the whole screen

Windows are opened in child processes, not in the pytest process: OpenCV's Qt
binds to the first display it meets for the life of the process, and aborts the
process when that display goes away.

Why not pytest-xvfb or PyVirtualDisplay: neither brings the Xvfb binary (a Debian
package; tests/system_packages.py installs it), which was what a fresh machine
lacked. pytest-xvfb gives the pytest process one session-wide display, the one
thing these tests avoid (above); PyVirtualDisplay would replace the ~30 lines of
`start`/`stop` below but not the screenshots, which read Xvfb's own `-fbdir`
framebuffer file (no screenshot tool or X library package needed). Starting with
`-displayfd` already gives the race-free free-display choice those libraries offer.
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
            # conftest.py installs it when the tests run as root with apt-get (tests/system_packages.py);
            # elsewhere (macOS, Windows, a non-root Linux) there is none to install: skip, never fail.
            import pytest

            pytest.skip("Xvfb is not installed, so no test display (Debian/Ubuntu: sudo apt-get install xvfb)")
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


# --------------------------------------------------------------------------- keys and windows
# Talks to the X server through libX11 with ctypes (asl_live.view.x11: OpenCV itself links libX11, so
# it is there wherever a window can open, and no extra package (xdotool, Xlib) is needed).

def _xlib():
    import ctypes

    from asl_live.view import x11

    x = x11.load()
    vp, c_ulong = ctypes.c_void_p, ctypes.c_ulong
    x.XStringToKeysym.restype = c_ulong
    x.XStringToKeysym.argtypes = [ctypes.c_char_p]
    x.XKeysymToKeycode.restype = ctypes.c_ubyte
    x.XKeysymToKeycode.argtypes = [vp, c_ulong]
    x.XSetInputFocus.argtypes = [vp, c_ulong, ctypes.c_int, c_ulong]
    x.XInternAtom.restype = c_ulong
    x.XInternAtom.argtypes = [vp, ctypes.c_char_p, ctypes.c_int]
    x.XGetGeometry.argtypes = [vp, c_ulong, ctypes.POINTER(c_ulong)] + [ctypes.POINTER(ctypes.c_int)] * 2 \
        + [ctypes.POINTER(ctypes.c_uint)] * 4
    # Xlib's default error handler ends the process: one for a window that closed between
    # finding it and asking about it (the app ends by itself) would take the whole test run down.
    # The test process opens no window of its own, so errors are ignored for its whole life.
    x.XSetErrorHandler(ctypes.cast(x11.IGNORE_ERRORS, vp))
    x.XTranslateCoordinates.argtypes = [vp, c_ulong, c_ulong, ctypes.c_int, ctypes.c_int,
                                        ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int),
                                        ctypes.POINTER(c_ulong)]
    return x


class XClient:
    """A connection to an X display for finding windows by title and sending them keys."""

    def __init__(self, display: str):
        self.x = _xlib()
        self.dpy = self.x.XOpenDisplay(display.encode())
        if not self.dpy:
            raise RuntimeError(f"cannot open X display {display}")

    def close(self) -> None:
        if self.dpy:
            self.x.XCloseDisplay(self.dpy)
            self.dpy = None

    def __enter__(self) -> "XClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def windows(self, title: str) -> list[int]:
        """Ids of the windows named `title`, searched depth-first from the root."""
        from asl_live.view.x11 import windows_named

        return windows_named(self.x, self.dpy, title)

    def origin(self, window: int) -> tuple[int, int]:
        """The window's top-left corner in screen pixels."""
        import ctypes

        ox, oy, child = ctypes.c_int(), ctypes.c_int(), ctypes.c_ulong()
        self.x.XTranslateCoordinates(self.dpy, window, self.x.XDefaultRootWindow(self.dpy), 0, 0,
                                     ctypes.byref(ox), ctypes.byref(oy), ctypes.byref(child))
        return ox.value, oy.value

    def size(self, window: int) -> tuple[int, int]:
        """The window's inside width and height in pixels ((0, 0) once it is gone)."""
        import ctypes

        root, x, y = ctypes.c_ulong(), ctypes.c_int(), ctypes.c_int()
        w, h, border, depth = ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint()
        ok = self.x.XGetGeometry(self.dpy, window, *(ctypes.byref(v) for v in (root, x, y, w, h, border, depth)))
        return (w.value, h.value) if ok else (0, 0)

    def picture(self, screen: np.ndarray, window: int, size: tuple[int, int]) -> np.ndarray | None:
        """What `window` shows in `screen` (a screenshot), or None while it is not `size` (w, h).

        The window's place and size are asked at every call, not once when it appears: the app
        resizes it to its first picture, so what held then need not hold for later screenshots.
        """
        if self.size(window) != tuple(size):
            return None
        ox, oy = self.origin(window)
        crop = screen[oy:oy + size[1], ox:ox + size[0]]
        return crop if crop.shape[:2] == (size[1], size[0]) else None

    def key(self, window: int, keysym: str) -> None:
        """Press and release one key (an X keysym name: "q", "space", "Escape") in `window`."""
        import ctypes

        class XKeyEvent(ctypes.Structure):
            _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong), ("send_event", ctypes.c_int),
                        ("display", ctypes.c_void_p), ("window", ctypes.c_ulong),
                        ("root", ctypes.c_ulong), ("subwindow", ctypes.c_ulong), ("time", ctypes.c_ulong),
                        ("x", ctypes.c_int), ("y", ctypes.c_int), ("x_root", ctypes.c_int),
                        ("y_root", ctypes.c_int), ("state", ctypes.c_uint), ("keycode", ctypes.c_uint),
                        ("same_screen", ctypes.c_int), ("pad", ctypes.c_long * 16)]  # XEvent is 24 longs

        x = self.x
        code = x.XKeysymToKeycode(self.dpy, x.XStringToKeysym(keysym.encode()))
        x.XSetInputFocus(self.dpy, window, 2, 0)  # RevertToParent, CurrentTime
        for event_type, mask in ((2, 1 << 0), (3, 1 << 1)):  # KeyPress/KeyPressMask, KeyRelease/...
            ev = XKeyEvent(type=event_type, send_event=1, display=self.dpy, window=window,
                           root=x.XDefaultRootWindow(self.dpy), subwindow=0, time=0, x=1, y=1,
                           x_root=1, y_root=1, state=0, keycode=code, same_screen=1)
            x.XSendEvent(self.dpy, window, 1, mask, ctypes.byref(ev))
        x.XSync(self.dpy, 0)

    def close_window(self, window: int) -> None:
        """Ask `window` to close, as a window manager does when its close button is clicked."""
        import ctypes

        class XClientMessageEvent(ctypes.Structure):
            _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong), ("send_event", ctypes.c_int),
                        ("display", ctypes.c_void_p), ("window", ctypes.c_ulong),
                        ("message_type", ctypes.c_ulong), ("format", ctypes.c_int),
                        ("l", ctypes.c_long * 5), ("pad", ctypes.c_long * 12)]

        x = self.x
        ev = XClientMessageEvent(type=33, send_event=1, display=self.dpy, window=window,  # ClientMessage
                                 message_type=x.XInternAtom(self.dpy, b"WM_PROTOCOLS", 0), format=32)
        ev.l[0] = x.XInternAtom(self.dpy, b"WM_DELETE_WINDOW", 0)
        x.XSendEvent(self.dpy, window, 0, 0, ctypes.byref(ev))
        x.XSync(self.dpy, 0)

    def move_pointer(self, x: int, y: int) -> None:
        """Put the mouse pointer at screen (x, y), e.g. out of a screenshot's way."""
        import ctypes

        self.x.XWarpPointer.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong] + [ctypes.c_int] * 2 \
            + [ctypes.c_uint] * 2 + [ctypes.c_int] * 2
        self.x.XWarpPointer(self.dpy, 0, self.x.XDefaultRootWindow(self.dpy), 0, 0, 0, 0, x, y)
        self.x.XSync(self.dpy, 0)
