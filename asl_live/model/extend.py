"""Teach a model new signs in a second, without TensorFlow: its own layers as the encoder, a new head.

A sign model made by `asl-train` ends in one fully connected layer and a softmax
over an embedding of the whole sequence (the masked mean over time of the last
transformer block, `train.models`). Everything before that layer is the
*encoder*: it stays as it is. Teaching new signs only learns a new last layer
(softmax regression on the embeddings, numpy, well under a second) and writes it
into a copy of the TFLite file (`head.replace_head`), so a taught model is the
same kind of file as any other and the app and Kaggle run it unchanged.

So that the new model still knows the old signs, a model that can be extended
carries a *bank* beside it, `<model stem>.bank.npz`: the embedding of every
sequence its head was trained on, what it was taught as (`labels`), what was
really signed (`signs`: an `unknown` example keeps its own name) and who signed it,
tied to that model file by its sha256 (as the "unknown" sidecar is). The new head is
learned from the bank and the new sequences together:

- a new sign with a new name becomes a new class;
- a new sign with the name of a class is learned again from the old and new examples;
- a new sign that the bank holds as an `unknown` example (a sign the model was taught
  to reject) takes those examples back from `unknown`: more people behind it.

A model made elsewhere (a GISLR competition model) has no bank: the data its signs
were learned from is not there, so it cannot keep them while learning new ones, and
`extend` says so in one line.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asl_live.errors import UserError
from asl_live.formats.gislr import atomic_write, gislr_name, labels_in_order, read_label_map, write_label_map
from asl_live.model import UNKNOWN
from asl_live.model.bank import Bank
from asl_live.model.head import Embedder, replace_head
from asl_live.model.runtime import Runner
from asl_live.model.unknown_rule import sidecar_path, write_sidecar

IDLE = {"-", "idle", "IDLE"}     # the MP_Data tutorials' idle-hands recordings: one kind of non-sign
HEAD_L2 = 1e-3                   # weight decay of the head (on standardised embeddings)
HEAD_STEPS = 300
# Each new recording also enters as AUGMENT other performances (`variants`), and a teacher's own
# recordings weigh MINE_SHARE of their class (`fit_head`). Both chosen on the benchmark's folds
# (docs/history/2026-12-02-teach-on-the-model-in-use.md): person 101's 5 shots 0.693 -> 0.760 -> 0.800 on his other samples.
AUGMENT = 4
MINE_SHARE = 0.5
PARITY_TOLERANCE = 1e-4          # |TFLite - numpy| of the new head's probabilities
# The `prototype` rule's threshold: this quantile of the bank's leave-one-person-out similarities.
# On the four folds of docs/history/2026-12-03-prototype-unknown-rule.md: 0.02 loses 0.001 / 0.006
# of held-out webcam / phone people's signs (no person more than 0.10 of a sign but one phone
# person's `thankyou`, 2 of 9) and answers `unknown` to 0.58 of their other signs (0.31 without);
# 0.05 rejects 0.72 but takes 77% of one webcam person's `hello`.
PROTOTYPE_QUANTILE = 0.02


def sign_label(sign: str, vocabulary=None) -> tuple[str, str]:
    """(label, sign) of a recorded sign: GISLR spelling, idle recordings as `idle`; with a
    `vocabulary`, a sign outside it is taught as `unknown` and keeps its own name."""
    name = "idle" if sign in IDLE else gislr_name(sign)
    if vocabulary is not None and name not in vocabulary:
        return UNKNOWN, name
    return name, name


# --------------------------------------------------------------------------- head

def fit_head(x: np.ndarray, labels: np.ndarray, classes: list[str], l2: float = HEAD_L2,
             steps: int = HEAD_STEPS, mine: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Softmax regression with every class weighing the same (5 new shots beside 500 bank
    examples of an old sign): (kernel [D, C], bias [C]) in the order of `classes`.

    `mine` marks the teacher's own recordings: in a class that also has bank examples,
    they weigh as much as all of those together (`MINE_SHARE`), so that five shots of how
    this person signs `no` are not outvoted by 400 examples of how others sign it.

    Full-batch Adam on standardised embeddings, folded back into the kernel and bias;
    deterministic. A class without examples gets a bias that never wins.
    """
    x = np.asarray(x, np.float64)
    index = {s: i for i, s in enumerate(classes)}
    y = np.array([index[s] for s in labels])
    n, d = x.shape
    c = len(classes)
    mean, std = x.mean(0), x.std(0) + 1e-6
    z = ((x - mean) / std).astype(np.float32)   # float32: 3x faster, the same answers
    counts = np.bincount(y, minlength=c)
    present = counts > 0
    weight = 1.0 / (present.sum() * counts[y])          # each class sums to 1/present
    if mine is not None:
        for k in np.flatnonzero(present):
            own, cls = mine & (y == k), y == k
            if own.any() and (cls & ~own).any():
                weight[own] *= MINE_SHARE * cls.sum() / own.sum()
                weight[cls & ~own] *= (1 - MINE_SHARE) * cls.sum() / (cls & ~own).sum()
    weight = weight.astype(np.float32)
    w, b = np.zeros((d, c), np.float32), np.zeros(c, np.float32)
    mw, vw, mb, vb = np.zeros_like(w), np.zeros_like(w), np.zeros_like(b), np.zeros_like(b)
    lr, beta1, beta2 = 0.05, 0.9, 0.999
    onehot = np.eye(c, dtype=np.float32)[y]
    zt = np.ascontiguousarray(z.T)
    for t in range(1, steps + 1):
        logits = z @ w + b
        logits -= logits.max(1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(1, keepdims=True)
        g = (p - onehot) * weight[:, None]
        gw, gb = zt @ g + 2 * l2 * w, g.sum(0)
        for param, grad, m, v in ((w, gw, mw, vw), (b, gb, mb, vb)):
            m *= beta1
            m += (1 - beta1) * grad
            v *= beta2
            v += (1 - beta2) * grad * grad
            param -= lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + 1e-8)
    kernel = w.astype(np.float64) / std[:, None]
    bias = b - mean @ kernel
    bias[~present] = -30.0
    return kernel.astype(np.float32), bias.astype(np.float32)


