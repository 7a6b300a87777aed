"""Synthetic multi-digit sequences (the original study's generator, in bulk)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from svhnx import _core
from svhnx.labels import MAX_DIGITS
from svhnx.ops._args import count_value, integer_array, seed_value, thread_count


def length_distribution(
    min_length: int = 1, max_length: int = MAX_DIGITS, weights: Sequence[float] | None = None
) -> np.ndarray:
    """Weights of the lengths 1..5: uniform over ``min_length..max_length``, or ``weights`` for them."""
    if not 1 <= min_length <= max_length <= MAX_DIGITS:
        raise ValueError(
            f"lengths: expected 1 <= min_length <= max_length <= {MAX_DIGITS}, got {min_length}..{max_length}"
        )
    count = max_length - min_length + 1
    out = np.zeros(MAX_DIGITS, dtype=np.float64)
    if weights is None:
        out[min_length - 1 : max_length] = 1.0
    else:
        given = np.asarray(weights, dtype=np.float64)
        if given.shape != (count,):
            raise ValueError(f"length_weights: expected {count} weights (lengths {min_length}..{max_length}), got shape {given.shape}")
        out[min_length - 1 : max_length] = given
    return out


def composite_sequences(
    digits: np.ndarray,
    labels: np.ndarray,
    batch_size: int,
    *,
    seed: int,
    threads: int | None = None,
    min_length: int = 1,
    max_length: int = MAX_DIGITS,
    length_weights: Sequence[float] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Composite ``batch_size`` multi-digit images from a digit bank.

    Each sample draws a length (uniform over ``min_length..max_length``, or by
    ``length_weights``, one weight per length in that range), a start slot uniform among those where the number fits, and its digits
    uniformly with replacement from the bank; the other slots are black and labelled blank.

    Args:
        digits: ``uint8`` digit bank, ``N x H x W`` or ``N x H x W x C`` (MNIST: ``N x 28 x 28``).
        labels: the digit class (0-9) of each bank entry, any integer dtype, shape ``N``.
        batch_size: number of sequences to make.
        seed: the output is a function of ``seed`` and the inputs alone, whatever ``threads``.
        threads: worker threads; ``None`` uses every core.

    Returns:
        ``(images uint8[B, H, 5W, C], targets int64[B, 5], lengths int64[B])``.
    """
    weights = length_distribution(min_length, max_length, length_weights)
    return _core.composite_sequences(
        digits,
        integer_array(labels, "labels"),
        count_value(batch_size, "batch_size"),
        seed_value(seed),
        weights,
        thread_count(threads),
    )
