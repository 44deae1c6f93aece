"""Fingerspelled words at a signer's pace: per-frame letter probabilities -> the word.

A pure component: give it a spelled stretch (every frame, transitions included) as the
letters model's per-frame probabilities with the spelling hand's 21 points, and
`read_word` gives back the word, its letters with their times and confidence (`Stretch`
takes the same a frame at a time, for the live loop). No letter
has to be held: fluent signers spell four to six letters a second.

- **Letters**: a Viterbi decode over the 26 letters and a *transition* state. A frame is
  in transition when the hand changes (its shape in its own frame, or its place) fast;
  a letter must last `min_letter_s` and entering one costs `enter_cost` nats, so a shape
  passed through on the way between two letters rarely counts. Repeats collapse; a
  double letter is the same letter on both sides of a transition (the small bounce or
  slide between the two Ls of "all").
- **The stretch's own pace**: the same at four letters a second and at one. A letter lasts
  at least `hold_fraction` of the stretch's typical held letter (decoded twice where that
  is longer than `min_letter_s`), a shape shorter than `pass_fraction` of it between two
  held letters was passed through, and each part of a double letter lasts a letter: so a
  long hold is one letter, however the hand settles in it, unless it bounces or slides.
- **J and Z move**: the I hand (pinky out) tracing a hook is J, the index hand tracing a
  Z is Z, found from the fingertip's path over the stretch (`motion_letters`). Without
  such a path a still J or Z shape is no J or Z (the letters model, trained on still
  frames, learnt only their start shapes), so their probability goes to the others.
- **Words**: candidates from a word list with frequencies (`wordfreq`, English) that
  fit the letters' probabilities (the same length, one spurious letter dropped, or a
  double letter the signer did not bounce) are ranked by how well they fit plus how
  common they are; the letters as spelled win unless a word fits nearly as well, so a
  clearly spelled name stays as spelled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

LETTERS = tuple("abcdefghijklmnopqrstuvwxyz")
_J, _Z, _I = LETTERS.index("j"), LETTERS.index("z"), LETTERS.index("i")
EPS = 1e-6

# fingers' (tip, middle joint) in MediaPipe's hand order: index, middle, ring, pinky
_FINGERS = ((8, 6), (12, 10), (16, 14), (20, 18))
_KNUCKLES = [5, 9, 13, 17]


@dataclass(frozen=True)
class Params:
    """The decoder's knobs, chosen on streams of the letters model's training sources."""
    min_letter_s: float = 0.08     # a letter lasts at least this long
    enter_cost: float = 1.0        # nats to start a letter (fewer spurious transition letters)
    change_palms_s: float = 1.5    # hand change (palm lengths a second) at which a frame is half transition
    place_weight: float = 0.25     # the hand's move counts this much against its change of shape
    bounce_palms_s: float = 4.0    # inside a letter, the hand moving this fast with its shape still: a double letter
    min_confidence: float = 0.35   # a decoded letter whose mean probability is below this is dropped
    hold_fraction: float = 0.3     # a letter lasts at least this share of the stretch's typical held letter
                                   # (its pace): at a letter a second a shape passed through is no letter
    pass_fraction: float = 0.5     # ... and a shape shorter than this share of it, between two letters at
                                   # least this long (or the stretch's ends), was passed through
    sharpness: float = 0.3         # the letters' log probabilities are scaled by this before words are
                                   # ranked (the model is surer than it is right on people it never saw)
    word_weight: float = 0.6       # nats per Zipf unit of word frequency
    non_word_zipf: float = 2.0     # the frequency the letters as spelled get when they are no word
    drop_cost: float = 2.5         # nats to call one decoded letter a transition
    double_cost: float = 2.0       # nats for a double letter the hand did not mark
    motion_path_palms: float = 4.0  # J/Z: the fingertip travels at least this far
    motion_extent_palms: float = 1.0  # ... and spans this much across and down
    motion_gap_s: float = 0.2      # ... its finger may look bent (pointing at the camera) this long


@dataclass
class SpelledLetter:
    letter: str
    t_start: float
    t_end: float
    confidence: float  # mean probability of the letter over its frames (1 for a clear J/Z path)


@dataclass
class SpelledWord:
    word: str                     # the answer: a word of the list, or the letters as spelled
    spelled: str                  # the letters as decoded, before the word list
    letters: list[SpelledLetter]  # as decoded, with their times
    confidence: float             # the letters' mean confidence
    source: str                   # "as spelled", or "word list" where the word list changed the letters
    t_start: float = 0.0
    t_end: float = 0.0
    alternatives: list[tuple[str, float]] = field(default_factory=list)  # (word, score), best first

    def to_dict(self) -> dict:
        return {"word": self.word, "spelled": self.spelled, "source": self.source,
                "confidence": round(self.confidence, 4), "t_start": round(self.t_start, 4),
                "t_end": round(self.t_end, 4),
                "letters": [{"letter": l.letter, "t_start": round(l.t_start, 4), "t_end": round(l.t_end, 4),
                             "confidence": round(l.confidence, 4)} for l in self.letters]}


# --- the hand

def _palm(hands: np.ndarray) -> np.ndarray:
    return np.linalg.norm(hands[:, _KNUCKLES, :2] - hands[:, :1, :2], axis=2).mean(axis=1)


def extended(hands: np.ndarray) -> np.ndarray:
    """bool[T, 4]: index, middle, ring, pinky straight (tip farther from the wrist than its middle joint)."""
    out = []
    for tip, mid in _FINGERS:
        a = np.linalg.norm(hands[:, tip, :2] - hands[:, 0, :2], axis=1)
        b = np.linalg.norm(hands[:, mid, :2] - hands[:, 0, :2], axis=1)
        out.append(a > 1.15 * np.maximum(b, EPS))
    return np.stack(out, axis=1)


def change_rate(times: np.ndarray, hands: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(shape, place) float[T] each: how fast the hand changes, in palm lengths a second: its shape
    in its own frame (the mean point's move relative to the wrist) and its place (the wrist's move).
    NaN where there is no hand. Between two letters the shape changes; between the two of a double
    letter only the place does (a bounce or a slide)."""
    t = len(times)
    if t < 2:
        return np.zeros(t), np.zeros(t)
    palm = np.maximum(_palm(hands), EPS)
    own = (hands[:, :, :2] - hands[:, :1, :2]) / palm[:, None, None]
    place = hands[:, 0, :2] / palm[:, None]
    dt = np.maximum(np.diff(times), 1e-3)
    out = []
    for step in (np.linalg.norm(np.diff(own, axis=0), axis=2).mean(axis=1) / dt,
                 np.linalg.norm(np.diff(place, axis=0), axis=1) / dt):
        # a frame's rate: the slower of the steps into and out of it (the first and last frames of
        # a hold are still, though the hand moves just before or after them)
        out.append(np.fmin(np.r_[step[:1], step], np.r_[step, step[-1:]]))
    return out[0], out[1]


