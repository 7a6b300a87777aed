"""The metrics of Goodfellow et al. (2013) for reading house numbers (figures: :mod:`svhnx.viz.readings`).

* sequence accuracy: the whole number right (its length and every digit);
* per-digit accuracy: the digit slots of the true numbers read right (:class:`svhnx.metrics.SequenceAccuracy`);
* coverage at 98% accuracy: keep the readings whose confidence (joint probability) clears a
  threshold, chosen as low as possible while the kept readings stay at least 98% right; coverage is
  the share kept. A system that may refuse to answer is useful at that operating point.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
import torch.nn.functional as F

from svhnx.data.streams import Batch
from svhnx.labels import LENGTH_OVERFLOW, NUM_LENGTH_CLASSES
from svhnx.metrics.base import MetricAccumulator
from svhnx.metrics.sequence import SequenceAccuracy
from svhnx.models.svhn import most_probable_numbers

TARGET_ACCURACY = 0.98


def coverage_curve(confidence: np.ndarray, correct: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Accuracy against coverage when keeping the most confident readings.

    Only thresholds that keep or drop tied confidences together are possible, so the curve has one
    point per distinct confidence: ``(coverage, accuracy, threshold)``, coverage increasing; keeping
    every reading with ``confidence >= threshold[k]`` gives ``coverage[k]`` and ``accuracy[k]``.
    """
    confidence, correct = np.asarray(confidence, dtype=np.float64), np.asarray(correct, dtype=bool)
    if confidence.shape != correct.shape or confidence.ndim != 1:
        raise ValueError(f"confidence and correct: expected two 1-d arrays of one length, got {confidence.shape} and {correct.shape}")
    if len(confidence) == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    order = np.argsort(-confidence, kind="stable")
    sorted_confidence = confidence[order]
    kept = np.arange(1, len(order) + 1)
    accuracy = np.cumsum(correct[order]) / kept
    last_of_tie = np.append(sorted_confidence[1:] != sorted_confidence[:-1], True)
    return kept[last_of_tie] / len(order), accuracy[last_of_tie], sorted_confidence[last_of_tie]


def coverage_at_accuracy(confidence: np.ndarray, correct: np.ndarray, target: float = TARGET_ACCURACY) -> tuple[float, float]:
    """``(coverage, threshold)``: the largest share of readings, most confident first, that is at
    least ``target`` accurate, and the confidence threshold that keeps it (coverage 0 and threshold
    NaN when even the most confident readings miss the target)."""
    coverage, accuracy, threshold = coverage_curve(confidence, correct)
    ok = np.flatnonzero(accuracy >= target)
    if len(ok) == 0:
        return 0.0, float("nan")
    return float(coverage[ok[-1]]), float(threshold[ok[-1]])


def readings_correct(digits: torch.Tensor, lengths: torch.Tensor, target_digits: torch.Tensor, target_lengths: torch.Tensor) -> torch.Tensor:
    """Per image: the length read is the true one, every slot is right, and the number has at most five digits."""
    return (digits == target_digits).all(dim=1) & (lengths == target_lengths) & (target_lengths != LENGTH_OVERFLOW)


class SvhnMetrics(MetricAccumulator):
    """Goodfellow et al.'s metrics over recognizer outputs (``{"digits", "length"}`` logits).

    ``compute()`` gives ``sequence_accuracy``, ``digit_accuracy``, ``length_accuracy`` (the length
    read), ``position_<i>_accuracy``, ``coverage_at_98`` and ``threshold_at_98`` (the confidence
    threshold that gives it).
    """

    def __init__(self) -> None:
        self.slots = SequenceAccuracy()
        self.confidence: list[np.ndarray] = []
        self.correct: list[np.ndarray] = []

    def update(self, output: Mapping[str, torch.Tensor], batch: Batch) -> None:
        digits, lengths, confidence = most_probable_numbers(output)
        target_digits, target_lengths = batch["digits"].to(digits.device), batch["lengths"].to(digits.device)
        self.slots.update(digits, target_digits, target_lengths, F.one_hot(lengths, NUM_LENGTH_CLASSES))
        self.confidence.append(confidence.detach().cpu().numpy())
        self.correct.append(readings_correct(digits, lengths, target_digits, target_lengths).cpu().numpy())

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """``(confidence, correct)`` of every image so far."""
        if not self.confidence:
            return np.zeros(0), np.zeros(0, dtype=bool)
        return np.concatenate(self.confidence), np.concatenate(self.correct)

    def compute(self) -> dict[str, float]:
        confidence, correct = self.arrays()
        coverage, threshold = coverage_at_accuracy(confidence, correct)
        slots = self.slots.compute()
        return {
            "sequence_accuracy": float(correct.mean()) if len(correct) else float("nan"),
            **{k: v for k, v in slots.items() if k != "sequence_accuracy"},
            "coverage_at_98": coverage if len(correct) else float("nan"),
            "threshold_at_98": threshold,
        }
