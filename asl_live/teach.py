"""`asl-live teach --signs a,b,c --shots K`: record new signs and add them to the model in use.

1. Records K performances of each sign, one sign after the other, from one
   source (`record.record`: countdown before each sign on a camera, one sample
   per performance cut by the app's segmenter, each saved atomically; a replayed
   dataset folder gives one sample per sequence, in train.csv order).
2. Extends the model in use (the bundled one, or `--model`/`--labels`) with them
   (`extend.extend`: its encoder as it is, a new last layer learned from its bank
   and the new samples, in a second or two, no TensorFlow): the new model knows
   the old signs and the new ones. A model that cannot be extended (one made
   elsewhere, with no bank) is refused before anything is recorded.
   `--fresh` instead trains a model of the new signs alone with the train package,
   in a subprocess (`asl-train fit` + `export`, half a minute or more).
3. Goes on recognising from the same source with the new model (the live view
   switches to it; headless: one JSON line per sign on stdout).

On a recorded video, the first K x len(signs) performances are the training
samples, in the order of `--signs`, and whatever follows is recognised with the
new model.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

from asl_live.errors import UserError, run_main
from asl_live.formats.gislr import Dataset

# Few samples from one person, with a face in view: hands and pose carry the sign,
# and leaving the lips out keeps the model from keying on one face.
TEACH_PARTS = "left_hand,right_hand,pose"
# Sized so that 6 signs x 10 samples train and export in well under two minutes
# on a 2-core CPU (benchmarks/teach/bench_teach_fewshot.py measures it).
TEACH_FIT_OPTIONS = ("--units", "192", "--epochs", "25")


def train_available() -> bool:
    """Whether the train extra (TensorFlow) is installed, without importing it."""
    return importlib.util.find_spec("tensorflow") is not None and importlib.util.find_spec("train") is not None


def train_commands(data: Path, run: Path, model_dir: Path, extra=()) -> list[list[str]]:
    fit = [sys.executable, "-m", "train.cli", "fit", "--data", str(data), "--out", str(run), "--all",
           "--parts", TEACH_PARTS, *TEACH_FIT_OPTIONS, *extra]
    export = [sys.executable, "-m", "train.cli", "export", str(run), "--out", str(model_dir)]
    return [fit, export]


def train_and_export(data: Path, run: Path, model_dir: Path, while_waiting=None, extra=()) -> float:
    """Run fit then export as subprocesses; `while_waiting()` is called ~30 times a second meanwhile.

    Returns the seconds it took. UserError when a step fails (its last lines are shown).
    """
    if not train_available():
        raise UserError("teach needs the training package: pip install 'asl-live[train]' "
                        f"(the recordings are saved in {data})")
    started = time.perf_counter()
    for cmd in train_commands(data, run, model_dir, extra):
        step = cmd[3]
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
        with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                              text=True, errors="replace") as proc:
            lines: list[str] = []
            import threading

            def pump():
                for line in proc.stdout:
                    lines.append(line.rstrip("\n"))
                    if while_waiting is None:  # headless: show the trainer's progress
                        sys.stderr.write(line)
                        sys.stderr.flush()

            reader = threading.Thread(target=pump, daemon=True)
            reader.start()
            try:
                while proc.poll() is None:
                    if while_waiting is not None:
                        while_waiting(step, time.perf_counter() - started)
                    time.sleep(0.03)
            except BaseException:
                proc.kill()
                raise
            reader.join(timeout=5)
            if proc.returncode != 0:
                tail = " | ".join(l.strip() for l in lines[-3:] if l.strip())
                raise UserError(f"training failed at `asl-train {step}` (exit {proc.returncode}): {tail}")
    return time.perf_counter() - started


def base_of(args) -> tuple[Path, Path]:
    """(model, label map) that teach extends; UserError now if it cannot be extended."""
    from asl_live.bundled import LABELS, MODEL
    from asl_live.model.bank import Bank
    from asl_live.formats.gislr import read_label_map
    from asl_live.model.head import check_extendable

    if args.model:
        from asl_live.model.pack import is_pack, resolve_model

        if is_pack(args.model):   # a sign pack: its model and label map, unpacked and checked
            args.model, args.labels = resolve_model(args.model, args.labels)
    model = Path(args.model) if args.model else MODEL
    if args.labels:
        labels = Path(args.labels)
    elif args.model:
        labels = model.with_name("sign_to_prediction_index_map.json")
    else:
        labels = LABELS
    if not model.is_file():
        raise UserError(f"{model}: no such model file")
    read_label_map(labels)
    check_extendable(model)
    Bank.load(model)
    return model, labels


def extend_in_background(model: Path, labels: Path, dataset: Dataset, out: Path, while_waiting=None) -> float:
    """`extend.extend` on the recorded samples in a worker thread; `while_waiting(step, seconds)`
    is called ~30 times a second meanwhile (the window stays live). Returns the seconds it took."""
    import threading

    from asl_live.model.extend import Recording, extend

    started = time.perf_counter()
    recordings = [Recording(dataset.read(s), s.sign, s.participant_id) for s in dataset.samples()]
    state: dict = {"step": "starting"}

    def progress(stage, done, total):
        state["step"] = f"{stage} {done}/{total}" if total > 1 else stage

    def work():
        try:
            state["result"] = extend(model, labels, recordings, out, progress=progress)
        except BaseException as e:  # shown in the main thread
            state["error"] = e

    worker = threading.Thread(target=work, name="teach-extend", daemon=True)
    worker.start()
    shown = None
    while worker.is_alive():
        if while_waiting is not None:
            while_waiting(state["step"], time.perf_counter() - started)
        elif state["step"] != shown and not state["step"].startswith("embedding"):
            shown = state["step"]
            print(f"teach: {shown}", file=sys.stderr)
        worker.join(0.03)
    if "error" in state:
        raise state["error"]
    return time.perf_counter() - started


class _Remaining:
    """The rest of a source's stream (after the recordings), with the source's name, fps, ..."""

    def __init__(self, source, items):
        self._source, self._items = source, items

    def __iter__(self):
        return self._items

    def __getattr__(self, name):
        return getattr(self._source, name)


def parse_signs(text: str) -> list[str]:
    from asl_live.record import check_sign

    signs = [s.strip() for s in text.split(",") if s.strip()]
    if len(signs) < 2:
        raise UserError("--signs needs at least two signs, e.g. --signs hello,thankyou,water")
    if len(set(signs)) != len(signs):
        raise UserError("--signs lists a sign twice")
    for s in signs:
        check_sign(s)
    return signs


def build_parser():
    from asl_live.model.classifier import DEFAULT_THRESHOLD
    from asl_live.errors import ArgumentParser
    from asl_live.capture.sources import add_source_arguments

    p = ArgumentParser(
        prog="asl-live teach",
        description="Teach the app new signs: record K samples of each, add them to the model in use "
                    "(a second or two; it keeps the signs it knew), then recognise with it, in one sitting.")
    p.add_argument("--signs", required=True, help="comma-separated signs to learn, e.g. hello,thankyou,water")
    p.add_argument("--shots", type=int, default=10, help="samples to record per sign (default 10)")
    p.add_argument("--out", default="teach", help="folder for the recordings and the new model (default ./teach)")
    p.add_argument("--participant", type=int, default=0, help="participant id for the recordings")
    p.add_argument("--model", default=None, metavar="PATH",
                   help="the model to extend (default: the bundled one); it needs its bank beside it "
                        "(MODEL.bank.npz), which models made by asl-live teach and asl-train have; or a sign pack "
                        "(FILE.aslpack, asl-live pack)")
    p.add_argument("--labels", default=None, metavar="PATH",
                   help="its label map (default: beside --model, else the bundled one)")
    p.add_argument("--fresh", action="store_true",
                   help="learn the new signs alone (a new model trained from scratch with asl-train: "
                        "needs the train extra, takes half a minute or more)")
    p.add_argument("--countdown", type=float, default=3.0, help="seconds before each sign on a camera")
    p.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD,
                   help="below this probability the answer is 'unknown' (default: the rule set by the "
                        "new model's number of classes)")
    p.add_argument("--headless", action="store_true", help="no window: progress on stderr, signs as JSON lines")
    add_source_arguments(p, demo=False)
    return p


def main(argv=None) -> int:
    from asl_live.model.classifier import Classifier
    from asl_live.capture.extract import quiet_native_logs
    from asl_live.reading.pipeline import Recognizer, landmarks_from_args, run_headless, run_window
    from asl_live.record import open_view, record, window_drawer
    from asl_live.capture.sources import source_from_args

    args = build_parser().parse_args(argv)
    quiet_native_logs()
    signs = parse_signs(args.signs)
    if args.shots < 1:
        raise UserError("--shots must be at least 1")
    # Say what cannot work before anyone signs sixty times for nothing.
    if args.fresh:
        if not train_available():
            raise UserError("teach --fresh needs the training package: pip install 'asl-live[train]'")
    else:
        base_model, base_labels = base_of(args)
    from asl_live.formats.gislr import read_label_map, writable_folder

    out = writable_folder(args.out, "teach folder")
    dataset = Dataset(out / "data")
    if dataset.train_csv.is_file() and dataset.samples():
        raise UserError(f"{dataset.root} already holds recordings; give another --out "
                        "(or train on it with asl-train fit)")
    landmarks = landmarks_from_args(args)
    source = source_from_args(args)
    window = open_view(args.headless)
    try:
        items = iter(source)
        draw = window_drawer(window, source.name) if window is not None else None
        for sign in signs:
            progress = record(items, dataset, sign, args.participant, args.shots, args.countdown,
                              landmarks, draw, live=source.live, whole_sequences=source.whole_sequences)
            if progress.quit:
                print("teach: stopped; recordings so far are saved in " + str(dataset.root), file=sys.stderr)
                return 130
            if progress.ended and len(progress.saved) < args.shots:
                got = {s: sum(r.sign == s for r in dataset.samples()) for s in signs}
                raise UserError(f"the source ended with {got} samples recorded ({args.shots} of each needed); "
                                f"they are saved in {dataset.root}")

        waiting = None
        if window is not None:
            from asl_live.view.overlay import HUD, render

            def waiting(step, seconds):
                hud = HUD(status="paused", source=source.name,
                          banner=f"Learning {len(signs)} signs: {step}, {seconds:.0f} s...")
                if window.show(render(None, None, hud)) == "quit":
                    raise KeyboardInterrupt

        model_dir = out / "model"
        if args.fresh:
            print(f"teach: training on {len(signs)} signs x {args.shots} samples...", file=sys.stderr)
            seconds = train_and_export(dataset.root, out / "run", model_dir, waiting)
        else:
            print(f"teach: adding {len(signs)} signs x {args.shots} samples to {base_model.name}...",
                  file=sys.stderr)
            seconds = extend_in_background(base_model, base_labels, dataset, model_dir, waiting)
            from asl_live.model.card import write_card

            counts = {s: sum(r.sign == s for r in dataset.samples()) for s in signs}
            write_card(model_dir / "model.tflite", base_model, counts,
                       list(read_label_map(model_dir / "sign_to_prediction_index_map.json")),
                       f"participant {args.participant}", seconds)
        print(f"teach: model ready in {seconds:.1f} s: {model_dir / 'model.tflite'}", file=sys.stderr)

        from asl_live.capture.native_stderr import quiet_native_stderr

        with quiet_native_stderr():  # the TFLite runtime's start-up notice
            classifier = Classifier(model_dir / "model.tflite",
                                    model_dir / "sign_to_prediction_index_map.json", args.threshold)
        print(f"teach: the model knows {', '.join(classifier.labels)}", file=sys.stderr)
        recognizer = Recognizer(classifier)
        rest = _Remaining(source, items)  # the same stream goes on, now recognised
        if window is not None:
            run_window(rest, recognizer, landmarks, window)
        else:
            run_headless(rest, recognizer, landmarks)
    finally:
        source.close()
        landmarks.close()
        if window is not None:
            window.close()
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, prog="asl-live teach"))