def motion_letters(times: np.ndarray, hands: np.ndarray, probs: np.ndarray,
                   params: Params = Params()) -> list[tuple[str, int, int, float, int]]:
    """J and Z from the fingertip's path: [(letter, first frame, end frame, confidence, trace end)]
    (the end frame takes in the hand held in the same shape after the trace).

    J: a stretch of the I hand (index and middle bent, the pinky straight but for short gaps)
    whose pinky tip travels
    `motion_path_palms` and spans `motion_extent_palms` both across and down (the hook),
    where the letters model prefers I/J to Y (the Y hand has the pinky out too).
    Z: a stretch of the index hand (the others bent, the index straight but for short gaps) whose
    index tip does the
    same with at least two turns across (the zigzag)."""
    ok = ~np.isnan(hands).any(axis=(1, 2))
    if ok.sum() < 3:
        return []
    ext = np.zeros((len(hands), 4), bool)
    ext[ok] = extended(hands[ok])
    palm = np.where(ok, _palm(np.nan_to_num(hands)), np.nan)
    # the run: the other fingers bent, the moving finger straight, but for up to `motion_gap_s` at a
    # time (mid-stroke it points at the camera and looks short)
    gap = max(1, int(round(params.motion_gap_s / max(float(np.median(np.diff(times))), 1e-3))))
    shapes = (("j", ~ext[:, 0] & ~ext[:, 1], ext[:, 3], 20),
              ("z", ~ext[:, 1] & ~ext[:, 2] & ~ext[:, 3], ext[:, 0], 8))
    found = []
    for letter, flag, straight, tip in shapes:
        for a, b in _runs(flag & straight & ok, gap=gap):
            if b - a < 3 or flag[a:b].mean() < 0.7:
                continue
            run_end = b
            a, b = _moving_part(times, hands[:, tip, :2] / np.nanmean(palm[a:b]), a, b, params)
            sel = np.arange(a, b)[ok[a:b]]
            if len(sel) < 3:
                continue
            p = hands[sel, tip, :2] / np.nanmean(palm[sel])
            path = float(np.linalg.norm(np.diff(p, axis=0), axis=1).sum())
            span = p.max(axis=0) - p.min(axis=0)
            if path < params.motion_path_palms or (span < params.motion_extent_palms).any():
                continue
            mean = probs[sel].mean(axis=0)
            if letter == "j" and mean[LETTERS.index("y")] > mean[_I] + mean[_J]:
                continue
            turns = _turns(p[:, 0])
            if letter == "z" and turns < 2:
                continue
            conf = float(min(1.0, path / (2 * params.motion_path_palms)) * 0.5 + 0.5)
            # the hand held in the same shape after the trace is still the J or Z (not another I)
            if letter == "z" and turns >= 5:
                # a Z turns twice across; five turns or more are two Zs (pizza), one after the other
                m = (a + b) // 2
                found += [(letter, int(a), m, conf, m), (letter, m + 1, int(run_end), conf, int(b))]
            else:
                found.append((letter, int(a), int(run_end), conf, int(b)))
    return found


