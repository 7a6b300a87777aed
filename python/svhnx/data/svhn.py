"""The Street View House Numbers dataset, format 1: full images with per-digit boxes.

A split folder (``train/``, ``test/``, ``extra/``) holds ``1.png``, ``2.png``, ... and the
``digitStruct.mat`` that annotates them (:mod:`svhnx.data.svhn_digit_struct`).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from svhnx.data.svhn_digit_struct import DigitStructEntry, DigitStructError, read_digit_struct, write_digit_struct
from svhnx.image_file import load_image as read_image  # alias for one release: use svhnx.image_file.load_image

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
