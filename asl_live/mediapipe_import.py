"""Import MediaPipe without the TensorFlow it drags in when TensorFlow happens to be installed.

`import mediapipe` imports `mediapipe.tasks`, whose optional docs helper does
`from tensorflow.tools.docs import doc_controls` and falls back to a no-op when
TensorFlow is missing. Where the `train` extra is installed that one line costs
about 5 s of start-up and hundreds of MB; the app needs none of it. Marking
`tensorflow` as not importable for the duration of the import takes the
fallback; the mark is removed afterwards, so TensorFlow stays importable.
"""

from __future__ import annotations

import os
import sys


def import_mediapipe():
    from .extract import quiet_native_logs

    quiet_native_logs(os.environ.get("ASL_LIVE_VERBOSE") == "1")  # glog reads its level at import
    if "mediapipe" in sys.modules or "tensorflow" in sys.modules:
        import mediapipe
        return mediapipe
    sys.modules["tensorflow"] = None  # makes `import tensorflow...` raise ModuleNotFoundError
    try:
        import mediapipe
    finally:
        if sys.modules.get("tensorflow", 0) is None:
            del sys.modules["tensorflow"]
    return mediapipe
