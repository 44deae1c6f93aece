"""Fingerspelling read at a signer's pace (`asl_live.reading.fingerspelling`), on people never trained on.

    nice python benchmarks/letters/bench_fingerspelling.py alphabet
    nice python benchmarks/letters/bench_fingerspelling.py words --folds DIR DS1 DS2 DS3 DS4 [--json OUT]
    nice python benchmarks/letters/bench_fingerspelling.py recall --folds DIR DS1 DS2 DS3 DS4 [--still-only] [--json OUT]
    nice python benchmarks/letters/bench_fingerspelling.py nested --folds DIR DS1 DS2 DS3 DS4

alphabet: the 26 clips of `letters/spoken_to_signed_ase` (one signer, real Holistic landmarks, 25 fps,
  J and Z moving; no letters model here trained on them: the bundled one was trained on the four
  still-frame sources, `assets/LETTERS_MODEL_CARD.md`) played one after the other, each whole, as one
  stream; the bundled letters model on every frame; the letters decoded with no word list. Letters right
  out of 26 by an edit-distance alignment of the decoded string to a-z (extra letters counted apart).
words: WORDS spelled at 4, 5 and 6 letters a second (30 fps; `train.letter_streams.assemble`: per letter
  HOLD frames, TRANS interpolated frames between letters, a bounce for a double letter):
  - spoken_to_signed_ase, bundled model: per letter the clip's middle HOLD frames; J and Z: the clip's
    moving part (10-90%), every 2nd frame;
  - each still-frame source with the letters model trained on the other three (DIR/<source>, made by
    `benchmarks/letters/train_folds.py`): per letter one sample of that source, drawn at random
    (seed 0) for each letter of each word, its frame 0 repeated HOLD times. Words with J or Z (they
    move; these sources are still) or a letter the source lacks are left out.
  Words right = the decoder's word equals the word spelled.
nested: the word list's weights chosen on three still-frame sources' word streams, scored on the
  fourth (is the default a choice that holds on people it was not chosen on?).
recall: per-letter recall of the letters model, one frame a sample: each still-frame source with the
  model trained on the other three (frame 0 of each sample), and the motion signer (spoken_to_signed_ase:
  the middle third of each clip, every frame) with the bundled model and with each fold's model.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from asl_live import bundled  # noqa: E402
from asl_live.model.classifier import Classifier  # noqa: E402
from asl_live.reading import fingerspelling as F  # noqa: E402
from asl_live.formats.layout import RIGHT_HAND  # noqa: E402
from train.letter_streams import assemble, ase_alphabet, clip_part, keras_letters, letter_run, tflite_letters  # noqa: E402

ASE = Path("/work/shared/data/letters/spoken_to_signed_ase")
# fixed before any figure was seen: the natural-speed words, common words, names, double
# letters, J and Z
WORDS = ["car", "bus", "job", "ok", "back", "club", "burn", "alligator", "bear", "obrien",
         "cat", "dan", "fox", "hello", "all", "book", "zoo", "pizza", "water", "name",
         "help", "family", "coffee", "mary", "john", "lisa", "kevin", "apple", "school", "happy",
         "yellow", "quiz", "jazz", "tadeo", "vibeke"]
SPEEDS = {4: (4, 3), 5: (3, 3), 6: (2, 3)}  # letters a second at 30 fps: (hold, trans) frames (4.3, 5, 6)
CONFUSABLE = ("m", "n", "s", "t", "a", "e", "g", "h", "q", "p", "u")


def align(got: str, want: str) -> dict:
    """Edit-distance alignment: letters right, substituted, missed, extra."""
    n, m = len(got), len(want)
    d = np.zeros((n + 1, m + 1), int)
    d[:, 0], d[0, :] = np.arange(n + 1), np.arange(m + 1)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            d[i, j] = min(d[i - 1, j] + 1, d[i, j - 1] + 1, d[i - 1, j - 1] + (got[i - 1] != want[j - 1]))
    i, j, out = n, m, {"right": [], "substituted": [], "missed": [], "extra": []}
    while i or j:
        if i and j and d[i, j] == d[i - 1, j - 1] + (got[i - 1] != want[j - 1]):
            out["right" if got[i - 1] == want[j - 1] else "substituted"].append(
                want[j - 1] if got[i - 1] == want[j - 1] else f"{want[j - 1]}->{got[i - 1]}")
            i, j = i - 1, j - 1
        elif j and d[i, j] == d[i, j - 1] + 1:
            out["missed"].append(want[j - 1])
            j -= 1
        else:
            out["extra"].append(got[i - 1])
            i -= 1
    return {k: v[::-1] for k, v in out.items()}


def bundled_letters():
    return tflite_letters(Classifier(bundled.LETTERS_MODEL, bundled.LETTERS_LABELS))


def alphabet() -> dict:
    clips = ase_alphabet(ASE)
    probs_of = bundled_letters()
    P, H, T, t0 = [], [], [], 0.0
    for c in F.LETTERS:
        frames, fps = clips[c]
        p, h = letter_run(frames, probs_of)
        P.append(p), H.append(h), T.append(t0 + np.arange(len(frames)) / fps)
        t0 = T[-1][-1] + 1 / fps
    P, H, T = np.concatenate(P), np.concatenate(H), np.concatenate(T)
    t = time.perf_counter()
    got = "".join(l.letter for l in F.decode_letters(T, P, H))
    ms = 1000 * (time.perf_counter() - t)
    a = align(got, "".join(F.LETTERS))
    print(f"alphabet as motion (spoken_to_signed_ase, {len(T)} frames, {T[-1]:.1f} s): read {got!r}")
    print(f"  letters right {len(a['right'])}/26; substituted {a['substituted']}, missed {a['missed']}, "
          f"extra {a['extra']}; J {'j' in a['right']}, Z {'z' in a['right']}; decode {ms:.0f} ms")
    return {"read": got, **a, "right_of_26": len(a["right"]), "frames": int(len(T))}


def still_pickers(datasets, folds, rng):
    from train import letters as L

    for ds in datasets:
        name = Path(ds).name
        hands, letters, _, _ = L.load_hands(ds, first_only=True)
        model, classes = L.load(Path(folds) / name)
        by = {c: hands[letters == c] for c in set(letters)}

        def pick(c, by=by):
            return by[c][rng.integers(len(by[c]))][None]
        yield name, pick, set(by) & set(classes), keras_letters(model, classes)


def streams(datasets, folds, speeds=SPEEDS):
    """{source: {speed: [(word, times, probs, hands)]}}: every word stream read by its letters model."""
    rng = np.random.default_rng(0)
    clips = {c: f[:, RIGHT_HAND] for c, (f, _) in ase_alphabet(ASE).items()}
    sources = [("spoken_to_signed_ase (bundled model)", None, set(F.LETTERS), bundled_letters())]
    sources += list(still_pickers(datasets, folds, rng)) if folds else []
    out = {}
    for name, pick, have, probs_of in sources:
        ws = [w for w in WORDS if set(w) <= have and (pick is None or not set(w) & {"j", "z"})]
        out[name] = {}
        for speed, (hold, trans) in speeds.items():
            out[name][speed] = []
            for w in ws:
                p = (lambda c, hold=hold: clip_part(clips[c], c, hold)) if pick is None else pick
                frames, times, _ = assemble(w, p, hold, trans)
                out[name][speed].append((w, times, *letter_run(frames, probs_of)))
    return out


def read_all(runs, params=F.Params(), timings=None):
    got = []
    for w, times, probs, hands in runs:
        t = time.perf_counter()
        r = F.read_word(times, probs, hands, params)
        if timings is not None:
            timings.append((time.perf_counter() - t) / max(times[-1] - times[0], 1e-3))
        got.append((w, r.word if r else "", r.spelled if r else ""))
    return got


def words(datasets, folds) -> dict:
    out = {}
    for name, by_speed in streams(datasets, folds).items():
        out[name] = {}
        for speed, runs in by_speed.items():
            hold, trans = SPEEDS[speed]
            timings = []
            got = read_all(runs, timings=timings)
            right = sum(a == b for a, b, _ in got)
            out[name][speed] = {"right": right, "of": len(got), "read": got,
                                "ms_per_s_of_spelling": 1000 * float(np.median(timings))}
            wrong = ", ".join(f"{a}->{b}" + (f" ({s})" if s != b else "") for a, b, s in got if a != b)
            print(f"{name}, {speed} letters/s (hold {hold}, trans {trans}): words right {right}/{len(got)}; "
                  f"wrong: {wrong}; decode median {1000 * np.median(timings):.0f} ms a second of spelling",
                  flush=True)
    return out


def nested(datasets, folds) -> dict:
    """The word list's two weights (`sharpness`, `word_weight`) chosen for each still-frame source
    on the other three sources' word streams (all speeds), then scored on it: is the default a
    choice that holds on people it was not chosen on?"""
    from dataclasses import replace

    grid = [(s, w) for s in (0.3, 0.5, 1.0) for w in (0.3, 0.6, 1.0)]
    data = {k: v for k, v in streams(datasets, folds).items() if not k.startswith("spoken")}
    score = {k: {g: sum(a == b for runs in v.values() for a, b, _ in
                        read_all(runs, replace(F.Params(), sharpness=g[0], word_weight=g[1])))
                 for g in grid} for k, v in data.items()}
    total = {k: sum(len(r) for r in v.values()) for k, v in data.items()}
    out = {}
    for held in data:
        inner = {g: sum(score[k][g] for k in data if k != held) for g in grid}
        pick = max(grid, key=lambda g: (inner[g], g == (0.5, 0.6)))
        out[held] = {"picked": pick, "held_out_right": score[held][pick], "default_right": score[held][(0.5, 0.6)],
                     "of": total[held], "all": {str(g): score[held][g] for g in grid}}
        print(f"{held}: picked sharpness {pick[0]}, word weight {pick[1]} on the others -> words right "
              f"{score[held][pick]}/{total[held]} (default 0.5/0.6: {score[held][(0.5, 0.6)]}); "
              f"grid: {out[held]['all']}", flush=True)
    return out


def recall(datasets, folds, still_only: bool = False) -> dict:
    """`still_only`: J and Z left out of the test and of the answers, as the fingerspelling reader
    reads a still frame (J and Z come from motion)."""
    from train import letters as L

    def argmax(probs, classes):
        probs = np.array(probs, copy=True)
        if still_only:
            probs[:, [i for i, c in enumerate(classes) if c in ("j", "z")]] = -1
        return np.array(classes)[probs.argmax(axis=1)]

    out = {}
    clips = ase_alphabet(ASE)
    ase_h, ase_l = [], []
    for c, (frames, _) in clips.items():
        t = len(frames)
        for f in frames[t // 3: 2 * t // 3]:
            ase_h.append(f[RIGHT_HAND])
            ase_l.append(c)
    ase_h, ase_l = np.array(ase_h, np.float32), np.array(ase_l)
    frames = np.full((len(ase_h), 543, 3), np.nan, np.float32)
    frames[:, RIGHT_HAND] = ase_h
    if still_only:
        keep = ~np.isin(ase_l, ["j", "z"])
        ase_h, ase_l, frames = ase_h[keep], ase_l[keep], frames[keep]
    pred = argmax(bundled_letters()(frames), list(F.LETTERS))
    out["spoken_to_signed_ase, bundled model"] = L.recall_report(ase_l, pred, list(F.LETTERS))
    for ds in datasets:
        name = Path(ds).name
        model, classes = L.load(Path(folds) / name)
        hands, letters, _, _ = L.load_hands(ds, first_only=True)
        keep = np.isin(letters, classes) & (~np.isin(letters, ["j", "z"]) if still_only else True)
        p = argmax(L.predict(model, hands[keep]), classes)
        out[f"{name} (trained on the other three)"] = L.recall_report(letters[keep], p, classes)
        pa = argmax(L.predict(model, ase_h), classes)
        out[f"spoken_to_signed_ase, model without {name}"] = L.recall_report(ase_l, pa, classes)
    for k, r in out.items():
        worst = sorted(r["recall"].items(), key=lambda kv: kv[1])[:6]
        conf = ", ".join(f"{c.upper()} {r['recall'][c]:.2f}" for c in CONFUSABLE if c in r["recall"])
        print(f"{k}: mean per-letter recall {r['mean_recall']:.3f} ({r['samples']} samples); "
              f"confusable: {conf}; lowest: " + ", ".join(
                  f"{c.upper()} {v:.2f} (as {', '.join(f'{w.upper()} {n}' for w, n in list(r['confusions'][c].items())[:2])})"
                  for c, v in worst), flush=True)
    loso = [r["mean_recall"] for k, r in out.items() if "trained on the other three" in k]
    if loso:
        print(f"leave-one-source-out mean of {len(loso)}: {np.mean(loso):.3f}")
    return out


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=["alphabet", "words", "recall", "nested"])
    p.add_argument("datasets", nargs="*")
    p.add_argument("--folds")
    p.add_argument("--json")
    p.add_argument("--still-only", action="store_true", help="recall: without J and Z (read from motion)")
    args = p.parse_args()
    if args.what == "alphabet":
        res = alphabet()
    elif args.what == "words":
        res = words(args.datasets, args.folds)
    elif args.what == "nested":
        res = nested(args.datasets, args.folds)
    else:
        res = recall(args.datasets, args.folds, args.still_only)
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
