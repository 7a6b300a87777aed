"""Figures of sample predictions (matplotlib, Agg backend)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from svhnx.labels import BLANK_CHAR, format_label
from svhnx.viz.png import save_png


def mistakes_first(truths: np.ndarray, preds: np.ndarray, count: int) -> np.ndarray:
    """Indices of up to ``count`` samples: the misread ones first, then correct ones, each in order."""
    wrong = (truths != preds).any(axis=1)
    return np.concatenate([np.flatnonzero(wrong), np.flatnonzero(~wrong)])[:count]


def plot_sequence_predictions(
    images: np.ndarray, truths: np.ndarray, preds: np.ndarray, path: str | Path, *, count: int = 24, columns: int = 3
) -> np.ndarray:
    """A PNG grid of ``images`` (``uint8 N x H x W x C``) with truth and prediction, mistakes first
    (titled in red), under a title giving the mistakes, the accuracy and the label legend.
    Returns the indices shown."""
    if not len(images) == len(truths) == len(preds):
        raise ValueError(f"images, truths and preds must have the same length, got {len(images)}, {len(truths)}, {len(preds)}")
    shown = mistakes_first(np.asarray(truths), np.asarray(preds), count)
    rows = max(1, -(-len(shown) // columns))
    height, width = images.shape[1:3]
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 3.2 * width / (5 * height), rows * 1.1), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, shown):
        image = images[i]
        ax.imshow(image[..., 0] if image.shape[-1] == 1 else image, cmap="gray", vmin=0, vmax=255)
        wrong = bool((truths[i] != preds[i]).any())
        ax.set_title(f"truth {format_label(truths[i])}  pred {format_label(preds[i])}", fontsize=8,
                     color="red" if wrong else "black", family="monospace")
    fig.suptitle(grid_title(np.asarray(truths), np.asarray(preds)), fontsize=9)
    save_png(fig, path)
    return shown


def grid_title(truths: np.ndarray, preds: np.ndarray) -> str:
    """``misread 156 of 10,000 (sequence accuracy 98.44%), mistakes first in red`` and the legend."""
    wrong = int((truths != preds).any(axis=1).sum())
    total = len(truths)
    accuracy = 100 * (1 - wrong / total) if total else float("nan")
    return (f"misread {wrong:,} of {total:,} (sequence accuracy {accuracy:.2f}%), mistakes first in red\n"
            f"one character per slot, {BLANK_CHAR!r} = empty slot")
