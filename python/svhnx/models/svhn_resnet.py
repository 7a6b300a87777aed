"""``svhn-resnet``: a multi-digit recognizer sized for a CPU, with Goodfellow et al.'s heads.

``uint8 N x 54 x 54 x 3`` in, the same output as ``svhn-goodfellow`` (``{"digits": N x 5 x 11,
"length": N x 7}`` logits, read jointly by :func:`svhnx.models.svhn.most_probable_numbers`).

Layout: a strided 3 x 3 stem (54 -> 27 px), three stages of residual blocks (two 3 x 3
convolutions with batch norm; the first block of stages 2 and 3 halves the size: 27 -> 14 -> 7),
16, 48 and 96 channels with 1, 2 and 2 blocks by default, then one dense layer over the 7 x 7 map
(position matters: the slots are read left to right) and the heads. About 69 MFLOP per image
(``svhn-goodfellow``: 1.2 GFLOP); ``python -m benchmarks recognizers`` measures the training speed
of both.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from svhnx.models import register_model
from svhnx.models.heads import SequenceHeads, SequenceOutput, image_input
from svhnx.models.svhn import INPUT_SHAPE, SVHN_MEAN, SVHN_STD

WIDTHS = (16, 48, 96)
BLOCKS = (1, 2, 2)
MAX_CHANNELS = 1024  # bounds a stored config (a checkpoint is untrusted input)
MAX_BLOCKS = 16


def conv_bn(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    """3 x 3 convolution (no bias) and batch norm."""
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout))


class ResidualBlock(nn.Module):
    """``relu(bn(conv(relu(bn(conv(x))))) + shortcut(x))``; a strided 1 x 1 shortcut when the shape changes."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = conv_bn(cin, cout, stride)
        self.conv2 = conv_bn(cout, cout)
        self.shortcut = (
            nn.Identity() if cin == cout and stride == 1
            else nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.conv2(F.relu(self.conv1(x))) + self.shortcut(x))


class ResidualRecognizer(nn.Module):
    """Stem -> residual stages -> dense layer -> length and digit heads (see the module docstring)."""

    input_shape = INPUT_SHAPE

    def __init__(self, widths: Sequence[int] = WIDTHS, blocks: Sequence[int] = BLOCKS, dense: int = 512,
                 dropout: float = 0.2) -> None:
        super().__init__()
        widths, blocks = tuple(int(w) for w in widths), tuple(int(b) for b in blocks)
        if not widths or len(widths) != len(blocks):
            raise ValueError(f"widths and blocks: expected one entry per stage, got {widths} and {blocks}")
        if any(not 0 < w <= MAX_CHANNELS for w in widths) or any(not 0 <= b <= MAX_BLOCKS for b in blocks):
            raise ValueError(f"widths must be in 1..{MAX_CHANNELS} and blocks in 0..{MAX_BLOCKS}, got {widths} and {blocks}")
        if not 0 < dense <= 8192:
            raise ValueError(f"dense: expected 1..8192 units, got {dense}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout: expected a probability in [0, 1), got {dropout}")
        layers: list[nn.Module] = [conv_bn(INPUT_SHAPE[2], widths[0], stride=2), nn.ReLU(inplace=True)]
        cin = widths[0]
        for stage, (width, count) in enumerate(zip(widths, blocks)):
            for i in range(count):
                layers.append(ResidualBlock(cin, width, 2 if stage > 0 and i == 0 else 1))
                cin = width
        self.features = nn.Sequential(*layers)
        with torch.no_grad():
            flat = self.features(torch.zeros(1, INPUT_SHAPE[2], *INPUT_SHAPE[:2])).numel()
        self.dense = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(flat, dense), nn.ReLU(inplace=True), nn.Dropout(dropout))
        self.heads = SequenceHeads(dense, length_head=True)

    def forward(self, images: torch.Tensor) -> SequenceOutput:
        if images.shape[1:] != INPUT_SHAPE:
            raise ValueError(f"images: expected uint8 N x 54 x 54 x 3, got shape {tuple(images.shape)}")
        x = image_input(images, SVHN_MEAN, SVHN_STD).contiguous(memory_format=torch.channels_last)
        return self.heads(self.dense(self.features(x)))


@register_model("svhn-resnet")
def residual_model(*, width: float = 1.0, dense: int = 512, dropout: float = 0.2) -> ResidualRecognizer:
    """The residual recognizer; ``width`` scales every stage's channels (1.0 = 16, 48, 96)."""
    if not 0 < width <= 8:
        raise ValueError(f"width: expected a channel multiplier in (0, 8], got {width}")
    return ResidualRecognizer(tuple(max(1, round(w * width)) for w in WIDTHS), BLOCKS, dense, dropout)
