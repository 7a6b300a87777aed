"""Validation metrics: the accumulator interface (:mod:`~svhnx.metrics.base`), reading accuracy
(:mod:`~svhnx.metrics.sequence`), Goodfellow et al.'s coverage (:mod:`~svhnx.metrics.coverage`) and
the localizer's overlap measures (:mod:`~svhnx.metrics.segmentation`)."""

from svhnx.metrics.base import MetricAccumulator
from svhnx.metrics.sequence import SequenceAccuracy, predicted_lengths, sequence_correct

__all__ = ["MetricAccumulator", "SequenceAccuracy", "predicted_lengths", "sequence_correct"]
