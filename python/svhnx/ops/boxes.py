"""Box operations: from the digit boxes of each image to the region a recognizer reads.

Boxes are ``float32 [left, top, width, height]`` rows in pixels of their image. Left and top may
be negative and a box may cross the image border (SVHN has such boxes); width and height may not
be negative, and every value must be finite. The arithmetic is done in float64 and rounded to
float32 once.
"""

from __future__ import annotations

import numpy as np

from svhnx import _core
from svhnx.ops._args import integer_array, thread_count


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
    boxes: np.ndarray, image_sizes: np.ndarray, factor: float = 0.3, threads: int | None = None
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
