"""Ensembles of recognizers: several trained models, or several views of one image, read as one.

``Ensemble([a, b, c])`` takes the same input as its members and returns, head by head, the log of
the members' mean class probabilities, so anything that reads a recognizer's output (argmax,
softmax, the evaluator's metrics and losses) reads an ensemble's the same way.
``ShiftedViews(model, pixels=1)`` does the same over the image and four shifted copies of it, and
``WarpedViews(model, views=8)`` over the image and copies with every digit slot mildly warped
(test-time augmentation).
"""

from __future__ import annotations

import torch
from torch import nn

from svhnx.data.augment import SlotWarp
from svhnx.models.heads import Ensemble, SequenceOutput, mean_probabilities

__all__ = ["MILD_WARP", "Ensemble", "ShiftedViews", "WarpedViews", "mean_probabilities", "shift_images"]

#: The test-time warp: half the training warp's affine ranges, no elastic field.
MILD_WARP = SlotWarp().scaled(0.5)


def shift_images(images: torch.Tensor, down: int, right: int) -> torch.Tensor:
    """``N x H x W x C`` images moved ``down`` rows and ``right`` columns (negative: up, left),
    with zeros where nothing moved in."""
    n, h, w, c = images.shape
    out = torch.zeros_like(images)
    if abs(down) < h and abs(right) < w:
        out[:, max(down, 0) : h + min(down, 0), max(right, 0) : w + min(right, 0)] = images[
            :, max(-down, 0) : h - max(down, 0), max(-right, 0) : w - max(right, 0)
        ]
    return out


class ShiftedViews(nn.Module):
    """Test-time augmentation: ``model``'s class probabilities averaged over the image and its
    copies shifted by ``pixels`` up, down, left and right (five views; zeros fill the gap).

    ``forward(images uint8 N x H x W x C)`` returns what :class:`Ensemble` returns.
    """

    def __init__(self, model: nn.Module, pixels: int = 1) -> None:
        super().__init__()
        if pixels <= 0:
            raise ValueError(f"pixels: expected a positive shift, got {pixels}")
        self.model = model
        self.input_shape = getattr(model, "input_shape", None)
        self.shifts = [(0, 0), (-pixels, 0), (pixels, 0), (0, -pixels), (0, pixels)]

    def forward(self, images: torch.Tensor) -> SequenceOutput:
        return mean_probabilities([self.model(shift_images(images, *shift)) for shift in self.shifts])


class WarpedViews(nn.Module):
    """Test-time augmentation: ``model``'s class probabilities averaged over the image and ``views``
    copies in which every square slot (a 28 x 28 digit cell of a 28 x 140 sequence; the whole image
    when it is square) gets its own random affine warp (:data:`MILD_WARP` by default).

    View ``v`` draws its warps from seed ``seed + v``, so a batch always reads the same way.
    ``forward(images uint8 N x H x W x C)`` returns what :class:`Ensemble` returns.
    """

    def __init__(self, model: nn.Module, views: int = 8, *, warp: SlotWarp = MILD_WARP, seed: int = 0) -> None:
        super().__init__()
        if views <= 0:
            raise ValueError(f"views: expected a positive number of warped copies, got {views}")
        self.model = model
        self.input_shape = getattr(model, "input_shape", None)
        self.views, self.warp, self.seed = views, warp, seed

    def forward(self, images: torch.Tensor) -> SequenceOutput:
        if images.dim() != 4 or images.dtype != torch.uint8 or images.shape[2] % images.shape[1]:
            raise ValueError(
                "images: expected uint8 N x H x W x C with W a whole number of H x H slots, "
                f"got {images.dtype} {tuple(images.shape)}"
            )
        views = [images] + [self.warp(images, torch.Generator().manual_seed(self.seed + v)) for v in range(self.views)]
        return mean_probabilities([self.model(view) for view in views])
