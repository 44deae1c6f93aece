"""One letter through the bundled letters TFLite model: median time for a [1, 543, 3] frame,
and its answer for a hand and its mirror image (must be the same).

    nice python benchmarks/letters/bench_letters_speed.py [MODEL.tflite]
"""
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from asl_live import bundled  # noqa: E402
from asl_live.model.runtime import interpreter_class  # noqa: E402
from asl_live.formats.layout import LEFT_HAND, RIGHT_HAND  # noqa: E402

model = sys.argv[1] if len(sys.argv) > 1 else str(bundled.LETTERS_MODEL)
hand = np.load(Path(__file__).resolve().parents[2] / "tests/fixtures/letters_mpdata/MP_Data/L/0/0.npy")
frame = np.full((1, 543, 3), np.nan, np.float32)
frame[0, RIGHT_HAND] = hand.reshape(21, 3)
mirrored = np.full((1, 543, 3), np.nan, np.float32)
m = hand.reshape(21, 3).copy()
m[:, 0] = 1 - m[:, 0]
mirrored[0, LEFT_HAND] = m
run = interpreter_class()(model_path=model, num_threads=1).get_signature_runner("serving_default")
for _ in range(50):
    run(inputs=frame)
ts = []
for _ in range(2000):
    t0 = time.perf_counter()
    out = run(inputs=frame)["outputs"]
    ts.append(time.perf_counter() - t0)
other = run(inputs=mirrored)["outputs"]
print(f"median {1000 * np.median(ts):.3f} ms, p90 {1000 * np.percentile(ts, 90):.3f} ms per letter (1 thread); "
      f"argmax {int(out.argmax())} vs mirrored left hand {int(other.argmax())}, max |diff| {np.abs(out - other).max():.2g}")
