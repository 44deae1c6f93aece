"""A new user's Debian 13 (Python 3.13): README command 1 as written, a video through the Tasks
engine, and the two landmark engines side by side on the same real clips.

Run as root on a Debian/Ubuntu machine with the project's Python 3.10-3.12 environment
(legacy Holistic, mediapipe 0.10.x) and network access to Debian's and PyPI's mirrors:

    python benchmarks/install/bench_debian13.py [--root DIR] [--reuse-root] [CLIPS...]

1. makes a fresh Debian 13 root (debootstrap, minbase) and copies this working tree into it;
2. runs README command 1 exactly (venv, `pip install -c constraints.txt -e .`, `asl-live
   --demo`) with the root's python3 and checks that the demo's signs come out;
3. builds a test bundle from this environment's mediapipe 0.10.x models (tests/tasks_bundle.py;
   Google's own bundle is not downloaded here) and runs `asl-live --video CLIP --headless --clip`
   through the Tasks engine there;
4. extracts every clip with the Tasks engine (there) and legacy Holistic (here), and prints the
   landmark distance per part and whether the sign and letters models give the same answers;
5. measures each engine's frames per second, the engines taking turns on the first 6 clips
   (`--speed-rounds N`, 3 by default), Tasks on mediapipe 0.10.21 here included.

Clips default to the fixture videos and, when present, /work/shared/data/clips/wlasl_projectunmute.
The worker form (`--extract OUT.npz CLIPS...`) is what step 4 runs in each environment.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
# A minimal root; libegl1 and libgles2 are there on a desktop, and mediapipe 1.x's Tasks library
# loads them (without them the app says so in one line and names the packages).
PACKAGES = "python3,python3-venv,ca-certificates,git,libxcb1,libgl1,libegl1,libgles2,libglib2.0-0t64"
MIRROR = "http://deb.debian.org/debian"
README_COMMAND_1 = ("python3 -m venv .venv && .venv/bin/pip install -q -c constraints.txt -e . "
                    "&& .venv/bin/asl-live --demo")
SHARED_CLIPS = Path("/work/shared/data/clips/wlasl_projectunmute")


# --------------------------------------------------------------------------- worker: one engine

def extract(out: str, clips: list[str]) -> None:
    """Every clip through this environment's chosen engine: landmarks and frames per second."""
    import cv2

    from asl_live.capture.engine import Engine, mediapipe_version

    engine = Engine()  # auto: legacy Holistic where installed, else Tasks (ASL_LIVE_LANDMARKER)
    arrays, fps = {}, {}
    for clip in clips:
        cap = cv2.VideoCapture(clip)
        images = []
        while True:
            ok, image = cap.read()
            if not ok:
                break
            images.append(image)
        cap.release()
        with engine.open(video=True) as run:
            frames = [run(images[0])]  # starts the graph: not a per-frame cost
            start = time.perf_counter()
            frames += [run(image) for image in images[1:]]
            seconds = time.perf_counter() - start
        arrays[Path(clip).name] = np.stack(frames)
        fps[Path(clip).name] = (len(images) - 1) / seconds
    np.savez(out, engine=engine.name, mediapipe=mediapipe_version(), python=sys.version.split()[0],
             fps=json.dumps(fps), **arrays)
    print(f"{engine.name} (mediapipe {mediapipe_version()}, Python {sys.version.split()[0]}): "
          f"{len(arrays)} clips, median {np.median(list(fps.values())):.1f} frames/s -> {out}")


# --------------------------------------------------------------------------- the Debian 13 root

def sh(cmd: list[str] | str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, text=True, **kw)


def chroot(root: Path, script: str, timeout: float = 1800) -> subprocess.CompletedProcess:
    """`script` in bash inside the root, with a clean environment, as a new user's shell has."""
    env = {"HOME": "/root", "PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "LANG": "C.UTF-8",
           "TERM": "dumb"}
    return subprocess.run(["chroot", str(root), "/bin/bash", "-c", script], env=env, text=True,
                          capture_output=True, timeout=timeout)


def make_root(root: Path, reuse: bool) -> float:
    if reuse and (root / "usr/bin/python3").exists():
        return 0.0
    if root.exists():
        shutil.rmtree(root)
    if shutil.which("debootstrap") is None:
        sh(["apt-get", "install", "-y", "-q", "debootstrap"], capture_output=True)
    start = time.perf_counter()
    sh(["debootstrap", "--variant=minbase", f"--include={PACKAGES}", "trixie", str(root), MIRROR],
       capture_output=True)
    return time.perf_counter() - start


