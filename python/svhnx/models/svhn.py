"""The multi-digit SVHN recognizer of Goodfellow et al. (2013), and how its output is read.

``svhn-goodfellow``: ``uint8 N x 54 x 54 x 3`` in; eight conv blocks (48, 64, 128, 160, 192, 192,
192, 192 channels; 5 x 5 convolution, batch norm, ReLU, 2 x 2 max-pooling with strides 2, 1, 2, 1,
..., dropout), 54 -> 27 -> 27 -> 14 -> 14 -> 7 -> 7 -> 4 -> 4 pixels, two dense layers of 3072
units, a 7-way length head (0-5 digits, "more than 5") and five 11-way digit heads (10 = blank).
Out: ``{"digits": N x 5 x 11, "length": N x 7}`` logits. About 1.2 GFLOP per image. (The paper's
first layer is maxout and it adds a locally connected layer; here every block is the same.)

:func:`most_probable_numbers` turns that output into a reading and its confidence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from svhnx.labels import BLANK, MAX_DIGITS
from svhnx.models import register_model
from svhnx.models.heads import SequenceHeads, SequenceOutput, image_input
from svhnx.ops.crop_rule import INPUT_SIZE

INPUT_SHAPE = (*INPUT_SIZE, 3)
CHANNELS = (48, 64, 128, 160, 192, 192, 192, 192)
# Pixel statistics of SVHN crops (all channels).
SVHN_MEAN = 0.45
SVHN_STD = 0.20


def conv_block(cin: int, cout: int, pool_stride: int, dropout: float) -> nn.Sequential:
    """5 x 5 convolution, batch norm, ReLU, 2 x 2 max-pooling ("same" padding; stride 2 halves the
    size rounding up, stride 1 keeps it), dropout."""
    if pool_stride == 2:
        pool: nn.Module = nn.MaxPool2d(2, stride=2, ceil_mode=True)
    else:
        pool = nn.Sequential(nn.ZeroPad2d((0, 1, 0, 1)), nn.MaxPool2d(2, stride=1))  # after ReLU: zeros are the minimum
    return nn.Sequential(
        nn.Conv2d(cin, cout, 5, padding=2, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True), pool, nn.Dropout(dropout)
    )


class SvhnRecognizer(nn.Module):
    """Conv blocks -> two dense layers -> length and digit heads (see the module docstring)."""

    #: ``(H, W, C)`` of the input (read by :mod:`svhnx.inference.export` and :mod:`svhnx.inference.backends`).
    input_shape = INPUT_SHAPE

    def __init__(self, channels: Sequence[int] = CHANNELS, dense: int = 3072, dropout: float = 0.2) -> None:
        super().__init__()
        channels = tuple(int(c) for c in channels)
        if not channels or any(c <= 0 for c in channels):
            raise ValueError(f"channels: expected positive channel counts, got {channels}")
        if dense <= 0:
            raise ValueError(f"dense: expected a positive unit count, got {dense}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout: expected a probability in [0, 1), got {dropout}")
        blocks, cin = [], INPUT_SHAPE[2]
        for i, cout in enumerate(channels):
            blocks.append(conv_block(cin, cout, 2 if i % 2 == 0 else 1, dropout))
            cin = cout
        self.features = nn.Sequential(*blocks)
        with torch.no_grad():
            flat = self.features(torch.zeros(1, INPUT_SHAPE[2], *INPUT_SHAPE[:2])).numel()
        self.dense = nn.Sequential(
            nn.Flatten(),
            nn.Linear(flat, dense), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(dense, dense), nn.ReLU(inplace=True), nn.Dropout(dropout),
        )
        self.heads = SequenceHeads(dense, length_head=True)

    def forward(self, images: torch.Tensor) -> SequenceOutput:
        if images.shape[1:] != INPUT_SHAPE:
            raise ValueError(f"images: expected uint8 N x 54 x 54 x 3, got shape {tuple(images.shape)}")
        return self.heads(self.dense(self.features(image_input(images, SVHN_MEAN, SVHN_STD))))


@register_model("svhn-goodfellow")
def goodfellow_model(*, width: float = 1.0, dense: int = 3072, dropout: float = 0.2) -> SvhnRecognizer:
    """Goodfellow et al.'s recognizer; ``width`` scales every conv block's channels (1.0 = the paper's)."""
    if not width > 0:
        raise ValueError(f"width: expected a positive channel multiplier, got {width}")
    return SvhnRecognizer(tuple(max(1, round(c * width)) for c in CHANNELS), dense, dropout)


def most_probable_numbers(output: Mapping[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The most probable reading of each image and its probability.

    For every length ``n`` (0-5, and 6 = more than five digits) the best number of that length takes
    the most probable digit (0-9) in each of its first ``min(n, 5)`` slots and a blank in the rest;
    its probability is ``P(length = n)`` times those slot probabilities (the joint probability of
    Goodfellow et al., with the blank slots included). The reading is the best over all lengths.

    Args:
        output: ``{"digits": N x 5 x 11, "length": N x 7}`` logits.

    Returns:
        ``(digits int64 N x 5, lengths int64 N, confidence float N)``: left-aligned slot classes
        (10 = blank), the length class read, and the joint probability.
    """
    if "length" not in output:
        raise ValueError("most_probable_numbers needs the length head's logits (output['length'])")
    slot = F.log_softmax(output["digits"].float(), dim=-1)
    best_lp, best_digit = slot[..., :BLANK].max(dim=-1)
    blank_lp = slot[..., BLANK]
    zero = best_lp.new_zeros(len(best_lp), 1)
    digits_before = torch.cat([zero, best_lp.cumsum(dim=1)], dim=1)  # [:, n]: sum over slots < n
    blanks_from = torch.cat([blank_lp.flip(1).cumsum(dim=1).flip(1), zero], dim=1)  # [:, n]: slots >= n
    per_length = torch.cat([digits_before + blanks_from, digits_before[:, -1:]], dim=1)
    score = F.log_softmax(output["length"].float(), dim=-1) + per_length
    log_confidence, lengths = score.max(dim=1)
    filled = torch.arange(MAX_DIGITS, device=lengths.device) < lengths.clamp(max=MAX_DIGITS)[:, None]
    digits = torch.where(filled, best_digit, torch.full_like(best_digit, BLANK))
    return digits, lengths, log_confidence.exp()
