"""U-Net localizer: where in a photo is the house number?

Ronneberger et al.'s contracting/expanding network with skip connections, at half the original
widths (32-64-128-256-512) and with padded 3 x 3 convolutions so the mask has the input's size.
It is fully convolutional: any input whose height and width are multiples of :attr:`UNet.multiple` works (pad other
sizes first, see :func:`svhnx.inference.localize.pad_to_multiple`). An optional length head on the
bottleneck predicts how many digits the found number has (the study's proposal), so that a reading
whose length disagrees can be rejected.

Sized for a CPU (:data:`CPU_WIDTHS`, :data:`CPU_STEM`): a space-to-depth stem folds each 2 x 2
block of pixels into channels before the first level and a depth-to-space head unfolds the mask
again, so the levels run at half the resolution while the mask keeps the input's size; with narrow
levels this trains about 30x faster per core than the default widths (``benchmarks/results/localizer_speed.json``).
An optional refinement head (``refine``) looks at the input's own pixels once more, at full
resolution, and corrects the mask's edges there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

import torch
from torch import nn
from torch.nn import functional as F

from svhnx.labels import NUM_LENGTH_CLASSES
from svhnx.models import register_model
from svhnx.models.heads import image_input

DEFAULT_WIDTHS = (32, 64, 128, 256, 512)
#: The localizer the package trains and ships: narrow levels behind a 2 x 2 space-to-depth stem.
CPU_WIDTHS = (16, 24, 32, 48, 64)
CPU_STEM = 2
# Pixel statistics assumed for photos (street scenes): roughly mid-grey with a wide spread.
PHOTO_MEAN = 0.45
PHOTO_STD = 0.25


class LocalizerOutput(TypedDict, total=False):
    """What a localizer returns: ``mask`` logits ``N x 1 x H x W`` and, with a length head,
    ``length`` logits ``N x 7`` (classes 0..6 as in :mod:`svhnx.labels`)."""

    mask: torch.Tensor
    length: torch.Tensor


def conv_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """Two padded 3 x 3 convolutions, each followed by batch norm and ReLU."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
        nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class UpBlock(nn.Module):
    """Double the resolution (2 x 2 transposed convolution halving the channels), concatenate the
    skip connection from the contracting path, then a :func:`conv_block`."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(in_channels, out_channels, 2, stride=2)
        self.conv = conv_block(2 * out_channels, out_channels)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.conv(torch.cat([self.up(x), skip], dim=1))


class RefineHead(nn.Module):
    """A correction to the mask logits at the input's resolution, from the input's pixels, the
    last level's features (unfolded to full resolution when ``stem`` > 1) and the mask logits:
    a 1 x 1 convolution and depth to space for the features, then two 3 x 3 convolutions, the
    last initialised to zero."""

    def __init__(self, in_channels: int, feature_channels: int, channels: int, stem: int) -> None:
        super().__init__()
        self.stem = stem
        self.features = nn.Conv2d(feature_channels, channels * stem**2, 1)
        self.conv = nn.Sequential(
            nn.Conv2d(channels + in_channels + 1, channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, 1, 3, padding=1),
        )
        for parameter in self.conv[-1].parameters():  # the refinement starts as no change
            nn.init.zeros_(parameter)

    def forward(self, pixels: torch.Tensor, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        features = self.features(features)
        if self.stem > 1:
            features = F.pixel_shuffle(features, self.stem)
        return self.conv(torch.cat([features, pixels, mask], dim=1))


@register_model("unet")
class UNet(nn.Module):
    """U-Net with one output channel (number / background).

    ``stem`` > 1 folds each ``stem x stem`` block of pixels into channels before the first level
    (space to depth) and the head predicts the ``stem ** 2`` mask pixels of each block (depth to
    space), so the mask keeps the input's size at a fraction of the cost.

    ``refine`` > 0 adds a :class:`RefineHead` of that many channels at the input's resolution,
    which adds a correction to the mask logits. Its last layer starts at zero, so a trained model
    given a new refinement head (:func:`svhnx.models.grow.widen` with ``new_layers=["refine"]``)
    computes what it computed.

    ``forward`` takes ``uint8 N x H x W x C`` images as they come from the data path (H and W
    multiples of :attr:`multiple`, ``stem * 2 ** (levels - 1)``: 16 for the default five widths,
    32 for :data:`CPU_WIDTHS` with :data:`CPU_STEM`), converts them at the door
    and returns a :class:`LocalizerOutput` of *logits*; apply ``torch.sigmoid`` to the mask for
    probabilities (the loss works on logits, which is numerically stable).
    """

    def __init__(
        self,
        in_channels: int = 3,
        widths: Sequence[int] = DEFAULT_WIDTHS,
        length_head: bool = False,
        stem: int = 1,
        refine: int = 0,
    ) -> None:
        super().__init__()
        widths = tuple(int(w) for w in widths)
        if len(widths) < 2 or any(w <= 0 for w in widths):
            raise ValueError(f"widths: expected at least two positive channel counts, got {widths}")
        if in_channels <= 0:
            raise ValueError(f"in_channels: expected a positive count, got {in_channels}")
        if stem < 1:
            raise ValueError(f"stem: expected a positive block size, got {stem}")
        if refine < 0:
            raise ValueError(f"refine: expected a non-negative channel count, got {refine}")
        self.in_channels = in_channels
        self.widths = widths
        self.stem = int(stem)
        self.multiple = self.stem * 2 ** (len(widths) - 1)
        self.input_shape = (None, None, in_channels)  # any size, multiples of self.multiple (svhnx.export)
        self.down = nn.ModuleList()
        previous = in_channels * self.stem**2
        for width in widths:
            self.down.append(conv_block(previous, width))
            previous = width
        self.up = nn.ModuleList(UpBlock(wide, narrow) for wide, narrow in zip(widths[:0:-1], widths[-2::-1]))
        self.head = nn.Conv2d(widths[0], self.stem**2, 1)
        self.refine = RefineHead(in_channels, widths[0], refine, self.stem) if refine else None
        self.length_head = (
            nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(widths[-1], NUM_LENGTH_CLASSES))
            if length_head
            else None
        )

    def forward(self, images: torch.Tensor) -> LocalizerOutput:
        if images.ndim != 4 or images.shape[3] != self.in_channels:
            raise ValueError(f"images: expected N x H x W x {self.in_channels}, got shape {tuple(images.shape)}")
        height, width = images.shape[1:3]
        if height % self.multiple or width % self.multiple:
            raise ValueError(
                f"images: height and width must be multiples of {self.multiple}, got {height} x {width} "
                "(pad with svhnx.inference.localize.pad_to_multiple)"
            )
        pixels = image_input(images, PHOTO_MEAN, PHOTO_STD)
        x = F.pixel_unshuffle(pixels, self.stem) if self.stem > 1 else pixels
        skips = []
        for i, block in enumerate(self.down):
            if i:
                x = F.max_pool2d(x, 2)
            x = block(x)
            skips.append(x)
        bottleneck = skips.pop()
        x = bottleneck
        for block in self.up:
            x = block(x, skips.pop())
        mask = self.head(x)
        mask = F.pixel_shuffle(mask, self.stem) if self.stem > 1 else mask
        if self.refine is not None:
            mask = mask + self.refine(pixels, x, mask)
        out: LocalizerOutput = {"mask": mask}
        if self.length_head is not None:
            out["length"] = self.length_head(bottleneck)
        return out


def skip_input_parts(narrow: Sequence[int], wide: Sequence[int]) -> dict[str, list[tuple[int, int]]]:
    """What :func:`svhnx.models.grow.widen_state` needs to widen a U-Net from level widths
    ``narrow`` to ``wide``: each up block's first convolution reads the upsampled map, then the
    skip connection, both as wide as the block's level."""
    if len(narrow) != len(wide):
        raise ValueError(f"widths: a U-Net keeps its depth when widened, got {tuple(narrow)} and {tuple(wide)}")
    levels = len(narrow) - 1
    return {f"up.{i}.conv.0.weight": [(narrow[levels - 1 - i], wide[levels - 1 - i])] * 2 for i in range(levels)}
