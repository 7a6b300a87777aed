"""The localizers' validation metrics: Dice of the mask, IoU of the box, false alarms and length accuracy."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import torch

from svhnx.data.localizer_views import PHOTO, SCENE
from svhnx.data.streams import Batch
from svhnx.metrics.base import MetricAccumulator
from svhnx.metrics.segmentation import box_iou, dice_coefficient

#: A localizer's output -> ``(predicted probabilities or 0/1 masks N x H x W, boxes float32 N x 4)``
#: (the task's decoder: :meth:`svhnx.tasks.localizer.LocalizerTask.predictions`).
Predictions = Callable[[Mapping[str, torch.Tensor]], tuple[np.ndarray, np.ndarray]]


class LocalizerMetrics(MetricAccumulator):
    """``dice`` (mean per view, of the thresholded prediction), ``box_iou`` (mean over the views
    with a number in view) and, with a length head, ``length_accuracy``; the same for each kind of
    view present (``scene_dice``, ``scene_box_iou``, ``photo_dice``, ``photo_box_iou``) and
    ``photo_false_alarms``, the share of number-free photo views where a box was predicted.

    ``update`` decodes each output with ``predictions`` and thresholds the mask at 0.5."""

    def __init__(self, predictions: Predictions) -> None:
        self.predictions = predictions
        self.dice: list[np.ndarray] = []
        self.iou: list[np.ndarray] = []
        self.kinds: list[np.ndarray] = []
        self.has_number: list[np.ndarray] = []
        self.predicted: list[np.ndarray] = []
        self.lengths_right = 0
        self.lengths_seen = 0

    def update(self, output: Mapping[str, torch.Tensor], batch: Batch) -> None:
        masks, boxes = self.predictions(output)
        self.add(torch.from_numpy(masks > 0.5).unsqueeze(1), boxes, batch)
        if "length" in output:
            self.add_lengths(output["length"], batch["lengths"])

    def add(self, predicted_masks: torch.Tensor, predicted_boxes: np.ndarray, batch: Batch) -> None:
        true_boxes = batch["boxes"].cpu().numpy()
        self.dice.append(dice_coefficient(predicted_masks.float(), batch["masks"]).cpu().numpy())
        self.iou.append(box_iou(predicted_boxes, true_boxes))
        self.kinds.append(batch["kind"].cpu().numpy() if "kind" in batch else np.full(len(true_boxes), SCENE))
        self.has_number.append(true_boxes[:, 2] > 0)
        self.predicted.append(predicted_boxes[:, 2] > 0)

    def add_lengths(self, logits: torch.Tensor, lengths: torch.Tensor) -> None:
        self.lengths_right += int((logits.argmax(dim=1) == lengths).sum())
        self.lengths_seen += len(lengths)

    def compute(self) -> dict[str, float]:
        dice, iou, kinds = np.concatenate(self.dice), np.concatenate(self.iou), np.concatenate(self.kinds)
        has_number, predicted = np.concatenate(self.has_number), np.concatenate(self.predicted)
        out = {"dice": float(dice.mean()), "box_iou": float(iou[has_number].mean()) if has_number.any() else 0.0}
        for kind, name in ((SCENE, "scene"), (PHOTO, "photo")):
            mine = kinds == kind
            if mine.any() and mine.sum() < len(kinds):
                out[f"{name}_dice"] = float(dice[mine].mean())
                out[f"{name}_box_iou"] = float(iou[mine & has_number].mean()) if (mine & has_number).any() else 0.0
        empty_photos = (kinds == PHOTO) & ~has_number
        if empty_photos.any():
            out["photo_false_alarms"] = float(predicted[empty_photos].mean())
        if self.lengths_seen:
            out["length_accuracy"] = self.lengths_right / self.lengths_seen
        return out
