"""The Street View House Numbers dataset, format 1: full images with per-digit boxes.

A split folder (``train/``, ``test/``, ``extra/``) holds ``1.png``, ``2.png``, ... and the
``digitStruct.mat`` that annotates them (:mod:`svhnx.data.svhn_digit_struct`).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import cv2
import numpy as np

from svhnx.data.svhn_digit_struct import DigitStructEntry, DigitStructError, read_digit_struct, write_digit_struct

SPLITS = ("train", "test", "extra")
ANNOTATIONS = "digitStruct.mat"

__all__ = [
    "ANNOTATIONS",
    "SPLITS",
    "DigitStructEntry",
    "DigitStructError",
    "MissingImageWarning",
    "read_digit_struct",
    "read_image",
    "split_entries",
    "write_digit_struct",
]


class MissingImageWarning(UserWarning):
    """Some entries of a ``digitStruct.mat`` have no image file; they were skipped."""


def split_entries(split_dir: str | os.PathLike[str], *, strict: bool = False) -> list[DigitStructEntry]:
    """The annotated entries of a split folder whose image file exists, in file order.

    Entries whose image is missing are skipped with a :class:`MissingImageWarning` naming them, or,
    with ``strict=True``, raise ``FileNotFoundError``.
    """
    split_dir = Path(split_dir)
    entries = read_digit_struct(split_dir / ANNOTATIONS)
    missing = [e.name for e in entries if not (split_dir / e.name).is_file()]
    if missing:
        listed = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
        message = f"{len(missing)} of {len(entries)} images listed in {split_dir / ANNOTATIONS} are missing ({listed})"
        if strict:
            raise FileNotFoundError(message)
        warnings.warn(f"{message}; skipping them", MissingImageWarning, stacklevel=2)
        absent = set(missing)
        entries = [e for e in entries if e.name not in absent]
    return entries


def read_image(path: str | os.PathLike[str]) -> np.ndarray:
    """An image file as ``uint8 H x W x 3`` RGB; ``FileNotFoundError``/``ValueError`` if missing or undecodable."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"image not found: {path}")
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"{path}: not a decodable image")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
