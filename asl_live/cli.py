"""`asl-live`: recognise signs from a camera, a video or a parquet replay; `record` and `teach`.

    asl-live [--camera N | --video PATH | --replay PATH | --demo] [--model M] [--labels L]
             [--clip] [--signs | --letters] [--headless] [--subtitles OUT.vtt|OUT.srt]
             [--speak] [--speak-to OUT.wav] [--threshold P] [--verbose]
    asl-live record ...     (asl_live.record)
    asl-live teach ...      (asl_live.teach)
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from asl_live.errors import ArgumentParser, UserError, run_main

SUBCOMMANDS = {"record": "asl_live.record", "teach": "asl_live.teach", "pack": "asl_live.model.pack",
               "practice": "asl_live.practice"}


def build_parser() -> argparse.ArgumentParser:
    from asl_live.model.classifier import DEFAULT_LABELS, DEFAULT_MODEL, DEFAULT_THRESHOLD
    from asl_live.capture.sources import add_source_arguments
    from asl_live.reading.letter_reader import add_reader_argument

    p = ArgumentParser(
        prog="asl-live",
        description="Recognise American Sign Language signs and fingerspelled words live from a webcam, a "
                    "video or a GISLR parquet replay (MediaPipe Holistic landmarks + TFLite models).",
        epilog="other commands: `asl-live record --help` (record your own signs), "
               "`asl-live teach --help` (teach the app new signs), `asl-live pack --help` (a taught model "
               "as one file to share)")
    add_source_arguments(p)
    p.add_argument("--model", default=None, metavar="PATH",
                   help="TFLite model with the GISLR contract (default: the bundled model), or a sign pack "
                        "(FILE.aslpack, made by `asl-live pack`)")
    p.add_argument("--labels", default=None, metavar="PATH",
                   help="label map JSON {sign: index} (default: the one beside --model, else the bundled one)")
    p.add_argument("--letters", action="store_true",
                   help="letters only: the bundled letters model (a-z) instead of the sign model, one line per "
                        "letter and per word; with --clip, one letter per clip or replayed sequence")
    add_reader_argument(p)
    p.add_argument("--signs", action="store_true",
                   help="signs only: no fingerspelled words (by default each stretch of signing is read as a "
                        "sign or as a word spelled letter by letter, whichever it was)")
    p.add_argument("--clip", action="store_true",
                   help="treat the whole input (each replayed sequence) as one sign: exactly one result")
    p.add_argument("--rest-only", action="store_true",
                   help="end a sign only when the hands go to rest, not also where they dip towards the "
                        "waist and come back up between two signs (the default finds signs that run into "
                        "each other, as in a sentence; it can split a rare sign that moves down and up late)")
    p.add_argument("--no-rest", action="store_true", help=argparse.SUPPRESS)  # kept for old scripts: not waiting for a rest is the default
    p.add_argument("--headless", action="store_true",
                   help="no window: one JSON line per recognised sign on stdout")
    p.add_argument("--subtitles", metavar="OUT",
                   help="also write timed subtitles of the recognised signs: OUT.vtt (WebVTT) or "
                        "OUT.srt (SubRip); cue times are the signs' t_start/t_end, 'unknown' left out")
    p.add_argument("--speak", action="store_true",
                   help="say each finished sign or spelled word aloud (offline: the system's own voice, "
                        "espeak-ng on Linux); in the window, s turns it on and off")
    p.add_argument("--speak-to", metavar="OUT.wav",
                   help="write the speech of the transcript to a WAV file, each word at the time it ended")
    p.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD, metavar="P",
                   help="below this probability the answer is 'unknown' (default: the rule measured for "
                        "the model, in MODEL.unknown.json beside it, else one set by its number of classes)")
    p.add_argument("--learn", action="store_true",
                   help="learn from corrections: with a labelled replay (--replay DATASET --headless), every "
                        "wrong answer is corrected with the dataset's label, saved as a sample and the model "
                        "extended before the next sign; in the window, c corrects the last answer, u undoes")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="with --learn: the folder that keeps the samples (DIR/data) and the extended model "
                        "(DIR/model, which --model and teach --model take); default: a temporary one, "
                        "deleted at the end")
    p.add_argument("--verbose", action="store_true", help="keep MediaPipe/TFLite log output")
    return p


def run_app(argv) -> int:
    args = build_parser().parse_args(argv)
    from asl_live.bundled import LETTERS_LABELS, LETTERS_MODEL
    from asl_live.model.classifier import DEFAULT_LABELS, DEFAULT_MODEL

    if args.model is not None:
        from asl_live.model.pack import resolve_model

        args.model, args.labels = resolve_model(args.model, args.labels)
    args.model = args.model or str(LETTERS_MODEL if args.letters else DEFAULT_MODEL)
    args.labels = args.labels or str(LETTERS_LABELS if args.letters else DEFAULT_LABELS)
    if args.out is not None and not args.learn:
        raise UserError("--out keeps what --learn learned: give --learn too")
    if args.learn:
        from asl_live.reading.corrections import check_learn_options

        check_learn_options(args)   # before a camera or a model is opened
    from asl_live.capture.extract import quiet_native_logs

    if args.verbose:
        os.environ["ASL_LIVE_VERBOSE"] = "1"
    quiet_native_logs(args.verbose)
    if not args.headless:
        from asl_live.view.window import require_display

        try:
            require_display()  # before anything slow: fail in a blink, not after loading models
        except UserError:
            if not args.demo:
                raise
            from asl_live.capture.sources import demo_path

            demo_path()
            # The demo is the first thing a new user runs, often on a machine without a screen:
            # show its results rather than an error.
            print("asl-live: no display, so the demo prints JSON lines "
                  "(for the window: xvfb-run -a asl-live --demo)", file=sys.stderr)
            args.headless = True

    from asl_live.model.classifier import Classifier
    from asl_live.capture.native_stderr import quiet_native_stderr
    from asl_live.reading.pipeline import Recognizer, landmarks_from_args, run_headless, run_window
    from asl_live.reading.segmenter import Segmenter
    from asl_live.capture.sources import source_from_args

    subtitles = None
    if args.subtitles is not None:
        from asl_live.view.subtitles import SubtitleWriter

        subtitles = SubtitleWriter(args.subtitles)  # a bad path fails here, before models load
    speech = None
    if args.speak or args.speak_to is not None:
        from asl_live.view.speech import Speech, SpeechFile

        if args.speak_to is not None:
            SpeechFile(args.speak_to)  # a bad path fails here, before models load
        speech = Speech(speak=args.speak, to=args.speak_to)
    elif not args.headless:
        from asl_live.view.speech import Speech

        speech = Speech(speak=False)  # off until the window's s key turns it on
    with quiet_native_stderr(args.verbose):
        classifier = Classifier(args.model, args.labels, args.threshold,
                                warn=lambda line: print(f"asl-live: warning: {line}", file=sys.stderr))
    landmarks = landmarks_from_args(args, args.verbose)
    source = source_from_args(args)
    if args.letters and not args.clip:
        from asl_live.reading.letter_reader import LettersOnly

        recognizer = LettersOnly(classifier)
    else:
        letters = None
        # --learn corrects the sign model's answers: signs only there
        if not (args.clip or args.signs or args.letters or args.learn):
            from asl_live.reading.letter_reader import open_reader

            with quiet_native_stderr(args.verbose):
                letters = open_reader(args.letter_reader)
        recognizer = Recognizer(classifier, clip=args.clip, segmenter=Segmenter(no_rest=not args.rest_only),
                                clock=source.clock if source.live else None, letters=letters, fps=source.fps)
    sinks = [sink for sink in (subtitles.add if subtitles is not None else None,
                               speech.say if speech is not None else None) if sink is not None]

    def on_recognition(reading) -> None:
        for sink in sinks:
            sink(reading)

    learner = None
    try:
        if args.learn:
            from asl_live.reading.corrections import start_learning

            learner = start_learning(args, recognizer, on_recognition)
            on_recognition = learner.on_recognition
        if args.headless:
            run_headless(source, recognizer, landmarks, on_recognition=on_recognition)
        else:
            from asl_live.view.window import Window

            with Window("asl-live letters" if args.letters else "asl-live") as window:
                run_window(source, recognizer, landmarks, window, on_recognition=on_recognition,
                           on_key=learner.on_key if learner is not None else None, speech=speech)
    finally:
        source.close()
        landmarks.close()
        if learner is not None:
            learner.close()
        if speech is not None:
            speech.close()
    return 0


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in SUBCOMMANDS:
        name = argv[0]
        try:
            module = importlib.import_module(SUBCOMMANDS[name])
        except ModuleNotFoundError as e:
            if e.name != SUBCOMMANDS[name]:
                raise
            print(f"asl-live: error: `{name}` is not available in this version", file=sys.stderr)
            return 2
        return run_main(module.main, argv[1:], prog=f"asl-live {name}")
    return run_main(run_app, argv, prog="asl-live")
