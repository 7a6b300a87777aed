"""Alias of :mod:`svhnx.evaluate.views`, kept for one release: import from there instead."""

from svhnx.evaluate.views import MILD_WARP, Ensemble, ShiftedViews, WarpedViews, mean_probabilities, shift_images

__all__ = ["MILD_WARP", "Ensemble", "ShiftedViews", "WarpedViews", "mean_probabilities", "shift_images"]
