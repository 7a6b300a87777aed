"""Real SVHN layout statistics, from ``svhn-annotations/boxes.csv.gz``, as tables for the generator.

The generator draws each scene's geometry from the real annotations: image size, number length,
where the number sits and how tall its digits are relative to the image, the gap between digits,
the slope of the number and the digits' aspect ratio. This module reads the per-digit annotation
rows once, reduces them to one *layout* row per real image, and estimates which digit appears at
each position of a number of each length.
"""

from __future__ import annotations

import csv
import gzip
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from svhnx.labels import MAX_DIGITS

ANNOTATIONS = Path("svhn-annotations") / "boxes.csv.gz"

# Columns of a layout row (float32), in the order the native generator reads them.
LAYOUT_COLUMNS = (
    "image_width",
    "image_height",
    "length",
    "center_x",  # centre of the number's union box / image width
    "center_y",  # centre of the number's union box / image height
    "height",  # mean digit box height / image height
    "gap",  # mean gap between consecutive digit boxes / digit height (0 for one digit)
    "slope",  # vertical drift of the box centres per unit of horizontal distance
    "aspect",  # median over the digits of (box width / height) / the split's median for that digit
)


@dataclass(frozen=True)
class Annotations:
    """Per-digit SVHN annotation rows (one entry per digit box), labels 0-9."""

    split: np.ndarray  # str
    image: np.ndarray  # str, the file name within its split
    image_size: np.ndarray  # int64 [N, 2]: width, height of the image
    position: np.ndarray  # int64: the digit's position in its number
    label: np.ndarray  # int64 0-9
    box: np.ndarray  # float32 [N, 4]: left, top, width, height

    def numbers(self, split: str | None = None) -> list[np.ndarray]:
        """Row indices of each image's digits (in position order), for one split or all."""
        keep = np.ones(len(self.label), bool) if split is None else self.split == split
        if not keep.any():
            raise ValueError(f"split: no annotations for {split!r}; have {sorted(set(self.split.tolist()))}")
        rows = np.flatnonzero(keep)
        key = np.char.add(np.char.add(self.split[rows], "/"), self.image[rows])
        order = np.lexsort((self.position[rows], key))
        rows, key = rows[order], key[order]
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        return np.split(rows, starts[1:])


def annotations_path(root: str | os.PathLike[str]) -> Path:
    """``root/svhn-annotations/boxes.csv.gz``, or FileNotFoundError naming it."""
    path = Path(root) / ANNOTATIONS
    if not path.is_file():
        raise FileNotFoundError(
            f"root: SVHN annotation statistics not found at {path} (point root or $SVHNX_DATA at the folder holding svhn-annotations/)"
        )
    return path


