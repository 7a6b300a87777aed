"""``digit-resnet``: a single-digit classifier for 32 x 32 crops (SVHN format 2).

``uint8 N x 32 x 32 x 3`` in, ``N x 10`` logits out. A 3 x 3 stem at full size, residual stages of
16, 32 and 64 channels (32 -> 16 -> 8 px, the blocks of :mod:`svhnx.models.svhn_resnet`), global
average pooling and a linear classifier; about 40 MFLOP per image.
"""

from __future__ import annotations

import torch
from torch import nn

from svhnx.models import register_model
from svhnx.models.heads import image_input
from svhnx.models.svhn import SVHN_MEAN, SVHN_STD
from svhnx.models.svhn_resnet import MAX_CHANNELS, ResidualBlock, conv_bn

INPUT_SHAPE = (32, 32, 3)
WIDTHS = (16, 32, 64)


class DigitClassifier(nn.Module):
    """Stem -> three residual stages (one block each, the last two halving the size) -> pool -> 10 logits."""

    input_shape = INPUT_SHAPE

    def __init__(self, widths: tuple[int, ...] = WIDTHS, dropout: float = 0.1) -> None:
        super().__init__()
        if len(widths) != 3 or any(not 0 < w <= MAX_CHANNELS for w in widths):
            raise ValueError(f"widths: expected three channel counts in 1..{MAX_CHANNELS}, got {widths}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout: expected a probability in [0, 1), got {dropout}")
        self.features = nn.Sequential(
            conv_bn(INPUT_SHAPE[2], widths[0]), nn.ReLU(inplace=True),
            ResidualBlock(widths[0], widths[0], 1), ResidualBlock(widths[0], widths[1], 2), ResidualBlock(widths[1], widths[2], 2),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout),
        )
        self.classifier = nn.Linear(widths[2], 10)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if images.shape[1:] != INPUT_SHAPE:
            raise ValueError(f"images: expected uint8 N x 32 x 32 x 3, got shape {tuple(images.shape)}")
        x = image_input(images, SVHN_MEAN, SVHN_STD).contiguous(memory_format=torch.channels_last)
        return self.classifier(self.features(x))


@register_model("digit-resnet")
def digit_model(*, width: float = 1.0, dropout: float = 0.1) -> DigitClassifier:
    """The digit classifier; ``width`` scales every stage's channels (1.0 = 16, 32, 64)."""
    if not 0 < width <= 8:
        raise ValueError(f"width: expected a channel multiplier in (0, 8], got {width}")
    return DigitClassifier(tuple(max(1, round(w * width)) for w in WIDTHS), dropout)
