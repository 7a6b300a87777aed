"""Scores and losses of the localizer: the Dice coefficient, the Dice loss (optionally plus binary
cross-entropy) and the intersection over union of ``[left, top, width, height]`` boxes."""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F


def _per_sample(x: torch.Tensor, name: str) -> torch.Tensor:
    """``N x ...`` -> ``N x (everything else)`` as float."""
    if x.ndim < 2:
        raise ValueError(f"{name}: expected a batch N x H x W (or N x 1 x H x W), got shape {tuple(x.shape)}")
    return x.reshape(x.shape[0], -1).float()


def dice_coefficient(pred: torch.Tensor, target: torch.Tensor, *, smooth: float = 0.0) -> torch.Tensor:
    """Dice coefficient ``2 |A . B| / (|A| + |B|)`` of each sample of a batch, shape ``N``.

    ``pred`` holds probabilities or a binary mask, ``target`` the true 0/1 mask, same shape
    (``N x H x W`` or ``N x 1 x H x W``). With ``smooth = 0`` two empty masks score 1 (they agree);
    a positive ``smooth`` is added to numerator and denominator (the usual soft-Dice loss form).
    """
    if pred.shape != target.shape:
        raise ValueError(f"pred and target: shapes differ, {tuple(pred.shape)} vs {tuple(target.shape)}")
    if smooth < 0:
        raise ValueError(f"smooth: expected a non-negative value, got {smooth}")
    p, t = _per_sample(pred, "pred"), _per_sample(target, "target")
    intersection = (p * t).sum(dim=1)
    total = p.sum(dim=1) + t.sum(dim=1)
    if smooth > 0:
        return (2 * intersection + smooth) / (total + smooth)
    return torch.where(total > 0, 2 * intersection / total.clamp_min(1e-12), torch.ones_like(total))


def dice_loss(logits: torch.Tensor, target: torch.Tensor, *, bce_weight: float = 0.0, smooth: float = 1.0) -> torch.Tensor:
    """``1 - mean soft Dice`` of ``sigmoid(logits)`` against the 0/1 ``target``, plus
    ``bce_weight`` times the binary cross-entropy on the logits (numerically stable form)."""
    if bce_weight < 0:
        raise ValueError(f"bce_weight: expected a non-negative weight, got {bce_weight}")
    target = target.to(logits.dtype)
    loss = 1 - dice_coefficient(torch.sigmoid(logits), target, smooth=smooth).mean()
    if bce_weight:
        loss = loss + bce_weight * F.binary_cross_entropy_with_logits(logits, target)
    return loss


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of ``[left, top, width, height]`` boxes, broadcast over leading
    dimensions (``a[..., 4]`` against ``b[..., 4]``). Boxes with no area in common score 0, and so
    does a pair whose union is empty."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    for name, box in (("a", a), ("b", b)):
        if box.ndim == 0 or box.shape[-1] != 4:
            raise ValueError(f"{name}: expected boxes [..., 4] as [left, top, width, height], got shape {box.shape}")
        if np.any(box[..., 2:] < 0):
            raise ValueError(f"{name}: box width and height must be non-negative")
    left = np.maximum(a[..., 0], b[..., 0])
    top = np.maximum(a[..., 1], b[..., 1])
    right = np.minimum(a[..., 0] + a[..., 2], b[..., 0] + b[..., 2])
    bottom = np.minimum(a[..., 1] + a[..., 3], b[..., 1] + b[..., 3])
    intersection = np.clip(right - left, 0, None) * np.clip(bottom - top, 0, None)
    union = a[..., 2] * a[..., 3] + b[..., 2] * b[..., 3] - intersection
    return np.divide(intersection, union, out=np.zeros_like(intersection), where=union > 0)
