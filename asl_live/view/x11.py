"""libX11 through ctypes: the few calls the app makes to the X server itself.

OpenCV's Qt links libX11, so it is there wherever a window can open, and no extra package
(python-xlib, xdotool) is needed. Used to check that a display opens (window.py), to tell Qt
its window is on screen (map_reminder.py), and by the tests to find windows and send keys.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util


def load():
    """libX11 with the signatures used here set, or None when it is not installed. A new
    handle each call, so a caller's extra signatures never clash with another's."""
    name = ctypes.util.find_library("X11")
    if not name:
        return None
    try:
        x = ctypes.CDLL(name)
    except OSError:
        return None
    vp, ul = ctypes.c_void_p, ctypes.c_ulong
    x.XOpenDisplay.restype = vp
    x.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x.XCloseDisplay.argtypes = [vp]
    x.XDefaultRootWindow.restype = ul
    x.XDefaultRootWindow.argtypes = [vp]
    x.XQueryTree.argtypes = [vp, ul, ctypes.POINTER(ul), ctypes.POINTER(ul),
                             ctypes.POINTER(ctypes.POINTER(ul)), ctypes.POINTER(ctypes.c_uint)]
    x.XFetchName.argtypes = [vp, ul, ctypes.POINTER(ctypes.c_char_p)]
    x.XFree.argtypes = [vp]
    x.XGetWindowAttributes.argtypes = [vp, ul, vp]
    x.XSendEvent.argtypes = [vp, ul, ctypes.c_int, ctypes.c_long, vp]
    x.XFlush.argtypes = [vp]
    x.XSync.argtypes = [vp, ctypes.c_int]
    x.XSetErrorHandler.restype = vp
    x.XSetErrorHandler.argtypes = [vp]
    return x


def windows_named(x, dpy, title: str) -> list[int]:
    """Ids of the windows named `title`, searched depth-first from the root."""
    found, stack = [], [x.XDefaultRootWindow(dpy)]
    while stack:
        w = stack.pop()
        name = ctypes.c_char_p()
        if x.XFetchName(dpy, w, ctypes.byref(name)) and name.value is not None:
            if name.value.decode(errors="replace") == title:
                found.append(w)
            x.XFree(name)
        root, parent = ctypes.c_ulong(), ctypes.c_ulong()
        children, n = ctypes.POINTER(ctypes.c_ulong)(), ctypes.c_uint()
        if x.XQueryTree(dpy, w, ctypes.byref(root), ctypes.byref(parent), ctypes.byref(children), ctypes.byref(n)):
            stack.extend(children[i] for i in range(n.value))
            if children:
                x.XFree(children)
    return found


IGNORE_ERRORS = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)(lambda display, event: 0)


@contextlib.contextmanager
def errors_ignored(x):
    """Xlib's default error handler ends the process: an error for a window that closed between
    finding it and asking about it must not. The previous handler is put back after."""
    before = x.XSetErrorHandler(ctypes.cast(IGNORE_ERRORS, ctypes.c_void_p))
    try:
        yield
    finally:
        x.XSetErrorHandler(before)


class XWindowAttributes(ctypes.Structure):
    _fields_ = [(n, ctypes.c_int) for n in ("x", "y", "width", "height", "border_width", "depth")] + [
        ("visual", ctypes.c_void_p), ("root", ctypes.c_ulong), ("class_", ctypes.c_int),
        ("bit_gravity", ctypes.c_int), ("win_gravity", ctypes.c_int), ("backing_store", ctypes.c_int),
        ("backing_planes", ctypes.c_ulong), ("backing_pixel", ctypes.c_ulong), ("save_under", ctypes.c_int),
        ("colormap", ctypes.c_ulong), ("map_installed", ctypes.c_int), ("map_state", ctypes.c_int),
        ("all_event_masks", ctypes.c_long), ("your_event_mask", ctypes.c_long),
        ("do_not_propagate_mask", ctypes.c_long), ("override_redirect", ctypes.c_int),
        ("screen", ctypes.c_void_p)]


class XMapEvent(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong), ("send_event", ctypes.c_int),
                ("display", ctypes.c_void_p), ("event", ctypes.c_ulong), ("window", ctypes.c_ulong),
                ("override_redirect", ctypes.c_int),
                ("pad", ctypes.c_long * 24)]   # XEvent is a union of 24 longs: room to spare