def _moving_part(times, tip, a: int, b: int, params: Params) -> tuple[int, int]:
    """The part of frames a..b where the fingertip moves (faster than `bounce_palms_s`), the longest
    path of it: a held I before a J, or an index hand before a Z, is that letter, not the trace."""
    dt = np.maximum(np.diff(times[a:b]), 1e-3)
    v = np.linalg.norm(np.diff(tip[a:b], axis=0), axis=1) / dt
    v = np.nan_to_num(v)
    moving = np.r_[v, 0.0] >= params.bounce_palms_s
    moving |= np.r_[0.0, v] >= params.bounce_palms_s  # a frame a fast step ends on moves too
    best, best_path = (a, a), -1.0
    for r0, r1 in _runs(moving, gap=2):
        path = float(v[r0:max(r0, r1 - 1)].sum())
        if path > best_path:
            best, best_path = (a + r0, a + r1), path
    return best


def _runs(flag: np.ndarray, gap: int = 0) -> list[tuple[int, int]]:
    """[(start, end)] of the True runs, runs apart by at most `gap` False frames merged."""
    idx = np.flatnonzero(flag)
    if not len(idx):
        return []
    out = [[idx[0], idx[0] + 1]]
    for i in idx[1:]:
        if i - out[-1][1] <= gap:
            out[-1][1] = i + 1
        else:
            out.append([i, i + 1])
    return [(int(a), int(b)) for a, b in out]


def _turns(x: np.ndarray, min_step: float = 0.3) -> int:
    """Turns of direction along x, ignoring moves smaller than `min_step` (palm lengths)."""
    turns, direction, anchor = 0, 0, x[0]
    for v in x[1:]:
        d = v - anchor
        if abs(d) < min_step:
            continue
        s = 1 if d > 0 else -1
        if direction and s != direction:
            turns += 1
        direction, anchor = s, v
    return turns


# --- letters

