"""Read single 32 x 32 digits (SVHN format 2) with the digit classifiers and the number recognizer together.

They are different nets trained on different synthetic tasks, so they miss different digits: on the
1,952 svhn-real dev digits the first shipped digit classifier reads 1,757, the recognizer (the digit shown as a
one-digit number crop) 1,733, the two averaged 1,784, 1,790 with the classifier reading five views
(:class:`ShiftedDigits`), and 1,805 with the three shipped classifiers each reading five views, averaged, in
the place of one (``python -m benchmarks real`` records the first and the last)::

    from svhnx.inference.digits import read_digits
    labels, confidence = read_digits(digits)   # uint8 N x 32 x 32 x 3 (or one 32 x 32 x 3) -> N digits, N probabilities
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import cv2
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from svhnx import pretrained
from svhnx.checkpoint import DIGIT_SIDE
from svhnx.inference.recognize import DEFAULT_VIEWS, recognize
from svhnx.models.heads import mean_log_probabilities
from svhnx.ops.crop_rule import CROP_SIDE, GROWTH

#: A digit box's width over its height: the median over the 73,257 SVHN train digit boxes
#: (``svhn-annotations``). A format-2 image is its digit's box made square, so the digit is about
#: this wide and the square's height tall, centred.
DIGIT_ASPECT = 0.484
BATCH = 256  # digits read at once by read_digits
#: The shipped digit classifiers that :func:`shipped_digit_reader` reads with (:data:`svhnx.pretrained.SHIPPED`).
SHIPPED_CLASSIFIERS = ("digits", "digits-2", "digits-3")


class DigitReadings(NamedTuple):
    """What :func:`read_digits` read: ``labels`` (int64 ``[N]``, 0-9) and ``confidence`` (float32 ``[N]``,
    the probability of each label)."""

    labels: np.ndarray
    confidence: np.ndarray


_shipped_reader: nn.Module | None = None


def check_digits(images: object) -> np.ndarray:
    """``images`` if it is ``uint8 N x 32 x 32 x 3`` (SVHN format 2), else a clear ``ValueError``."""
    if not (isinstance(images, np.ndarray) and images.dtype == np.uint8 and images.ndim == 4
            and images.shape[1:] == (DIGIT_SIDE, DIGIT_SIDE, 3)):
        got = f"{images.dtype} {images.shape}" if isinstance(images, np.ndarray) else type(images).__name__
        raise ValueError(f"images: expected uint8 N x {DIGIT_SIDE} x {DIGIT_SIDE} x 3, got {got}")
    return images


def number_crops_of_digits(images: np.ndarray) -> np.ndarray:
    """``uint8 N x 32 x 32 x 3`` format-2 digits as the 64 x 64 number crops a recognizer reads: the
    digit's box (centred, the square's height, :data:`DIGIT_ASPECT` of it wide) grown by the crop
    rule's 30%, resized bilinearly, the square's edge pixels repeated where the grown box passes it."""
    check_digits(images)
    window_w, window_h = (1 + GROWTH) * DIGIT_ASPECT * DIGIT_SIDE, (1 + GROWTH) * DIGIT_SIDE
    left, top = (DIGIT_SIDE - window_w) / 2, (DIGIT_SIDE - window_h) / 2
    sx, sy = window_w / CROP_SIDE, window_h / CROP_SIDE
    # Output pixel centre u + 0.5 maps to input pixel centre x + 0.5 = left + (u + 0.5) * sx.
    to_input = np.array([[sx, 0, left + sx / 2 - 0.5], [0, sy, top + sy / 2 - 0.5]], np.float32)
    out = np.empty((len(images), CROP_SIDE, CROP_SIDE, 3), np.uint8)
    for i, image in enumerate(images):
        out[i] = cv2.warpAffine(image, to_input, (CROP_SIDE, CROP_SIDE), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                borderMode=cv2.BORDER_REPLICATE)
    return out


class RecognizerDigits(nn.Module):
    """A number recognizer as a digit classifier: ``forward(uint8 N x 32 x 32 x 3)`` returns ``N x 10``
    log-probabilities, the first digit head's ten digit classes (renormalised) for the digit read as
    a one-digit number crop (:func:`number_crops_of_digits`), over ``views`` views."""

    def __init__(self, recognizer: nn.Module, views: int = DEFAULT_VIEWS) -> None:
        super().__init__()
        self.recognizer, self.views = recognizer, views

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        crops = number_crops_of_digits(images.cpu().numpy())
        first = recognize(self.recognizer, crops, self.views)["digits"][:, 0, :10].float()
        return first.log_softmax(dim=-1)


class ShiftedDigits(nn.Module):
    """A digit classifier read as the mean of five views: ``forward(uint8 N x 32 x 32 x 3)`` returns
    ``N x 10`` log-probabilities averaged over the digit as it is and shifted ``pixels`` left, right,
    up and down, the square's edge pixels repeated into the gap."""

    def __init__(self, classifier: nn.Module, pixels: int = 1) -> None:
        super().__init__()
        if pixels <= 0:
            raise ValueError(f"pixels: expected a positive shift, got {pixels}")
        self.classifier, self.pixels = classifier, pixels

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        p = self.pixels
        height, width = images.shape[1:3]
        padded = F.pad(images.permute(0, 3, 1, 2).float(), (p, p, p, p), mode="replicate").permute(0, 2, 3, 1).to(torch.uint8)
        shifts = [(0, 0), (0, -p), (0, p), (-p, 0), (p, 0)]  # (across, down)
        views = torch.cat([padded[:, p + dy:p + dy + height, p + dx:p + dx + width] for dx, dy in shifts])
        return mean_log_probabilities(list(self.classifier(views).chunk(len(shifts))))  # one call: five views as one batch