def write_prototype_rule(model_path, classes: list[str]) -> Path | None:
    """The model's "unknown" sidecar (`calibration`): the `prototype` rule, from its bank.

    Far from every person's way of signing the class it names, in the embedding, is no sign
    of it. The threshold: the PROTOTYPE_QUANTILE quantile of how near the bank's examples lie to
    the other people's prototypes of their class. The bank is the encoder's training data, on
    which every answer is sure, so no probability threshold measured on it carries to new
    people; leaving each example's own person out does. That needs every class signed by at
    least two people: a class one person taught (every sign `teach` adds) has no such measure,
    and a threshold made for classes of many people rejected up to a quarter of a teacher's own
    signs on the benchmark's taught models (BENCHMARKS.md). Then no sidecar is written (a stale one is removed) and the
    class-count rule applies, as before. Returns the sidecar's path, or None.
    """
    bank = Bank.load(model_path)   # as the app will read it (float16)
    space = bank.prototypes(classes)
    people = np.bincount(space.owner, minlength=len(classes))
    judged = [k for k, c in enumerate(classes) if c != UNKNOWN]
    threshold = space.bank_quantile(bank, classes, PROTOTYPE_QUANTILE) if (people[judged] >= 2).all() else None
    if threshold is None:
        stale = sidecar_path(model_path)
        if stale.is_file():
            stale.unlink()
        return None
    return write_sidecar(model_path, "prototype", threshold, len(classes),
                         {"bank_quantile": PROTOTYPE_QUANTILE, "bank": len(bank)})


# --------------------------------------------------------------------------- extend

@dataclass
class Recording:
    """One performance to learn from: raw frames [T, 543, 3] (NaN = not seen)."""

    frames: np.ndarray
    sign: str
    participant: int = 0


def embed(embedder, recordings, progress=None) -> np.ndarray:
    """The model's own embedding of each recording (float32 [N, D]), by a `head.Embedder`."""
    out = []
    for i, r in enumerate(recordings):
        out.append(embedder(r.frames))
        if progress is not None:
            progress(i + 1, len(recordings))
    return np.stack(out) if out else np.zeros((0, embedder.dim), np.float32)


