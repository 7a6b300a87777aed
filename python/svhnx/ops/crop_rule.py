"""The SVHN crop rule, its one home: a number's box (the union of its digit boxes) is grown by
:data:`GROWTH` (30%) about its centre and clipped to the image, cropped and resized to
:data:`CROP_SIZE` (64 x 64), and the recognizer reads the centre :data:`INPUT_SIZE` (54 x 54),
or a random 54 x 54 window in training.

The numbers are the native extension's (``svhnx._core.CROP_GROWTH``, ``CROP_SIZE``, ``INPUT_SIZE``,
defined in ``csrc/include/svhnx/crop_rule.hpp``), which the scene renderer's crops and the defaults of the ops use too.
"""

from __future__ import annotations

import numpy as np

from svhnx import _core
from svhnx.ops.boxes import expand_boxes
from svhnx.ops.images import center_crop, crop_resize

GROWTH: float = _core.CROP_GROWTH
CROP_SIDE: int = _core.CROP_SIZE
INPUT_SIDE: int = _core.INPUT_SIZE
CROP_SIZE = (CROP_SIDE, CROP_SIDE)
INPUT_SIZE = (INPUT_SIDE, INPUT_SIDE)


def grown_boxes(boxes: np.ndarray, image_sizes: np.ndarray, *, threads: int | None = None) -> np.ndarray:
    """Number boxes (``float32 N x 4``) grown by :data:`GROWTH` about their centres and clipped to
    their images (``image_sizes``: ``int N x 2`` heights and widths)."""
    return expand_boxes(boxes, image_sizes, GROWTH, threads=threads)


def number_crops(images: list[np.ndarray] | np.ndarray, boxes: np.ndarray, *, threads: int | None = None) -> np.ndarray:
    """The ``uint8 N x 64 x 64 x C`` crops of number ``boxes`` (one per image) by the rule."""
    sizes = np.array([image.shape[:2] for image in images], dtype=np.int64).reshape(-1, 2)
    return crop_resize(images, grown_boxes(boxes, sizes, threads=threads), CROP_SIZE, threads=threads)


def recognizer_input(crops: np.ndarray, *, threads: int | None = None) -> np.ndarray:
    """The centre :data:`INPUT_SIZE` of 64 x 64 crops: what the recognizer reads."""
    return center_crop(crops, INPUT_SIZE, threads=threads)
