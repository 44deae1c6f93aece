"""The most learning from corrections could give a webcam person: all of the first half taught up front.

    python benchmarks/teach/bench_learn_ceiling.py --people ../shared/data/mp_data/people \
        --work runs/learn --participant 101 --seed 0

The same person, order and base as `bench_learn_corrections.py` (same `--work`: it reuses that
benchmark's import, shuffled order and base without the person). Instead of correcting wrong
answers one by one, every recording of the first half in which a hand is seen is taught at once
(`extend.extend`, what `asl-live teach` runs after recording: the base's encoder and bank, a new
last layer); the second half is then replayed through the app (`asl-live --replay --headless
--clip --model TAUGHT`, no `--learn`). A correction can only ever teach a subset of the first
half, so `--learn` on this order has no more to learn from before the second half than this.

Also reported, on the base's own embeddings (`head.Embedder`, cosine): each second-half recording's
nearest first-half recording (hand seen), and its nearest per-sign mean: whether any rule on the
person's own examples (the bank or prototype side rather than the head) could do better.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_learn_corrections as corrections  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--people", required=True, help="mp_data/people (the five archives)")
    p.add_argument("--work", required=True)
    p.add_argument("--participant", type=int, default=101)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    sys.path.insert(0, str(corrections.REPO))
    import numpy as np

    from asl_live.formats.gislr import read_parquet
    from asl_live.formats.layout import hands_visible
    from asl_live.model.extend import Recording, extend
    from asl_live.model.head import Embedder
    from asl_live.model.learning import is_right

    work, pid = Path(args.work).resolve(), args.participant
    person = corrections.import_person(Path(args.people), work, pid)
    order = corrections.shuffled(person, work / "shuffled" / f"{pid}-seed{args.seed}", args.seed)
    base = corrections.base_without(pid, work)
    rows = list(csv.DictReader(open(order / "train.csv", newline="")))
    half = len(rows) // 2
    frames = [read_parquet(r["path"]) for r in rows]
    hand = np.array([bool(hands_visible(f).any()) for f in frames])
    signs = np.array([r["sign"] for r in rows])

    out = work / "ceiling" / f"{pid}-seed{args.seed}"
    second = out / "second"
    second.mkdir(parents=True, exist_ok=True)
    with open(second / "train.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["path", "participant_id", "sequence_id", "sign"])
        for r in rows[half:]:
            w.writerow([r["path"], r["participant_id"], r["sequence_id"], r["sign"]])
    taught = [Recording(frames[i], signs[i], pid) for i in range(half) if hand[i]]
    result = extend(base, base.parent / "sign_to_prediction_index_map.json", taught, out / "model")
    answers, _ = corrections.replay(second, "--model", str(result["model"]))
    ok = np.array([is_right(x["sign"], x["label"]) for x in answers])

    embedder = Embedder(base)
    e = np.stack([embedder(f) for f in frames]).astype(np.float64)
    e /= np.linalg.norm(e, axis=1, keepdims=True)
    first = np.flatnonzero(hand[:half])
    later = np.flatnonzero(hand[half:]) + half
    nearest = signs[first[np.argmax(e[later] @ e[first].T, axis=1)]]
    kinds = sorted(set(signs[first]))
    means = np.stack([e[first][signs[first] == s].mean(0) for s in kinds])
    prototype = np.array(kinds)[np.argmax(e[later] @ means.T, axis=1)]

    row = {"participant": pid, "seed": args.seed, "taught": {s: int((signs[first] == s).sum()) for s in kinds},
           "second_half": len(answers), "second_half_right": round(float(ok.mean()), 4),
           "right": int(ok.sum()), "hand_seen": int(hand[half:].sum()),
           "hand_seen_right": int(ok[hand[half:]].sum()),
           "nearest_recording_right": int((nearest == signs[later]).sum()),
           "nearest_sign_mean_right": int((prototype == signs[later]).sum()),
           "wrong": [{"label": x["label"], "sign": x["sign"], "sequence_id": x["sequence_id"],
                      "top": x["top"][:3], "hand_seen": bool(h)}
                     for x, o, h in zip(answers, ok, hand[half:]) if not o]}
    (out / "result.json").write_text(json.dumps(row, indent=1))
    print(json.dumps(row))
    print(f"\n{pid} seed {args.seed}: second half right {row['second_half_right']:.3f} ({row['right']}/{len(answers)}; "
          f"hand seen {row['hand_seen_right']}/{row['hand_seen']}); on the embeddings, of the hand-seen: "
          f"nearest first-half recording {row['nearest_recording_right']}/{row['hand_seen']}, "
          f"nearest sign mean {row['nearest_sign_mean_right']}/{row['hand_seen']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
