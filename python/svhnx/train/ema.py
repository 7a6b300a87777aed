"""The exponential moving average of the weights (``--ema``), with a warm-up.

With a fixed decay ``d`` the average keeps ``d**k`` of its weight on the random initial weights
after ``k`` steps (5% after 598 steps for 0.995), so early evaluations score an average of noise.
As TensorFlow's ``ExponentialMovingAverage`` does when given the step count, the decay here is
``min(d, (1 + n) / (10 + n))`` at the ``n``-th update: the average follows the recent weights from
the first steps and settles to ``d`` as training goes on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel


def ema_decay(decay: float, updates: int) -> float:
    """The decay of the update after ``updates`` earlier ones: ``min(decay, (1 + updates) / (10 + updates))``."""
    return min(decay, (1 + updates) / (10 + updates))


def averaged_model(model: nn.Module, decay: float) -> AveragedModel:
    """``model``'s exponential moving average (buffers averaged too), decay warmed up by :func:`ema_decay`."""
    if not 0 < decay < 1 or not math.isfinite(decay):
        raise ValueError(f"decay: expected a number in (0, 1), got {decay}")

    @torch.no_grad()
    def update(averaged: Sequence[torch.Tensor], current: Sequence[torch.Tensor], updates: torch.Tensor | int) -> None:
        # ema_decay computed on the counter's device: no host sync per step on a GPU.
        n = torch.as_tensor(updates).to(torch.float64)
        weight = 1.0 - torch.clamp((1 + n) / (10 + n), max=decay)
        for average, value in zip(averaged, current):
            if average.is_floating_point():
                average.lerp_(value, weight.to(average.dtype))
            else:  # counters such as BatchNorm's num_batches_tracked: the model's own
                average.copy_(value)

    return AveragedModel(model, multi_avg_fn=update, use_buffers=True)
