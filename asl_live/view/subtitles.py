"""Timed subtitles of the recognised signs: `--subtitles out.vtt` (WebVTT) or `out.srt` (SubRip).

One cue per recognised sign or fingerspelled word, from the segment's `t_start` to its `t_end` (the
same seconds as the JSON line), its text the sign. `unknown` is left out: a
caption says what was signed, and "unknown" is not a sign (the JSON lines keep it).

The formats are written by pysubs2 (maintained, pure Python, both formats and
their timestamp rules in one place). The file is rewritten atomically after
each sign, so it is complete and valid at every moment: Ctrl-C or a crash keeps
every cue made so far, and a run that finds no sign still leaves a valid, empty file.
"""

from __future__ import annotations

import os
from pathlib import Path

from asl_live.model import UNKNOWN
from asl_live.errors import UserError
from asl_live.formats.gislr import atomic_write

FORMATS = {".vtt": "vtt", ".srt": "srt"}


class SubtitleWriter:
    """`add(recognition)` for each sign; the file on disk always holds every cue so far."""

    def __init__(self, path: str | os.PathLike):
        import pysubs2

        self.path = Path(path)
        if self.path.is_dir():
            raise UserError(f"{self.path}: is a folder; give a file name ending in .vtt or .srt")
        fmt = FORMATS.get(self.path.suffix.lower())
        if fmt is None:
            raise UserError(f"{self.path}: subtitles must be a .vtt or .srt file")
        for parent in self.path.parents:
            if parent.exists() and not parent.is_dir():
                raise UserError(f"{self.path}: cannot write subtitles there ({parent} is a file, not a folder)")
        self._pysubs2 = pysubs2
        self._format = fmt
        self._subs = pysubs2.SSAFile()
        self._write()  # now, before anything slow: a path that cannot be written fails at once

    def add(self, recognition) -> None:
        """A sign's `Recognition` or a `SpelledWord` (anything with `text`, `t_start`, `t_end`)."""
        sign = recognition.text
        if sign == UNKNOWN:
            return
        start, end = round(1000 * recognition.t_start), round(1000 * recognition.t_end)
        self._subs.append(self._pysubs2.SSAEvent(start=start, end=max(end, start + 1), text=sign))
        self._write()

    def _write(self) -> None:
        text = self._subs.to_string(self._format)
        try:
            with atomic_write(self.path, "w") as f:
                f.write(text)
        except OSError as e:
            raise UserError(f"{self.path}: cannot write subtitles there ({e.strerror or e})") from None

    def __len__(self) -> int:
        return len(self._subs)