def decode_letters(times, probs, hands, params: Params = Params()) -> list[SpelledLetter]:
    """The likeliest letters of a spelled stretch (see the module's notes)."""
    times, probs, hands = _checked(times, probs, hands)
    t = len(times)
    if t == 0:
        return []
    ok = ~np.isnan(hands).any(axis=(1, 2))
    p = probs.astype(np.float64).copy()
    p[~ok] = 1.0 / len(LETTERS)
    moves = motion_letters(times, hands, p, params)
    in_move = np.zeros(t, bool)
    # a still J or Z shape is no J or Z: their probability goes to the other letters
    p[:, [_J, _Z]] = 0.0
    p /= np.maximum(p.sum(axis=1, keepdims=True), EPS)
    still = p.copy()
    for letter, a, b, conf, _ in moves:
        k = LETTERS.index(letter)
        p[a:b] = (1 - conf) * p[a:b]
        p[a:b, k] += conf
        in_move[a:b] = True
    # between two of the same moving letter (a double Z), the frame that parts them
    parting = [m[2] for m, n in zip(moves, moves[1:]) if m[0] == n[0] and n[1] == m[2] + 1]
    shape, place = change_rate(times, hands)
    rate = shape + params.place_weight * place
    rate = np.where(np.isnan(rate), 0.0, rate)
    q = np.where(ok, np.clip(rate / (rate + params.change_palms_s), 0.02, 0.98), 1.0)
    q[in_move] = 0.02
    q[parting] = 0.98
    dt = float(np.median(np.diff(times))) if t > 1 else 1 / 30
    d = max(1, int(round(params.min_letter_s / max(dt, 1e-3))))
    letter_ll, blank_ll = np.log(p + EPS) + np.log1p(-q + EPS)[:, None], np.log(q + EPS)
    path = _viterbi(letter_ll, blank_ll, d, params.enter_cost)
    # the stretch's own pace: a letter lasts at least `hold_fraction` of its median letter, so that
    # at a slow pace a shape passed through between two long holds is no letter (fast: no change)
    slow = int(round(params.hold_fraction * _pace(_segments(path), in_move)))
    if slow > d:
        d = slow
        path = _viterbi(letter_ll, blank_ll, d, params.enter_cost)
    out = []
    segs = _after_traces(_split_doubles(_segments(path), shape, place, params, d), moves, still, shape, place,
                         params, d)
    # the letters left are held ones: the stretch's typical letter is their median
    pace = float(np.median([b - a for _, a, b in segs if not in_move[a:b].any()] or [0]))
    keep = []
    for i, (k, a, b) in enumerate(segs):
        before = segs[i - 1][2] - segs[i - 1][1] if i else pace
        after = segs[i + 1][2] - segs[i + 1][1] if i + 1 < len(segs) else pace
        if (not in_move[a:b].any() and b - a < params.pass_fraction * pace
                and min(before, after) >= params.pass_fraction * pace):
            continue
        keep.append((k, a, b))
    for k, a, b in keep:
        conf = float((p if k in (_J, _Z) else still)[a:b, k].mean())
        if conf < params.min_confidence:
            continue
        out.append(SpelledLetter(LETTERS[k], float(times[a]), float(times[b - 1]), conf))
    return out


