"""A short real training run on real landmark data, its export and its evaluation.

Train on one signer, validate on the other (held out by the fold): the exported
TFLite model must be far above chance (1/6) on the held-out signer.
"""

from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from datasets import PARTICIPANTS, build

from train import export as exportmod
from train.cli import main

SMALL = ["--units", "64", "--blocks", "1", "--epochs", "12", "--seed", "1"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("ds")
    build(root)
    return root


@pytest.fixture(scope="module")
def run(dataset, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "fold0"
    assert main(["fit", "--data", str(dataset), "--out", str(out), "--fold", "0", *SMALL]) == 0
    return out


@pytest.fixture(scope="module")
def other_signs(tmp_path_factory) -> Path:
    """A dataset of real signs outside the six: the three DPAN fixture clips through Holistic."""
    from conftest import FIXTURES

    from asl_live.formats.gislr import Dataset
    from asl_live.capture.sources import video_landmarks

    ds = Dataset(tmp_path_factory.mktemp("other_signs"))
    for clip, sign in (("dpan_tractor.mp4", "tractor"), ("dpan_cut_small.mp4", "cut"),
                       ("dpan_good_small.mp4", "good")):
        ds.add(video_landmarks(FIXTURES / clip)[0], sign, participant_id=0)
    return ds.root


@pytest.fixture(scope="module")
def exported(run, other_signs, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("model")
    # --calibrate: the three other signs; the run's validation fold adds the held-out signer's six signs.
    assert main(["export", str(run), "--out", str(out), "--calibrate", str(other_signs)]) == 0
    return out


def test_export_measures_the_unknown_rule_on_unseen_data(exported, run):
    from asl_live.model.unknown_rule import read_sidecar
    from asl_live.model.runtime import file_sha256
    from asl_live.model.classifier import Classifier

    side = read_sidecar(exported / "model.unknown.json", 6)
    m = side["measured"]
    held_out = json.loads((run / "summary.json").read_text())["samples_validation"]
    assert (m["in_vocabulary"], m["out_of_vocabulary"]) == (held_out, 3)  # the validation fold + 3 clips
    assert m["kept"] >= 0.97 and side["model_sha256"] == file_sha256(exported / "model.tflite")
    assert set(m["all_rules"]) == {"max_prob", "margin", "certainty"}
    clf = Classifier(exported / "model.tflite", exported / "sign_to_prediction_index_map.json")
    assert (clf.rule.rule, clf.rule.threshold) == (side["rule"], side["threshold"])
    assert clf.rule.source == "model.unknown.json"


def test_run_folder_has_config_metrics_plots_and_best_weights(run):
    config = json.loads((run / "config.json").read_text())
    assert config["fold"] == 0 and config["units"] == 64 and config["_epochs_run"] == 12
    with open(run / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 12 and {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(rows[0])
    for png in ("loss.png", "accuracy.png"):
        assert (run / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = json.loads((run / "summary.json").read_text())
    assert len(summary["participants_validation"]) == 1
    assert summary["participants_validation"][0] in PARTICIPANTS.values()
    best = max(float(r["val_accuracy"]) for r in rows)
    assert summary["val_accuracy"] == pytest.approx(best)
    assert (run / "model.weights.h5").is_file()


def test_export_writes_the_contract_and_passes_parity(exported):
    from ai_edge_litert.interpreter import Interpreter

    report = json.loads((exported / "export.json").read_text())
    assert report["parity_max_abs_diff"] <= exportmod.PARITY_TOLERANCE
    assert any(n >= 32 for n in report["latency_frames"])  # the mean-pooling path was checked too
    interp = Interpreter(model_path=str(exported / "model.tflite"))
    assert list(interp.get_signature_list()) == ["serving_default"]
    runner = interp.get_signature_runner("serving_default")
    (name, spec), = runner.get_input_details().items()
    assert name == "inputs" and spec["dtype"] == np.float32 and list(spec["shape"][1:]) == [543, 3]
    assert list(runner.get_output_details()) == ["outputs"]
    labels = json.loads((exported / "sign_to_prediction_index_map.json").read_text())
    frames = np.full((9, 543, 3), np.nan, np.float32)  # nothing seen at all: still a valid answer
    out = runner(inputs=frames)["outputs"]
    assert out.shape == (len(labels),) and np.isfinite(out).all() and abs(out.sum() - 1) < 1e-4
    with zipfile.ZipFile(exported / "submission.zip") as z:
        assert z.namelist() == ["model.tflite"]
        assert z.read("model.tflite") == (exported / "model.tflite").read_bytes()


def test_exported_model_recognises_the_held_out_signer(exported, run, dataset, capsys):
    held_out = str(json.loads((run / "summary.json").read_text())["participants_validation"][0])
    assert main(["evaluate", str(exported / "model.tflite"), "--data", str(dataset), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"top1", "top5", "n", "per_participant", "per_sign", "confusion_png"} <= set(result)
    assert result["n"] == 144 and set(result["per_participant"]) == {str(p) for p in PARTICIPANTS.values()}
    unseen = result["per_participant"][held_out]
    assert unseen["n"] == 72 and unseen["top1"] >= 0.6, unseen  # chance is 1/6
    assert result["top5"] >= result["top1"]
    weights = result["landmark_group_weights"][0]
    assert set(weights) == {"lips", "left_hand", "right_hand", "pose"}
    assert sum(weights.values()) == pytest.approx(1.0)
    assert Path(result["confusion_png"]).read_bytes()[:4] == b"\x89PNG"


def test_export_fails_and_writes_nothing_when_parity_breaks(run, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(exportmod, "PARITY_TOLERANCE", -1.0)  # any difference at all is too much
    out = tmp_path / "model"
    assert main(["export", str(run), "--out", str(out)]) == 2
    assert "parity check failed" in capsys.readouterr().err
    assert not (out / "model.tflite").exists()


def test_lipless_model_for_data_without_a_face(dataset, tmp_path):
    """MP_Data has no face: a model without lips, trained on everything (teach mode's shape)."""
    from train.export import export
    from train.fit import fit

    run = fit(dataset, tmp_path / "run", {"parts": ["left_hand", "right_hand", "pose"], "pose": "all",
                                          "units": 32, "blocks": 1, "epochs": 2}, progress=False)
    paths = export(run, tmp_path / "model", progress=False)
    report = json.loads(paths["report"].read_text())
    assert set(report["landmark_group_weights"][0]) == {"left_hand", "right_hand", "pose"}
    assert report["parity_max_abs_diff"] <= exportmod.PARITY_TOLERANCE


def test_wandb_offline_run_is_logged(dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    out = tmp_path / "run"
    assert main(["fit", "--data", str(dataset), "--out", str(out), "--all", "--units", "32",
                 "--blocks", "1", "--epochs", "2", "--wandb"]) == 0
    runs = list((out / "wandb").glob("offline-run-*"))
    assert len(runs) == 1
    assert list(runs[0].glob("*.wandb")), "no offline log written"


def test_fc_model_and_float16_ensemble_export(run, dataset, tmp_path):
    """The reference's second model, then both as one TFLite model averaging their outputs."""
    from train.export import export
    from train.fit import fit

    fc = fit(dataset, tmp_path / "fc", {"arch": "fc", "fold": 0, "epochs": 3, "batch_all_signs": 2},
             progress=False)
    paths = export([run, fc], tmp_path / "ensemble", float16=True, progress=False)
    report = json.loads(paths["report"].read_text())
    assert report["float16"] and report["parity_max_abs_diff"] <= exportmod.PARITY_TOLERANCE_FLOAT16
    assert report["landmark_group_weights"][1] is None  # the fc model has no part weights
    from ai_edge_litert.interpreter import Interpreter

    runner = Interpreter(model_path=str(paths["model"])).get_signature_runner("serving_default")
    from datasets import fixture_sequences

    out = runner(inputs=fixture_sequences()[0][0])["outputs"]
    assert out.shape == (6,) and abs(float(out.sum()) - 1) < 1e-3


def test_trimmed_model_trims_in_the_exported_model_as_in_training(dataset, tmp_path):
    """`fit --trim`: the run says so, and the exported TFLite model, given a real DPAN clip that
    rises from rest, answers what the Keras model answers on the training cache's (numpy)
    trimmed features: the model trims exactly as training did."""
    from test_train_preprocess import _dpan_clips

    from asl_live.model.classifier import Classifier
    from train.fit import load_run
    from train.preprocess import cache_columns, preprocess_numpy, CACHE_ROWS

    out = tmp_path / "run"
    assert main(["fit", "--data", str(dataset), "--out", str(out), "--all", "--trim", "--units", "32",
                 "--blocks", "1", "--epochs", "2", "--parts", "left_hand,right_hand,pose"]) == 0
    config, signs, model = load_run(out)
    assert config.trim and json.loads((out / "config.json").read_text())["trim"] is True
    assert main(["export", str(out), "--out", str(tmp_path / "model")]) == 0
    clf = Classifier(tmp_path / "model" / "model.tflite", tmp_path / "model" / "sign_to_prediction_index_map.json")
    columns = cache_columns(config.parts, config.pose)
    for clip in list(_dpan_clips())[:3]:
        f, p = preprocess_numpy(clip, CACHE_ROWS, trim=True)
        keras_p = np.asarray(model({"frames": f[None][:, :, columns], "positions": p[None]}, training=False))[0]
        untrimmed, q = preprocess_numpy(clip, CACHE_ROWS)
        assert not np.array_equal(f, untrimmed)
        np.testing.assert_allclose(clf.probabilities(clip), keras_p, atol=1e-4)


@pytest.fixture(scope="module")
def letters_run(tmp_path_factory) -> Path:
    """`asl-train letters` on the real fixture hands (5 letters), briefly: a hand-shape model."""
    from conftest import FIXTURES

    from train import import_mpdata

    root = tmp_path_factory.mktemp("letters")
    assert import_mpdata.main([str(FIXTURES / "letters_mpdata"), "--out", str(root / "ds"), "--keep-names",
                               "--quiet"]) == 0
    assert main(["letters", "--data", str(root / "ds"), "--out", str(root / "model"), "--epochs", "5",
                 "--seeds", "1"]) == 0
    return root / "model"


def test_handshape_export_answers_as_the_run_and_its_last_layer_reads_the_letters(run, exported, letters_run,
                                                                                  tmp_path):
    """`export --handshape`: the model answers exactly as the plain export (the letters' part of its
    last layer is zero), its embedding ends in the letters model's mean probabilities of the same
    frames, and `extend --fresh-head` learns a last layer that uses them."""
    from datasets import fixture_sequences

    from asl_live.model.classifier import Classifier
    from asl_live.model.extend import Recording, extend
    from asl_live.model.head import Embedder, without_head
    from asl_live.formats.layout import LEFT_HAND, RIGHT_HAND
    from train.handshape import HANDSHAPE_FRAMES

    out = tmp_path / "hs"
    assert main(["export", str(run), "--out", str(out), "--handshape", str(letters_run)]) == 0
    assert json.loads((out / "export.json").read_text())["handshape"] == str(letters_run)
    plain = Classifier(exported / "model.tflite", exported / "sign_to_prediction_index_map.json")
    hs = Classifier(out / "model.tflite", out / "sign_to_prediction_index_map.json")
    letters = Classifier(letters_run / "letters.tflite", letters_run / "letters_map.json")
    embed, plain_dim = Embedder(out / "model.tflite"), Embedder(exported / "model.tflite").dim
    assert embed.dim == plain_dim + len(letters.labels) == plain_dim + 5
    frames, signs, people = fixture_sequences()
    for f in frames[:4]:
        np.testing.assert_allclose(hs.probabilities(f), plain.probabilities(f), atol=1e-5)
        # the letters model's answer on HANDSHAPE_FRAMES of the frames with a hand, evenly spread
        with_hand = np.flatnonzero(~np.isnan(f[:, LEFT_HAND]).any(axis=(1, 2)) | ~np.isnan(f[:, RIGHT_HAND]).any(axis=(1, 2)))
        k = min(len(with_hand), HANDSHAPE_FRAMES)
        assert len(with_hand) > k   # the cap is used
        picked = with_hand[np.arange(k) * (len(with_hand) - 1) // max(k - 1, 1)]
        np.testing.assert_allclose(embed(f)[plain_dim:], letters.probabilities(f[picked]), atol=1e-5)
    nobody = np.full((12, 543, 3), np.nan, np.float32)   # no hand in any frame: every letter alike
    np.testing.assert_allclose(embed(nobody)[plain_dim:], np.full(5, 0.2), atol=1e-6)
    recs = [Recording(f, s, p) for f, s, p in zip(frames, signs, people)]
    extend(out / "model.tflite", out / "sign_to_prediction_index_map.json", recs, tmp_path / "ext", fresh_head=True)
    _, kernel, _ = without_head((tmp_path / "ext" / "model.tflite").read_bytes())
    assert np.abs(kernel[plain_dim:]).max() > 0.01   # the new last layer reads the hand shape


def test_handshape_export_needs_a_letters_folder_and_one_run(run, tmp_path, capsys):
    """Bad --handshape arguments: one line each, nothing written."""
    for args, said in (([str(run), "--handshape", str(tmp_path)], "asl-train letters"),
                       ([str(run), str(run), "--handshape", str(tmp_path)], "one run")):
        capsys.readouterr()
        assert main(["export", *args, "--out", str(tmp_path / "m")]) != 0
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and said in err[0] and "Traceback" not in err[0], err
        assert not (tmp_path / "m" / "model.tflite").exists()


def test_person_scatter_is_zero_when_a_signs_people_look_alike_and_ignores_one_person_signs():
    """train.alignment's loss: how far each sign's per-person means lie from the sign's mean."""
    from train.alignment import PersonScatter

    rng = np.random.default_rng(0)
    a, b, c = rng.normal(size=(3, 8))
    label = np.eye(2, dtype=np.float32)[[0, 0, 0, 0, 1, 1]]
    person = np.eye(3, dtype=np.float32)[[0, 0, 1, 1, 2, 2]]

    def scatter(embedding):
        return np.asarray(PersonScatter()([np.asarray(embedding, np.float32), label, person]))

    # sign 0 by two people who sign it alike; sign 1 by one person, far from everything
    alike = scatter([a, a + 0.1 * b, a + 0.1 * b, a, c, -c])
    assert np.allclose(alike, 0, atol=1e-6)
    apart = scatter([a, a, b, b, c, -c])           # sign 0's two people sign it differently
    assert np.all(apart[:4] > 0.1) and np.allclose(apart[4:], 0, atol=1e-6)


def test_person_alignment_trains_saves_the_sign_model_and_exports(dataset, tmp_path):
    from train.export import export

    out = tmp_path / "run"
    assert main(["fit", "--data", str(dataset), "--out", str(out), "--fold", "0", "--units", "32",
                 "--blocks", "1", "--epochs", "2", "--person-alignment", "3"]) == 0
    with open(out / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 and {"accuracy", "val_accuracy", "alignment_loss"} <= set(rows[0])
    assert json.loads((out / "config.json").read_text())["person_alignment"] == 3.0
    report = json.loads(export(out, tmp_path / "model", progress=False)["report"].read_text())
    assert report["parity_max_abs_diff"] <= exportmod.PARITY_TOLERANCE
