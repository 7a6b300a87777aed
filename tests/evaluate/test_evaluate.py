"""``python -m svhnx.evaluate``: metrics on fresh validation data and the prediction grid."""

import json

import numpy as np
import pytest
import torch

import svhnx.evaluate
from svhnx import pretrained
from svhnx.checkpoint import load_checkpoint, model_from_checkpoint
from svhnx.evaluate import LoadedRun, evaluate_run, load_ensemble, load_run, with_warped_views
from svhnx.evaluate import __main__ as evaluate_cli
from svhnx.train import cli
from svhnx.viz.sequences import mistakes_first, plot_sequence_predictions


def tiny_run(data_root, out, seed=0):
    flags = ["--steps", "10", "--batch-size", "16", "--val-size", "100", "--no-progress", "--threads", "1", "--seed", str(seed)]
    threads = torch.get_num_threads()
    assert cli.main(["mnist-seq", "--data-root", str(data_root / "mnist"), "--out", str(out), *flags]) == 0
    torch.set_num_threads(threads)
    return out


@pytest.fixture(scope="module")
def run_dir(data_root, tmp_path_factory):
    return tiny_run(data_root, tmp_path_factory.mktemp("runs") / "tiny")


@pytest.fixture(scope="module")
def other_run_dir(data_root, tmp_path_factory):
    return tiny_run(data_root, tmp_path_factory.mktemp("runs") / "tiny-seed-1", seed=1)


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


@pytest.mark.slow
def test_several_runs_are_scored_as_their_ensemble(run_dir, other_run_dir, capsys, tmp_path):
    report = tmp_path / "ensemble.json"
    assert evaluate_cli.main([str(run_dir), str(other_run_dir), "--val-size", "200", "--json", str(report)]) == 0
    assert "ensemble of 2" in capsys.readouterr().out
    assert (run_dir / "evaluation-ensemble.png").is_file()
    result = json.loads(report.read_text())
    assert result["checkpoints"] == [str(run_dir / "best.pt"), str(other_run_dir / "best.pt")]
    ensemble = load_ensemble([run_dir, other_run_dir], device="cpu")
    assert result["sequence_accuracy"] == evaluate_run(ensemble, size=200, seed=result["seed"])["sequence_accuracy"]


@pytest.mark.slow
def test_test_time_augmentation_is_a_flag(run_dir, other_run_dir, tmp_path):
    report = tmp_path / "tta.json"
    flags = ["--val-size", "100", "--tta-shift", "1", "--json", str(report), "--figure", str(tmp_path / "tta.png")]
    assert evaluate_cli.main([str(run_dir), str(other_run_dir), *flags]) == 0
    assert json.loads(report.read_text())["tta_shift"] == 1


@pytest.mark.slow
def test_warped_test_time_views_are_a_flag_too(run_dir, tmp_path, capsys):
    report = tmp_path / "warp.json"
    flags = ["--val-size", "100", "--seed", "5", "--tta-warp", "2", "--json", str(report), "--figure", str(tmp_path / "warp.png")]
    assert evaluate_cli.main([str(run_dir), *flags]) == 0
    assert "3 views" in capsys.readouterr().out
    result = json.loads(report.read_text())
    assert result["tta_warp"] == 2
    assert result["sequence_accuracy"] == evaluate_run(with_warped_views(load_run(run_dir, device="cpu"), 2), size=100, seed=5)["sequence_accuracy"]
    with pytest.raises(SystemExit):
        evaluate_cli.main([str(run_dir), "--tta-warp", "2", "--tta-shift", "1"])


def test_an_ensemble_of_one_run_with_itself_scores_like_the_run(run_dir):
    alone = evaluate_run(load_run(run_dir, device="cpu"), size=200, seed=3)
    twice = evaluate_run(load_ensemble([run_dir, run_dir], device="cpu"), size=200, seed=3)
    assert twice["sequence_accuracy"] == alone["sequence_accuracy"]
    assert twice["val_loss"] == pytest.approx(alone["val_loss"], rel=1e-5)


