"""`asl-live practice --spell`'s built-in words: how many each letter reader reads right, at what pace.

    nice python benchmarks/letters/bench_practice_words.py

Each word of `asl_live.practice.WORDS` spelled from the ASL alphabet of one fingerspeller no letters
model here was trained on (`tests/fixtures/ase_alphabet_hands.npz`, from spoken-to-signed-translation;
the bundled letters model was trained on four still-frame sources, `assets/LETTERS_MODEL_CARD.md`):
per letter the clip's middle HOLD frames at 30 fps, 4 interpolated frames between letters
(`train.letter_streams.assemble`), read as practice reads an attempt (`letter_reader.read_stretch`
over the stretch, no word segmentation). Right = the word read equals the word asked.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from asl_live.practice import WORDS  # noqa: E402
from asl_live.reading.letter_reader import READERS, open_reader, read_stretch  # noqa: E402
from train.letter_streams import assemble, clip_part  # noqa: E402

HOLDS = (12, 9, 6)   # frames a letter at 30 fps: 0.4, 0.3, 0.2 s


def main() -> int:
    z = np.load(ROOT / "tests" / "fixtures" / "ase_alphabet_hands.npz")
    ase = {k: z[k] for k in z.files if len(k) == 1}
    for name in READERS:
        reader = open_reader(name)
        time.sleep(3)   # the decoding reader builds its word list beside the loop
        for hold in HOLDS:
            wrong = {}
            for w in WORDS:
                frames, _, _ = assemble(w, lambda c: clip_part(ase[c], c, hold), hold=hold, trans=4)
                got = read_stretch(reader, frames, 30.0)
                if got is None or got.word != w:
                    wrong[w] = got.word if got is not None else ""
            print(f"{name:8s} letter held {hold / 30:.1f} s: {len(WORDS) - len(wrong)}/{len(WORDS)} words right"
                  + (f"; wrong: {wrong}" if wrong else ""), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
