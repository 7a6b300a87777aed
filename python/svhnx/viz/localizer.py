"""The localizers' prediction figure."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from svhnx.metrics.segmentation import box_iou
from svhnx.viz.png import save_png


def plot_localizations(
    images: np.ndarray, masks: np.ndarray, boxes: np.ndarray, true_boxes: np.ndarray, path: Any, *, count: int = 32, columns: int = 8
) -> None:
    """A grid of views: predicted mask as a red tint, predicted box in red, true box in green."""
    count = min(count, len(images))
    rows = max(1, -(-count // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 1.6, rows * 1.6), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i, ax in enumerate(axes.flat[:count]):
        tinted = images[i].astype(np.float32)
        tinted[..., 0] = tinted[..., 0] * (1 - 0.5 * masks[i]) + 255 * 0.5 * masks[i]
        ax.imshow(tinted.astype(np.uint8))
        for box, colour in ((true_boxes[i], "lime"), (boxes[i], "red")):
            if box[2] > 0 and box[3] > 0:
                ax.add_patch(Rectangle((box[0] - 0.5, box[1] - 0.5), box[2], box[3], fill=False, edgecolor=colour, linewidth=1.2))
        ax.set_title(f"IoU {float(box_iou(boxes[i], true_boxes[i])):.2f}", fontsize=7)
    save_png(fig, path)
