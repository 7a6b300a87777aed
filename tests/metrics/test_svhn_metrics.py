"""Goodfellow et al.'s metrics: coverage at 98% accuracy, sequence and per-digit accuracy, figures."""

import numpy as np
import pytest
import torch

from svhnx.labels import BLANK
from svhnx.metrics.coverage import SvhnMetrics, coverage_at_accuracy, coverage_curve
from svhnx.viz.readings import plot_coverage_curves


def test_coverage_by_hand():
    confidence = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    correct = np.array([1, 1, 1, 0, 1], dtype=bool)
    assert coverage_at_accuracy(confidence, correct) == (0.6, 0.7)
    assert coverage_at_accuracy(confidence, correct, target=0.75) == (1.0, 0.5)  # 4 of 5 right
    assert coverage_at_accuracy(confidence[::-1], correct[::-1]) == (0.6, 0.7)  # order does not matter


def test_tied_confidences_are_kept_or_dropped_together():
    coverage, accuracy, threshold = coverage_curve(np.array([0.9, 0.9, 0.5]), np.array([True, False, True]))
    assert coverage.tolist() == pytest.approx([2 / 3, 1.0]) and accuracy.tolist() == pytest.approx([0.5, 2 / 3])
    assert threshold.tolist() == [0.9, 0.5]
    assert coverage_at_accuracy(np.array([0.9, 0.9, 0.5]), np.array([True, False, True]))[0] == 0.0
    assert np.isnan(coverage_at_accuracy(np.array([0.9]), np.array([False]))[1])


def test_coverage_agrees_with_trying_every_threshold():
    rng = np.random.default_rng(1)
    confidence = rng.integers(0, 50, 400) / 50  # many ties
    correct = rng.random(400) < confidence ** 0.2
    best = 0.0
    for t in np.unique(confidence):
        kept = confidence >= t
        if correct[kept].mean() >= 0.98:
            best = max(best, kept.mean())
    assert coverage_at_accuracy(confidence, correct)[0] == pytest.approx(best)


def output_for(readings: list[tuple[list[int], int]], sure: float = 8.0) -> dict[str, torch.Tensor]:
    """Logits that read each ``(slots, length)`` with high confidence."""
    digits = torch.zeros(len(readings), 5, 11)
    length = torch.zeros(len(readings), 7)
    for i, (slots, n) in enumerate(readings):
        digits[i, torch.arange(5), torch.tensor(slots)] = sure
        length[i, n] = sure
    return {"digits": digits, "length": length}


def test_sequence_accuracy_needs_the_length_and_every_digit():
    b = BLANK
    targets = torch.tensor([[2, 1, 0, b, b], [5, b, b, b, b], [1, 2, 3, 4, 5], [1, 3, 5, 4, 5]])
    lengths = torch.tensor([3, 1, 5, 6])  # the last has six digits: never right
    output = output_for([([2, 1, 0, b, b], 3), ([5, 7, b, b, b], 2), ([1, 2, 3, 4, 5], 6), ([1, 3, 5, 4, 5], 6)])
    metrics = SvhnMetrics()
    metrics.update(output, {"digits": targets, "lengths": lengths})
    result = metrics.compute()
    assert result["sequence_accuracy"] == 0.25  # "5" read as "57"; "12345" read as longer than five digits
    assert result["digit_accuracy"] == 1.0  # every slot holding a true digit reads it
    assert result["length_accuracy"] == 0.5
    assert result["coverage_at_98"] == 0.0  # equally confident readings, 25% right: no threshold gives 98%


def test_confident_right_readings_give_coverage():
    b = BLANK
    targets = torch.tensor([[2, 1, b, b, b], [7, b, b, b, b]])
    output = output_for([([2, 1, b, b, b], 2), ([7, b, b, b, b], 1)], sure=12.0)
    output["digits"][1] /= 4  # right but unsure
    metrics = SvhnMetrics()
    metrics.update(output, {"digits": targets, "lengths": torch.tensor([2, 1])})
    result = metrics.compute()
    assert result["sequence_accuracy"] == 1.0 and result["coverage_at_98"] == 1.0
    confidence, correct = metrics.arrays()
    assert confidence[0] > confidence[1] and result["threshold_at_98"] == pytest.approx(confidence[1])


def test_coverage_figure(tmp_path):
    path = tmp_path / "coverage.png"
    plot_coverage_curves({"model": coverage_curve(np.array([0.9, 0.5]), np.array([True, False]))[:2]}, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
