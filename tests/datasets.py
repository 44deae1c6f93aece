"""Small datasets in the competition layout, built from the real landmark fixture.

`tests/fixtures/traduttore_mpdata_subset.npz` holds 144 real webcam sequences
(6 signs x 2 signers x 12, 20 frames, MP_Data vectors without face). They go
through `asl_live.formats.mpdata.to_gislr` and `asl_live.formats.gislr.Dataset.add`, exactly as
an importer would write them; each signer becomes one participant.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from asl_live.formats.gislr import Dataset
from asl_live.formats.mpdata import to_gislr

FIXTURE = Path(__file__).parent / "fixtures" / "traduttore_mpdata_subset.npz"
PARTICIPANTS = {"TheCamNelson": 101, "dmohazab": 102}


def fixture_sequences():
    """(frames list of float32[T, 543, 3], signs, participant ids), in fixture order."""
    with np.load(FIXTURE) as z:
        vectors, signs, signers = z["vectors"], z["sign"], z["signer"]
    frames = [to_gislr(v) for v in vectors]
    return frames, [str(s) for s in signs], [PARTICIPANTS[str(s)] for s in signers]


def build(root, per_sign_and_signer: int | None = None, signs=None) -> Dataset:
    """Write the fixture (or `per_sign_and_signer` sequences of each sign and signer) to `root`."""
    frames, names, people = fixture_sequences()
    ds = Dataset(root)
    taken: dict[tuple[str, int], int] = {}
    for f, sign, person in zip(frames, names, people):
        if signs is not None and sign not in signs:
            continue
        n = taken.get((sign, person), 0)
        if per_sign_and_signer is not None and n >= per_sign_and_signer:
            continue
        taken[(sign, person)] = n + 1
        ds.add(f, sign, person)
    return ds
