"""The app's loop in this process: provisional labels on the real clip's real landmarks with a real
TFLite model, `steps`/`recognitions`, and the worker thread (`Ahead`) the window runs them in."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from asl_live.model.classifier import Classifier
from asl_live.errors import UserError
from asl_live.reading.pipeline import PROVISIONAL_MIN_FRAMES, Ahead, Landmarks, Recognizer, recognitions, steps
from asl_live.capture.sources import Item, Source


class Frames(Source):
    """Landmark frames as a replay-like source (one sequence, 30 fps)."""

    def __init__(self, frames: np.ndarray):
        self.frames = frames
        self.name = "frames"

    def __iter__(self):
        for i, f in enumerate(self.frames):
            yield Item(i, i / 30, None, f)


@pytest.fixture(scope="module")
def classifier(tiny_model):
    model, labels = tiny_model
    return Classifier(model, labels, threshold=0.0)


def guesses(frames, classifier, **kw):
    """(every Step, [(frame index, prediction)] each time a new guess appeared)."""
    recognizer = Recognizer(classifier, **kw)
    all_steps = list(steps(Frames(frames), recognizer, Landmarks()))
    made, last = [], None
    for s in all_steps:
        if s.provisional is not None and s.provisional is not last:
            made.append((s.item.index, s.provisional))
        last = s.provisional
    return all_steps, made


def test_guesses_come_at_a_bounded_rate_while_signing_and_the_answer_is_unchanged(clip_landmarks, classifier):
    frames, _ = clip_landmarks
    all_steps, made = guesses(frames, classifier, provisional_every=5, provisional_min_s=0.0)
    (ended_at,) = [s.item.index for s in all_steps if s.recognition is not None]
    final = all_steps[ended_at].recognition
    start = final.start_frame
    assert start == 6  # the hand comes into view at frame 6
    idx = [i for i, _ in made]
    # The first guess once the sign has PROVISIONAL_MIN_FRAMES frames, then one every 5 frames,
    # only while the sign is in progress, and none once it has ended.
    assert idx[0] == start + PROVISIONAL_MIN_FRAMES - 1
    assert np.diff(idx).tolist() == [5] * (len(idx) - 1)
    assert len(idx) >= 10 and idx[-1] < ended_at
    assert all(s.state == "signing" for s in all_steps if s.provisional is not None)
    assert [s.provisional for s in all_steps if s.recognition is not None] == [None]
    # Each guess is the classifier's answer on the sign's frames so far.
    i, guess = made[2]
    expected = classifier(frames[start:i + 1])
    assert guess.sign == expected.sign and guess.score == pytest.approx(expected.score, abs=1e-6)
    # The final answer (and so the JSON line) is the same as without guesses.
    plain = list(recognitions(Frames(frames), Recognizer(classifier), Landmarks()))
    assert [r.to_json() for r in plain] == [final.to_json()]


def test_a_time_bound_limits_guesses_too(clip_landmarks, classifier):
    frames, _ = clip_landmarks
    _, made = guesses(frames, classifier, provisional_every=1, provisional_min_s=3600.0)
    assert len(made) == 1  # one guess in the hour; at most one per provisional_min_s
    _, none = guesses(frames, classifier)  # off unless asked for (headless)
    assert none == []


def test_guesses_left_to_another_thread_are_due_at_the_same_frames_and_give_the_same_answers(
        clip_landmarks, classifier):
    """The window's way: the pipeline thread only copies the frames so far; a twin interpreter guesses."""
    frames, _ = clip_landmarks
    _, here = guesses(frames, classifier, provisional_every=5, provisional_min_s=0.0)
    recognizer = Recognizer(classifier, provisional_every=5, provisional_min_s=0.0, guess_here=False)
    # Each Step's copy must survive the pushes after it: keep them all, then classify.
    due = [(s.item.index, s.guess_frames) for s in steps(Frames(frames), recognizer, Landmarks())
           if s.guess_frames is not None]
    assert recognizer.provisional is None  # nothing was classified in the pipeline's thread
    assert [i for i, _ in due] == [i for i, _ in here]
    twin = classifier.twin()
    assert twin._interpreter is not classifier._interpreter
    for (i, f), (_, p) in zip(due, here):
        start = i + 1 - len(f)
        np.testing.assert_array_equal(f, frames[start:i + 1])
        g = twin(f)
        assert g.sign == p.sign and g.score == pytest.approx(p.score, abs=1e-6)
        np.testing.assert_allclose(twin.probabilities(f), classifier.probabilities(f), atol=1e-6)


def test_ahead_runs_ahead_in_a_thread_and_hands_errors_over():
    produced = []

    def numbers():
        for i in range(5):
            produced.append(i)
            yield i
        raise UserError("the source broke")

    work = Ahead(numbers(), depth=2)
    time.sleep(0.3)
    assert produced == [0, 1, 2]  # two waiting in the queue, the third held until there is room
    got = [work.get(), work.get()]
    with pytest.raises(UserError, match="the source broke"):
        while True:
            got.append(work.get())
    assert got == [0, 1, 2, 3, 4]
    work.close()


def test_closing_ahead_stops_the_worker_and_runs_the_generators_cleanup():
    cleaned = threading.Event()

    def endless():
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            cleaned.set()

    work = Ahead(endless(), depth=1)
    assert work.get() == 0
    work.close(timeout=5)
    assert cleaned.is_set() and not work._thread.is_alive()
    assert work.get_or_none() in (None, 1)  # at most what was already queued
