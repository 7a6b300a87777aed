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


#: How far (pixels, down and right) each test-time view of a crop is from its centre: the centre
#: first, then the four diagonal shifts by 2, real pixels of the 64 x 64 crop around the centre
#: 54 x 54 (the training crops move up to 5 either way).
VIEW_SHIFTS: tuple[tuple[int, int], ...] = ((0, 0), (-2, -2), (-2, 2), (2, -2), (2, 2))


#: How many views a crop may be read with: 1 (the centre) to ``len(VIEW_SHIFTS)``.
VIEW_COUNTS = range(1, len(VIEW_SHIFTS) + 1)


def check_views(views: int) -> int:
    """``views`` if it is in :data:`VIEW_COUNTS`, else a clear ``ValueError``."""
    if views not in VIEW_COUNTS:
        raise ValueError(f"views: expected 1 to {len(VIEW_SHIFTS)}, got {views}")
    return views


def recognizer_views(crops: np.ndarray, views: int, *, threads: int | None = None) -> np.ndarray:
    """``views`` windows of :data:`INPUT_SIZE` of each 64 x 64 crop, the first ``views`` of
    :data:`VIEW_SHIFTS`: ``uint8 views x N x 54 x 54 x C`` (``views=1``: :func:`recognizer_input`)."""
    centre = recognizer_input(crops, threads=threads)
    if check_views(views) == 1:
        return centre[None]
    if crops.shape[1:3] != CROP_SIZE:
        raise ValueError(f"crops: shifted views need {CROP_SIDE} x {CROP_SIDE} crops, got {crops.shape[1]} x {crops.shape[2]}")
    margin = (CROP_SIDE - INPUT_SIDE) // 2
    out = np.empty((views, *centre.shape), dtype=centre.dtype)
    out[0] = centre
    for v, (down, right) in enumerate(VIEW_SHIFTS[1:views], start=1):
        top, left = margin + down, margin + right
        out[v] = crops[:, top : top + INPUT_SIDE, left : left + INPUT_SIDE]
    return out