class DigitEnsemble(nn.Module):
    """Digit classifiers read as one: ``forward(images)`` returns the log of the members' mean class
    probabilities (``N x 10``), so argmax and softmax read it as they read one member's logits."""

    def __init__(self, members: Sequence[nn.Module]) -> None:
        super().__init__()
        if not members:
            raise ValueError("members: expected at least one digit classifier")
        self.members = nn.ModuleList(members)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return mean_log_probabilities([member(images) for member in self.members])


def digit_reader(classifiers: Sequence[nn.Module], recognizer: nn.Module, views: int = DEFAULT_VIEWS) -> DigitEnsemble:
    """Digit classifiers, each reading five views (:class:`ShiftedDigits`) and averaged as one, and a
    recognizer reading ``views`` views (:class:`RecognizerDigits`): the two halves averaged with equal
    weight, in eval mode."""
    classifier_half = DigitEnsemble([ShiftedDigits(classifier) for classifier in classifiers])
    return DigitEnsemble([classifier_half, RecognizerDigits(recognizer, views)]).eval()


def shipped_digit_reader(views: int = DEFAULT_VIEWS) -> DigitEnsemble:
    """The shipped digit classifiers (:data:`SHIPPED_CLASSIFIERS`) and the shipped recognizer as a :func:`digit_reader`."""
    return digit_reader([pretrained.load(name) for name in SHIPPED_CLASSIFIERS], pretrained.load("recognizer"), views)


@torch.inference_mode()
def read_digits(images: np.ndarray, reader: nn.Module | None = None) -> DigitReadings:
    """Read SVHN format-2 digits, ``uint8 N x 32 x 32 x 3`` RGB (one ``32 x 32 x 3`` square is read as
    a batch of one), with ``reader`` (a digit classifier's ``N x 10`` logits or log-probabilities),
    else the :func:`shipped_digit_reader` (loaded once)."""
    global _shipped_reader
    if isinstance(images, np.ndarray) and images.shape == (DIGIT_SIDE, DIGIT_SIDE, 3):
        images = images[None]
    check_digits(images)
    if reader is None:
        if _shipped_reader is None:
            _shipped_reader = shipped_digit_reader()
        reader = _shipped_reader
    reader.eval()
    probs = [reader(torch.from_numpy(np.ascontiguousarray(images[s:s + BATCH]))).float().softmax(dim=1)
             for s in range(0, len(images), BATCH)]
    confidence, labels = torch.cat(probs).max(dim=1) if probs else (torch.zeros(0), torch.zeros(0, dtype=torch.int64))
    return DigitReadings(labels.numpy().astype(np.int64), confidence.numpy().astype(np.float32))
