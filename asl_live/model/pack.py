"""Sign packs: a taught model as one file to hand to someone (`asl-live pack`).

    asl-live pack teach/ -o my-signs.aslpack     # a teach (or --learn --out) folder -> one file
    asl-live pack --list my-signs.aslpack        # what is inside: the card and the files
    asl-live --model my-signs.aslpack            # use it (teach --model takes it too)

A pack is a zip holding exactly these files, flat::

    model.tflite                        the taught model
    sign_to_prediction_index_map.json   its label map
    model.bank.npz                      its bank (what teach extends it from)
    model.unknown.json                  its unknown rule (only when it has its own)
    card.json                           who taught what, how many samples, when, the base model's sha256

A pack is data from a stranger. Reading one never unpickles (the bank is read with
`allow_pickle=False`, object arrays refused) and runs nothing from it; its members are
read one by one into files this module names itself (never `extractall`): a name that is
absolute, has `..` or a folder, a symlink, a file not in the list above, a member bigger
than `MAX_MEMBER` or an archive that unpacks past `MAX_TOTAL` is refused. Damaged (a CRC
or a sha256 that does not match), not a pack, or files that belong to another model: one
clear line, exit 2.
"""

from __future__ import annotations

import atexit
import json
import shutil
import stat
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from asl_live.model.runtime import file_sha256
from asl_live.model.unknown_rule import read_sidecar
from asl_live.errors import UserError, run_main
from asl_live.formats.gislr import atomic_write, labels_in_order, read_label_map
from asl_live.model.card import CARD, read_card, write_card

SUFFIX = ".aslpack"
MODEL, LABELS, BANK, RULE = "model.tflite", "sign_to_prediction_index_map.json", "model.bank.npz", "model.unknown.json"
REQUIRED = (MODEL, LABELS, BANK, CARD)
MEMBERS = REQUIRED + (RULE,)
MAX_MEMBER = 256 << 20      # the bundled model is 5 MB, its bank 1 MB
MAX_TOTAL = 512 << 20


# --------------------------------------------------------------------------- making

def model_folder(folder: Path) -> Path:
    """The folder holding model.tflite: FOLDER/model (a teach or --learn folder) or FOLDER itself."""
    for candidate in (folder / "model", folder):
        if (candidate / MODEL).is_file():
            return candidate
    raise UserError(f"{folder}: no {MODEL} here or in {folder / 'model'} (give a folder asl-live teach "
                    "or asl-live --learn --out wrote)")


def make_pack(folder, out, base=None) -> Path:
    """Write the pack of a taught model's folder to `out` (atomically); returns its path."""
    from asl_live.model.bank import Bank

    folder, out = Path(folder), Path(out)
    if not folder.is_dir():
        raise UserError(f"{folder}: no such folder")
    if out.suffix != SUFFIX:
        raise UserError(f"{out}: a sign pack's name ends in {SUFFIX}")
    src = model_folder(folder)
    model = src / MODEL
    labels = read_label_map(src / LABELS)
    Bank.load(model)   # there, readable, and this model's: else it is no pack teach could extend
    card = src / CARD
    if card.is_file():
        data = read_card(card)
        if data["model_sha256"] != file_sha256(model):
            raise UserError(f"{card}: describes another model file (sha256 differs from {model.name}'s)")
    else:
        # A folder from before cards: count its samples, and name the base the caller says it was.
        from asl_live.bundled import MODEL as BUNDLED
        from asl_live.formats.gislr import Dataset

        data_dir = Dataset(folder / "data")
        counts: dict[str, int] = {}
        if data_dir.train_csv.is_file():
            for s in data_dir.samples():
                counts[s.sign] = counts.get(s.sign, 0) + 1
        base = Path(base) if base else BUNDLED
        print(f"asl-live pack: {folder} has no {CARD}; the card says {counts or 'no samples'}, "
              f"added to {base.name} (give --base if it was another model)", file=sys.stderr)
        card = write_card(model, base, counts, labels_in_order(labels))
    rule = src / RULE
    members = [(MODEL, model), (LABELS, src / LABELS), (BANK, src / BANK), (CARD, card)]
    if rule.is_file():
        read_sidecar(rule, len(labels))
        members.append((RULE, rule))
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(out) as f, zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as z:
        for name, path in members:
            z.write(path, name)
    return out