def read_annotations(path: str | os.PathLike[str]) -> Annotations:
    """Read ``boxes.csv.gz`` (``split,image,image_width,image_height,digit,label,left,top,width,height``)."""
    with gzip.open(path, "rt", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        expected = ["split", "image", "image_width", "image_height", "digit", "label", "left", "top", "width", "height"]
        if header != expected:
            raise ValueError(f"{path}: expected columns {expected}, got {header}")
        rows = list(reader)
    cols = list(zip(*rows))
    label = np.asarray(cols[5], dtype=np.int64)
    return Annotations(
        split=np.asarray(cols[0]),
        image=np.asarray(cols[1]),
        image_size=np.stack([np.asarray(cols[2], np.int64), np.asarray(cols[3], np.int64)], axis=1),
        position=np.asarray(cols[4], dtype=np.int64),
        label=np.where(label == 10, 0, label),
        box=np.stack([np.asarray(c, dtype=np.float32) for c in cols[6:10]], axis=1),
    )


@dataclass(frozen=True)
class LayoutTables:
    """What the native generator samples scenes from.

    ``layouts``: float32 ``[M, len(LAYOUT_COLUMNS)]``, one row per real image of up to five digits.
    ``digit_probs``: float64 ``[5, 5, 10]``, P(digit | number length, position).
    ``digit_aspects``: float64 ``[10]``, the median box width / height of each digit.
    """

    layouts: np.ndarray
    digit_probs: np.ndarray
    digit_aspects: np.ndarray

    def column(self, name: str) -> np.ndarray:
        """One column of :attr:`layouts` by name."""
        return self.layouts[:, LAYOUT_COLUMNS.index(name)]


def layout_tables(annotations: Annotations, split: str = "train") -> LayoutTables:
    """Reduce the annotations of ``split`` to layout rows and positional digit frequencies."""
    rows = []
    counts = np.zeros((MAX_DIGITS, MAX_DIGITS, 10), dtype=np.float64)
    numbers = annotations.numbers(split)
    every = np.concatenate(numbers)
    ratio = annotations.box[every, 2].astype(np.float64) / annotations.box[every, 3]
    digit_aspects = np.array([np.median(ratio[annotations.label[every] == d]) for d in range(10)])
    for idx in numbers:
        n = len(idx)
        if n > MAX_DIGITS:
            continue
        box = annotations.box[idx].astype(np.float64)
        label = annotations.label[idx]
        w, h = annotations.image_size[idx[0]].astype(np.float64)
        left, top = box[:, 0], box[:, 1]
        right, bottom = left + box[:, 2], top + box[:, 3]
        heights = box[:, 3]
        cx = (left.min() + right.max()) / 2
        cy = (top.min() + bottom.max()) / 2
        mean_h = heights.mean()
        gap = float(np.mean((left[1:] - right[:-1]) / ((heights[1:] + heights[:-1]) / 2))) if n > 1 else 0.0
        centers_x, centers_y = left + box[:, 2] / 2, top + heights / 2
        span = centers_x[-1] - centers_x[0]
        slope = float(np.polyfit(centers_x, centers_y, 1)[0]) if n > 1 and span > 0.25 * mean_h else 0.0
        aspect = float(np.median(box[:, 2] / heights / digit_aspects[label]))
        rows.append((w, h, n, cx / w, cy / h, mean_h / h, gap, slope, aspect))
        counts[n - 1, np.arange(n), label] += 1
    layouts = np.asarray(rows, dtype=np.float32)
    totals = counts.sum(axis=2, keepdims=True)
    # Positions no real number of that length fills get uniform digits (never drawn anyway).
    probs = np.where(totals > 0, counts / np.maximum(totals, 1), 0.1)
    return LayoutTables(layouts=layouts, digit_probs=probs, digit_aspects=digit_aspects)


def stepped_numbers(boxes: np.ndarray, lengths: np.ndarray, step: float = 0.5) -> np.ndarray:
    """Which numbers have digits that step down the image, stacked or on a diagonal: bool ``[N]``,
    true where each digit box's centre lies over ``step`` box heights below the one before.

    ``boxes``: ``[N, 5, 4]`` (left, top, width, height; slots past a number's length are ignored, zero
    or NaN), ``lengths``: ``[N]``; one-digit numbers never step.
    """
    lengths = np.asarray(lengths)
    used = np.arange(np.shape(boxes)[1]) < lengths[:, None]
    boxes = np.where(used[:, :, None], np.asarray(boxes, np.float64), 0.0)
    centres = boxes[:, :, 1] + boxes[:, :, 3] / 2
    steps = np.diff(centres, axis=1) / np.maximum(boxes[:, :, 3].max(axis=1, keepdims=True), 1e-9)
    return (lengths > 1) & np.where(used[:, 1:], steps > step, True).all(axis=1)


def load_layout_tables(root: str | os.PathLike[str], split: str = "train") -> LayoutTables:
    """Layout tables of ``split`` from ``root/svhn-annotations/boxes.csv.gz``."""
    return layout_tables(read_annotations(annotations_path(root)), split)
