"""Signs and fingerspelled words in one stream: is the transcript what was signed?

    python benchmarks/app/bench_mixed_stream.py [--scripts all]

Streams of real WLASL sign clips and real fingerspelled words (`mixed_stream.py`: one
fingerspeller's manual alphabet, letters joined into words), none of their people in any model's
training data, replayed through the app's own loop (`asl-live --replay X --headless`: segmenter,
sign model, letter reader, `stretch_kind.decide`). A stream is right when its transcript equals
the script exactly (signs as `--clip` names them, words letter for letter). Also printed: each
stretch's decision, and the same streams with `--signs` (what the app read before: signs only).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parents[1])]

from mixed_stream import mixed_stream  # noqa: E402

# Words without J or Z (letters that move: the letter reader behind the app reads still hand shapes)
# and names among them (bob, dan, kim, tom, sam, ben: no dictionary word).
SCRIPTS = [
    ["no", "#cat", "please", "#dan", "water", "#fox", "thankyou"],
    ["hello", "#bob", "please"],
    ["#hi", "no", "#tom", "thankyou"],
    ["water", "#kim", "hello", "#all"],
    ["#sam", "please", "#dog", "no", "#ben"],
    ["thankyou", "#max", "water", "#cab", "hello"],
]
# Words with J, Z or R: the letters the held-letter reader cannot read today (J, Z move; R reads as U).
MOVING = [
    ["#hi", "no", "#zoe", "thankyou"],
    ["water", "#jim", "hello", "#quiz"],
    ["#ron", "please"],
]


# Sign clips the decision's thresholds were never looked at on: WLASL signs outside the model's
# vocabulary, and every 9th DPAN prompt clip (from the 4th), less the six in the test fixtures.
HELD_OUT_WLASL = ("bye", "eat", "family", "friend", "go", "good", "hi", "love", "want")
LOOKED_AT = {"a", "about", "all gone", "baby", "ball", "bat", "heavy", "which"}


def held_out_signs() -> list[Path]:
    from mixed_stream import SHARED, WLASL

    dpan = sorted((SHARED / "clips" / "recordthesehands").glob("*.mp4"))
    return [WLASL / f"{n}.mp4" for n in HELD_OUT_WLASL] + \
        [p for i, p in enumerate(dpan) if i % 9 == 3 and p.stem not in LOOKED_AT]


def run(path: Path, *extra: str, source: str = "--replay") -> list[dict]:
    out = subprocess.run([sys.executable, "-m", "asl_live", source, str(path), "--headless", *extra],
                         capture_output=True, text=True, check=True, cwd=HERE.parents[1])
    return [json.loads(x) for x in out.stdout.splitlines()]


def said(lines: list[dict]) -> list[str]:
    return [x["sign"] if "sign" in x else "#" + x["word"] for x in lines]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scripts", choices=("still", "moving", "all", "none"), default="all")
    p.add_argument("--held-out-signs", action="store_true",
                   help="also: real sign videos never looked at (WLASL, DPAN), each through `asl-live --video`: "
                        "how many of their stretches come out as spelled words (each should be a sign)")
    p.add_argument("--letter-reader", choices=("decoded", "held"),
                   help="the app's --letter-reader (the letter reader behind the decision); "
                        "left out: the app's default")
    args = p.parse_args()
    reader = ["--letter-reader", args.letter_reader] if args.letter_reader else []
    sets = {"still": SCRIPTS, "moving": MOVING}
    chosen = [k for k in sets if args.scripts in (k, "all")]
    from asl_live.formats.gislr import write_parquet

    with tempfile.TemporaryDirectory() as d:
        for which in chosen:
            right = items = items_right = 0
            for i, script in enumerate(sets[which]):
                path = write_parquet(Path(d) / f"{which}{i}.parquet", mixed_stream(script))
                lines = run(path, *reader)
                got = said(lines)
                before = said(run(path, "--signs"))
                right += got == script
                items += len(script)
                items_right += sum(a == b for a, b in zip(got, script)) if len(got) == len(script) else 0
                mark = "right" if got == script else "WRONG"
                print(f"[{which}] {mark}: signed {' '.join(script)}\n    read   {' '.join(got)}\n"
                      f"    signs only (--signs): {' '.join(before)}")
                for x in lines:
                    dec = x.get("decision")
                    if dec:
                        print(f"      #{x['word']}: {dec}")
            print(f"{which}: {right} of {len(sets[which])} streams read exactly; {items_right} of {items} "
                  f"signs and words in place\n", flush=True)
    if args.held_out_signs:
        clips = held_out_signs()
        stretches = words = 0
        for clip in clips:
            got = said(run(clip, *reader, source="--video"))
            stretches += len(got)
            spelled = [x for x in got if x.startswith("#")]
            words += len(spelled)
            print(f"  {clip.parent.name}/{clip.name}: {' '.join(got)}", flush=True)
        print(f"held-out signs: {len(clips)} clips, {stretches} stretches, {words} read as spelled words")


if __name__ == "__main__":
    main()
