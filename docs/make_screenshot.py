"""Retake docs/screenshot.png: run the real app under a private Xvfb and grab its window mid-sign.

    python docs/make_screenshot.py [--pick N] [--out docs/screenshot.png] [-- asl-live args]

Default app arguments: `--demo` (the bundled replay, shipped model). Every screen in
which a recognised label is shown while a hand is drawn is kept as NNN.png in a
temporary folder (printed); the N-th becomes the screenshot (default: the one 80% of
the way through, when the transcript line is full; the count varies with load). Look at
the candidates and pick another with --pick if the sign or pose is not a good one.
Needs Xvfb (apt-get install xvfb).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from display import XClient, Xvfb, wait_for  # noqa: E402

from asl_live.view.overlay import LEFT_HAND_COLOUR, RIGHT_HAND_COLOUR  # noqa: E402


def hand_pixels(picture: np.ndarray) -> int:
    area = picture[90:540].astype(int)
    return sum(int((np.abs(area - c).sum(axis=2) < 40).sum()) for c in (LEFT_HAND_COLOUR, RIGHT_HAND_COLOUR))


def main() -> int:
    argv = sys.argv[1:]
    app_args = argv[argv.index("--") + 1:] if "--" in argv else ["--demo"]
    own = argv[:argv.index("--")] if "--" in argv else argv
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pick", type=int, default=None)
    p.add_argument("--out", type=Path, default=REPO / "docs" / "screenshot.png")
    p.add_argument("--any", action="store_true",
                   help="keep every screen with a hand drawn, not only those showing a recognised label "
                        "(a word being spelled shows letters, not a label)")
    args = p.parse_args(own)
    candidates = Path(tempfile.mkdtemp(prefix="asl-live-screens-"))

    with Xvfb() as x:
        app = subprocess.Popen([sys.executable, "-m", "asl_live", *app_args], env=x.env(), cwd=REPO,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        with XClient(x.display) as client:
            if not wait_for(lambda: client.windows("asl-live") or app.poll() is not None, 120) \
                    or app.poll() is not None:
                print(app.stderr.read(), file=sys.stderr)
                return 1
            ox, oy = client.origin(client.windows("asl-live")[0])
            client.move_pointer(x.size[0] - 1, x.size[1] - 1)
            n = 0
            while app.poll() is None:
                shot = x.screenshot()[oy:oy + 720, ox:ox + 960]
                label = (shot[560:625, 10:580].min(axis=2) > 220).sum()  # big white label text
                if (args.any or label > 800) and hand_pixels(shot) > 150:
                    n += 1
                    cv2.imwrite(str(candidates / f"{n:03d}.png"), shot)
                time.sleep(0.03)
    print(f"{n} candidates in {candidates}")
    pick = args.pick or max(1, round(0.8 * n))
    if not 1 <= pick <= n:
        print(f"no candidate {pick} (there are {n})", file=sys.stderr)
        return 1
    from PIL import Image  # pillow comes with matplotlib (train extra); only for a smaller PNG

    Image.open(candidates / f"{pick:03d}.png").save(args.out, optimize=True)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
