"""Box-regression localizer: the study's first attempt, kept as the baseline the U-Net must beat.

A small convolutional network that regresses the number's union box directly, normalised to the
image: ``[left / W, top / H, width / W, height / H]``, trained with an L2 loss.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from svhnx.models import register_model
from svhnx.models.heads import image_input
from svhnx.models.unet import PHOTO_MEAN, PHOTO_STD

DEFAULT_WIDTHS = (32, 64, 128, 256)
GRID = 4
HIDDEN = 256


@register_model("boxreg")
class BoxRegressor(nn.Module):
    """Conv blocks (3 x 3 conv, batch norm, ReLU, 2 x 2 max-pool), average pooling to a 4 x 4 grid
    (which keeps where things are), and two linear layers to four sigmoid outputs: the
    normalised union box of the number.

    ``forward`` takes ``uint8 N x H x W x C`` images of any size and returns ``{"box": N x 4}``.
    """

    def __init__(self, in_channels: int = 3, widths: Sequence[int] = DEFAULT_WIDTHS) -> None:
        super().__init__()
        widths = tuple(int(w) for w in widths)
        if not widths or any(w <= 0 for w in widths):
            raise ValueError(f"widths: expected positive channel counts, got {widths}")
        layers: list[nn.Module] = []
        previous = in_channels
        for width in widths:
            layers += [
                nn.Conv2d(previous, width, 3, padding=1, bias=False),
                nn.BatchNorm2d(width),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
            ]
            previous = width
        self.in_channels = in_channels
        self.input_shape = (None, None, in_channels)  # any size (svhnx.export needs --input-size to fix one)
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(GRID),
            nn.Flatten(),
            nn.Linear(previous * GRID * GRID, HIDDEN),
            nn.ReLU(inplace=True),
            nn.Linear(HIDDEN, 4),
            nn.Sigmoid(),
        )

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        if images.ndim != 4 or images.shape[3] != self.in_channels:
            raise ValueError(f"images: expected N x H x W x {self.in_channels}, got shape {tuple(images.shape)}")
        return {"box": self.head(self.features(image_input(images, PHOTO_MEAN, PHOTO_STD)))}