def variants(frames: np.ndarray, rng: np.random.Generator, k: int) -> list[np.ndarray]:
    """`k` other performances of the same recording, as the same person might sign it again:
    faster or slower (0.8-1.25x), the body turned a little in the picture (+-10 degrees) and
    nearer or further (0.9-1.1x), about the centre of the landmarks seen."""
    out = []
    t = len(frames)
    centre = np.nanmean(frames[..., :2].reshape(-1, 2), axis=0) if np.isfinite(frames[..., :2]).any() \
        else np.array([0.5, 0.5])
    for _ in range(k):
        speed = np.exp(rng.uniform(np.log(0.8), np.log(1.25)))
        n = max(2, int(round(t / speed)))
        f = frames[np.clip(np.round(np.linspace(0, t - 1, n)).astype(int), 0, t - 1)].copy()
        a = np.deg2rad(rng.uniform(-10, 10))
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]], np.float32) * rng.uniform(0.9, 1.1)
        f[..., :2] = (f[..., :2] - centre) @ rot.T + centre
        out.append(f)
    return out


def recordings_bank(embedder, recordings, vocabulary=None, progress=None, augment: int = 0) -> Bank:
    if augment:
        rng = np.random.default_rng(0)
        recordings = list(recordings) + [Recording(f, r.sign, r.participant) for r in recordings
                                         for f in variants(r.frames, rng, augment)]
    x = embed(embedder, recordings, progress)
    pairs = [sign_label(r.sign, vocabulary) for r in recordings]
    return Bank(x, np.array([p[0] for p in pairs], str), np.array([p[1] for p in pairs], str),
                np.array([r.participant for r in recordings], np.int64))


def extend(model_path, labels_path, recordings, out_dir, *, fresh_head: bool = False, vocabulary=None,
           progress=None, embedder=None) -> dict:
    """Write `out_dir`/model.tflite (+ label map, bank): the model's encoder, a head over its signs
    (from its bank) and the signs of `recordings`. With `fresh_head`, the head knows only the
    recordings' signs (the bank is not needed: how the bundled model's own head is made).

    `progress(stage, done, total)` is told how far it is. `embedder`: a `head.Embedder` of
    `model_path` already made (one who extends the same model again and again saves its making).
    Returns the paths and timings.
    """
    started = time.perf_counter()
    model_path, out_dir = Path(model_path), Path(out_dir)
    if not recordings:
        raise UserError("nothing to learn from: no recordings")
    old_signs = labels_in_order(read_label_map(labels_path))
    old = None if fresh_head else Bank.load(model_path)   # first: a model that cannot be extended says so at once

    def step(done, total):
        if progress is not None:
            progress("embedding", done, total)

    embedder = embedder or Embedder(model_path)
    new = recordings_bank(embedder, recordings, vocabulary, step, augment=0 if fresh_head else AUGMENT)
    if old is None:
        bank, keep_order = new, []
    else:
        bank, keep_order = old.taught(set(new.labels)).concat(new), old_signs
    # Old classes keep their numbers; new ones follow in name order. A class that lost every
    # example to a taught sign (an `unknown` made only of them) is dropped.
    present = set(bank.labels.tolist())
    classes = [s for s in keep_order if s in present] + sorted(present - set(keep_order))
    if len(classes) < 2:
        raise UserError(f"a model needs at least two signs; the recordings give {classes}")
    if progress is not None:
        progress("head", 0, 1)
    mine = np.arange(len(bank)) >= len(bank) - len(new)   # the new recordings come last
    kernel, bias = fit_head(bank.embeddings, bank.labels, classes, mine=None if old is None else mine)
    blob = replace_head(model_path.read_bytes(), kernel, bias)

    # The new file must answer as embedding + head does, on real recordings.
    check = recordings[:: max(1, len(recordings) // 6)][:6]
    taught = Runner(blob)
    worst = 0.0
    for r in check:
        logits = embedder(r.frames).astype(np.float64) @ kernel + bias
        want = np.exp(logits - logits.max())
        want /= want.sum()
        worst = max(worst, float(np.abs(taught(r.frames) - want).max()))
    if not worst <= PARITY_TOLERANCE:
        raise UserError(f"the taught model differs from its head by {worst:.1e} (> {PARITY_TOLERANCE:.0e}); "
                        "nothing was written")

    out_dir.mkdir(parents=True, exist_ok=True)
    out_model = out_dir / "model.tflite"
    with atomic_write(out_model) as f:
        f.write(blob)
    out_labels = write_label_map(out_dir / "sign_to_prediction_index_map.json", classes)
    out_bank = bank.save(out_model)
    write_prototype_rule(out_model, classes)
    seconds = time.perf_counter() - started
    counts = {s: int((bank.labels == s).sum()) for s in classes}
    return {"model": out_model, "labels": out_labels, "bank": out_bank, "classes": classes, "counts": counts,
            "seconds": seconds, "parity": worst}
