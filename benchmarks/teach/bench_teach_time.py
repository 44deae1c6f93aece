"""How long `asl-live teach` takes from the end of recording to a ready model (issue 16).

    python benchmarks/teach/bench_teach_time.py --people data/people --runs 5

Times `asl_live.model.extend.extend` exactly as teach calls it (the recordings read from a
dataset, the model's bank loaded, embeddings, the new head, the new TFLite file
written and checked, the bank saved), on the bundled model, for 3 and 6 new signs
(participants 101 and 103 of `mp_data/people`: house,no,yes and cat,food,hello,help,
iloveyou,thankyou) x 5 and 10 shots; also the classification time of the taught model
(6 signs x 10 shots) against the bundled one on the same sequences. Medians of `--runs`.
`--fresh` times today's `--fresh` path instead (asl-train fit + export in subprocesses).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from asl_live.bundled import LABELS, MODEL  # noqa: E402
from asl_live.model.extend import Recording, extend  # noqa: E402
from asl_live.formats.gislr import Dataset  # noqa: E402

TEACHERS = {3: 101, 6: 103}


def recordings(ds: Dataset, person: int, shots: int) -> list[Recording]:
    rows = [s for s in ds.samples() if s.participant_id == person]
    out = []
    for sign in sorted({s.sign for s in rows}):
        out += [Recording(ds.read(s), sign, 0) for s in [r for r in rows if r.sign == sign][:shots]]
    return out


def classify_ms(model: Path, labels: Path, seqs: list[np.ndarray], repeats: int = 20) -> float:
    from asl_live.model.classifier import Classifier

    clf = Classifier(model, labels)
    times = []
    for _ in range(repeats):
        for f in seqs:
            t = time.perf_counter()
            clf(f)
            times.append((time.perf_counter() - t) * 1000)
    return float(np.median(times))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--people", required=True, help="mp_data/people imported (participants 101-105)")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--fresh", action="store_true", help="time `teach --fresh` (fit + export) instead")
    args = p.parse_args()
    ds = Dataset(args.people)
    print("| new signs | shots | runs (s) | median s |")
    print("|---|---|---|---|")
    for n_signs, person in TEACHERS.items():
        for shots in (5, 10):
            recs = recordings(ds, person, shots)
            times = []
            for _ in range(args.runs):
                with tempfile.TemporaryDirectory() as tmp:
                    if args.fresh:
                        from asl_live.teach import train_and_export

                        data = Dataset(Path(tmp) / "data")
                        for r in recs:
                            data.add(r.frames, r.sign, 0)
                        times.append(train_and_export(data.root, Path(tmp) / "run", Path(tmp) / "model",
                                                      while_waiting=lambda *a: None))
                    else:
                        t = time.perf_counter()
                        extend(MODEL, LABELS, recs, Path(tmp) / "model")
                        times.append(time.perf_counter() - t)
            print(f"| {n_signs} | {shots} | {', '.join(f'{t:.2f}' for t in times)} | "
                  f"**{statistics.median(times):.2f}** |", flush=True)
    if not args.fresh:
        recs = recordings(ds, TEACHERS[6], 10)
        with tempfile.TemporaryDirectory() as tmp:
            out = extend(MODEL, LABELS, recs, Path(tmp) / "model")
            seqs = [r.frames for r in recs[::5]]
            for _ in range(args.runs):
                a = classify_ms(MODEL, LABELS, seqs)
                b = classify_ms(out["model"], out["labels"], seqs)
                print(f"classification ms (median): bundled {a:.3f}, taught (13 classes) {b:.3f}, ratio {b / a:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
