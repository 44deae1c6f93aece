"""`asl-train import-mpdata SRC --out DIR`: an "MP_Data" folder into the competition layout.

Each `<sign>/<sequence>/` becomes one GISLR parquet (zeros -> NaN, a missing
face NaN, rows in GISLR order; a 63-value one-hand frame (fingerspelling sets)
in the right-hand rows: `asl_live.formats.mpdata.to_gislr`) and one row of
`train.csv`. Sign names take their GISLR spelling (`thank-you` -> `thankyou`).
The participant is `--participant`, or per sequence from `--signers CSV`
(`sign,sequence,signer`, e.g. the traduttore signer list): each signer name
gets a stable 5-digit id, printed at the end.

Resumable: a sequence's id is derived from `<sign>/<sequence>`, so a second run
skips what is already in train.csv.

A sequence with a bad frame (unreadable, e.g. a saved `None`; NaN; a wrong size) is
left out with one line on stderr and the import goes on: one bad frame among
thousands should not cost the rest. The exit status is then 1, with the count.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from asl_live.formats import mpdata
from asl_live.errors import ArgumentParser
from asl_live.errors import UserError, run_main
from asl_live.formats.gislr import Dataset, gislr_name, writable_folder

from .importing import BatchWriter, signer_id, stable_id


def read_signers(path: str | Path) -> dict[tuple[str, str], str]:
    """`sign,sequence,signer` CSV -> {(sign folder, sequence folder): signer name}."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            need = {"sign", "sequence", "signer"}
            if not need <= set(reader.fieldnames or []):
                raise UserError(f"{path}: a signers CSV has the columns sign,sequence,signer")
            return {(r["sign"], r["sequence"]): r["signer"] for r in reader}
    except FileNotFoundError:
        raise UserError(f"{path}: no such signers CSV") from None
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise UserError(f"{path}: unreadable signers CSV ({e})") from None


def sequence_key(seq: mpdata.Sequence, participant: int = 0) -> str:
    """Names a sequence for its stable id. Every MP_Data folder numbers its sequences
    `<sign>/0..N-1`, so two people's folders imported into one dataset (each with its own
    `--participant`) must differ by the participant too, or the second would be "already there".
    Participant 0 (the default) keeps the bare key, so earlier imports keep their ids."""
    base = f"mpdata:{seq.sign}/{seq.sequence}"
    return base if not participant else f"mpdata:p{participant}:{seq.sign}/{seq.sequence}"


def import_mpdata(src, out, participant: int | None = None, signers: str | Path | None = None,
                  keep_names: bool = False, progress: bool = True) -> dict:
    """Import every sequence under `src` into the dataset at `out`; returns a summary dict."""
    from tqdm import tqdm

    seqs = mpdata.sequences(src)
    who = read_signers(signers) if signers else {}
    ids = {}
    if who:
        for name in sorted(set(who.values())):
            ids[name] = signer_id(name)
        if len(set(ids.values())) != len(ids):
            raise UserError(f"{signers}: two signer names map to the same participant id")

    def participant_of(seq):
        name = who.get((seq.sign, seq.sequence))
        if name is not None:
            return ids[name]
        if participant is not None:
            return participant
        if who:
            raise UserError(f"{signers}: no signer for {seq.sign}/{seq.sequence}; "
                            "add it, or give --participant as the fallback")
        return 0

    dataset = Dataset(writable_folder(out, "dataset folder"))  # a wrong --out fails before any work
    added = skipped = 0
    bad: list[str] = []
    with BatchWriter(dataset) as writer:
        for seq in tqdm(seqs, desc="import-mpdata", unit="seq", disable=not progress, file=sys.stderr):
            # Signers from a CSV already tell one folder's sequences apart: they keep the bare key.
            sid = stable_id(sequence_key(seq, 0 if who else (participant or 0)))
            if writer.has(sid):
                skipped += 1
                continue
            try:
                frames = mpdata.to_gislr(seq.load())
            except UserError as e:
                bad.append(f"{seq.sign}/{seq.sequence}")
                # tqdm.write: the line goes above the progress bar instead of breaking it
                tqdm.write(f"asl-train import-mpdata: skipped {seq.sign}/{seq.sequence}: {e}", file=sys.stderr)
                continue
            sign = seq.sign if keep_names else gislr_name(seq.sign)
            writer.add(frames, sign, participant_of(seq), sid)
            added += 1
    return {"added": added, "skipped": skipped, "bad": bad, "signers": ids, "out": str(out)}


def build_parser() -> argparse.ArgumentParser:
    p = ArgumentParser(  # usage errors: one line, exit 2
        prog="asl-train import-mpdata",
        description="Import an MP_Data folder (<sign>/<sequence>/<frame>.npy, 1662 or 258 values "
                    "a frame, or 63 for one hand: it goes to the right-hand rows) into the competition "
                    "layout (train.csv + GISLR parquet). A sequence may be a single frame.")
    p.add_argument("src", help="the MP_Data folder (or its parent)")
    p.add_argument("--out", required=True, help="dataset folder to create or extend")
    p.add_argument("--participant", type=int, default=None,
                   help="participant id for every sequence (default 0; with --signers: for "
                        "sequences the CSV does not list)")
    p.add_argument("--signers", metavar="CSV",
                   help="sign,sequence,signer CSV giving who signed each sequence; each signer "
                        "name gets a stable participant id")
    p.add_argument("--keep-names", action="store_true",
                   help="keep folder names as sign names (default: GISLR spelling, thank-you -> thankyou)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    summary = import_mpdata(args.src, args.out, args.participant, args.signers,
                            args.keep_names, progress=not args.quiet)
    msg = f"import-mpdata: {summary['added']} sequences added, {summary['skipped']} already there -> {summary['out']}"
    print(msg, file=sys.stderr)
    for name, pid in summary["signers"].items():
        print(f"  participant {pid} = {name}", file=sys.stderr)
    if summary["bad"]:
        print(f"import-mpdata: {len(summary['bad'])} sequences skipped for a bad frame (listed above)",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, prog="asl-train import-mpdata"))
