"""Hold back what native libraries (MediaPipe, TFLite, FFmpeg, OpenCV) write to fd 2 at start-up.

Python's logging cannot reach them (they print from C++), so fd 2 itself is
redirected to a temporary file, and only around the calls that start a graph or
open a file: errors that occur later are never hidden. What was captured is
then passed on, less the known noise (glog/absl lines, TFLite's delegate
notice), unless our own UserError already says what went wrong.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from contextlib import contextmanager
from typing import Iterator

from asl_live.errors import UserError

NOISE = re.compile(r"^(?:[IW]\d{4} |INFO: |WARNING: All log messages before absl::InitializeLog)")


def pass_on(text: str) -> None:
    keep = [line for line in text.splitlines() if line.strip() and not NOISE.match(line)]
    if keep:
        print("\n".join(keep), file=sys.stderr)


@contextmanager
def quiet_native_stderr(verbose: bool = False) -> Iterator[None]:
    """Capture fd 2 for the block. On success or a UserError, pass on all but noise... or nothing.

    - success: every captured line that is not known noise is passed on;
    - UserError: nothing (our one-line message says it; the native lines would only repeat it);
    - any other exception: everything captured, so a real failure keeps its detail.
    """
    if verbose:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    outcome = "ok"
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        except UserError:
            outcome = "user"
            raise
        except BaseException:
            outcome = "failed"
            raise
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            text = tmp.read().decode("utf-8", "replace")
            if outcome == "ok":
                pass_on(text)
            elif outcome == "failed" and text.strip():
                print(text.rstrip("\n"), file=sys.stderr)
