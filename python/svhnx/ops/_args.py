"""Conversions of the Python-level arguments shared by the ops."""

from __future__ import annotations

import operator

import numpy as np


def thread_count(threads: int | None) -> int:
    """``None`` -> 0 (the extension's "all cores"); otherwise a positive int."""
    if threads is None:
        return 0
    threads = operator.index(threads)
    if threads <= 0:
        raise ValueError(f"threads: expected None or a positive count, got {threads}")
    return threads


def count_value(value: int | np.integer, name: str) -> int:
    """An integer count as a Python int (a float such as 1.7 is a TypeError, not rounded); the
    extension checks its range."""
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{name}: expected an integer count, got {value!r}") from None


def seed_value(seed: int | np.integer) -> int:
    """A seed as the unsigned 64-bit integer the extension takes."""
    try:
        seed = operator.index(seed)
    except TypeError:
        raise TypeError(f"seed: expected an integer, got {type(seed).__name__}") from None
    if not 0 <= seed < 2**64:
        raise ValueError(f"seed: expected an integer in [0, 2**64), got {seed}")
    return seed


def integer_array(values: object, name: str) -> np.ndarray:
    """An integer array as C-contiguous int64; a non-integer dtype raises TypeError."""
    arr = np.asarray(values)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name}: expected an integer array, got dtype {arr.dtype}")
    return np.ascontiguousarray(arr, dtype=np.int64)


def size_pair(size: tuple[int, int], name: str) -> tuple[int, int]:
    """A ``(height, width)`` pair of positive ints; anything else raises TypeError/ValueError."""
    try:
        height, width = (operator.index(v) for v in size)
    except TypeError:
        raise TypeError(f"{name}: expected a (height, width) pair of integers, got {size!r}") from None
    except ValueError:
        raise ValueError(f"{name}: expected a (height, width) pair, got {size!r}") from None
    if height <= 0 or width <= 0:
        raise ValueError(f"{name}: expected a positive height and width, got {size!r}")
    return height, width
