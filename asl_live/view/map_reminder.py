"""Tell OpenCV's Qt, once, that its window is on screen: the cure for a window that stays black.

Qt 5.15's X11 backend (the Qt inside the opencv-contrib-python wheel) paints a window only
after it has received the window's MapNotify event. With both cores busy (Holistic in a worker
thread is enough), that event is sometimes lost: the window is mapped and viewable, yet Qt holds
back every paint for the window's whole life, and no Expose, resize or move brings it back.
Measured under Xvfb with three busy processes on two cores: 2 of 12 windows stayed black; Qt's
own log (QT_LOGGING_RULES="qt.qpa.events=true") showed no MapNotify in exactly those runs.

Once the window is viewable, `MapReminder.poll` sends one synthetic MapNotify to it through
libX11 (which OpenCV's Qt already loads). Qt takes it as the real one: in 7 of 40 runs under the
same load the real event was lost, the reminder was the only MapNotify Qt got, and every one of
the 40 windows painted (benchmarks/app/bench_window_paint.py). Where Qt did get the real event, a
second one only makes it repaint once.
"""

from __future__ import annotations

import ctypes
import os
import sys
import time

from asl_live.view import x11

MAP_NOTIFY = 19                     # X11 event type
STRUCTURE_NOTIFY_MASK = 1 << 17
IS_VIEWABLE = 2                     # XWindowAttributes.map_state
GIVE_UP_AFTER_S = 10.0              # a window not viewable by then is not coming (or not ours)
# Finding the window walks the X window tree, two round trips per window: on a desktop with a
# few hundred windows that is milliseconds, so it is done at most this often, and once found
# the window's id is kept.
POLL_EVERY_S = 0.05


class MapReminder:
    """Call `poll()` after each frame shown; it sends the one MapNotify as soon as the window
    named `title` is viewable, then does nothing. Inert off X11 (macOS, Windows, no libX11)."""

    def __init__(self, title: str):
        self.title = title
        self.done = not sys.platform.startswith("linux") or not os.environ.get("DISPLAY")
        self._x = None if self.done else x11.load()
        self.done = self.done or self._x is None
        self._dpy = None
        self._deadline = time.monotonic() + GIVE_UP_AFTER_S
        self._next = 0.0
        self._ids: list[int] = []
        self.sent_to: list[int] = []

    def poll(self) -> None:
        if self.done:
            return
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + POLL_EVERY_S
        x = self._x
        if self._dpy is None:
            self._dpy = x.XOpenDisplay(os.environ["DISPLAY"].encode()) or None
            if self._dpy is None:
                self._finish()
                return
        viewable = []
        with x11.errors_ignored(x):
            self._ids = self._ids or x11.windows_named(x, self._dpy, self.title)
            for w in self._ids:
                attrs = x11.XWindowAttributes()
                if x.XGetWindowAttributes(self._dpy, w, ctypes.byref(attrs)) and attrs.map_state == IS_VIEWABLE:
                    viewable.append(w)
            for w in viewable:
                event = x11.XMapEvent(type=MAP_NOTIFY, event=w, window=w)
                x.XSendEvent(self._dpy, w, 0, STRUCTURE_NOTIFY_MASK, ctypes.byref(event))
            if viewable:
                x.XSync(self._dpy, 0)   # errors (a window gone meanwhile) arrive while ignored
                self.sent_to = viewable
        if viewable or time.monotonic() > self._deadline:
            self._finish()

    def _finish(self) -> None:
        self.done = True
        if self._dpy is not None:
            self._x.XCloseDisplay(self._dpy)
            self._dpy = None
