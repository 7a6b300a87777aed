"""Recognizers for synthetic MNIST sequences (``uint8 N x 28 x 140 x 1`` in, 5 digit slots out).

* ``mnist-study``: the original study's network, six 5 x 5 conv blocks (48-64-128-160-192-192
  channels, batch norm, max-pooling alternating stride 2 and 1, dropout), two 1024-unit dense
  layers, five 11-way heads and an optional length head. About 1.35 GFLOP per image.
* ``mnist-lean``: sized for CPU time-to-accuracy: an early strided 5 x 5 convolution, 3 x 3
  convolutions with narrow channels, and one digit classifier shared by the five slots instead of
  dense layers over the whole image (:class:`SlotNet`). About 16x fewer FLOPs per image.

Both take the images as they come from the data path and convert them at the door
(:func:`svhnx.models.heads.image_input`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from svhnx.labels import MAX_DIGITS, NUM_DIGIT_CLASSES, NUM_LENGTH_CLASSES
from svhnx.models import register_model
from svhnx.models.heads import SequenceHeads, SequenceOutput, image_input

# Pixel statistics of synthetic sequences (MNIST digits with ~40% blank slots).
SEQUENCE_MEAN = 0.08
SEQUENCE_STD = 0.25
INPUT_SHAPE = (28, 140, 1)


def _same_pool(stride: int) -> nn.Module:
    """2 x 2 max-pooling with "same" padding: stride 2 halves (rounding up), stride 1 keeps the size.

    Used after ReLU, so padding with zeros is padding with the minimum.
    """
    if stride == 2:
        return nn.MaxPool2d(2, stride=2, ceil_mode=True)
    if stride == 1:
        return nn.Sequential(nn.ZeroPad2d((0, 1, 0, 1)), nn.MaxPool2d(2, stride=1))
    raise ValueError(f"pool stride: expected 1 or 2, got {stride}")


def _conv_bn_relu(cin: int, cout: int, kernel: int, stride: int = 1) -> list[nn.Module]:
    return [
        nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    ]


def _flat_size(features: nn.Module, shape: tuple[int, int, int]) -> int:
    h, w, c = shape
    with torch.no_grad():
        return int(features(torch.zeros(1, c, h, w)).numel())


class SequenceNet(nn.Module):
    """Conv features -> flatten -> dense layers -> :class:`SequenceHeads`.

    ``forward(images uint8 N x 28 x 140 x 1) -> {"digits": N x 5 x 11, "length": N x 7}``.
    """

    #: ``(H, W, C)`` of the input (read by :mod:`svhnx.inference.export` and :mod:`svhnx.inference.backends`).
    input_shape = INPUT_SHAPE

    def __init__(self, features: nn.Sequential, dense: Sequence[int], dropout: float, length_head: bool) -> None:
        super().__init__()
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout: expected a probability in [0, 1), got {dropout}")
        self.features = features
        layers: list[nn.Module] = [nn.Flatten()]
        width = _flat_size(features, INPUT_SHAPE)
        for units in dense:
            layers += [nn.Dropout(dropout), nn.Linear(width, units), nn.ReLU(inplace=True)]
            width = units
        layers.append(nn.Dropout(dropout))
        self.dense = nn.Sequential(*layers)
        self.heads = SequenceHeads(width, length_head=length_head)

    def forward(self, images: torch.Tensor) -> SequenceOutput:
        x = image_input(images, SEQUENCE_MEAN, SEQUENCE_STD)
        return self.heads(self.dense(self.features(x)))


STUDY_CHANNELS = (48, 64, 128, 160, 192, 192)


@register_model("mnist-study")
def study_model(*, length_head: bool = False, dropout: float = 0.25, dense: int = 1024) -> SequenceNet:
    """The original study's recognizer: six conv blocks (5 x 5 conv, batch norm, ReLU, 2 x 2
    max-pool with strides 2, 1, 2, 1, 2, 1, dropout), two dense layers, five digit heads."""
    layers: list[nn.Module] = []
    cin = INPUT_SHAPE[2]
    for i, cout in enumerate(STUDY_CHANNELS):
        layers += [*_conv_bn_relu(cin, cout, 5), _same_pool(2 if i % 2 == 0 else 1), nn.Dropout(dropout)]
        cin = cout
    return SequenceNet(nn.Sequential(*layers), (dense, dense), dropout, length_head)


LEAN_CHANNELS = (32, 48, 64, 96)


class SlotNet(nn.Module):
    """Conv trunk to stride 4 (28 x 140 -> 7 x 35: seven columns per digit slot), then one
    classifier shared by the five slots: a 7 x 7 convolution with stride 7 reads each slot's cell
    (its receptive field reaches into the neighbours), a 1 x 1 convolution gives the slot's 11 classes.

    Sharing the classifier means every digit, whatever its slot, trains the same weights: about
    five times the data per weight of the study's per-slot dense heads, and far fewer FLOPs.
    ``forward(images uint8 N x 28 x 140 x 1) -> {"digits": N x 5 x 11, "length": N x 7}``.
    """

    #: ``(H, W, C)`` of the input (read by :mod:`svhnx.inference.export` and :mod:`svhnx.inference.backends`).
    input_shape = INPUT_SHAPE

    def __init__(self, channels: Sequence[int], hidden: int, dropout: float, length_head: bool) -> None:
        super().__init__()
        channels = tuple(int(c) for c in channels)
        if len(channels) != 4 or any(c <= 0 for c in channels):
            raise ValueError(f"channels: expected 4 positive channel counts, got {channels}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout: expected a probability in [0, 1), got {dropout}")
        c1, c2, c3, c4 = channels
        self.features = nn.Sequential(
            *_conv_bn_relu(INPUT_SHAPE[2], c1, 5, stride=2),
            *_conv_bn_relu(c1, c2, 3),
            _same_pool(2),
            *_conv_bn_relu(c2, c3, 3),
            *_conv_bn_relu(c3, c4, 3),
        )
        cell = INPUT_SHAPE[0] // 4
        self.slots = nn.Sequential(
            nn.Conv2d(c4, hidden, cell, stride=cell, bias=False), nn.BatchNorm2d(hidden), nn.ReLU(inplace=True), nn.Dropout(dropout)
        )
        self.classify = nn.Conv2d(hidden, NUM_DIGIT_CLASSES, 1)
        self.length = nn.Linear(hidden * MAX_DIGITS, NUM_LENGTH_CLASSES) if length_head else None

    def forward(self, images: torch.Tensor) -> SequenceOutput:
        x = image_input(images, SEQUENCE_MEAN, SEQUENCE_STD)
        slots = self.slots(self.features(x))  # N x hidden x 1 x 5
        out: SequenceOutput = {"digits": self.classify(slots).flatten(2).transpose(1, 2)}
        if self.length is not None:
            out["length"] = self.length(slots.flatten(1))
        return out


@register_model("mnist-lean")
def lean_model(
    *, length_head: bool = False, dropout: float = 0.25, channels: Sequence[int] = LEAN_CHANNELS, hidden: int = 256,
    width: float = 1.0,
) -> SlotNet:
    """A CPU-sized recognizer: 5 x 5 stride-2 conv (28 x 140 -> 14 x 70), a 3 x 3 conv, 2 x 2
    max-pool (-> 7 x 35), two 3 x 3 convs, then the slot-shared classifier of :class:`SlotNet`.
    ``width`` multiplies every channel count and ``hidden``."""
    if not width > 0:
        raise ValueError(f"width: expected a positive multiplier, got {width}")
    return SlotNet([max(1, round(c * width)) for c in channels], max(1, round(hidden * width)), dropout, length_head)
