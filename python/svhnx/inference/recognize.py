"""Read 64 x 64 number crops with a recognizer: one view (the centre 54 x 54) or several.

With ``views > 1`` the recognizer reads each crop's centre and windows shifted a little around it
(:func:`svhnx.ops.crop_rule.recognizer_views`, real pixels of the crop), all in one batch, and
their class probabilities are averaged head by head (test-time augmentation).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from svhnx.hardware import autocast_for
from svhnx.models.heads import SequenceOutput, mean_probabilities
from svhnx.models.svhn import most_probable_numbers
from svhnx.ops.crop_rule import recognizer_views

# Five views read real SVHN crops better than one. Chosen with the recognizer shipped before: on the
# svhn-real dev numbers 83.8% -> 85.6% (coverage at 98% 62.6% -> 68.9%); the other patterns tried
# (larger shifts, nine views, scales, zero-filled shifts) gave 84.9-86.4%. With the one shipped now
# (benchmarks/scripts/recognizer_views.py): dev 83.0% -> 84.8%, held-out synthetic crops 89.3% / 89.6%
# -> 90.3% / 90.2%. Five views cost five times the recognizer's time, small beside the localizer's
# in a whole photo (benchmarks/bench_real.py records both).
DEFAULT_VIEWS = 5
#: The band of centre-view confidences within which :func:`recognize_until_sure` reads every view: all of them.
ALL_UNSURE = (0.0, 1.0)


def recognize(
    recognizer: nn.Module, crops: np.ndarray, views: int = DEFAULT_VIEWS, *, threads: int | None = None, precision: str = "float32"
) -> SequenceOutput:
    """The recognizer's output for ``uint8 N x 64 x 64 x 3`` crops: with one view, as it is; with
    more, the log of the views' mean class probabilities. ``precision`` is one of
    :data:`svhnx.hardware.PRECISIONS`: in bfloat16 the recognizer runs under CPU autocast (a model
    that is not torch, such as an ONNX backend, ignores it; a model with bfloat16 weights, from
    :func:`svhnx.inference.backends.in_precision`, always runs in bfloat16); the output is float32
    either way."""
    outputs = read_views(recognizer, recognizer_views(crops, views, threads=threads), precision)
    return outputs[0] if views == 1 else mean_probabilities(outputs)


def read_views(recognizer: nn.Module, batch: np.ndarray, precision: str) -> list[SequenceOutput]:
    """The recognizer's float32 output for each view of a ``views x N x 54 x 54 x 3`` batch, read in
    one call under ``precision``."""
    views, n = batch.shape[:2]
    with autocast_for(recognizer, precision):
        output = recognizer(torch.from_numpy(batch.reshape(views * n, *batch.shape[2:])))
    return [{head: out[v * n : (v + 1) * n].float() for head, out in output.items()} for v in range(views)]


def check_unsure(band: Sequence[float]) -> tuple[float, float]:
    """``band`` as ``(low, high)`` floats; :class:`ValueError` unless ``0 <= low <= high <= 1``."""
    values = tuple(float(v) for v in band)
    if len(values) != 2 or not 0.0 <= values[0] <= values[1] <= 1.0:
        raise ValueError(f"unsure: expected (low, high) with 0 <= low <= high <= 1, got {tuple(band)}")
    return values[0], values[1]


def recognize_until_sure(
    recognizer: nn.Module,
    crops: np.ndarray,
    views: int = DEFAULT_VIEWS,
    unsure: tuple[float, float] = ALL_UNSURE,
    *,
    threads: int | None = None,
    precision: str = "float32",
) -> SequenceOutput:
    """:func:`recognize`, but the shifted views are read only for the crops whose centre view is
    unsure: its most probable number's joint probability within ``unsure`` (``low, high``, both
    included). The other crops keep their centre view's output. The default band, ``(0, 1)``, is
    :func:`recognize` itself."""
    low, high = check_unsure(unsure)
    if views == 1 or (low == 0.0 and high == 1.0) or not len(crops):
        return recognize(recognizer, crops, views, threads=threads, precision=precision)
    centre = recognize(recognizer, crops, 1, threads=threads, precision=precision)
    confidence = most_probable_numbers(centre)[2]
    rows = torch.nonzero((confidence >= low) & (confidence <= high))[:, 0]
    if not len(rows):
        return centre
    picked = np.ascontiguousarray(crops[rows.numpy()])
    shifted = read_views(recognizer, recognizer_views(picked, views, threads=threads)[1:], precision)  # the centre view is read already
    merged = mean_probabilities([{head: out[rows] for head, out in centre.items()}, *shifted])
    out = {head: value.clone() for head, value in centre.items()}
    for head in merged:
        out[head][rows] = merged[head]
    return out
