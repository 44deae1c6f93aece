"""Reading a small JSON file the user gave or the app wrote beside a model (a sidecar, a card).

One place for the two ways it goes wrong, each one line (`UserError`): the file is not there,
or it is not JSON. What the content must hold is the caller's to check.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from asl_live.errors import UserError


def read_json(path: str | os.PathLike, what: str):
    """The parsed content of `path`; `what` names the file in the error line ("calibration file")."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: no such {what}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UserError(f"{path}: not a JSON {what} ({e})") from None
