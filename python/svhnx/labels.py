"""The label conventions every part of svhnx shares; this module is their one home.

A number has at most :data:`MAX_DIGITS` digits. Its target is ``digits: int64[5]``, one class per
slot (0-9, or :data:`BLANK`), plus a length class in ``0..6`` where :data:`LENGTH_OVERFLOW` means
"more than five digits". The text form writes blanks as ``.``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

MAX_DIGITS = 5
BLANK = 10
NUM_DIGIT_CLASSES = 11
LENGTH_OVERFLOW = MAX_DIGITS + 1
NUM_LENGTH_CLASSES = MAX_DIGITS + 2
BLANK_CHAR = "."


def format_label(digits: Sequence[int] | np.ndarray) -> str:
    """Text form of a 5-slot target: ``[10, 4, 2, 10, 10] -> ".42.."``."""
    chars = []
    for d in np.asarray(digits).reshape(-1).tolist():
        if d == BLANK:
            chars.append(BLANK_CHAR)
        elif 0 <= d <= 9:
            chars.append(str(d))
        else:
            raise ValueError(f"digit class {d} is not 0-9 or {BLANK} (blank)")
    return "".join(chars)


def parse_label(text: str) -> np.ndarray:
    """Inverse of :func:`format_label`: ``".42.." -> int64[10, 4, 2, 10, 10]``."""
    if len(text) != MAX_DIGITS:
        raise ValueError(f"label {text!r}: expected {MAX_DIGITS} characters, got {len(text)}")
    out = np.empty(MAX_DIGITS, dtype=np.int64)
    for i, ch in enumerate(text):
        if ch == BLANK_CHAR:
            out[i] = BLANK
        elif ch.isdigit() and ch.isascii():
            out[i] = int(ch)
        else:
            raise ValueError(f"label {text!r}: {ch!r} is neither a digit nor {BLANK_CHAR!r}")
    return out


def number_to_target(number: Sequence[int] | np.ndarray) -> tuple[np.ndarray, int]:
    """Left-aligned target of a number given as its digits (the SVHN layout).

    Returns ``(digits int64[5], length)``; numbers longer than five digits keep their first five
    digits and get the length class :data:`LENGTH_OVERFLOW`.
    """
    values = [int(d) for d in number]
    if not values:
        raise ValueError("a number needs at least one digit")
    if any(not 0 <= d <= 9 for d in values):
        raise ValueError(f"digits must be 0-9, got {values}")
    digits = np.full(MAX_DIGITS, BLANK, dtype=np.int64)
    kept = values[:MAX_DIGITS]
    digits[: len(kept)] = kept
    length = len(values) if len(values) <= MAX_DIGITS else LENGTH_OVERFLOW
    return digits, length


def target_to_string(digits: Sequence[int] | np.ndarray) -> str:
    """The number a target reads as, blanks dropped: ``[10, 4, 2, 10, 10] -> "42"``."""
    return format_label(digits).replace(BLANK_CHAR, "")
