"""What the user sees and hears: the OpenCV window and the picture drawn in it, subtitles, and the X11 calls that keep the window painted."""
