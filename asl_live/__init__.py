"""asl-live: recognise isolated ASL signs live from a webcam, a video or a GISLR replay."""

__version__ = "0.1.0"
