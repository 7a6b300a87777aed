"""``python -m svhnx.train svhn`` on the real sample, through every stage: preprocessing, training,
evaluation on the test split, and the transfer experiment."""

import json
import warnings

import h5py
import pytest
import torch

from svhnx.data.svhn import MissingImageWarning
from svhnx.evaluate.__main__ import main as evaluate_main
from svhnx.train import cli
from svhnx.train.run_dir import read_metrics
from svhnx.transfer import main as transfer_main

pytestmark = pytest.mark.slow  # seconds per test: run with -m slow, or the whole suite with nox -s tests

PNG = b"\x89PNG\r\n\x1a\n"
# A narrow model (the full one is 23M parameters) and a constant learning rate for 3 steps.
SMALL = ["--width", "0.25", "--dense", "64", "--batch-size", "4", "--schedule", "constant", "--no-progress", "--threads", "2"]


@pytest.fixture(autouse=True)
def sample_has_missing_images():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingImageWarning)  # the sample keeps 3 images of ~40 entries
        yield


@pytest.fixture(scope="module")
def svhn_run(data_root, tmp_path_factory):
    """A 3-step run on the sample: ``(run directory, crops folder)``."""
    tmp = tmp_path_factory.mktemp("svhn")
    out, crops = tmp / "run", tmp / "crops"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingImageWarning)
        code = cli.main(["svhn", "--svhn-dir", str(data_root / "svhn-sample"), "--crops-dir", str(crops), "--out", str(out),
                         *SMALL, "--steps", "3", "--eval-every", "2"])
    assert code == 0
    return out, crops


def test_training_writes_a_complete_run_directory(svhn_run):
    out, crops = svhn_run
    assert {p.name for p in out.iterdir()} >= {
        "config.json", "metrics.csv", "last.pt", "best.pt", "curves.png", "predictions.png", "predictions-coverage.png"
    }
    config = json.loads((out / "config.json").read_text())
    assert config["task"] == "svhn" and config["model"] == {"name": "svhn-goodfellow", "kwargs": {"width": 0.25, "dense": 64, "dropout": 0.2}}
    rows = read_metrics(out / "metrics.csv")
    assert [r["step"] for r in rows] == [2, 3] and [r["images"] for r in rows] == [8, 12]
    for row in rows:
        assert 0 <= row["sequence_accuracy"] <= 1 and 0 <= row["coverage_at_98"] <= 1 and row["val_loss"] > 0
    for png in ("curves.png", "predictions.png", "predictions-coverage.png"):
        assert (out / png).read_bytes()[:8] == PNG
    checkpoint = torch.load(out / "last.pt", weights_only=False)
    assert checkpoint["progress"]["step"] == 3 and checkpoint["task"] == "svhn"
    (train_crops,) = crops.glob("train-*.h5")  # the sample's 3 train images, preprocessed once
    with h5py.File(train_crops, "r") as f:
        assert f["images"].shape == (3, 64, 64, 3)


def test_evaluation_reads_the_test_split(svhn_run, tmp_path, capsys):
    out, crops = svhn_run
    assert evaluate_main([str(out), "--json", str(tmp_path / "eval.json"), "--device", "cpu"]) == 0
    printed = capsys.readouterr().out
    assert "the SVHN test split" in printed and "validation seed" not in printed
    evaluation = json.loads((tmp_path / "eval.json").read_text())
    assert {"sequence_accuracy", "digit_accuracy", "coverage_at_98"} <= evaluation.keys()
    assert len(list(crops.glob("test-*.h5"))) == 1
    for png in ("evaluation.png", "evaluation-coverage.png"):
        assert (out / png).read_bytes()[:8] == PNG


def test_missing_data_is_a_clear_error(tmp_path, capsys):
    code = cli.main(["svhn", "--data-root", str(tmp_path), "--out", str(tmp_path / "run"), *SMALL, "--steps", "1"])
    assert code == 2
    assert "train.tar.gz" in capsys.readouterr().err


def test_transfer_experiment_on_the_sample(data_root, tmp_path):
    mnist = tmp_path / "mnist-run"
    assert cli.main(["mnist-seq", "--data-root", str(data_root / "mnist"), "--out", str(mnist), "--steps", "2",
                     "--batch-size", "8", "--val-size", "50", "--eval-every", "2", "--schedule", "constant", "--no-progress"]) == 0
    out = tmp_path / "transfer"
    assert transfer_main([str(mnist), "--svhn-dir", str(data_root / "svhn-sample"), "--out", str(out), "--device", "cpu"]) == 0
    result = json.loads((out / "transfer.json").read_text())
    assert result["images"] == 3 and 0 <= result["sequence_accuracy"] <= 1 and 0 <= result["coverage_at_98"] <= 1
    for png in ("readings.png", "readings-coverage.png"):
        assert (out / png).read_bytes()[:8] == PNG


def test_transfer_refuses_an_svhn_model(svhn_run, data_root, capsys):
    assert transfer_main([str(svhn_run[0]), "--svhn-dir", str(data_root / "svhn-sample"), "--device", "cpu"]) == 2
    assert "needs an MNIST-sequence model" in capsys.readouterr().err
