"""The app's OpenCV window, and the check that a display exists before opening one.

OpenCV's Qt backend does not raise when it cannot reach a display: it aborts
the whole process (SIGABRT, "could not connect to display"). So every window
is preceded by `require_display()`, which turns that into a one-line UserError.
"""

from __future__ import annotations

import os
import socket
import sys

from asl_live.errors import UserError

NO_DISPLAY_HELP = ("run under xvfb-run (e.g. `xvfb-run -a asl-live ...`), set DISPLAY "
                   "to a running X server, or use --headless")


def _x_socket_reachable(display: str) -> bool:
    """Whether an X server accepts connections at `display` (":0", "host:10.0", "unix:1").

    Only used where libX11 cannot be loaded to ask it directly.
    """
    host, _, rest = display.rpartition(":")
    try:
        number = int(rest.split(".")[0])
    except ValueError:
        return False
    if host in ("", "unix") or host.startswith("/"):
        path = host if host.startswith("/") else f"/tmp/.X11-unix/X{number}"
        candidates = [path, "\0" + path]  # Linux also listens on the abstract namespace
        for addr in candidates:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(2)
                try:
                    s.connect(addr)
                    return True
                except OSError:
                    continue
        if host:
            return False
        host = "localhost"
    try:
        with socket.create_connection((host, 6000 + number), timeout=2):
            return True
    except OSError:
        return False


def _x_display_opens(display: str) -> bool | None:
    """Open and close an X connection with libX11 (auth included); None when libX11 is missing."""
    from asl_live.view import x11

    xlib = x11.load()
    if xlib is None:
        return None
    # libX11 writes its own complaint ("Authorization required...") to stderr on failure;
    # hold it back so the user sees our one line only.
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            handle = xlib.XOpenDisplay(display.encode())
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    if not handle:
        return False
    xlib.XCloseDisplay(handle)
    return True


def require_display() -> None:
    """Raise UserError (one line, saying how to get a display) when no window can be opened."""
    if not sys.platform.startswith("linux"):
        return  # macOS and Windows windows need no X server
    display = os.environ.get("DISPLAY", "")
    if not display:
        if os.environ.get("WAYLAND_DISPLAY"):
            raise UserError("Wayland session without X: the window needs XWayland (DISPLAY unset); "
                            "enable XWayland, " + NO_DISPLAY_HELP)
        raise UserError("no display (DISPLAY is not set): " + NO_DISPLAY_HELP)
    opens = _x_display_opens(display)
    if opens is None:
        opens = _x_socket_reachable(display)
    if not opens:
        raise UserError(f"cannot open the X display {display!r} (no server there, or no "
                        "permission): " + NO_DISPLAY_HELP)


KEYS = {
    ord("q"): "quit", ord("Q"): "quit", 27: "quit",  # Esc
    ord(" "): "pause",
    ord("m"): "mirror", ord("M"): "mirror",
    ord("r"): "record", ord("R"): "record",
    ord("s"): "speak", ord("S"): "speak",
}


def _use_a_bundled_qt_platform(cv2) -> None:
    """Point Qt at a platform plugin OpenCV's wheel ships, before the first window.

    The opencv-contrib-python wheel bundles Qt with the xcb plugin only. Wayland
    desktops often export QT_QPA_PLATFORM=wayland, with which that Qt aborts the
    process ("could not find the Qt platform plugin"); xcb runs through XWayland.
    """
    plugins = os.path.join(os.path.dirname(cv2.__file__), "qt", "plugins", "platforms")
    if not os.path.isdir(plugins):
        return  # not the wheel's Qt (a distro OpenCV, macOS, Windows): leave it alone
    wanted = os.environ.get("QT_QPA_PLATFORM", "").split(":")[0]
    if not wanted or not os.path.exists(os.path.join(plugins, f"libq{wanted}.so")):
        os.environ["QT_QPA_PLATFORM"] = "xcb"


def _placeholder(text: str, size=(960, 720)):
    import cv2
    import numpy as np

    img = np.zeros((size[1], size[0], 3), np.uint8)
    img[:] = (30, 26, 24)
    cv2.putText(img, text, (40, size[1] // 2), cv2.FONT_HERSHEY_DUPLEX, 1.2, (200, 200, 200), 2, cv2.LINE_AA)
    return img


class Window:
    """A resizable OpenCV window; `show` draws a picture and reports the key pressed.

    `remind_mapped=False` leaves out the MapNotify reminder (map_reminder.py); only
    benchmarks/app/bench_window_paint.py does, to measure what it is for."""

    def __init__(self, title: str = "asl-live", remind_mapped: bool = True):
        import threading

        from asl_live.view.map_reminder import MapReminder

        # macOS' Cocoa aborts when a window is made off the main thread; Linux lets it pass, so
        # a thread slipped in here would only break on a Mac. Holistic and the camera run in
        # worker threads (pipeline.py, sources.py); the window stays in the caller's main thread.
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("the OpenCV window must be made in the main thread (macOS requires it)")
        require_display()
        import cv2

        _use_a_bundled_qt_platform(cv2)

        self._cv2 = cv2
        self.title = title
        self._sized = False
        self._open = True
        self.last_key = -1
        # GUI_NORMAL: no Qt toolbar or status bar, just the picture; KEEPRATIO on resize.
        cv2.namedWindow(title, cv2.WINDOW_NORMAL | cv2.WINDOW_KEEPRATIO | cv2.WINDOW_GUI_NORMAL)
        # Until the first picture (models still loading) Qt would show an empty white window.
        # Qt sometimes loses the window's MapNotify and then never paints: tell it (map_reminder.py).
        self._reminder = MapReminder(title) if remind_mapped else None
        self.show(_placeholder("starting..."))
        self._sized = False

    def show(self, image) -> str | None:
        """Show `image` (BGR) and poll the keyboard once: "quit", "pause", "mirror", "record", "speak" or None."""
        cv2 = self._cv2
        if not self._open:
            return "quit"
        if not self._sized:
            cv2.resizeWindow(self.title, image.shape[1], image.shape[0])
            self._sized = True
        cv2.imshow(self.title, image)
        # waitKeyEx: full key codes. waitKey masks them to 8 bits, which turns the arrow
        # keys (0xFF51-0xFF54) into 'Q'-'T' and Left into quit.
        key = cv2.waitKeyEx(1)
        self.last_key = key   # the raw code: typing a name (corrections) needs every letter
        if self._reminder is not None and not self._reminder.done:
            self._reminder.poll()
        # Closing the window with its title-bar button leaves no key: ask whether it is still visible.
        if cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) < 1:
            self._open = False
            return "quit"
        return KEYS.get(key)

    def close(self) -> None:
        if self._open:
            self._open = False
            try:
                self._cv2.destroyWindow(self.title)
                self._cv2.waitKey(1)  # let Qt process the close so the window disappears now
            except self._cv2.error:
                pass

    def __enter__(self) -> "Window":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
