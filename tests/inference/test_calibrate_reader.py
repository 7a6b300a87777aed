"""A recognizer's own reader threshold: chosen on a calibration sweep, written into its weights file."""

import hashlib
import json

import pytest
import torch

from benchmarks.scripts.calibrate_reader import choose_threshold, pooled_sweep
from benchmarks.scripts.calibrate_reader import main as calibrate
from benchmarks.scripts.reader_synthetic import THRESHOLDS
from svhnx import pretrained
from svhnx.models import create_model
from svhnx.models.heads import Ensemble


def sweep_result(wrong_by_seed: dict[str, list[float]], sha256: str | None = None, thresholds=(0.9, 0.95, 0.98),
                 number_free_by_seed: dict[str, list[float]] | None = None) -> dict:
    """A reader_synthetic result whose sweep at ``thresholds`` has these wrong shares (and number-free
    shares, 0 unless given), seed by seed."""
    number_free_by_seed = number_free_by_seed or {seed: [0.0] * len(wrong) for seed, wrong in wrong_by_seed.items()}
    by_seed = {seed: [{"min_confidence": t, "with_number_right": 0.6 - w, "with_number_wrong": w, "number_free_wrong": f}
                      for t, w, f in zip(thresholds, wrong, number_free_by_seed[seed])]
               for seed, wrong in wrong_by_seed.items()}
    return {"name": "reader_synthetic_test", "results": {"photos": {"with_number": 200}, "recognizer_sha256": sha256,
                                                         "min_confidence_sweep": {"by_seed": by_seed}}}


def test_the_smallest_threshold_within_the_wrong_budget_pooled_over_seeds_is_chosen():
    result = sweep_result({"777": [0.04, 0.03, 0.01], "4321": [0.03, 0.01, 0.01]})["results"]
    pooled = pooled_sweep(result, (0.9, 0.95, 0.98))
    assert pooled[0.95]["with_number_wrong"] == 0.02
    assert choose_threshold(pooled, max_wrong=0.025) == 0.95
    assert choose_threshold(pooled, max_wrong=0.04) == 0.9
    assert choose_threshold(pooled, max_wrong=0.001) == 0.98  # none within: the strictest
    with pytest.raises(ValueError, match="0.5"):
        pooled_sweep(result, (0.5,))


def test_a_threshold_is_chosen_only_if_every_larger_one_also_keeps_both_budgets():
    grid = (0.5, 0.7, 0.9, 0.95)
    wrong = sweep_result({"777": [0.02, 0.04, 0.02, 0.01], "4321": [0.02, 0.04, 0.02, 0.01]}, thresholds=grid)["results"]
    assert choose_threshold(pooled_sweep(wrong, grid), max_wrong=0.025) == 0.9  # 0.5 is within, but 0.7 above it is not
    number_free = sweep_result({"777": [0.01] * 4, "4321": [0.01] * 4}, thresholds=grid,
                               number_free_by_seed={"777": [0.05, 0.01, 0.0, 0.0], "4321": [0.0, 0.03, 0.0, 0.0]})["results"]
    pooled = pooled_sweep(number_free, grid)
    assert pooled[0.7]["number_free_wrong_worst_seed"] == 0.03
    assert choose_threshold(pooled, max_wrong=0.025) == 0.5  # the number-free budget is off by default
    assert choose_threshold(pooled, max_wrong=0.025, max_number_free=0.02) == 0.9  # one seed over 2% at 0.7


def test_by_default_calibration_chooses_from_every_threshold_the_sweep_measures(tmp_path):
    weights = tmp_path / "recognizer.pt"
    pretrained.save_weights(create_model("svhn-resnet", width=0.25, dense=16), "svhn-resnet", {"width": 0.25, "dense": 16}, weights, {})
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    result = tmp_path / "calibration.json"
    wrong = [0.03, 0.02, 0.02, 0.02, 0.02, 0.01, 0.01, 0.01, 0.0]
    result.write_text(json.dumps(sweep_result({"777": wrong, "4321": wrong}, digest, thresholds=THRESHOLDS)))
    calibrate([str(weights), str(result)])
    meta = pretrained.read_weights_file(weights)["meta"]
    assert meta["operating_point"] == {"min_confidence": THRESHOLDS[1]}
    assert meta["operating_point_calibration"]["thresholds"] == list(THRESHOLDS)


GRID = ["--thresholds", "0.9", "0.95", "0.98"]  # the thresholds sweep_result measures by default


def test_calibration_writes_the_threshold_into_the_weights_file_it_was_measured_on(tmp_path, capsys):
    weights = tmp_path / "recognizer.pt"
    pretrained.save_weights(create_model("svhn-resnet", width=0.25, dense=16), "svhn-resnet", {"width": 0.25, "dense": 16}, weights, {"run": "x"})
    result = tmp_path / "calibration.json"
    result.write_text(json.dumps(sweep_result({"777": [0.04, 0.03, 0.01], "4321": [0.03, 0.01, 0.01]}, "0" * 64)))
    with pytest.raises(SystemExit):
        calibrate([str(weights), str(result), *GRID])
    assert "was not made with" in capsys.readouterr().err
    result.write_text(json.dumps(sweep_result({"777": [0.04, 0.03, 0.01], "4321": [0.03, 0.01, 0.01]}, hashlib.sha256(weights.read_bytes()).hexdigest())))
    calibrate([str(weights), str(result), *GRID])
    contents = pretrained.read_weights_file(weights)
    assert contents["meta"]["run"] == "x" and contents["meta"]["operating_point"] == {"min_confidence": 0.95}
    assert contents["meta"]["operating_point_calibration"]["seeds"] == [777, 4321]
    assert pretrained.model_from_weights(contents, allowed=("svhn-resnet",)).pretrained_cfg == {"min_confidence": 0.95}


def test_an_ensembles_calibration_writes_its_threshold_into_every_member_and_the_ensemble_runs_with_it(tmp_path):
    files = [tmp_path / "recognizer.pt", tmp_path / "recognizer-2.pt"]
    for seed, file in enumerate(files):
        torch.manual_seed(seed)
        pretrained.save_weights(create_model("svhn-resnet", width=0.25, dense=16), "svhn-resnet", {"width": 0.25, "dense": 16}, file, {"run": file.stem})
    digests = [hashlib.sha256(file.read_bytes()).hexdigest() for file in files]
    result = tmp_path / "calibration.json"
    result.write_text(json.dumps(sweep_result({"777": [0.04, 0.03, 0.01], "4321": [0.03, 0.01, 0.01]}, digests[0])))
    with pytest.raises(SystemExit):  # made with the first member alone, not with the ensemble
        calibrate([*map(str, files), str(result), *GRID])
    result.write_text(json.dumps(sweep_result({"777": [0.04, 0.03, 0.01], "4321": [0.03, 0.01, 0.01]}, digests)))
    calibrate([*map(str, files), str(result), *GRID])
    contents = [pretrained.read_weights_file(file) for file in files]
    assert [c["meta"]["run"] for c in contents] == ["recognizer", "recognizer-2"]
    assert all(c["meta"]["operating_point_calibration"]["ensemble_of"] == ["recognizer.pt", "recognizer-2.pt"] for c in contents)
    ensemble = Ensemble([pretrained.model_from_weights(c, allowed=("svhn-resnet",)) for c in contents])
    assert ensemble.pretrained_cfg == {"min_confidence": 0.95}