# --------------------------------------------------------------------------- reading

def _not_a_pack(path, why: str) -> UserError:
    return UserError(f"{path}: not a sign pack ({why})")


def read_members(path) -> dict[str, bytes]:
    """The pack's members, checked (names, kinds, sizes, CRCs), as bytes; nothing written anywhere."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such sign pack")
    if not zipfile.is_zipfile(path):
        raise _not_a_pack(path, "not a zip file")
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            names = [i.filename for i in infos]
            for info in infos:
                name = info.filename
                if name.startswith(("/", "\\")) or ".." in name.replace("\\", "/").split("/") \
                        or "/" in name or "\\" in name or ":" in name:
                    raise _not_a_pack(path, f"member {name!r} is a path outside the pack's own folder")
                mode = info.external_attr >> 16
                if stat.S_ISLNK(mode) or info.is_dir():
                    raise _not_a_pack(path, f"member {name!r} is a link or a folder")
                if name not in MEMBERS:
                    raise _not_a_pack(path, f"unexpected member {name!r}; a pack holds {', '.join(MEMBERS)}")
                if info.file_size > MAX_MEMBER:
                    raise _not_a_pack(path, f"member {name!r} is {info.file_size} bytes unpacked")
            if len(set(names)) != len(names):
                raise _not_a_pack(path, "a member appears twice")
            missing = [m for m in REQUIRED if m not in names]
            if missing:
                raise _not_a_pack(path, f"it lacks {', '.join(missing)}")
            if sum(i.file_size for i in infos) > MAX_TOTAL:
                raise _not_a_pack(path, "it unpacks to more than 512 MB")
            out = {}
            for info in infos:
                with z.open(info) as f:   # reads at most file_size + 1: a lying header cannot bomb
                    data = f.read(info.file_size + 1)
                if len(data) != info.file_size:
                    raise UserError(f"{path}: damaged sign pack ({info.filename} is not the size it says)")
                out[info.filename] = data
            return out
    except zipfile.BadZipFile as e:   # a CRC that does not match, a truncated archive
        raise UserError(f"{path}: damaged sign pack ({e})") from None
    except (EOFError, NotImplementedError, ValueError, OSError) as e:
        raise UserError(f"{path}: damaged sign pack ({type(e).__name__}: {e})") from None


def check_bank(path: Path) -> None:
    """The bank as data only: plain numeric and string arrays, never a pickle."""
    try:
        with np.load(path, allow_pickle=False) as z:
            for key in ("embeddings", "labels", "signs", "participants", "model_sha256"):
                if key not in z.files:
                    raise UserError(f"{path.name} in the pack lacks {key!r}")
                if z[key].dtype.kind == "O":
                    raise UserError(f"{path.name} in the pack holds objects")
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise UserError(f"{path.name} in the pack is not a readable bank ({str(e).splitlines()[0]})") from None


_unpacked: list[str] = []


@atexit.register
def _clean() -> None:
    for d in _unpacked:
        shutil.rmtree(d, ignore_errors=True)


def open_pack(path) -> tuple[Path, Path, dict]:
    """Unpack a pack into a private temporary folder (removed at exit), checked; (model, label map, card)."""
    from asl_live.model.bank import Bank

    path = Path(path)
    members = read_members(path)
    where = Path(tempfile.mkdtemp(prefix="asl-live-pack-"))
    _unpacked.append(str(where))
    for name, data in members.items():
        target = where / name   # a name from MEMBERS only: never outside `where`
        target.write_bytes(data)
    try:
        card = read_card(where / CARD)
    except UserError as e:
        raise UserError(f"{path}: damaged sign pack ({str(e).replace(str(where / CARD), CARD)})") from None
    model = where / MODEL
    if card["model_sha256"] != file_sha256(model):
        raise UserError(f"{path}: made for another model: its card describes a model file other than "
                        f"the {MODEL} inside (sha256 differs)")
    labels = read_label_map(where / LABELS)
    check_bank(where / BANK)
    try:
        Bank.load(model)
    except UserError as e:
        raise UserError(f"{path}: made for another model: {str(e).replace(str(where) + '/', '')}") from None
    if (where / RULE).is_file():
        data = read_sidecar(where / RULE, len(labels))
        if data.get("model_sha256") not in (None, card["model_sha256"]):
            raise UserError(f"{path}: made for another model: its {RULE} belongs to another model file")
    if card.get("classes") and card["classes"] != labels_in_order(labels):
        raise UserError(f"{path}: made for another model: its card's signs differ from its label map")
    return model, where / LABELS, card


def is_pack(path) -> bool:
    return str(path).endswith(SUFFIX)


def resolve_model(model, labels):
    """`--model`/`--labels` as given, or, for a pack, the model and label map unpacked from it.

    A model given without `--labels` takes the label map beside it, where there is one (the
    folders teach and --learn write), so `--model DIR/model/model.tflite` is enough."""
    if model is None:
        return model, labels
    if not is_pack(model):
        beside = Path(model).with_name(LABELS)
        if labels is None and beside.is_file():
            labels = str(beside)
        return model, labels
    if labels is not None:
        raise UserError("a sign pack brings its own label map: leave out --labels")
    m, l, _ = open_pack(model)
    return str(m), str(l)


def describe(path) -> str:
    from asl_live.bundled import MODEL as BUNDLED

    members = read_members(path)
    model_path, _, card = open_pack(path)
    lines = [f"{path}: a sign pack"]
    base = "the bundled model" if card["base_sha256"] == file_sha256(BUNDLED) else \
        f"{card.get('base_model', '?')} (sha256 {card['base_sha256'][:12]}..., not this install's bundled model)"
    taught = ", ".join(f"{s} ({n})" for s, n in card["signs"].items()) or "nothing"
    lines.append(f"  taught by {card.get('taught_by', '?')} on {card['when']}: {taught}; "
                 f"{card['samples']} samples, added to {base}")
    if card.get("classes"):
        lines.append(f"  knows {len(card['classes'])} classes: {', '.join(card['classes'])}")
    for name, data in members.items():
        lines.append(f"  {name:36s} {len(data):>10,d} bytes")
    return "\n".join(lines)


# --------------------------------------------------------------------------- command

def build_parser():
    from asl_live.errors import ArgumentParser

    p = ArgumentParser(prog="asl-live pack",
                       description="Make a sign pack (one file: a taught model, its label map, bank, unknown "
                                   "rule and card) from a teach folder, or list what is in one.")
    p.add_argument("folder", nargs="?", help="a folder asl-live teach or asl-live --learn --out wrote")
    p.add_argument("-o", "--output", metavar="FILE.aslpack", help="the pack to write")
    p.add_argument("--list", metavar="FILE.aslpack", help="show what a pack holds")
    p.add_argument("--base", metavar="MODEL", help="for a folder without card.json: the model its signs were "
                                                   "added to (default: the bundled one)")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.list:
        if args.folder or args.output:
            raise UserError("--list FILE shows a pack; to make one: asl-live pack FOLDER -o FILE.aslpack")
        print(describe(args.list))
        return 0
    if not args.folder or not args.output:
        raise UserError("give a folder and -o FILE.aslpack (or --list FILE.aslpack)")
    out = make_pack(args.folder, args.output, args.base)
    print(describe(out))
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, prog="asl-live pack"))
