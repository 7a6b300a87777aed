"""Ensembles of recognizers: several trained models read as one.

``Ensemble([a, b, c])`` takes the same input as its members and returns, head by head, the log of
the members' mean class probabilities, so anything that reads a recognizer's output (argmax,
softmax, the evaluator's metrics and losses) reads an ensemble's the same way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from svhnx.models.heads import SequenceOutput

__all__ = ["Ensemble"]


class Ensemble(nn.Module):
    """The members' class probabilities, averaged over the members, for every head they all have.

    ``forward(images) -> {head: log(mean_m softmax(member_m(images)[head]))}``; the heads' last
    dimension holds the classes (``digits``: ``N x 5 x 11``, ``length``: ``N x 7``).
    """

    def __init__(self, members: Sequence[nn.Module]) -> None:
        super().__init__()
        if not members:
            raise ValueError("members: expected at least one model")
        shapes = {getattr(m, "input_shape", None) for m in members}
        if len(shapes) != 1:
            raise ValueError(f"members: expected models of one input shape, got {sorted(map(str, shapes))}")
        self.members = nn.ModuleList(members)
        self.input_shape = shapes.pop()

    def forward(self, images: torch.Tensor) -> SequenceOutput:
        outputs = [member(images) for member in self.members]
        heads = [k for k in outputs[0] if all(k in out for out in outputs)]
        log_n = math.log(len(outputs))
        return {  # type: ignore[return-value]
            head: torch.stack([out[head].float().log_softmax(-1) for out in outputs]).logsumexp(0) - log_n
            for head in heads
        }
