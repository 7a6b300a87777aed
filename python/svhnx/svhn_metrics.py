"""Alias of :mod:`svhnx.metrics.coverage` and :mod:`svhnx.viz.readings`, kept for one release: import from there instead."""

from svhnx.metrics.coverage import TARGET_ACCURACY, SvhnMetrics, coverage_at_accuracy, coverage_curve, readings_correct
from svhnx.viz.readings import coverage_path, plot_coverage_curves, plot_evaluation, plot_readings, readings_title

__all__ = ["TARGET_ACCURACY", "SvhnMetrics", "coverage_at_accuracy", "coverage_curve", "coverage_path", "plot_coverage_curves",
           "plot_evaluation", "plot_readings", "readings_correct", "readings_title"]