def test_models_whose_outputs_are_not_class_logits_are_not_ensembled(run_dir, monkeypatch):
    run = load_run(run_dir, device="cpu")
    localizer = type("Localizer", (), {"name": "unet", "classifies": False})()
    runs = iter([LoadedRun(run.path, localizer, run.model, run.device, run.checkpoint)] * 2)
    monkeypatch.setattr(svhnx.evaluate, "load_run", lambda *args, **kwargs: next(runs))
    with pytest.raises(ValueError, match="cannot be ensembled"):
        load_ensemble(["a", "b"])


@pytest.mark.parametrize("averaged", [False, True])
def test_a_weights_file_is_scored_with_the_task_and_flags_it_was_trained_with(run_dir, tmp_path, averaged):
    checkpoint = load_checkpoint(run_dir / "last.pt")
    weights = tmp_path / "tiny.pt"
    facts = pretrained.training_facts(checkpoint)
    meta = {"averaged_from": ["a.pt", "b.pt"], "members": [facts, facts]} if averaged else facts  # a mean of weights: its first member's
    pretrained.save_weights(model_from_checkpoint(checkpoint), checkpoint["model"]["name"], checkpoint["model"]["kwargs"], weights, meta)
    run = load_run(weights, device="cpu")
    assert run.task.name == "mnist-seq" and run.checkpoint["progress"]["step"] == 10
    from_weights, from_checkpoint = evaluate_run(run, size=200, seed=7), evaluate_run(load_run(run_dir / "last.pt"), size=200, seed=7)
    assert from_weights.keys() == from_checkpoint.keys()
    assert from_weights["sequence_accuracy"] == pytest.approx(from_checkpoint["sequence_accuracy"], abs=0.02)  # float16 weights


def test_a_shipped_model_is_scored_by_its_name_on_its_tasks_synthetic_data(capsys):
    assert evaluate_cli.main(["digits", "--seed", "53", "--val-size", "256", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "digits (task synth-digits, model digit-resnet, step" in out and "validation seed 53" in out
    assert float(out.split("digit_accuracy")[1].split()[0]) > 0.85


def test_weights_that_kept_no_training_task_are_a_clear_error(run_dir, tmp_path, capsys):
    checkpoint = load_checkpoint(run_dir / "last.pt")
    weights = tmp_path / "bare.pt"
    pretrained.save_weights(model_from_checkpoint(checkpoint), checkpoint["model"]["name"], checkpoint["model"]["kwargs"], weights, {})
    with pytest.raises(SystemExit):
        evaluate_cli.main([str(weights)])
    assert "bare.pt: its meta records no training task and flags" in capsys.readouterr().err


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


@pytest.mark.slow
def test_close_looks_sharpen_the_shipped_localizers_mask(tmp_path, capsys):
    flags = ["--seed", "1235", "--val-size", "64", "--no-progress", "--figure", str(tmp_path / "loc.png")]
    assert evaluate_cli.main(["localizer", *flags, "--json", str(tmp_path / "one.json")]) == 0
    assert evaluate_cli.main(["localizer", *flags, "--close-looks", "2", "--json", str(tmp_path / "closer.json")]) == 0
    assert "2 close looks" in capsys.readouterr().out
    one, closer = (json.loads((tmp_path / name).read_text()) for name in ("one.json", "closer.json"))
    assert closer["close_looks"] == 2 and closer["scene_dice"] > one["scene_dice"]
    assert closer["length_accuracy"] == one["length_accuracy"]  # the length head is the first look's


def test_close_looks_are_for_localizers_only(run_dir, capsys):
    with pytest.raises(SystemExit):
        evaluate_cli.main([str(run_dir), "--close-looks", "2"])
    assert "localizer" in capsys.readouterr().err
