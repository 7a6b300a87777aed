"""Training views for the localizers, 64 x 64, with the mask of the digit boxes, the union box and
the number of digits in view. Two kinds, mixed in each batch:

* windows (:func:`random_views`): a square window of the photo around its number, its side drawn
  log-uniformly between the number's size grown by 30% and the photo's short side, placed so that
  it holds the whole number when it can: the number seen up close;
* whole photos (:func:`whole_views`): the photo resized with its aspect kept to a long side of 40
  to 64 pixels, placed at random in the view and padded by repeating its edge pixels, which is how
  :func:`svhnx.inference.localize.localize` pads a photo: the number seen small, with all the photo around it.

Nothing is stretched: both keep the photo's aspect, as :func:`svhnx.inference.localize.localize` does.

Large photos of house fronts (:mod:`svhnx.synth.photos`) give a third kind, :func:`photo_views`:
scanning windows that show the photo at the scale of the localizer's first pass, and close-ups of
the number and of the other text around it, which is never in the mask.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from svhnx.data.streams import Batch, BatchStream
from svhnx.data.svhn_preprocess import load_crop_geometry
from svhnx.ops import box_masks, crop_resize, pixel_windows, union_boxes
from svhnx.ops.boxes import square_windows
from svhnx.ops.crop_rule import CROP_SIDE, GROWTH

VIEW_SIZE = CROP_SIDE  # the views are SVHN-sized crops: 64 x 64
MARGIN = 1 + GROWTH  # the smallest window is the number's larger side grown as the SVHN crop rule grows it (30%)
WHOLE_SMALLEST = 40  # long side of a whole photo in its view: 40 to 64 pixels
SCENE, PHOTO = 0, 1  # kinds of view (the ``kind`` of a batch)
CLOSE_CONTEXTS = (1.1, 1.6)  # a close look's window side over the number's larger side, drawn from this range
CLOSE_SHIFT = 0.05  # and its centre moved by up to this share of its side, each way


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


def close_look_views(views: LocalizerViews, rng: np.random.Generator, fraction: float, size: int = VIEW_SIZE) -> LocalizerViews:
    """``views`` with about ``fraction`` of those that hold a number replaced by a close look at it,
    as :class:`svhnx.inference.localize.CloseLooks` takes one: a square window about the union box,
    its side the box's larger side times a factor drawn from :data:`CLOSE_CONTEXTS` (at least 16
    pixels), moved by up to :data:`CLOSE_SHIFT` of its side, cut from the view itself and enlarged
    to ``size`` (the blur of a close look), its mask enlarged alike. A view whose window would not
    enlarge stays as it is. The draws do not depend on the views, so a stream stays a pure
    function of its seed."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction: expected a fraction in [0, 1], got {fraction}")
    n = len(views.images)
    chosen, context, shift = rng.random(n) < fraction, rng.uniform(*CLOSE_CONTEXTS, n), rng.uniform(-CLOSE_SHIFT, CLOSE_SHIFT, (n, 2))
    box = views.boxes.astype(np.float64)
    windows = square_windows(box, size, size, context, shift)
    take = np.flatnonzero(chosen & (views.lengths > 0) & (box[:, 2] > 0) & (windows[:, 2] < size))
    if not len(take):
        return views
    windows = windows[take].astype(np.float32)
    images, masks, boxes = views.images.copy(), views.masks.copy(), views.boxes.copy()
    images[take] = crop_resize(views.images[take], windows, (size, size), threads=1)
    masks[take] = crop_resize(views.masks[take, :, :, None] * 255, windows, (size, size), threads=1).reshape(-1, size, size) >= 128
    x0, y0, x1, y1 = pixel_windows(windows, np.array([size, size])).astype(np.float64).T
    scale = size / (x1 - x0)
    b = box[take]
    mapped = np.stack([(b[:, 0] - x0) * scale, (b[:, 1] - y0) * scale, b[:, 2] * scale, b[:, 3] * scale], axis=1)
    boxes[take] = visible_unions(mapped.astype(np.float32), np.ones(len(take), np.int64), size)
    return LocalizerViews(images, masks, boxes, views.lengths)


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


