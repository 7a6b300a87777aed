"""Number crops as SVHN's format-2 squares rebuild them: the look of ``svhn-real``'s crops.

SVHN's 32 x 32 digits (format 2) are each digit's box made square about its centre and resized
to 32 x 32. A number crop rebuilt from them, as ``svhn-real/test-numbers-*.npz`` is, shows
(a) the digits at that resolution, about two thirds of a 64 x 64 crop's, and (b) outside the
squares, no real pixels: each is copied from the nearest pixel a square covers, which shows as
streaks in the margins above and below the digits. :func:`rebuild_from_squares` makes a synthetic
crop look so; :class:`svhnx.synth.dataset.SynthCropStream` applies it to a share of its crops, and
:mod:`svhnx.synth.digits` cuts its single digits with :func:`square_boxes`.
"""

from __future__ import annotations

import cv2
import numpy as np

SQUARE_SIZE = 32


def square_boxes(boxes: np.ndarray) -> np.ndarray:
    """``[left, top, width, height]`` boxes made square about their centres (side = the larger side)."""
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    side = boxes[:, 2:].max(axis=1)
    centre = boxes[:, :2] + boxes[:, 2:] / 2
    return np.column_stack([centre - side[:, None] / 2, side, side]).astype(np.float32)


def covered_mask(shape: tuple[int, int], boxes: np.ndarray) -> np.ndarray:
    """``bool H x W``: the pixels inside the squares made about ``boxes`` (``[left, top, width, height]``)."""
    mask = np.zeros(shape, dtype=bool)
    for left, top, side, _ in square_boxes(boxes):
        x0, y0 = max(0, int(round(left))), max(0, int(round(top)))
        x1, y1 = min(shape[1], int(round(left + side))), min(shape[0], int(round(top + side)))
        mask[y0:y1, x0:x1] = True
    return mask


def fill_from_nearest(image: np.ndarray, covered: np.ndarray) -> np.ndarray:
    """``image`` with each pixel outside ``covered`` replaced by the nearest covered pixel (Euclidean)."""
    if covered.all() or not covered.any():
        return image
    _, labels = cv2.distanceTransformWithLabels((~covered).astype(np.uint8), cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL)
    rows, cols = np.nonzero(covered)  # raster order: the order of the labels of the zero pixels
    nearest = labels - 1
    return image[rows[nearest], cols[nearest]]


def rebuild_from_squares(image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """One ``H x W x 3`` crop as if rebuilt from its digits' 32 x 32 squares (see the module docstring).

    ``boxes``: the digits' boxes in crop pixels (``[k, 4]``, k >= 1).
    """
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    if len(boxes) == 0 or not np.isfinite(boxes).all():
        return image
    height, width = image.shape[:2]
    side = float(boxes[:, 2:].max())
    factor = min(1.0, SQUARE_SIZE / max(side, 1.0))
    if factor < 1.0:
        small = cv2.resize(image, (max(1, round(width * factor)), max(1, round(height * factor))), interpolation=cv2.INTER_AREA)
        image = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
    return fill_from_nearest(image, covered_mask((height, width), boxes))
