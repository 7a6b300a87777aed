"""Training views for the localizers, 64 x 64, with the mask of the digit boxes, the union box and
the number of digits in view. Two kinds, mixed in each batch:

* windows (:func:`random_views`): a square window of the photo around its number, its side drawn
  log-uniformly between the number's size grown by 30% and the photo's short side, placed so that
  it holds the whole number when it can: the number seen up close;
* whole photos (:func:`whole_views`): the photo resized with its aspect kept to a long side of 40
  to 64 pixels, placed at random in the view and padded by repeating its edge pixels, which is how
  :func:`svhnx.localize.localize` pads a photo: the number seen small, with all the photo around it.

Nothing is stretched: both keep the photo's aspect, as :func:`svhnx.localize.localize` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from svhnx.ops import box_masks, crop_resize, pixel_windows, union_boxes

VIEW_SIZE = 64
MARGIN = 1.3  # the smallest window is the number's larger side grown by 30%
WHOLE_SMALLEST = 40  # long side of a whole photo in its view: 40 to 64 pixels


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


def whole_views(
    images: Sequence[np.ndarray], boxes: np.ndarray, counts: np.ndarray, rng: np.random.Generator, size: int = VIEW_SIZE
) -> LocalizerViews:
    """Each photo whole, resized (aspect kept, long side drawn from 40 to ``size``), placed at a
    random offset in a ``size`` x ``size`` view and padded by edge replication; its digit ``boxes``
    (``counts[i]`` per photo) mapped along."""
    counts = np.asarray(counts, dtype=np.int64)
    views = np.empty((len(images), size, size, 3), dtype=np.uint8)
    placement = np.empty((len(images), 4), dtype=np.float64)  # x scale, y scale, left, top
    for i, image in enumerate(images):
        height, width = image.shape[:2]
        scale = rng.uniform(min(WHOLE_SMALLEST, size), size) / max(height, width)
        h, w = max(1, round(height * scale)), max(1, round(width * scale))
        top, left = int(rng.integers(0, size - h + 1)), int(rng.integers(0, size - w + 1))
        resized = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA).reshape(h, w, -1)
        views[i] = cv2.copyMakeBorder(resized, top, size - h - top, left, size - w - left, cv2.BORDER_REPLICATE).reshape(size, size, -1)
        placement[i] = (w / width, h / height, left, top)
    sx, sy, dx, dy = placement[np.repeat(np.arange(len(images)), counts)].T
    b = boxes.astype(np.float64)
    mapped = np.stack([b[:, 0] * sx + dx, b[:, 1] * sy + dy, b[:, 2] * sx, b[:, 3] * sy], axis=1).astype(np.float32)
    masks = box_masks(mapped, counts, (size, size))
    cx, cy = mapped[:, 0] + mapped[:, 2] / 2, mapped[:, 1] + mapped[:, 3] / 2
    in_view = (cx >= 0) & (cx < size) & (cy >= 0) & (cy < size)
    lengths = np.bincount(np.repeat(np.arange(len(images)), counts), weights=in_view, minlength=len(images)).astype(np.int64)
    return LocalizerViews(views, masks, visible_unions(mapped, counts, size), lengths)


def mixed_views(
    images: Sequence[np.ndarray],
    boxes: np.ndarray,
    counts: np.ndarray,
    rng: np.random.Generator,
    whole_fraction: float = 0.5,
    size: int = VIEW_SIZE,
) -> LocalizerViews:
    """The first ``round(whole_fraction * N)`` photos as :func:`whole_views`, the rest as
    :func:`random_views` (the photos come in random order, so the split is random too)."""
    if not 0.0 <= whole_fraction <= 1.0:
        raise ValueError(f"whole_fraction: expected a fraction in [0, 1], got {whole_fraction}")
    counts = np.asarray(counts, dtype=np.int64)
    k = int(round(whole_fraction * len(images)))
    split = int(counts[:k].sum())
    parts = []
    if k:
        parts.append(whole_views(images[:k], boxes[:split], counts[:k], rng, size))
    if k < len(images):
        parts.append(random_views(images[k:], boxes[split:], counts[k:], rng, size))
    return LocalizerViews(*(np.concatenate(x) for x in zip(*((p.images, p.masks, p.boxes, p.lengths) for p in parts))))


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
