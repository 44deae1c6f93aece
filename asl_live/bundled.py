"""Where the shipped files are: the model, its label map, card, credits, licences and the demo.

They live in the project's top-level `assets/` folder, installed as the package data of
`asl_live.assets` (pyproject.toml maps the one to the other), found through `importlib.resources`, so
the same code finds them in an editable checkout, an installed wheel or sdist, and a
`pipx` environment. TFLite and pyarrow need real file paths: when the package lives
somewhere that is not a folder (a zip import), a file is extracted once, for the
life of the process.
"""

from __future__ import annotations

import atexit
from contextlib import ExitStack
from importlib import resources
from pathlib import Path

_extracted = ExitStack()
atexit.register(_extracted.close)


def asset(name: str) -> Path:
    """The path of a bundled file, e.g. `asset("model.tflite")` (it may not exist in a broken install)."""
    res = resources.files("asl_live.assets").joinpath(*name.split("/"))
    if isinstance(res, Path):
        return res
    return _extracted.enter_context(resources.as_file(res))


ASSETS = asset("")                 # the folder itself (for messages and tests)
MODEL = asset("model.tflite")
LABELS = asset("sign_to_prediction_index_map.json")
DEMO_PARQUET = asset("demo.parquet")
DEMO_JSON = asset("demo.json")
MODEL_CARD = asset("MODEL_CARD.md")
CREDITS = asset("CREDITS.md")
# The fingerspelling model (`asl-live --letters`): same contract, classes are the letters a-z.
LETTERS_MODEL = asset("letters.tflite")
LETTERS_LABELS = asset("letters_map.json")
LETTERS_MODEL_CARD = asset("LETTERS_MODEL_CARD.md")
