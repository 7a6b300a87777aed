"""A recognizer's own reader threshold: chosen on a calibration sweep, written into its weights file."""

import hashlib
import json

import pytest
import torch

from benchmarks.scripts.calibrate_reader import choose_threshold, pooled_sweep
from benchmarks.scripts.calibrate_reader import main as calibrate
from svhnx import pretrained
from svhnx.models import create_model
from svhnx.models.heads import Ensemble


def sweep_result(wrong_by_seed: dict[str, list[float]], sha256: str | None = None) -> dict:
    """A reader_synthetic result whose sweep at 0.9, 0.95 and 0.98 has these wrong shares, seed by seed."""
    by_seed = {seed: [{"min_confidence": t, "with_number_right": 0.6 - w, "with_number_wrong": w} for t, w in zip((0.9, 0.95, 0.98), wrong)]
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


def test_calibration_writes_the_threshold_into_the_weights_file_it_was_measured_on(tmp_path, capsys):
    weights = tmp_path / "recognizer.pt"
    pretrained.save_weights(create_model("svhn-resnet", width=0.25, dense=16), "svhn-resnet", {"width": 0.25, "dense": 16}, weights, {"run": "x"})
    result = tmp_path / "calibration.json"
    result.write_text(json.dumps(sweep_result({"777": [0.04, 0.03, 0.01], "4321": [0.03, 0.01, 0.01]}, "0" * 64)))
    with pytest.raises(SystemExit):
        calibrate([str(weights), str(result)])
    assert "was not made with" in capsys.readouterr().err
    result.write_text(json.dumps(sweep_result({"777": [0.04, 0.03, 0.01], "4321": [0.03, 0.01, 0.01]}, hashlib.sha256(weights.read_bytes()).hexdigest())))
    calibrate([str(weights), str(result)])
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
        calibrate([*map(str, files), str(result)])
    result.write_text(json.dumps(sweep_result({"777": [0.04, 0.03, 0.01], "4321": [0.03, 0.01, 0.01]}, digests)))
    calibrate([*map(str, files), str(result)])
    contents = [pretrained.read_weights_file(file) for file in files]
    assert [c["meta"]["run"] for c in contents] == ["recognizer", "recognizer-2"]
    assert all(c["meta"]["operating_point_calibration"]["ensemble_of"] == ["recognizer.pt", "recognizer-2.pt"] for c in contents)
    ensemble = Ensemble([pretrained.model_from_weights(c, allowed=("svhn-resnet",)) for c in contents])
    assert ensemble.pretrained_cfg == {"min_confidence": 0.95}
