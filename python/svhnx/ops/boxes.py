"""Box operations: from the digit boxes of each image to the region a recognizer reads.

Boxes are ``float32 [left, top, width, height]`` rows in pixels of their image. Left and top may
be negative and a box may cross the image border (SVHN has such boxes); width and height may not
be negative, and every value must be finite. The arithmetic is done in float64 and rounded to
float32 once.
"""

from __future__ import annotations

import numpy as np

from svhnx import _core
from svhnx.ops._args import integer_array, size_pair, thread_count

MIN_WINDOW_SIDE = 16.0  # a square window about a box is at least this many pixels wide


def union_boxes(
    boxes: np.ndarray,
    counts: np.ndarray | None = None,
    *,
    offsets: np.ndarray | None = None,
    threads: int | None = None,
) -> np.ndarray:
    """The smallest box covering each image's digit boxes.

    The images' boxes lie one after the other in ``boxes``; give their grouping by exactly one
    of ``counts`` (boxes per image) or ``offsets`` (``N + 1`` indices, image ``i`` owning
    ``boxes[offsets[i]:offsets[i + 1]]``). Every image needs at least one box.

    Args:
        boxes: ``float32 [M, 4]`` digit boxes.
        counts: ``int [N]`` boxes per image, adding up to ``M``.
        offsets: ``int [N + 1]`` from 0 to ``M``, increasing.
        threads: worker threads; ``None`` uses every core.

    Returns:
        ``float32 [N, 4]`` union boxes.
    """
    return _core.union_boxes(
        boxes,
        None if counts is None else integer_array(counts, "counts"),
        None if offsets is None else integer_array(offsets, "offsets"),
        thread_count(threads),
    )


def expand_boxes(
    boxes: np.ndarray, image_sizes: np.ndarray, factor: float = _core.CROP_GROWTH, threads: int | None = None
) -> np.ndarray:
    """Grow each box's width and height by ``factor`` about its centre and clip it to its image.

    With ``factor=0.3`` a ``10 x 20`` box becomes ``13 x 26`` (before clipping). Each box must
    have a positive width and height and overlap its image, so the result is never empty.

    Args:
        boxes: ``float32 [N, 4]`` boxes.
        image_sizes: ``int [N, 2]`` ``(height, width)`` of the image each box belongs to.
        factor: relative growth, finite and non-negative.
        threads: worker threads; ``None`` uses every core.

    Returns:
        ``float32 [N, 4]`` expanded boxes inside ``[0, width] x [0, height]``.
    """
    return _core.expand_boxes(boxes, integer_array(image_sizes, "image_sizes"), float(factor), thread_count(threads))


def box_masks(
    boxes: np.ndarray,
    counts: np.ndarray,
    mask_size: tuple[int, int] = (64, 64),
    *,
    image_sizes: np.ndarray | None = None,
    threads: int | None = None,
) -> np.ndarray:
    """Rasterise each image's boxes into a ``uint8`` mask: 1 inside any of its boxes, else 0.

    Mask pixel ``(r, c)`` is inside a box when its centre is: ``left <= c + 0.5 < left + width``
    and ``top <= r + 0.5 < top + height``. With ``image_sizes`` the boxes are first scaled from
    their image to the mask: horizontal edges times ``mask_width / image_width``, vertical
    edges times ``mask_height / image_height``. Boxes may cross the border (clipped) and be
    empty (they mark nothing); an image may have no boxes (an all-zero mask).

    Args:
        boxes: ``float32 [M, 4]`` boxes, image after image.
        counts: ``int [N]`` boxes per image, adding up to ``M``.
        mask_size: ``(height, width)`` of the masks.
        image_sizes: ``int [N, 2]`` ``(height, width)`` of each image, or ``None`` when the boxes
            are already in mask pixels.
        threads: worker threads; ``None`` uses every core.

    Returns:
        ``uint8 [N, height, width]`` masks of 0 and 1.
    """
    height, width = size_pair(mask_size, "mask_size")
    return _core.box_masks(
        boxes,
        integer_array(counts, "counts"),
        height,
        width,
        None if image_sizes is None else integer_array(image_sizes, "image_sizes"),
        thread_count(threads),
    )


def square_windows(
    boxes: np.ndarray, height: int, width: int, context: float | np.ndarray, shift: np.ndarray | None = None
) -> np.ndarray:
    """Square windows ``float64 N x 4`` about ``boxes`` (``N x 4``), their side ``context`` (one
    factor, or one per box) times each box's larger side, at least :data:`MIN_WINDOW_SIDE` pixels;
    centred on the box, or moved from its centre by ``shift`` (``N x 2``, shares of the side); then
    moved inside the ``height`` x ``width`` image where they fit (a larger one stays where it is)."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    side = np.maximum(context * boxes[:, 2:].max(axis=1), MIN_WINDOW_SIDE)
    offset = 0.5 if shift is None else 0.5 - np.asarray(shift, dtype=np.float64)
    corner = boxes[:, :2] + boxes[:, 2:] / 2 - side[:, None] * offset
    limit = np.array([width, height], np.float64) - side[:, None]
    corner = np.where(limit >= 0, np.clip(corner, 0, np.maximum(limit, 0)), corner)
    return np.concatenate([corner, side[:, None], side[:, None]], axis=1)
