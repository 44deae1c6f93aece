"""Speech: each finished sign or spelled word said aloud (`--speak`), or written to a WAV file (`--speak-to`).

Offline, through pyttsx3 (maintained; one API over the system's own voices: espeak-ng on Linux,
SAPI5 on Windows, NSSpeechSynthesizer on macOS). The voice never holds up the loop: `Speech.say`
only puts the text on a queue, and one worker thread (which owns the engine: pyttsx3's engines
are not thread-safe) synthesises and plays it. When the signer is faster than the voice, the
oldest waiting words are dropped (a word said seconds late is noise), never the loop's frames.

On Linux, espeak-ng's pyttsx3 driver plays through `aplay` (alsa-utils); a word is synthesised to a
temporary WAV and played by the first player found (aplay, paplay, pw-play) with its output held
back, so nothing but JSON reaches stdout. Elsewhere the system voice plays it.

`--speak-to out.wav` writes the speech of the transcript instead: each utterance placed at the
time its sign or word ended (or just after the one before, with a short silence between), so the
file runs alongside the video; it is rewritten after each word (atomically), so Ctrl-C keeps what
was said. No voice installed, or (for `--speak`) no audio device: one line on stderr, and the app
goes on without speech.
"""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import wave
from pathlib import Path

import numpy as np

from asl_live.errors import UserError

GAP_S = 0.4        # at least this much silence between two utterances in a speech file
MAX_WAITING = 3    # words waiting to be said; older ones are dropped
PLAYERS = (("aplay", "-q"), ("paplay",), ("pw-play",))


class SpeechUnavailable(Exception):
    """Why there is no speech here, in one line."""


def _engine():
    """A pyttsx3 engine, its driver's own prints (to stdout) silenced; SpeechUnavailable when no voice."""
    try:
        import pyttsx3
    except ImportError as e:
        raise SpeechUnavailable(f"the text-to-speech package is missing ({e.name}); pip install pyttsx3") from None
    try:
        engine = pyttsx3.init()
    except Exception as e:  # each platform's driver fails its own way when no voice is installed
        hint = " (install espeak-ng: sudo apt-get install espeak-ng)" if sys.platform.startswith("linux") else ""
        raise SpeechUnavailable(f"no text-to-speech voice could be started{hint}: {e}") from None
    # The espeak driver prints "Audio saved to ..." and playback errors with print(): stdout is
    # the JSON lines' alone.
    for name, module in list(sys.modules.items()):
        if name.startswith("pyttsx3.drivers."):
            module.print = lambda *a, **k: None
    return engine


def _linux_player() -> list[str]:
    """The command that plays a WAV file here; SpeechUnavailable without a player or an audio device."""
    player = next((p for p in PLAYERS if shutil.which(p[0])), None)
    if player is None:
        raise SpeechUnavailable("no audio player (aplay from alsa-utils, paplay or pw-play) is installed")
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    sockets = [os.environ.get("PULSE_SERVER", ""), os.path.join(runtime, "pulse", "native"),
               os.path.join(runtime, "pipewire-0")] if runtime or os.environ.get("PULSE_SERVER") else []
    if not os.path.isdir("/dev/snd") and not any(s and os.path.exists(s) for s in sockets):
        raise SpeechUnavailable("no audio device (no /dev/snd, no PulseAudio or PipeWire server)")
    return list(player)


def synthesise(engine, text: str, path: Path) -> None:
    engine.save_to_file(text, str(path))
    engine.runAndWait()


def utterances(samples: np.ndarray, rate: int, silence_s: float = 0.25, level: int = 300) -> list[tuple[float, float]]:
    """(start, end) seconds of each stretch of sound separated from the next by `silence_s` of quiet."""
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > level)
    if not len(loud):
        return []
    breaks = np.flatnonzero(np.diff(loud) > silence_s * rate)
    starts = np.concatenate([[loud[0]], loud[breaks + 1]])
    ends = np.concatenate([loud[breaks], [loud[-1]]])
    return [(a / rate, b / rate) for a, b in zip(starts, ends)]


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """(int16 mono samples, rate) of a WAV file the engine wrote."""
    with wave.open(str(path), "rb") as w:
        rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
        data = w.readframes(w.getnframes())
    if width != 2:
        raise SpeechUnavailable(f"the voice writes {8 * width}-bit audio; 16-bit expected")
    samples = np.frombuffer(data, np.int16)
    if channels > 1:
        samples = samples.reshape(-1, channels)[:, 0].copy()
    return samples, rate