def _viterbi(letter_ll: np.ndarray, blank_ll: np.ndarray, d: int, enter_cost: float) -> np.ndarray:
    """int[T]: the state of each frame, -1 for transition, else the letter index.

    States: transition, and each letter as a chain of `d` sub-states (its minimum length);
    a letter is entered from transition or from the end of another letter's chain."""
    t, n = letter_ll.shape
    neg = -1e18
    # score[0] transition, score[1 + l*d + k] letter l, k frames in (k = d-1: d or more)
    score = np.full(1 + n * d, neg)
    score[0] = blank_ll[0]
    score[1::d] = letter_ll[0] - enter_cost
    back = np.zeros((t, 1 + n * d), np.int32)
    heads = 1 + np.arange(n) * d
    tails = heads + d - 1
    for i in range(1, t):
        new = np.full_like(score, neg)
        arg = np.zeros(len(score), np.int32)
        # transition <- transition or a finished letter
        cands = np.r_[score[0], score[tails]]
        j = int(np.argmax(cands))
        new[0], arg[0] = cands[j], 0 if j == 0 else tails[j - 1]
        # a letter's first frame <- transition or another letter's end
        tail_scores = score[tails]
        best_two = np.argsort(tail_scores)[-2:][::-1]
        other = np.where(np.arange(n) != best_two[0], best_two[0], best_two[1])  # the best other letter
        from_blank = score[0] >= tail_scores[other]
        new[heads] = np.where(from_blank, score[0], tail_scores[other]) - enter_cost
        arg[heads] = np.where(from_blank, 0, tails[other])
        # inside a letter's chain; the last sub-state also stays
        if d > 1:
            for k in range(1, d):
                new[heads + k] = score[heads + k - 1]
                arg[heads + k] = heads + k - 1
            stay = score[tails] >= score[tails - 1]
            new[tails] = np.where(stay, score[tails], score[tails - 1])
            arg[tails] = np.where(stay, tails, tails - 1)
        else:
            # d == 1: the head is the tail; staying competes with entering
            stay = score[tails] > new[tails]
            new[tails] = np.where(stay, score[tails], new[tails])
            arg[tails] = np.where(stay, tails, arg[tails])
        new[0] += blank_ll[i]
        new[1:] += np.repeat(letter_ll[i], d)
        score, back[i] = new, arg
    # end in transition or a finished letter
    ends = np.r_[0, tails]
    s = int(ends[np.argmax(score[ends])])
    states = np.zeros(t, np.int32)
    for i in range(t - 1, -1, -1):
        states[i] = s
        s = back[i, s]
    return np.where(states == 0, -1, (states - 1) // d)


def _segments(path: np.ndarray) -> list[tuple[int, int, int]]:
    """[(letter, first frame, end frame)] of the letter runs of a decoded path."""
    out = []
    i = 0
    while i < len(path):
        if path[i] < 0:
            i += 1
            continue
        j = i
        while j < len(path) and path[j] == path[i]:
            j += 1
        out.append((int(path[i]), i, j))
        i = j
    return out


def _after_traces(segments, moves, still, shape, place, params: Params, d: int):
    """After a J or Z is traced the hand may hold its end shape (still that letter), or bounce and
    hold it again: then that hold, `d` frames or more, is the next letter (the I of "jim"), read from
    the still shapes' probabilities."""
    out = []
    for k, a, b in segments:
        te = next((m[4] for m in moves if k == LETTERS.index(m[0]) and m[1] <= a < m[2]), None)
        if te is not None:
            bounce = (place[te:b] >= params.bounce_palms_s) & (shape[te:b] < params.change_palms_s)
            runs = [(te + r0, te + r1) for r0, r1 in _runs(bounce, gap=1) if b - (te + r1) >= d]
            if runs:
                r0, r1 = runs[0]
                out += [(k, a, r0), (int(np.argmax(still[r1:b].mean(axis=0))), r1, b)]
                continue
        out.append((k, a, b))
    return out


def _pace(segments, in_move: np.ndarray) -> float:
    """Frames of the stretch's typical held letter: the length of the letter the median held frame
    is in (brief shapes passed through do not pull it down; J and Z, traced, do not count)."""
    lengths = sorted(b - a for _, a, b in segments if not in_move[a:b].any())
    if not lengths:
        return 0.0
    half = np.searchsorted(np.cumsum(lengths), sum(lengths) / 2)
    return float(lengths[min(int(half), len(lengths) - 1)])


def _split_doubles(segments, shape, place, params: Params, d: int = 1):
    """A letter's frames split in two where, inside them, the hand moves (a bounce or a slide)
    while its shape stays: the same letter twice, each part lasting `d` frames or more (a long hold
    that settles after the hand arrives is one letter)."""
    out = []
    for k, a, b in segments:
        if k in (_J, _Z):  # letters that move
            out.append((k, a, b))
            continue
        bounce = (place[a:b] >= params.bounce_palms_s) & (shape[a:b] < params.change_palms_s)
        parts, start = [], a
        for r0, r1 in _runs(bounce, gap=1):
            if r0 > 0 and a + r1 < b and a + r0 - start >= d and b - (a + r1) >= d:  # still on both sides
                parts.append((k, start, a + r0))
                start = a + r1
        parts.append((k, start, b))
        out.extend(parts)
    return out


def _checked(times, probs, hands):
    times = np.asarray(times, np.float64).reshape(-1)
    probs = np.asarray(probs, np.float64)
    hands = np.asarray(hands, np.float64)
    t = len(times)
    if probs.shape != (t, len(LETTERS)):
        raise ValueError(f"probs must be [{t}, {len(LETTERS)}] (one row of letter probabilities a frame), "
                         f"got {list(probs.shape)}")
    if hands.shape != (t, 21, 3) and not (hands.ndim == 3 and hands.shape[1:] == (21, 2) and len(hands) == t):
        raise ValueError(f"hands must be [{t}, 21, 3] (the spelling hand's points, NaN without a hand), "
                         f"got {list(hands.shape)}")
    if not np.isfinite(times).all() or (t > 1 and (np.diff(times) <= 0).any()):
        raise ValueError("times must be finite and increasing")
    if not np.isfinite(probs).all() or (probs < 0).any():
        raise ValueError("probs must be finite and not negative")
    return times, probs, hands


# --- words

@lru_cache(maxsize=2)
def word_list(n: int = 100_000, lang: str = "en") -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """{length: (words as int[N, length] letter indices, Zipf frequencies float[N])} of the `n`
    most frequent words of `lang` spelled with a-z only (wordfreq's list, shipped in its wheel)."""
    import wordfreq

    by_len: dict[int, list] = {}
    for w in wordfreq.top_n_list(lang, n):
        if w.isascii() and w.isalpha() and w.islower():
            by_len.setdefault(len(w), []).append(w)
    out = {}
    for k, ws in by_len.items():
        codes = np.array([[ord(c) - 97 for c in w] for w in ws], np.int16)
        out[k] = (codes, np.array([wordfreq.zipf_frequency(w, lang) for w in ws]))
    return out


def zipf(word: str, lang: str = "en") -> float:
    import wordfreq

    return float(wordfreq.zipf_frequency(word, lang))


def rank_words(letter_probs: np.ndarray, params: Params = Params(), top: int = 5) -> list[tuple[str, float]]:
    """Words of the list that fit `letter_probs` (float[n, 26]: each decoded letter's mean
    probabilities), scored by fit (log probability) + `word_weight` x Zipf frequency, less a cost
    for a dropped letter or an unmarked double letter; best first."""
    n = len(letter_probs)
    if n == 0:
        return []
    logp = params.sharpness * np.log(np.asarray(letter_probs, np.float64) + EPS)
    lists = word_list()
    found: dict[str, float] = {}

    def score(rows: np.ndarray, length: int, cost: float, keep=None) -> None:
        if length not in lists:
            return
        codes, freq = lists[length]
        if keep is not None:
            m = keep(codes)
            codes, freq = codes[m], freq[m]
        if not len(codes):
            return
        fit = rows[np.arange(length)[None, :], codes].sum(axis=1)
        total = fit + params.word_weight * freq - cost
        best = np.argsort(total)[::-1][:top]
        for i in best:
            w = "".join(LETTERS[c] for c in codes[i])
            found[w] = max(found.get(w, -np.inf), float(total[i]))

    score(logp, n, 0.0)
    if n > 1:
        for k in range(n):
            score(np.delete(logp, k, axis=0), n - 1, params.drop_cost)
    for k in range(n):
        rows = np.insert(logp, k + 1, logp[k], axis=0)
        rows[k + 1] = 0.0  # the second of the two letters adds no fit: the hand showed one
        score(rows, n + 1, params.double_cost, keep=lambda c, k=k: c[:, k] == c[:, k + 1])
    return sorted(found.items(), key=lambda kv: -kv[1])[:top]


def read_word(times, probs, hands, params: Params = Params(), use_words: bool = True) -> SpelledWord | None:
    """The word of a spelled stretch, or None when no letter was read.

    times: float[T] seconds, increasing; probs: float[T, 26], the letters model's per-frame
    probabilities in a-z order; hands: float[T, 21, 3], the spelling hand (NaN where none)."""
    letters = decode_letters(times, probs, hands, params)
    if not letters:
        return None
    times_, probs_, hands_ = _checked(times, probs, hands)
    spelled = "".join(l.letter for l in letters)
    conf = float(np.mean([l.confidence for l in letters]))
    word, source, alts = spelled, "as spelled", []
    if use_words:
        rows = _letter_probs(times_, probs_, letters)
        fit = params.sharpness * float(sum(math.log(rows[i, LETTERS.index(c)] + EPS) for i, c in enumerate(spelled)))
        own = zipf(spelled)
        mine = fit + params.word_weight * max(own, params.non_word_zipf)
        alts = rank_words(rows, params)
        if alts and alts[0][0] != spelled and alts[0][1] > mine:
            word, source = alts[0][0], "word list"
    return SpelledWord(word, spelled, letters, conf, source, letters[0].t_start, letters[-1].t_end, alts)


def _letter_probs(times: np.ndarray, probs: np.ndarray, letters: list[SpelledLetter]) -> np.ndarray:
    """float[n, 26]: each decoded letter's mean probabilities over its frames (J and Z, read
    from motion, are one-hot)."""
    rows = []
    for l in letters:
        m = (times >= l.t_start) & (times <= l.t_end)
        if l.letter in ("j", "z"):
            r = np.full(len(LETTERS), 0.01 / (len(LETTERS) - 1))
            r[LETTERS.index(l.letter)] = 0.99
        else:
            r = probs[m].mean(axis=0).copy()
            r[[_J, _Z]] = 0.0
            r /= max(r.sum(), EPS)
        rows.append(r)
    return np.array(rows)


def spelling_hand(frame: np.ndarray) -> np.ndarray:
    """float[21, 3] of the spelling hand in a [543, 3] GISLR frame (of two, the higher wrist, as
    the letters model reads it), NaN without a hand."""
    from asl_live.formats.layout import LEFT_HAND, RIGHT_HAND

    best = None
    for rows in (LEFT_HAND, RIGHT_HAND):
        h = frame[rows]
        if np.isnan(h[:, :2]).any():
            continue
        if best is None or h[0, 1] < best[0, 1]:
            best = h
    return np.full((21, 3), np.nan) if best is None else np.asarray(best, np.float64)


class Stretch:
    """One spelled stretch, fed a frame at a time by the live loop; `word()` decodes what came.

    `labels`: the letters model's labels in its output order (its label map); the frames' probabilities
    are taken in that order. O(1) a frame; `word()` costs a few ms for a second of spelling."""

    def __init__(self, labels=LETTERS, params: Params = Params()):
        labels = [str(c).lower() for c in labels]
        missing = [c for c in LETTERS if c not in labels]
        if missing:
            raise ValueError(f"the letters model has no {', '.join(missing)}: a fingerspelling reader needs a-z")
        self._order = np.array([labels.index(c) for c in LETTERS])
        self.params = params
        self._t: list[float] = []
        self._p: list[np.ndarray] = []
        self._h: list[np.ndarray] = []

    def push(self, t: float, probs, hand) -> None:
        """One frame: its time, the letters model's probabilities (None without a hand) and the
        spelling hand's 21 points (`spelling_hand(frame)`; None or NaN without one)."""
        if self._t and t <= self._t[-1]:
            raise ValueError(f"frame times must increase ({t} after {self._t[-1]})")
        h = np.full((21, 3), np.nan) if hand is None else np.asarray(hand, np.float64).reshape(21, 3)
        if probs is None or np.isnan(h).any():
            p = np.full(len(LETTERS), 1.0 / len(LETTERS))
        else:
            p = np.asarray(probs, np.float64).reshape(-1)[self._order]
        self._t.append(float(t))
        self._p.append(p)
        self._h.append(h)

    def __len__(self) -> int:
        return len(self._t)

    def word(self, use_words: bool = True) -> SpelledWord | None:
        if not self._t:
            return None
        return read_word(np.array(self._t), np.array(self._p), np.array(self._h), self.params, use_words)