def prepare_root(root: Path, clips: list[str], bundle: Path) -> Path:
    """Network and certificates, /proc and /sys, the tree, the clips and the test bundle."""
    shutil.copy("/etc/resolv.conf", root / "etc/resolv.conf")
    certs = Path("/etc/ssl/certs/ca-certificates.crt")
    if certs.exists():
        shutil.copy(certs, root / "etc/ssl/certs/ca-certificates.crt")
    # /proc and /sys, as on any running system: MediaPipe's allocator reads the CPU count there
    for kind, where in (("proc", "proc"), ("sysfs", "sys")):
        if subprocess.run(["mountpoint", "-q", str(root / where)]).returncode != 0:
            sh(["mount", "-t", kind, kind, str(root / where)])
    tree = root / "root/asl-live"
    if tree.exists():
        shutil.rmtree(tree)
    files = sh(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True).stdout
    for name in filter(None, files.split("\0")):
        src = ROOT / name
        if src.is_file():
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, tree / name)
    (root / "root/clips").mkdir(exist_ok=True)
    for clip in clips:
        shutil.copy2(clip, root / "root/clips" / Path(clip).name)
    shutil.copy2(bundle, root / "root/test_holistic.task")
    return tree


# --------------------------------------------------------------------------- parity

def answers(frames: dict[str, np.ndarray]) -> dict[str, dict[str, str]]:
    """Each clip as one sign (`--clip`): the sign model's and the letters model's answers."""
    from asl_live.bundled import LETTERS_LABELS, LETTERS_MODEL
    from asl_live.model.classifier import DEFAULT_LABELS, DEFAULT_MODEL, Classifier

    models = {"sign": Classifier(DEFAULT_MODEL, DEFAULT_LABELS),
              "letters": Classifier(LETTERS_MODEL, LETTERS_LABELS)}
    return {name: {clip: clf(f).sign for clip, f in frames.items()} for name, clf in models.items()}


def compare(legacy_npz: str, tasks_npz: str) -> None:
    from asl_live.formats.layout import FACE, LEFT_HAND, POSE, RIGHT_HAND

    a, b = np.load(legacy_npz), np.load(tasks_npz)
    clips = sorted(json.loads(str(a["fps"])))
    print(f"\nlegacy: {a['engine']} mediapipe {a['mediapipe']} Python {a['python']}; "
          f"tasks: {b['engine']} mediapipe {b['mediapipe']} Python {b['python']}")
    for label, npz in (("legacy Holistic", a), ("Tasks", b)):
        fps = list(json.loads(str(npz["fps"])).values())
        print(f"speed {label}: median {np.median(fps):.1f} frames/s over {len(fps)} clips "
              f"(range {min(fps):.1f}-{max(fps):.1f})")
    print("\nlandmarks, over frames where both engines see the part: median and 90th percentile "
          "of the x,y distance (image widths); 'seen' = share of frames each engine sees it")
    for name, rows in (("face", FACE), ("left hand", LEFT_HAND), ("pose", POSE), ("right hand", RIGHT_HAND)):
        gaps, seen_a, seen_b, n = [], 0, 0, 0
        for clip in clips:
            x, y = a[clip][:, rows], b[clip][:, rows]
            sa, sb = ~np.isnan(x[:, :, 0]).any(1), ~np.isnan(y[:, :, 0]).any(1)
            seen_a, seen_b, n = seen_a + sa.sum(), seen_b + sb.sum(), n + len(x)
            both = sa & sb
            gaps.append(np.linalg.norm(x[both][:, :, :2] - y[both][:, :, :2], axis=-1).ravel())
        gap = np.concatenate(gaps)
        stat = f"{np.median(gap):.4f} / {np.percentile(gap, 90):.4f}" if gap.size else "n/a"
        print(f"  {name:10s} {stat}   seen: legacy {seen_a / n:.2f}, tasks {seen_b / n:.2f}")
    ans_a = answers({c: a[c] for c in clips})
    ans_b = answers({c: b[c] for c in clips})
    for model in ("sign", "letters"):
        same = sum(ans_a[model][c] == ans_b[model][c] for c in clips)
        print(f"\n{model} model (--clip): same answer on {same}/{len(clips)} clips")
        for c in clips:
            mark = "" if ans_a[model][c] == ans_b[model][c] else "   <- differs"
            print(f"  {c:28s} legacy {ans_a[model][c]:10s} tasks {ans_b[model][c]:10s}{mark}")


def speed_rounds(root: Path, work: Path, clips: list[str], rounds: int) -> None:
    """Frames per second, the engines taking turns on the same clips (a shared machine's load
    moves by the minute): Tasks on mediapipe 1.x there, legacy Holistic and Tasks here."""
    if rounds < 1:
        return
    names = " ".join(f"'clips/{Path(c).name}'" for c in clips)
    here = [str(root / "root/clips" / Path(c).name) for c in clips]
    bench = str(Path(__file__).resolve())
    fps: dict[str, list[float]] = {}

    def median_fps(npz: Path) -> float:
        return float(np.median(list(json.loads(str(np.load(npz)["fps"])).values())))

    for r in range(rounds):
        chroot(root, f"cd /root && ASL_LIVE_LANDMARKER=/root/test_holistic.task asl-live/.venv/bin/python "
                     f"asl-live/benchmarks/install/bench_debian13.py --extract /root/speed.npz {names}")
        fps.setdefault("Tasks, mediapipe 1.2.x, Python 3.13 (Debian 13 root)", []).append(
            median_fps(root / "root/speed.npz"))
        for label, env in (("legacy Holistic, mediapipe 0.10.21, this Python", {}),
                           ("Tasks, mediapipe 0.10.21, this Python",
                            {"ASL_LIVE_ENGINE": "tasks", "ASL_LIVE_LANDMARKER": str(root / "root/test_holistic.task")})):
            out = work / "speed.npz"
            subprocess.run([sys.executable, bench, "--extract", str(out), *here], check=True, capture_output=True,
                           env={**os.environ, "PYTHONPATH": str(ROOT), **env})
            fps.setdefault(label, []).append(median_fps(out))
    print(f"\nspeed, {rounds} rounds taking turns on {len(clips)} clips (median frames/s of each round; "
          f"load average now {os.getloadavg()[0]:.1f}):")
    for label, values in fps.items():
        print(f"  {label:55s} {np.median(values):5.1f}   rounds: {', '.join(f'{v:.1f}' for v in values)}")


