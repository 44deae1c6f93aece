"""How sure is the sign model on words really spelled, and on signs? (The `CERTAIN_SIGN` rule.)

    python benchmarks/app/bench_sign_on_spelling.py [--held-out-signs]

`stretch_kind.decide` keeps a stretch a sign when the sign model is all but certain of a sign it
knows and the letter reader read at most two letters (a still sign's hand shapes read as two
letters: the bundled demo's `no` as "kn"). That is safe only if the sign model is never that sure
of a known sign on a word really spelled. Read through the app's loop with the decoding letter
reader (`Recognizer` + `DecodedLetters`, as `asl-live --replay`), every stretch's decision line
gives the sign model's answer and score and the letters read:

- spelled: the word list of `benchmarks/letters/bench_fingerspelling.py` and 34 two-letter words,
  spelled by the motion alphabet's signer (`mixed_stream.word_frames`, no model trained on them)
  at about a letter a second and at about five (6 frames a letter), five words a stream;
- signs: the bundled demo (8 signs), the mixed streams' WLASL signs, and with `--held-out-signs`
  the sign videos of `bench_mixed_stream.py --held-out-signs` (Holistic on each, cached in TMPDIR).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parents[1]), str(HERE.parent / "letters")]

from bench_fingerspelling import WORDS  # noqa: E402
from bench_mixed_stream import MOVING, SCRIPTS, held_out_signs  # noqa: E402
from mixed_stream import sign_clip, word_frames  # noqa: E402

# Fixed before any figure was seen: common two-letter words, two names, and the demo's "kn".
TWO = ["hi", "ok", "no", "us", "me", "go", "up", "so", "we", "be", "do", "it", "my", "an", "to", "of", "in",
       "on", "at", "is", "if", "or", "by", "as", "he", "am", "oh", "yo", "tv", "ed", "al", "jo", "ty", "kn"]


def read(frames: np.ndarray, fps: float = 30.0) -> list[dict]:
    """Every stretch's decision (`stretch_kind.Decision.to_dict`) and what the app printed for it."""
    from asl_live import bundled
    from asl_live.capture.sources import Item, Source
    from asl_live.model.classifier import Classifier
    from asl_live.reading.letter_reader import DecodedLetters
    from asl_live.reading.pipeline import Landmarks, Recognizer, recognitions

    class Frames(Source):
        name = "frames"

        def __iter__(self):
            for i, f in enumerate(frames):
                yield Item(i, i / fps, None, f, origin={"source": "frames"})

    global _models
    if "_models" not in globals():
        _models = Classifier(), Classifier(bundled.LETTERS_MODEL, bundled.LETTERS_LABELS)
    rec = Recognizer(_models[0], letters=DecodedLetters(_models[1]), fps=fps)
    return [{**r.decision, "out": r.text if hasattr(r, "prediction") else "#" + r.word}
            for r in recognitions(Frames(), rec, Landmarks())]


def stream(parts: list[np.ndarray], gap: int = 15) -> np.ndarray:
    from asl_live.formats.layout import empty_frames

    out = [empty_frames(gap)]
    for p in parts:
        out += [p, empty_frames(gap)]
    return np.concatenate(out)


def summary(name: str, rows: list[dict], spelled: bool) -> None:
    from asl_live.reading.stretch_kind import CERTAIN_SIGN

    known = [r for r in rows if r["sign"] != "unknown"]
    certain = [r for r in known if r["sign_score"] >= CERTAIN_SIGN]
    short = [r for r in rows if 2 <= len(r["letters"]) <= 2 and len(set(r["letters"])) == 2]
    best = max(known, key=lambda r: r["sign_score"], default=None)
    print(f"{name}: {len(rows)} stretches; a known sign named on {len(known)}, its best score "
          f"{best['sign_score'] if best else '-'}" + (f" ({best['sign']} on {best.get('truth', best['out'])})" if best else "")
          + f"; certain (>= {CERTAIN_SIGN}) on {len(certain)}; two letters read on {len(short)}, "
          f"kept a sign by the rule: {sum(r['why'].startswith('a certain sign') for r in rows)}; "
          + (f"read as the word spelled: {sum(r['out'] == r['truth'] for r in rows)}" if spelled else
             f"read as a spelled word: {sum(r['out'].startswith('#') for r in rows)}"), flush=True)


def spelled(hold: int | None, words: list[str]) -> list[dict]:
    rows = []
    for i in range(0, len(words), 5):
        chunk = words[i:i + 5]
        got = read(stream([word_frames(w, hold) for w in chunk]))
        if len(got) != len(chunk):  # the segmenter cut differently: no truth to pair with
            print(f"  {' '.join(chunk)}: {len(got)} stretches", file=sys.stderr)
            continue
        rows += [{**r, "truth": "#" + w} for r, w in zip(got, chunk)]
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--held-out-signs", action="store_true")
    args = p.parse_args()
    from asl_live import bundled
    from asl_live.formats.gislr import read_parquet

    for label, hold in (("about a letter a second", None), ("about five letters a second", 6)):
        summary(f"spelled words ({len(WORDS)}), {label}", spelled(hold, WORDS), True)
        summary(f"spelled two-letter words ({len(TWO)}), {label}", spelled(hold, TWO), True)
    demo = read(read_parquet(bundled.DEMO_PARQUET))
    for r in demo:
        print(f"  demo: {r['out']} (sign model {r['sign']} {r['sign_score']}, letters {r['letters']!r}: {r['why']})")
    summary("the bundled demo's signs", demo, False)
    names = sorted({x for s in SCRIPTS + MOVING for x in s if not x.startswith("#")})
    rows = [{**r, "truth": n} for n in names for r in read(stream([sign_clip(n)]))]
    summary(f"the mixed streams' WLASL signs ({', '.join(names)})", rows, False)
    if args.held_out_signs:
        from asl_live.capture.sources import video_landmarks

        rows = []
        for clip in held_out_signs():
            cache = Path(os.environ.get("TMPDIR", "/tmp")) / f"asl_live_heldout_{clip.parent.name}_{clip.stem}.npz"
            if not cache.exists():
                frames, fps = video_landmarks(clip)
                np.savez(cache, frames=frames, fps=fps)
            z = np.load(cache)
            rows += [{**r, "truth": clip.stem} for r in read(z["frames"], float(z["fps"]))]
        summary(f"held-out sign videos ({len(held_out_signs())})", rows, False)


if __name__ == "__main__":
    main()
