"""What a training run prints: one line of at most 100 columns per evaluation; the learning curves on an error scale."""

import math

import matplotlib.image
import pytest

from svhnx.train import cli
from svhnx.train.log_line import WIDTH, format_value, log_line
from svhnx.viz.curves import error_columns, percent, plot_curves

SEQUENCE_METRICS = {"val_loss": 7.72321, "sequence_accuracy": 0.98701, "digit_accuracy": 0.99, "length_accuracy": 1.0,
                    **{f"position_{i}_accuracy": 0.99 for i in range(1, 6)}}


def test_the_log_line_has_the_key_numbers_in_100_columns():
    line = log_line(1600, 1600, 10.04, 0.01234, SEQUENCE_METRICS, "sequence_accuracy")
    assert line == "step 1600/1600  10.0 min  train_loss 0.0123  val_loss 7.7232  sequence_accuracy 98.70%"


def test_a_long_line_drops_the_least_important_parts_first():
    line = log_line(123456, 1234567, 12345.6, 0.5, {"val_loss": 0.25, "coverage_at_98_on_the_svhn_test_split": 0.5},
                    "coverage_at_98_on_the_svhn_test_split")
    assert len(line) <= WIDTH and "val_loss" not in line and line.startswith("step 123456/1234567")


def test_values_are_percentages_for_accuracies_only():
    assert format_value("sequence_accuracy", 0.98701) == "98.70%"
    assert format_value("dice", 0.75612) == "0.7561"
    assert format_value("digit_accuracy", math.nan) == "nan"


@pytest.mark.slow
def test_a_training_run_prints_one_short_line_per_evaluation(data_root, tmp_path, capsys):
    flags = ["--batch-size", "16", "--val-size", "200", "--steps", "20", "--eval-every", "10", "--ema", "0.99",
             "--no-progress", "--threads", "1"]
    assert cli.main(["mnist-seq", "--data-root", str(data_root / "mnist"), "--out", str(tmp_path / "run"), *flags]) == 0
    lines = capsys.readouterr().err.splitlines()
    rows = [line for line in lines if line.startswith("step ")]
    assert len(rows) == 2 and all(len(line) <= WIDTH for line in lines)
    assert all("sequence_accuracy" in row and "digit_accuracy" not in row for row in rows)


def test_accuracies_are_drawn_as_errors_on_a_log_axis(tmp_path):
    assert error_columns(list(SEQUENCE_METRICS)[1:] + ["threshold_at_98"]) == ["sequence_accuracy", "digit_accuracy", "length_accuracy"]
    assert percent(0.5, 0) == "50%" and percent(0.013, 0) == "1.3%" and percent(0.001, 0) == "0.1%"
    rows = [{"step": s, "train_loss": 1 / s, **SEQUENCE_METRICS, "sequence_accuracy": 1 - 1 / s} for s in (10, 100, 1000)]
    rows[-1]["length_accuracy"] = 1.0  # a perfect score is drawn at the floor, not lost on the log axis
    plot_curves(rows, list(SEQUENCE_METRICS)[1:], tmp_path / "curves.png", primary="sequence_accuracy")
    assert matplotlib.image.imread(tmp_path / "curves.png").shape[:2] == (400, 1100)