class SpeechFile:
    """The utterances laid out on the transcript's clock, rewritten to `path` after each one."""

    def __init__(self, path: str | os.PathLike):
        from asl_live.formats.gislr import atomic_write

        self.path = Path(path)
        if self.path.suffix.lower() != ".wav":
            raise UserError(f"{self.path}: --speak-to writes a .wav file")
        if self.path.is_dir() or not self.path.parent.is_dir():
            raise UserError(f"{self.path}: cannot write speech there (no such folder, or it is a folder)")
        self._atomic_write = atomic_write
        self._audio = np.zeros(0, np.int16)
        self._rate: int | None = None
        self.utterances: list[tuple[str, float, float]] = []  # text, start s, end s in the file
        self._write()  # now: a path that cannot be written fails before anything slow

    def add(self, samples: np.ndarray, rate: int, at_s: float, text: str) -> None:
        if self._rate is None:
            self._rate = rate
        elif rate != self._rate:
            raise SpeechUnavailable(f"the voice changed its sample rate ({self._rate} -> {rate})")
        start = int(round(max(at_s, 0.0) * rate))
        if self.utterances:
            start = max(start, len(self._audio) + int(GAP_S * rate))
        audio = np.zeros(start + len(samples), np.int16)
        audio[:len(self._audio)] = self._audio
        audio[start:] = samples
        self._audio = audio
        self.utterances.append((text, start / rate, len(audio) / rate))
        self._write()

    def _write(self) -> None:
        try:
            with self._atomic_write(self.path, "wb") as f:
                with wave.open(f, "wb") as w:
                    w.setnchannels(1)
                    w.setsampwidth(2)
                    w.setframerate(self._rate or 22050)
                    w.writeframes(self._audio.tobytes())
        except OSError as e:
            raise UserError(f"{self.path}: cannot write speech there ({e.strerror or e})") from None


class Speech:
    """`say(reading)` for each finished sign or word; a worker thread speaks it and/or writes it.

    `speak`: aloud (toggled with `toggle`, the window's `s` key); `to`: a WAV file of it all.
    `warn(line)` gets the one line that says why there is no speech, and the app goes on.
    """

    def __init__(self, speak: bool = False, to: str | os.PathLike | None = None, warn=None):
        self.file = SpeechFile(to) if to is not None else None
        self.enabled = speak
        self.available = True       # a voice was started
        self._aloud_error: SpeechUnavailable | None = None  # why nothing can be played here
        self._told = False
        self._warn = warn or (lambda line: print(f"asl-live: {line}", file=sys.stderr))
        self._queue: queue.Queue = queue.Queue()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="asl-live speech", daemon=True)
        self._thread.start()
        self._ready.wait(30)  # the engine starts (or says why not) before the first word

    def toggle(self) -> bool:
        if self.enabled:
            self.enabled = False
        elif self.available and self._aloud_error is None:
            self.enabled = True
        elif self._aloud_error is not None and not self._told:
            self._told = True
            self._warn(f"no speech aloud: {self._aloud_error}")
        return self.enabled

    def say(self, reading) -> None:
        """A finished sign's Recognition or a SpelledWord; `unknown` is not said."""
        text = reading.text
        if text == "unknown" or not (self.enabled or self.file is not None):
            return
        while self.enabled and self.file is None and self._queue.qsize() >= MAX_WAITING:
            try:
                self._queue.get_nowait()  # the oldest waiting word: too late to be worth saying
            except queue.Empty:
                break
        self._queue.put((text, float(reading.t_end), self.enabled))

    def close(self, timeout: float = 30.0) -> None:
        """Say (and write) what is waiting, then stop the worker."""
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        engine = player = None
        if sys.platform == "win32":
            try:  # SAPI5 is COM: each thread that uses it initialises COM itself
                import comtypes

                comtypes.CoInitialize()
            except Exception:
                pass
        try:
            engine = _engine()
        except SpeechUnavailable as e:
            self._off(e)
        if engine is not None and sys.platform.startswith("linux"):
            try:
                player = _linux_player()
            except SpeechUnavailable as e:
                self._aloud_error = e
                if self.enabled:
                    self.enabled, self._told = False, True
                    self._warn(f"no speech aloud: {e}; going on without it")
        self._ready.set()
        with tempfile.TemporaryDirectory(prefix="asl-live-speech-") as tmp:
            wav = Path(tmp) / "utterance.wav"
            while True:
                job = self._queue.get()
                if job is None:
                    return
                if engine is None:
                    continue
                text, at_s, aloud = job
                try:
                    if self.file is not None or sys.platform.startswith("linux"):
                        synthesise(engine, text, wav)
                        samples, rate = read_wav(wav)
                        if self.file is not None:
                            self.file.add(samples, rate, at_s, text)
                        if aloud and self.enabled and player is not None:
                            subprocess.run([*player, str(wav)], stdout=subprocess.DEVNULL,
                                           stderr=subprocess.DEVNULL, check=False)
                    elif aloud and self.enabled:
                        engine.say(text)
                        engine.runAndWait()
                except (SpeechUnavailable, UserError) as e:
                    self._off(e)
                    engine = None
                except Exception as e:  # a voice that fails mid-run: say so once, keep the app going
                    self._off(SpeechUnavailable(f"the voice failed ({type(e).__name__}: {e})"))
                    engine = None

    def _off(self, why: Exception) -> None:
        asked = self.enabled or self.file is not None
        self.available = self.enabled = False
        self._aloud_error = self._aloud_error or SpeechUnavailable(str(why))
        if not asked:
            return  # the window offers speech without being asked for it: say why only when s is pressed
        what = "speech" if self.file is None else f"speech (and {self.file.path})"
        self._warn(f"no {what}: {why}; going on without it")
