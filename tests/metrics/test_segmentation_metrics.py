"""Dice coefficient, Dice loss and box IoU against cases worked out by hand."""

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from svhnx.metrics.segmentation import box_iou, dice_coefficient, dice_loss


def masks(*rows: str) -> torch.Tensor:
    """A 1 x H x W mask drawn with '#' for ones."""
    return torch.tensor([[[c == "#" for c in row] for row in rows]], dtype=torch.float32)


def test_dice_of_overlapping_masks():
    a = masks("##..",
              "##..",
              "....")
    b = masks(".##.",
              ".##.",
              ".##.")
    # |A| = 4, |B| = 6, they share the 2 pixels of column 1: Dice = 2 * 2 / (4 + 6)
    assert dice_coefficient(a, a).item() == 1.0
    assert dice_coefficient(a, b).item() == pytest.approx(0.4)
    assert dice_coefficient(b, a).item() == pytest.approx(0.4)


def test_dice_is_per_sample_and_handles_empty_masks():
    empty = torch.zeros(1, 3, 3)
    full = torch.ones(1, 3, 3)
    pred = torch.cat([empty, full, empty])
    target = torch.cat([empty, full, full])
    np.testing.assert_allclose(dice_coefficient(pred, target).numpy(), [1.0, 1.0, 0.0])


def test_soft_dice_with_probabilities_and_smoothing():
    pred = torch.tensor([[0.5, 0.5, 0.0, 0.0]])
    target = torch.tensor([[1.0, 0.0, 0.0, 0.0]])
    # 2 * 0.5 / (1.0 + 1.0) = 0.5; smoothed: (1 + 1) / (2 + 1)
    assert dice_coefficient(pred, target).item() == pytest.approx(0.5)
    assert dice_coefficient(pred, target, smooth=1.0).item() == pytest.approx(2 / 3)


def test_dice_loss_with_and_without_bce():
    logits = torch.tensor([[[[4.0, -4.0], [0.0, -4.0]]]])
    target = torch.tensor([[[[1.0, 0.0], [1.0, 0.0]]]])
    p = torch.sigmoid(logits)
    soft = (2 * (p * target).sum() + 1) / (p.sum() + target.sum() + 1)
    assert dice_loss(logits, target).item() == pytest.approx(1 - soft.item(), rel=1e-6)
    bce = F.binary_cross_entropy(p, target)
    assert dice_loss(logits, target, bce_weight=0.5).item() == pytest.approx(1 - soft.item() + 0.5 * bce.item(), rel=1e-5)


def test_dice_loss_gradient_pushes_towards_the_target():
    logits = torch.zeros(1, 1, 4, 4, requires_grad=True)
    target = torch.zeros(1, 1, 4, 4)
    target[..., :2, :] = 1
    dice_loss(logits, target, bce_weight=1.0).backward()
    assert (logits.grad[..., :2, :] < 0).all() and (logits.grad[..., 2:, :] > 0).all()


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="shapes differ"):
        dice_coefficient(torch.zeros(1, 4, 4), torch.zeros(1, 4, 5))


def test_box_iou_by_hand():
    a = np.array([0, 0, 4, 2], dtype=np.float32)          # area 8
    b = np.array([2, 1, 4, 2], dtype=np.float32)          # area 8, overlap 2 x 1
    assert box_iou(a, a) == pytest.approx(1.0)
    assert box_iou(a, b) == pytest.approx(2 / (8 + 8 - 2))
    assert box_iou(a, [10, 10, 2, 2]) == 0.0              # disjoint
    assert box_iou(a, [4, 0, 2, 2]) == 0.0                # touching edges
    assert box_iou(a, [1, 0, 2, 2]) == pytest.approx(4 / 8)  # inside


def test_box_iou_broadcasts_and_rejects_bad_boxes():
    a = np.array([[0, 0, 2, 2], [0, 0, 1, 1]], dtype=np.float32)
    np.testing.assert_allclose(box_iou(a, [0, 0, 2, 2]), [1.0, 0.25])
    assert box_iou([0, 0, 0, 0], [0, 0, 0, 0]) == 0.0
    with pytest.raises(ValueError, match="left, top, width, height"):
        box_iou([0, 0, 2], [0, 0, 2, 2])
    with pytest.raises(ValueError, match="non-negative"):
        box_iou([0, 0, -1, 2], [0, 0, 2, 2])
