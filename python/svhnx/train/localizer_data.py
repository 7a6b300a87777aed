"""Training views for the localizers: square windows of a photo around its number, resized to
64 x 64, with the mask of the digit boxes, the union box and the number of digits in view.

A window's side is drawn log-uniformly between the number's size grown by 30% and the photo's
short side, and placed so that it holds the whole number when it can, so the localizer sees
numbers from "fills the view" to "small in a large photo". Windows stay inside the photo and are
square, so nothing is stretched: the same geometry as a photo resized with its aspect kept, which
is how :func:`svhnx.localize.localize` looks at photos.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from svhnx.ops import box_masks, crop_resize, pixel_windows, union_boxes

VIEW_SIZE = 64
MARGIN = 1.3  # the smallest window is the number's larger side grown by 30%


@dataclass(frozen=True)
class LocalizerViews:
    """A batch of training views.

    ``images``: ``uint8 N x 64 x 64 x 3``; ``masks``: ``uint8 N x 64 x 64`` (1 inside a digit box);
    ``boxes``: ``float32 N x 4``, the union box of the digits in view, clipped to the view, in view
    pixels (all zero when no digit is in view); ``lengths``: ``int64 N``, the digits whose box
    centre is in view.
    """

    images: np.ndarray
    masks: np.ndarray
    boxes: np.ndarray
    lengths: np.ndarray


def sample_windows(
    image_sizes: np.ndarray, unions: np.ndarray, rng: np.random.Generator, margin: float = MARGIN
) -> np.ndarray:
    """Square windows ``float32 N x 4`` inside each photo (``image_sizes`` ``N x 2`` as ``(height,
    width)``), around each number's union box (``N x 4``); see the module docstring."""
    height = image_sizes[:, 0].astype(np.float64)
    width = image_sizes[:, 1].astype(np.float64)
    left, top, box_w, box_h = unions.astype(np.float64).T
    largest = np.minimum(height, width)
    smallest = np.clip(margin * np.maximum(box_w, box_h), 1.0, largest)
    side = np.exp(rng.uniform(np.log(smallest), np.log(largest)))

    def place(start: np.ndarray, extent: np.ndarray, size: np.ndarray) -> np.ndarray:
        # hold [start, start + extent] when side >= extent, else stay within it; always inside [0, size]
        a, b = start, start + extent - side
        lo = np.clip(np.minimum(a, b), 0, size - side)
        hi = np.clip(np.maximum(a, b), 0, size - side)
        return rng.uniform(lo, hi)

    x = place(left, box_w, width)
    y = place(top, box_h, height)
    return np.stack([x, y, side, side], axis=1).astype(np.float32)


def make_views(
    images: Sequence[np.ndarray],
    boxes: np.ndarray,
    counts: np.ndarray,
    windows: np.ndarray,
    size: int = VIEW_SIZE,
) -> LocalizerViews:
    """Cut ``windows`` (``N x 4``, one per image) out of ``images`` (``H x W x 3`` each), resize them
    to ``size`` x ``size`` and carry the digit ``boxes`` (``M x 4``, ``counts[i]`` per image) along."""
    counts = np.asarray(counts, dtype=np.int64)
    sizes = np.array([image.shape[:2] for image in images], dtype=np.int64)
    crops = crop_resize(list(images), windows, (size, size))
    # the pixels crop_resize actually cut: map digit boxes with the same rule
    x0, y0, x1, y1 = pixel_windows(windows, sizes).astype(np.float64).T
    owner = np.repeat(np.arange(len(images)), counts)
    sx, sy = size / (x1 - x0), size / (y1 - y0)
    b = boxes.astype(np.float64)
    mapped = np.stack(
        [(b[:, 0] - x0[owner]) * sx[owner], (b[:, 1] - y0[owner]) * sy[owner], b[:, 2] * sx[owner], b[:, 3] * sy[owner]],
        axis=1,
    ).astype(np.float32)
    masks = box_masks(mapped, counts, (size, size))
    # digits in view: box centre inside the view
    cx, cy = mapped[:, 0] + mapped[:, 2] / 2, mapped[:, 1] + mapped[:, 3] / 2
    in_view = (cx >= 0) & (cx < size) & (cy >= 0) & (cy < size)
    lengths = np.bincount(owner, weights=in_view, minlength=len(images)).astype(np.int64)
    return LocalizerViews(crops, masks, visible_unions(mapped, counts, size), lengths)


def visible_unions(boxes: np.ndarray, counts: np.ndarray, size: int) -> np.ndarray:
    """Union box of each image's boxes after clipping them to the ``size`` x ``size`` view; boxes
    entirely outside are ignored, and an image with none gets an all-zero box."""
    left = np.clip(boxes[:, 0], 0, size)
    top = np.clip(boxes[:, 1], 0, size)
    right = np.clip(boxes[:, 0] + boxes[:, 2], 0, size)
    bottom = np.clip(boxes[:, 1] + boxes[:, 3], 0, size)
    clipped = np.stack([left, top, right - left, bottom - top], axis=1).astype(np.float32)
    visible = (clipped[:, 2] > 0) & (clipped[:, 3] > 0)
    owner = np.repeat(np.arange(len(counts)), counts)
    out = np.zeros((len(counts), 4), dtype=np.float32)
    kept_counts = np.bincount(owner[visible], minlength=len(counts))
    has = kept_counts > 0
    if has.any():
        out[has] = union_boxes(clipped[visible], kept_counts[has])
    return out


def random_views(
    images: Sequence[np.ndarray], boxes: np.ndarray, counts: np.ndarray, rng: np.random.Generator, size: int = VIEW_SIZE
) -> LocalizerViews:
    """:func:`make_views` of windows drawn by :func:`sample_windows`."""
    counts = np.asarray(counts, dtype=np.int64)
    sizes = np.array([image.shape[:2] for image in images], dtype=np.int64)
    windows = sample_windows(sizes, union_boxes(boxes, counts), rng)
    return make_views(images, boxes, counts, windows, size)
