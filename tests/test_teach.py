"""asl-live teach, end to end on real landmarks: record K shots per sign, train, export, recognise."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from asl_live.gislr import Dataset, write_parquet
from asl_live.layout import empty_frames, hands_visible
from asl_live.mpdata import to_gislr

FIXTURES = Path(__file__).parent / "fixtures"
SHOTS = 6
GAP = 15


def person_sequences(signer: str):
    """{sign: [frames]} of one real signer, only sequences with a hand in every frame."""
    z = np.load(FIXTURES / "traduttore_mpdata_subset.npz")
    out: dict[str, list[np.ndarray]] = {}
    for v, s, who in zip(z["vectors"], z["sign"], z["signer"]):
        f = to_gislr(v)
        if who == signer and hands_visible(f).any(axis=1).all():
            out.setdefault(str(s), []).append(f)
    return out


def test_teach_learns_from_a_few_shots_and_switches_to_the_new_model(tmp_path):
    seqs = person_sequences("TheCamNelson")
    signs = sorted(s for s in seqs if len(seqs[s]) > SHOTS)
    assert len(signs) >= 4
    # The session: SHOTS performances of each sign in --signs order, then held-out performances.
    parts, spans, at = [empty_frames(GAP)], [], GAP
    for sign in signs:
        for f in seqs[sign][:SHOTS]:
            parts += [f, empty_frames(GAP)]
            at += len(f) + GAP
    heldout = [(sign, f) for i in range(6) for sign in signs if SHOTS + i < len(seqs[sign])
               for f in [seqs[sign][SHOTS + i]]]
    for sign, f in heldout:
        spans.append((sign, at, at + len(f) - 1))
        parts += [f, empty_frames(GAP)]
        at += len(f) + GAP
    session = write_parquet(tmp_path / "session.parquet", np.concatenate(parts))

    out = tmp_path / "teach"
    r = subprocess.run([sys.executable, "-m", "asl_live", "teach", "--signs", ",".join(signs),
                        "--shots", str(SHOTS), "--out", str(out), "--replay", str(session), "--headless"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    rows = Dataset(out / "data").samples()
    assert sorted(s.sign for s in rows) == sorted(s for s in signs for _ in range(SHOTS))
    assert (out / "model" / "model.tflite").is_file()

    # After training, the same stream goes on and is recognised with the new model.
    recs = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
    assert len(recs) >= 0.8 * len(spans)
    correct = 0
    for sign, first, last in spans:
        hit = [x for x in recs if x["start_frame"] <= last and x["end_frame"] >= first]
        correct += bool(hit) and hit[0]["sign"] == sign
    accuracy = correct / len(spans)
    assert accuracy >= 0.6, (accuracy, len(signs), recs[:3])  # chance is 1/len(signs), <= 0.25


def test_teach_argument_errors_are_one_line(tmp_path):
    for args in (["--signs", "hello"], ["--signs", "a,a"], ["--signs", "a,b", "--shots", "0"]):
        r = subprocess.run([sys.executable, "-m", "asl_live", "teach", *args, "--out", str(tmp_path / "t"),
                            "--replay", str(tmp_path / "none.parquet"), "--headless"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
