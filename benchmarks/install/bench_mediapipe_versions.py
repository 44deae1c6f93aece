"""Two mediapipe releases on the same real clips: do they give the app the same landmarks?

Why: Linux aarch64 installs mediapipe 0.10.18 (0.10.21 has no wheel there). Run the first form
once in an environment with each release (x86_64 has wheels of both), then compare:

    python benchmarks/install/bench_mediapipe_versions.py tests/fixtures/*.mp4 --out mp21.npz
    python benchmarks/install/bench_mediapipe_versions.py --compare mp21.npz mp18.npz
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np


def extract(clips: list[str], out: str) -> None:
    import mediapipe

    from asl_live.capture.sources import video_landmarks

    arrays = {Path(c).name: video_landmarks(c)[0] for c in clips}
    np.savez(out, mediapipe=mediapipe.__version__, **arrays)
    print(f"mediapipe {mediapipe.__version__}: {len(arrays)} clips -> {out}")


def compare(a_path: str, b_path: str) -> None:
    a, b = np.load(a_path), np.load(b_path)
    print(f"{a['mediapipe']} vs {b['mediapipe']}")
    for name in sorted(set(a.files) - {"mediapipe"}):
        x, y = a[name], b[name]
        if x.shape != y.shape:
            print(f"{name}: frames {x.shape} vs {y.shape}")
            continue
        same_missing = np.array_equal(np.isnan(x), np.isnan(y))
        d = np.abs(x - y)
        print(f"{name}: {len(x)} frames, same missing parts: {same_missing}, |diff| max "
              f"{np.nanmax(d):.5f}, median {np.nanmedian(d):.5f}, over 0.001: {np.nanmean(d > 1e-3):.4f}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("clips", nargs="*")
    p.add_argument("--out")
    p.add_argument("--compare", nargs=2, metavar="NPZ")
    args = p.parse_args()
    if args.compare:
        compare(*args.compare)
    elif args.clips and args.out:
        extract(args.clips, args.out)
    else:
        p.error("give clips and --out, or --compare A B")
    return 0


if __name__ == "__main__":
    sys.exit(main())
