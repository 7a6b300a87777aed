"""Parts shared by the multi-digit recognizers: the image input, the per-slot output heads, and several recognizers read as one."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from svhnx.labels import MAX_DIGITS, NUM_DIGIT_CLASSES, NUM_LENGTH_CLASSES

#: What a recognizer returns, head by head: ``digits`` logits ``N x 5 x 11`` and, with a length
#: head, ``length`` logits ``N x 7``.
SequenceOutput = dict[str, torch.Tensor]


def mean_log_probabilities(logits: Sequence[torch.Tensor]) -> torch.Tensor:
    """The log of the mean class probabilities of several logit tensors of one shape (classes last)."""
    return torch.stack([x.float().log_softmax(-1) for x in logits]).logsumexp(0) - math.log(len(logits))


def mean_probabilities(outputs: Sequence[SequenceOutput]) -> SequenceOutput:
    """Head by head, the log of the outputs' mean class probabilities (heads all outputs have):
    several models, or several views of one image, read as one."""
    heads = [k for k in outputs[0] if all(k in out for out in outputs)]
    return {head: mean_log_probabilities([out[head] for out in outputs]) for head in heads}


class Ensemble(nn.Module):
    """Recognizers read as one: ``forward(images) -> {head: log(mean_m softmax(member_m(images)[head]))}``
    for every head they all have (``digits``: ``N x 5 x 11``, ``length``: ``N x 7``), so argmax,
    softmax and the metrics read an ensemble's output as they read one member's.

    Its ``pretrained_cfg`` (the settings a reader runs it with, :func:`svhnx.pretrained.operating_point`)
    is the members' own where they all have the same one, else empty.
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
        settings = [getattr(m, "pretrained_cfg", {}) for m in members]
        self.pretrained_cfg = dict(settings[0]) if all(s == settings[0] for s in settings) else {}

    def forward(self, images: torch.Tensor) -> SequenceOutput:
        return mean_probabilities([member(images) for member in self.members])


def ensemble_of(models: Sequence[nn.Module]) -> nn.Module:
    """One model as it is; several as their :class:`Ensemble`, in eval mode."""
    if not models:
        raise ValueError("models: expected at least one model")
    return models[0] if len(models) == 1 else Ensemble(models).eval()


def image_input(images: torch.Tensor, mean: float, std: float) -> torch.Tensor:
    """``uint8 N x H x W x C`` images -> normalised ``float N x C x H x W`` (the model's door).

    The result is a permuted view's copy, so its memory is channels-last, which convolutions on
    CUDA prefer; on the CPU it is just as good.
    """
    if images.dtype != torch.uint8 or images.ndim != 4:
        raise ValueError(f"images: expected uint8 N x H x W x C, got {images.dtype} with shape {tuple(images.shape)}")
    x = images.permute(0, 3, 1, 2).float()
    return x.sub_(255.0 * mean).mul_(1.0 / (255.0 * std))


class SequenceHeads(nn.Module):
    """Five 11-way digit classifiers (10 = blank) and an optional 7-way length classifier."""

    def __init__(self, features: int, *, length_head: bool = False) -> None:
        super().__init__()
        self.digits = nn.Linear(features, MAX_DIGITS * NUM_DIGIT_CLASSES)
        self.length = nn.Linear(features, NUM_LENGTH_CLASSES) if length_head else None

    def forward(self, x: torch.Tensor) -> SequenceOutput:
        out: SequenceOutput = {"digits": self.digits(x).view(-1, MAX_DIGITS, NUM_DIGIT_CLASSES)}
        if self.length is not None:
            out["length"] = self.length(x)
        return out
