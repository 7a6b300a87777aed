"""Scores on real pixels: files in the layout of ``svhn-real`` (``test-numbers-*.npz``, ``test-digits32-*.npz``).

Numbers: 64 x 64 number crops; the recognizer reads their centre 54 x 54 (as evaluation does for
SVHN) and, by default, four windows shifted 2 pixels diagonally about it, as the whole-photo reader does. The figures are Goodfellow et al.'s: sequence accuracy, digit accuracy (the true digits read
right, slot by slot), accuracy per length and coverage at 98% accuracy, on the whole file and, when
it has ``uncovered``, on the crops less than 30% filled in. Digits: 32 x 32 single digits (SVHN
format 2), scored by a digit classifier's accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from svhnx.data.npz import read_npz
from svhnx.hardware import resolve_precision
from svhnx.inference.backends import in_precision
from svhnx.inference.digits import read_digits
from svhnx.inference.recognize import DEFAULT_VIEWS, recognize
from svhnx.labels import BLANK, MAX_DIGITS
from svhnx.metrics.coverage import coverage_at_accuracy
from svhnx.models.svhn import most_probable_numbers
from svhnx.ops.crop_rule import CROP_SIZE, recognizer_input
from svhnx.viz.readings import plot_readings

UNCOVERED_LIMIT = 0.3
BATCH = 256


@dataclass(frozen=True)
class RealNumbers:
    """Number crops and their truth: ``images`` uint8 ``[N, 64, 64, 3]``, ``digits`` int64 ``[N, 5]``
    (10 = blank), ``lengths`` int64 ``[N]``, ``uncovered`` float32 ``[N]`` or ``None``, ``boxes`` float32
    ``[N, 5, 4]`` (each digit's left, top, width, height; slots past a number's length unused) or ``None``."""

    images: np.ndarray
    digits: np.ndarray
    lengths: np.ndarray
    uncovered: np.ndarray | None = None
    boxes: np.ndarray | None = None


@dataclass(frozen=True)
class Readings:
    """What a recognizer read: ``digits`` ``[N, 5]``, ``lengths`` ``[N]``, ``confidence`` ``[N]``."""

    digits: np.ndarray
    lengths: np.ndarray
    confidence: np.ndarray


def load_numbers(path: str | Path) -> RealNumbers:
    """A numbers file (``images``, ``digits``, ``lengths``, optional ``uncovered`` and ``boxes``), checked."""
    arrays = read_npz(path, {"images": ("u", 4), "digits": ("iu", 2), "lengths": ("iu", 1)})
    images, digits, lengths = arrays["images"], arrays["digits"].astype(np.int64), arrays["lengths"].astype(np.int64)
    n = len(images)
    if images.dtype != np.uint8 or images.shape[1:] != (*CROP_SIZE, 3):
        raise ValueError(f"{path}: images must be uint8 N x 64 x 64 x 3, got {images.dtype} {images.shape}")
    if digits.shape != (n, MAX_DIGITS) or lengths.shape != (n,):
        raise ValueError(f"{path}: digits must be N x {MAX_DIGITS} and lengths N, for N = {n} images")
    if ((digits < 0) | (digits > BLANK)).any() or ((lengths < 1) | (lengths > MAX_DIGITS)).any():
        raise ValueError(f"{path}: digit classes must be 0-{BLANK} and lengths 1-{MAX_DIGITS}")
    filled = np.arange(MAX_DIGITS) < lengths[:, None]
    if ((digits == BLANK) == filled).any():
        raise ValueError(f"{path}: digits must be left-aligned, blank exactly past each number's length")
    uncovered = arrays.get("uncovered")
    if uncovered is not None and uncovered.shape != (n,):
        raise ValueError(f"{path}: uncovered must have one value per image")
    boxes = arrays.get("boxes")
    if boxes is not None and boxes.shape != (n, MAX_DIGITS, 4):
        raise ValueError(f"{path}: boxes must be N x {MAX_DIGITS} x 4")
    return RealNumbers(images, digits, lengths, None if uncovered is None else uncovered.astype(np.float32),
                       None if boxes is None else boxes.astype(np.float32))


def load_digits32(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """A single-digit file: ``(images uint8 [N, 32, 32, 3], labels int64 [N] in 0-9)``, checked."""
    arrays = read_npz(path, {"images": ("u", 4), "labels": ("iu", 1)})
    images, labels = arrays["images"], arrays["labels"].astype(np.int64)
    if images.dtype != np.uint8 or images.shape[1:] != (32, 32, 3) or len(labels) != len(images):
        raise ValueError(f"{path}: images must be uint8 N x 32 x 32 x 3 with one label each, got {images.shape} and {labels.shape}")
    if ((labels < 0) | (labels > 9)).any():
        raise ValueError(f"{path}: labels must be 0-9")
    return images, labels


@torch.inference_mode()
def read_numbers(
    model: nn.Module, crops: np.ndarray, *, views: int = DEFAULT_VIEWS, batch: int = BATCH, precision: str = "float32"
) -> Readings:
    """A recognizer's readings of 64 x 64 crops (their centre 54 x 54, or ``views`` views, computed
    in ``precision``: :func:`svhnx.inference.recognize.recognize`; in bfloat16, by a copy with
    bfloat16 weights, :func:`svhnx.inference.backends.in_precision`), joint decoding."""
    model = in_precision(model.eval(), resolve_precision(precision))
    parts = []
    for start in range(0, len(crops), batch):
        output = recognize(model, crops[start:start + batch], views, threads=1, precision=precision)
        parts.append([t.cpu().numpy() for t in most_probable_numbers(output)])
    if not parts:
        return Readings(np.zeros((0, MAX_DIGITS), np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32))
    digits, lengths, confidence = (np.concatenate(p) for p in zip(*parts))
    return Readings(digits, lengths, confidence)


def number_scores(readings: Readings, digits: np.ndarray, lengths: np.ndarray) -> dict[str, Any]:
    """Sequence and digit accuracy, accuracy per true length, the shares read with more and with fewer
    digits than the truth (on SVHN's crops an extra digit is far commoner than a missing one), and
    coverage at 98%, with the count."""
    correct = (readings.digits == digits).all(axis=1) & (readings.lengths == lengths)
    true_slots = np.arange(MAX_DIGITS) < lengths[:, None]
    coverage, threshold = coverage_at_accuracy(readings.confidence, correct) if len(correct) else (float("nan"), float("nan"))
    return {
        "count": int(len(correct)),
        "sequence_accuracy": _share(correct),
        "digit_accuracy": _share((readings.digits == digits)[true_slots]),
        "accuracy_by_length": {str(k): _share(correct[lengths == k]) for k in np.unique(lengths).tolist()},
        "read_longer": _share(readings.lengths > lengths),
        "read_shorter": _share(readings.lengths < lengths),
        "coverage_at_98": coverage,
        "threshold_at_98": threshold,
    }


def _share(mask: np.ndarray) -> float:
    """The share of ``True`` in a boolean array; NaN when it is empty."""
    return float(mask.mean()) if mask.size else float("nan")


def score_numbers(
    model: nn.Module, numbers: RealNumbers, *, views: int = DEFAULT_VIEWS, figure: Path | None = None, precision: str = "float32"
) -> dict[str, Any]:
    """:func:`number_scores` of :func:`read_numbers` on the whole file and on the crops less than
    30% filled in, and a figure of the mistakes at ``figure``."""
    readings = read_numbers(model, numbers.images, views=views, precision=precision)
    scores: dict[str, Any] = {"all": number_scores(readings, numbers.digits, numbers.lengths)}
    if numbers.uncovered is not None:
        keep = numbers.uncovered < UNCOVERED_LIMIT
        subset = Readings(readings.digits[keep], readings.lengths[keep], readings.confidence[keep])
        scores[f"uncovered_below_{UNCOVERED_LIMIT}"] = number_scores(subset, numbers.digits[keep], numbers.lengths[keep])
    if figure is not None:
        correct = (readings.digits == numbers.digits).all(axis=1) & (readings.lengths == numbers.lengths)
        plot_readings(recognizer_input(numbers.images, threads=1), numbers.digits, readings.digits, readings.confidence,
                      correct, figure, count=48)
    return scores


def score_digits32(model: nn.Module, images: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    """A digit classifier's accuracy on 32 x 32 digits (read by :func:`svhnx.inference.digits.read_digits`), overall and per class."""
    right = read_digits(images, reader=model).labels == labels
    return {
        "count": int(len(labels)),
        "digit_accuracy": _share(right),
        "accuracy_by_digit": {str(d): float(right[labels == d].mean()) for d in np.unique(labels).tolist()},
    }
