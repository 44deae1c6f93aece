"""The shipped files (installed as asl_live.assets): found through asl_live/bundled.py."""
