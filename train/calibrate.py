"""Measure a model's "unknown" rule on sequences it never trained on; write the sidecar beside it.

    asl-train calibrate MODEL.tflite --data HELD_OUT [--data OTHER_SIGNS ...] [--keep 0.97]
    asl-train calibrate MODEL.tflite --from-bank      # a model with a bank: the `prototype` rule

Every sequence of the `--data` folders whose sign is in the model's label map is
an in-vocabulary example; every other one (and any labelled `unknown`) is an
out-of-vocabulary example: a sign the model must answer "unknown". The model
runs through TFLite exactly as the app runs it; `asl_live.model.unknown_rule.choose_rule`
picks the score (max probability, margin, certainty) and threshold that keep
`keep` of the right answers and reject the most out-of-vocabulary sequences, and
`MODEL.unknown.json` is written beside the model for the app to read.

`asl-train export --calibrate DIR` calls the same code on the exported model,
with the run's validation fold (when it has one) as extra in-vocabulary data.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from asl_live.model.unknown_rule import choose_rule, write_sidecar
from asl_live.errors import UserError
from asl_live.formats.gislr import Dataset, Sample, gislr_name

UNKNOWN = "unknown"


def vocabulary_name(sign: str, vocab) -> str | None:
    """The model's name for a dataset's sign (as written, or in GISLR spelling), None if it has none."""
    if sign in vocab:
        return sign
    name = gislr_name(sign)
    return name if name in vocab else None


def split_samples(datasets, signs: list[str], exclude=()) -> tuple[list, list]:
    """(in-vocabulary, out-of-vocabulary) lists of (Dataset, Sample) from dataset folders.

    In-vocabulary samples carry the model's own name for their sign.
    """
    vocab = set(signs) - {UNKNOWN}
    exclude = set(exclude) | {gislr_name(s) for s in exclude}
    inside, outside = [], []
    for root in datasets:
        ds = Dataset(root)
        for s in ds.samples():
            if s.sign in exclude or gislr_name(s.sign) in exclude:
                continue
            name = vocabulary_name(s.sign, vocab)
            if name is None:
                outside.append((ds, s))
            else:
                inside.append((ds, Sample(s.path, s.participant_id, s.sequence_id, name)))
    return inside, outside


def probabilities(classifier, samples, progress: bool = True) -> np.ndarray:
    """The app's own probabilities (asl_live.model.classifier: TFLite, softmax if the outputs are logits)."""
    from tqdm import tqdm

    out = [classifier.probabilities(ds.read(s))
           for ds, s in tqdm(samples, desc="calibrate", unit="seq", file=sys.stderr,
                             disable=not progress, dynamic_ncols=True)]
    return np.stack(out) if out else np.zeros((0, len(classifier.labels)))


def calibrate(model_path, inside: list[tuple[Dataset, Sample]], outside: list[tuple[Dataset, Sample]],
              labels_path=None, keep: float = 0.97, progress: bool = True) -> dict:
    """Measure, choose and write the rule; returns the sidecar's content plus every score's figures."""
    from asl_live.model.classifier import Classifier

    model_path = Path(model_path)
    if not 0.5 <= keep < 1.0:
        raise UserError(f"--keep {keep}: must be at least 0.5 and below 1")
    labels_path = Path(labels_path) if labels_path else model_path.parent / "sign_to_prediction_index_map.json"
    from asl_live.capture.native_stderr import quiet_native_stderr

    with quiet_native_stderr():  # the TFLite runtime's start-up notice
        classifier = Classifier(model_path, labels_path, threshold=0.0)  # checks the model and label map
    signs = classifier.labels
    if not inside:
        raise UserError("no sequence of a sign the model knows in the calibration data; "
                        "give held-out sequences of its signs (--data)")
    if not outside:
        raise UserError("no sequence of a sign outside the model's vocabulary in the calibration data; "
                        "give clips of other signs (--data)")
    index = {s: i for i, s in enumerate(signs)}
    truth = np.array([index[s.sign] for _, s in inside])
    p_in = probabilities(classifier, inside, progress)
    p_out = probabilities(classifier, outside, progress)
    unknown_index = index.get(UNKNOWN)
    rule, threshold, results = choose_rule(p_in, truth, p_out, keep, unknown_index)
    measured = {**results[rule], "keep_target": keep,
                "data": sorted({str(ds.root) for ds, _ in inside + outside}),
                "all_rules": results}
    path = write_sidecar(model_path, rule, threshold, len(signs), measured)
    if progress:
        r = results[rule]
        print(f"asl-train: {path}: {rule} >= {threshold:.4g} keeps {r['kept']:.3f} of "
              f"{int(round(r['top1'] * r['in_vocabulary']))} right answers ({r['in_vocabulary']} in-vocabulary "
              f"sequences) and rejects {r['rejected']:.3f} of {r['out_of_vocabulary']} out-of-vocabulary ones",
              file=sys.stderr)
    return {"sidecar": str(path), "rule": rule, "threshold": threshold, "measured": measured}


def main(args) -> int:
    import json

    from asl_live.model.classifier import Classifier

    labels = args.labels or Path(args.model).parent / "sign_to_prediction_index_map.json"
    from asl_live.capture.native_stderr import quiet_native_stderr

    with quiet_native_stderr():
        signs = Classifier(args.model, labels, threshold=0.0).labels  # one-line errors for a bad model or map
    if args.from_bank:
        if args.data:
            raise UserError("--from-bank needs no --data (the rule comes from the model's bank)")
        from asl_live.model.unknown_rule import read_sidecar
        from asl_live.model.extend import write_prototype_rule

        path = write_prototype_rule(args.model, signs)
        if path is None:
            raise UserError(f"{args.model}: a sign in its bank was signed by one person only: nothing to "
                            "measure how a new person's signs fall; the app uses the class-count rule")
        data = read_sidecar(path)
        print(f"asl-train: {path}: prototype >= {data['threshold']:.4g} (the {data['measured']['bank_quantile']} "
              f"quantile of the bank's {data['measured']['bank']} examples, each person left out)", file=sys.stderr)
        if args.json:
            print(json.dumps({"sidecar": str(path), "rule": "prototype", "threshold": data["threshold"]}))
        return 0
    if not args.data:
        raise UserError("calibrate needs --data DIR (sequences the model never trained on), or --from-bank")
    inside, outside = split_samples(args.data, signs, args.exclude or ())
    report = calibrate(args.model, inside, outside, labels, args.keep)
    if args.json:
        print(json.dumps(report))
    return 0
