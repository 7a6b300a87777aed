"""``python -m svhnx.evaluate``: metrics on fresh validation data and the prediction grid."""

import json

import numpy as np
import pytest
import torch

from svhnx.evaluate import __main__ as evaluate_cli
from svhnx.evaluate import evaluate_run, load_run
from svhnx.evaluate.figures import mistakes_first, plot_sequence_predictions
from svhnx.train import cli


@pytest.fixture(scope="module")
def run_dir(data_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "tiny"
    flags = ["--steps", "10", "--batch-size", "16", "--val-size", "100", "--no-progress", "--threads", "1"]
    threads = torch.get_num_threads()
    assert cli.main(["mnist-seq", "--data-root", str(data_root / "mnist"), "--out", str(out), *flags]) == 0
    torch.set_num_threads(threads)
    return out


def test_cli_prints_metrics_and_writes_the_figure_and_json(run_dir, capsys):
    assert evaluate_cli.main([str(run_dir), "--val-size", "300", "--json", str(run_dir / "eval.json")]) == 0
    out = capsys.readouterr().out
    assert "sequence_accuracy" in out and "validation seed 1235" in out  # the run validated on seed 1234
    assert (run_dir / "evaluation.png").read_bytes()[:4] == b"\x89PNG"
    result = json.loads((run_dir / "eval.json").read_text())
    assert result["seed"] == 1235 and result["step"] == 10 and 0 <= result["sequence_accuracy"] <= 1


def test_a_checkpoint_file_works_too_and_the_same_seed_gives_the_same_numbers(run_dir):
    run = load_run(run_dir / "last.pt", device="cpu")
    assert run.task.name == "mnist-seq" and not run.model.training
    first = evaluate_run(run, size=200, seed=7)
    assert evaluate_run(run, size=200, seed=7) == first
    assert evaluate_run(run, size=200, seed=8) != first


def test_bad_paths_are_argparse_errors(tmp_path, capsys):
    with pytest.raises(SystemExit):
        evaluate_cli.main([str(tmp_path)])
    assert "no checkpoint at" in capsys.readouterr().err
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(SystemExit):
        evaluate_cli.main([str(tmp_path / "junk.pt")])
    assert "junk.pt" in capsys.readouterr().err


def test_mistakes_come_first():
    truths = np.array([[1, 10, 10, 10, 10]] * 5)
    preds = truths.copy()
    preds[[1, 3], 0] = 7
    assert mistakes_first(truths, preds, 4).tolist() == [1, 3, 0, 2]


def test_prediction_grid(tmp_path):
    images = np.zeros((5, 28, 140, 1), np.uint8)
    truths = np.full((5, 5), 10)
    truths[:, 2] = 3
    preds = truths.copy()
    preds[4, 2] = 8
    shown = plot_sequence_predictions(images, truths, preds, tmp_path / "grid.png", count=3)
    assert shown.tolist() == [4, 0, 1]
    assert (tmp_path / "grid.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="same length"):
        plot_sequence_predictions(images[:2], truths, preds, tmp_path / "bad.png")