# -- views of large photos (svhnx.synth.photos) -----------------------------------------------
#: Long side, in pixels, of a photo at the localizer's first pass (:data:`svhnx.inference.localize.DEFAULT_SCALES`):
#: scanning windows show the photo at a scale drawn from this range.
SCAN_SIDES = (192, 384)
CLOSE_UP_REACH = 10.0  # a close-up window is at most this many times the object's larger side
PHOTO_VIEWS = 4  # windows of one round of :func:`photo_windows`


def _window_around(box: np.ndarray, side: float, height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """A square window of ``side`` inside the photo that holds ``box`` when it can, placed at random."""
    side = min(side, height, width)
    left, top, w, h = (float(v) for v in box)

    def place(start: float, extent: float, size: int) -> float:
        a, b = start, start + extent - side
        lo, hi = np.clip(min(a, b), 0, size - side), np.clip(max(a, b), 0, size - side)
        return float(rng.uniform(lo, hi))

    return np.array([place(left, w, width), place(top, h, height), side, side], np.float64)


def _close_up(box: np.ndarray, height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """A window around ``box``, its side log-uniform from the box's larger side grown by 30% to
    :data:`CLOSE_UP_REACH` times that side (at most the photo's short side)."""
    largest = min(height, width)
    smallest = min(max(MARGIN * float(max(box[2], box[3])), 8.0), largest)
    side = np.exp(rng.uniform(np.log(smallest), np.log(min(largest, max(smallest, CLOSE_UP_REACH * smallest / MARGIN)))))
    return _window_around(box, side, height, width, rng)


def photo_windows(boxes: np.ndarray, distractors: np.ndarray, height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """The :data:`PHOTO_VIEWS` square windows (``float64 4 x 4``, photo pixels) cut from one photo:

    1. a scanning window around the number (anywhere when there is none): the photo at the scale
       of the first pass, a long side drawn from :data:`SCAN_SIDES`, seen through a 64-pixel window;
    2. a scanning window anywhere;
    3. a close-up of the number (of a distractor when there is none);
    4. a close-up of a distractor (words, letters beside the number, plaques; anywhere if none).
    """
    number = union_boxes(boxes, np.array([len(boxes)]))[0] if len(boxes) else None

    def somewhere() -> np.ndarray:  # a point of the photo, as a box
        return np.array([rng.uniform(0, width), rng.uniform(0, height), 0.0, 0.0])

    def scan(target: np.ndarray) -> np.ndarray:
        return _window_around(target, VIEW_SIZE * max(height, width) / rng.uniform(*SCAN_SIDES), height, width, rng)

    def distractor() -> np.ndarray | None:
        return distractors[rng.integers(len(distractors))] if len(distractors) else None

    near, other = (number if number is not None else distractor()), distractor()
    return np.stack([
        scan(number if number is not None else somewhere()),
        scan(somewhere()),
        _close_up(near, height, width, rng) if near is not None else scan(somewhere()),
        _close_up(other, height, width, rng) if other is not None else scan(somewhere()),
    ])


def photo_views(photos: Sequence, rng: np.random.Generator, size: int = VIEW_SIZE, rounds: int = 1) -> LocalizerViews:
    """``rounds`` x :data:`PHOTO_VIEWS` views of each :class:`svhnx.synth.photos.Photo` (windows of
    :func:`photo_windows`, drawn ``rounds`` times), each window shrunk to ``size`` x ``size`` by
    pixel-area averaging (as the first pass shrinks a photo), with the number's digit boxes mapped
    along; distractors are never in the mask."""
    images, all_boxes, counts = [], [], []
    for photo in photos:
        height, width = photo.image.shape[:2]
        windows = np.concatenate([photo_windows(photo.boxes, photo.distractors, height, width, rng) for _ in range(rounds)])
        for x, y, side, _ in windows:
            x0, y0 = int(np.floor(x)), int(np.floor(y))
            span = max(1, min(int(round(side)), width - x0, height - y0))
            crop = photo.image[y0 : y0 + span, x0 : x0 + span]
            images.append(cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA))
            scale = size / span
            b = photo.boxes.astype(np.float64)
            all_boxes.append(np.stack([(b[:, 0] - x0) * scale, (b[:, 1] - y0) * scale, b[:, 2] * scale, b[:, 3] * scale], axis=1))
            counts.append(len(b))
    counts_array = np.array(counts, dtype=np.int64)
    mapped = np.concatenate(all_boxes).astype(np.float32).reshape(-1, 4)
    masks = box_masks(mapped, counts_array, (size, size))
    owner = np.repeat(np.arange(len(counts)), counts_array)
    cx, cy = mapped[:, 0] + mapped[:, 2] / 2, mapped[:, 1] + mapped[:, 3] / 2
    in_view = (cx >= 0) & (cx < size) & (cy >= 0) & (cy < size)
    lengths = np.bincount(owner, weights=in_view, minlength=len(counts)).astype(np.int64)
    return LocalizerViews(np.stack(images), masks, visible_unions(mapped, counts_array, size), lengths)


def views_to_batch(views: LocalizerViews, kinds: np.ndarray | None = None) -> Batch:
    """The tensors the tasks train on: ``images`` uint8, ``masks`` float ``N x 1 x 64 x 64``,
    ``boxes`` float ``N x 4`` in view pixels, ``lengths`` int64 and ``kind`` int64 (:data:`SCENE`
    or :data:`PHOTO`; all scenes unless ``kinds`` says otherwise)."""
    return {
        "images": torch.from_numpy(views.images),
        "masks": torch.from_numpy(views.masks).unsqueeze(1).float(),
        "boxes": torch.from_numpy(views.boxes),
        "lengths": torch.from_numpy(views.lengths),
        "kind": torch.from_numpy(np.zeros(len(views.images), np.int64) if kinds is None else kinds),
    }


def concat_views(parts: list[LocalizerViews]) -> LocalizerViews:
    """The views of ``parts`` one after the other."""
    return LocalizerViews(*(np.concatenate(x) for x in zip(*((p.images, p.masks, p.boxes, p.lengths) for p in parts))))


def read_svhn_views(path: str | os.PathLike[str], rows: np.ndarray) -> LocalizerViews:
    """The 64 x 64 crops of a preprocessed SVHN file (rows ``rows``), with masks and boxes of their
    digits mapped into the crops by the rule :func:`svhnx.ops.crop_resize` cut them with."""
    crops = load_crop_geometry(path, rows)
    boxes, kept_counts = crops.digit_boxes.astype(np.float64), crops.digit_counts
    x0, y0, x1, y1 = pixel_windows(crops.crop_boxes, crops.image_sizes).astype(np.float64).T
    owner = np.repeat(np.arange(len(kept_counts)), kept_counts)
    sx, sy = VIEW_SIZE / (x1 - x0), VIEW_SIZE / (y1 - y0)
    mapped = np.stack(
        [(boxes[:, 0] - x0[owner]) * sx[owner], (boxes[:, 1] - y0[owner]) * sy[owner], boxes[:, 2] * sx[owner], boxes[:, 3] * sy[owner]],
        axis=1,
    ).astype(np.float32)
    masks = box_masks(mapped, kept_counts, (VIEW_SIZE, VIEW_SIZE))
    lengths = np.minimum(kept_counts, 6).astype(np.int64)
    return LocalizerViews(crops.images, masks, visible_unions(mapped, kept_counts, VIEW_SIZE), lengths)


class SvhnViewStream(BatchStream):
    """Training batches of preprocessed SVHN views (:func:`read_svhn_views`): batch ``index`` takes
    rows drawn by ``(seed, rank, index)``, with replacement when there are fewer views than a batch."""

    def __init__(self, views: LocalizerViews, batch_size: int, *, seed: int, start: int = 0, rank: int | None = None) -> None:
        super().__init__(batch_size, seed=seed, start=start, rank=rank)
        if len(views.images) == 0:
            raise ValueError("views: no training views")
        self.views = views

    def batch(self, index: int) -> Batch:
        n = len(self.views.images)
        rows = np.random.default_rng([self.seed, self.rank, index]).choice(n, size=self.batch_size, replace=n < self.batch_size)
        return views_to_batch(LocalizerViews(*(np.ascontiguousarray(a[rows]) for a in
                                               (self.views.images, self.views.masks, self.views.boxes, self.views.lengths))))
