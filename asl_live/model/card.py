"""A taught model's card, `card.json` beside it: who taught what, how many samples, when, on what.

    {"format": 1, "taught_by": "participant 7", "when": "2026-12-07T20:01:00Z",
     "signs": {"cat": 5, "thankyou": 2}, "samples": 7,
     "base_model": "model.tflite", "base_sha256": "...", "model_sha256": "...",
     "classes": ["can", "hello", ...], "learning_seconds": 3.1}

`teach` and `--learn` write it when they write a model; a sign pack carries it. `model_sha256`
ties it to the model file it describes (as the bank and the unknown rule are tied), and
`base_sha256` names the model the signs were added to.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from asl_live.model.runtime import file_sha256
from asl_live.errors import UserError
from asl_live.formats.json_file import read_json
from asl_live.formats.gislr import atomic_write

CARD = "card.json"
FORMAT = 1


def card_path(model_path) -> Path:
    return Path(model_path).with_name(CARD)


def write_card(model_path, base_model, samples: dict[str, int], classes: list[str], taught_by: str = "",
               learning_seconds: float | None = None, base_sha256: str | None = None) -> Path:
    """Write the card of `model_path` (atomically). `samples`: {sign: number of the teacher's samples}."""
    data = {
        "format": FORMAT,
        "taught_by": taught_by or os.environ.get("USER", "") or "someone",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "signs": {s: int(n) for s, n in sorted(samples.items())},
        "samples": int(sum(samples.values())),
        "base_model": Path(base_model).name,
        "base_sha256": base_sha256 or file_sha256(base_model),
        "model_sha256": file_sha256(model_path),
        "classes": list(classes),
    }
    if learning_seconds is not None:
        data["learning_seconds"] = round(float(learning_seconds), 3)
    path = card_path(model_path)
    with atomic_write(path, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    return path


def read_card(path) -> dict:
    """The card's content, checked; UserError with one line when it is not one."""
    path = Path(path)
    data = read_json(path, "card")
    need = {"signs": dict, "samples": int, "base_sha256": str, "model_sha256": str, "when": str}
    if not isinstance(data, dict) or any(not isinstance(data.get(k), t) for k, t in need.items()):
        raise UserError(f"{path}: not a model card (it needs {', '.join(need)})")
    return data
