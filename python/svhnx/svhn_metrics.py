"""Alias of :mod:`svhnx.metrics.coverage`, :mod:`svhnx.viz.readings` and :func:`svhnx.tasks.svhn.collect_readings`, kept for one release: import from there instead."""

from collections.abc import Iterable
from pathlib import Path

import torch

from svhnx.data.streams import Batch
from svhnx.metrics.coverage import TARGET_ACCURACY, SvhnMetrics, coverage_at_accuracy, coverage_curve, readings_correct
from svhnx.tasks.svhn import collect_readings
from svhnx.viz import readings as _readings
from svhnx.viz.readings import coverage_path, plot_coverage_curves, plot_readings, readings_title

__all__ = ["TARGET_ACCURACY", "SvhnMetrics", "coverage_at_accuracy", "coverage_curve", "coverage_path", "plot_coverage_curves",
           "plot_evaluation", "plot_readings", "readings_correct", "readings_title"]


def plot_evaluation(model: torch.nn.Module, batches: Iterable[Batch], device: torch.device, path: str | Path) -> None:
    """Alias for one release: ``svhnx.viz.readings.plot_evaluation(*svhnx.tasks.svhn.collect_readings(model, batches, device), path)``."""
    _readings.plot_evaluation(*collect_readings(model, batches, device), path)