# --------------------------------------------------------------------------- main

def default_clips() -> list[str]:
    clips = sorted(str(p) for p in (ROOT / "tests/fixtures").glob("*.mp4"))
    if SHARED_CLIPS.is_dir():
        clips += sorted(str(p) for p in SHARED_CLIPS.glob("*.mp4"))
    return clips


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("clips", nargs="*")
    p.add_argument("--root", default="/tmp/asl-live-debian13", help="where the Debian 13 root is made")
    p.add_argument("--reuse-root", action="store_true", help="keep an existing root (skip debootstrap)")
    p.add_argument("--extract", metavar="OUT.npz", help="worker: extract CLIPS with this environment's engine")
    p.add_argument("--compare", nargs=2, metavar=("LEGACY.npz", "TASKS.npz"))
    p.add_argument("--speed-rounds", type=int, default=3, metavar="N",
                   help="rounds of the speed comparison on the first 6 clips (0: none)")
    args = p.parse_args()
    if args.extract:
        extract(args.extract, args.clips)
        return 0
    if args.compare:
        compare(*args.compare)
        return 0
    clips = args.clips or default_clips()
    root = Path(args.root)
    sys.path.insert(0, str(ROOT / "tests"))
    import tasks_bundle

    work = Path(args.root + "-work")
    work.mkdir(exist_ok=True)
    bundle = tasks_bundle.build(work / "test_holistic.task")
    took = make_root(root, args.reuse_root)
    print(f"Debian 13 root: {root} (debootstrap {took:.0f} s)" if took else f"Debian 13 root: {root} (reused)")
    try:
        tree = prepare_root(root, clips, bundle)
        version = chroot(root, "python3 --version").stdout.strip()
        # README command 1, exactly, from the copied checkout.
        start = time.perf_counter()
        run = chroot(root, f"cd /root/asl-live && rm -rf .venv && {README_COMMAND_1}")
        took = time.perf_counter() - start
        lines = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
        print(f"\nREADME command 1 with {version}: exit {run.returncode} in {took:.0f} s, "
              f"{len(lines)} signs: {' '.join(line['sign'] for line in lines)}")
        if run.returncode != 0 or not lines:
            print(run.stderr[-3000:])
            return 1
        print("  stderr: " + " | ".join(run.stderr.strip().splitlines()[-2:]))
        pins = chroot(root, "cd /root/asl-live && .venv/bin/pip list 2>/dev/null | "
                            "grep -iE '^(mediapipe|numpy|opencv-contrib-python|pandas|pyarrow|ai-edge-litert) '")
        print("  installed: " + ", ".join(" ".join(line.split()) for line in pins.stdout.splitlines()))
        # A real video through the Tasks engine, as a user with an offline bundle would run it.
        first = Path(clips[0]).name
        run = chroot(root, f"cd /root && asl-live/.venv/bin/asl-live --video 'clips/{first}' --headless "
                           f"--clip --landmarker /root/test_holistic.task")
        print(f"\nasl-live --video clips/{first} --headless --clip --landmarker test_holistic.task "
              f"(auto engine on Python 3.13): exit {run.returncode}\n  {run.stdout.strip()[:300]}")
        if run.returncode != 0:
            print(run.stderr[-3000:])
            return 1
        # Both engines on every clip.
        names = " ".join(f"'clips/{Path(c).name}'" for c in clips)
        run = chroot(root, f"cd /root && ASL_LIVE_LANDMARKER=/root/test_holistic.task "
                           f"asl-live/.venv/bin/python asl-live/benchmarks/install/bench_debian13.py "
                           f"--extract /root/tasks.npz {names}", timeout=3600)
        print(run.stdout.strip())
        if run.returncode != 0:
            print(run.stderr[-3000:])
            return 1
        shutil.copy(root / "root/tasks.npz", work / "tasks.npz")
        extract(str(work / "legacy.npz"), clips)
        compare(str(work / "legacy.npz"), str(work / "tasks.npz"))
        speed_rounds(root, work, clips[:6], args.speed_rounds)
    finally:
        for where in ("proc", "sys"):
            subprocess.run(["umount", str(root / where)], capture_output=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
