"""The localizers' metrics decode outputs with the decoder they are given (the task wires it)."""

import numpy as np
import pytest
import torch

from svhnx.data.localizer_views import PHOTO, SCENE
from svhnx.metrics.localization import LocalizerMetrics
from svhnx.tasks.localizer import BoxMetrics, boxreg_predictions


def batch() -> dict[str, torch.Tensor]:
    """Two 8 x 8 views: a scene with a 4 x 4 number at (2, 2) and a number-free photo."""
    masks = torch.zeros(2, 1, 8, 8)
    masks[0, 0, 2:6, 2:6] = 1
    boxes = torch.tensor([[2.0, 2.0, 4.0, 4.0], [0.0, 0.0, 0.0, 0.0]])
    return {"masks": masks, "boxes": boxes, "lengths": torch.tensor([2, 0]), "kind": torch.tensor([SCENE, PHOTO])}


def test_the_given_decoder_turns_outputs_into_masks_and_boxes():
    truth = batch()

    def decode(output):
        return output["p"], truth["boxes"].numpy().copy()

    metrics = LocalizerMetrics(decode)
    probability = truth["masks"][:, 0].numpy() * 0.9  # above the 0.5 threshold exactly where the truth is
    metrics.update({"p": probability, "length": torch.tensor([[0, 0, 9.0], [9.0, 0, 0]])}, truth)
    out = metrics.compute()
    assert out["dice"] == 1.0 and out["box_iou"] == 1.0 and out["length_accuracy"] == 1.0
    assert out["photo_false_alarms"] == 0.0


def test_the_box_metrics_alias_is_localizer_metrics_with_the_box_decoder():
    truth = batch()
    output = {"box": torch.tensor([[2.0, 2.0, 4.0, 4.0], [1.0, 1.0, 2.0, 2.0]]) / 64}
    alias, direct = BoxMetrics(), LocalizerMetrics(boxreg_predictions)
    for metrics in (alias, direct):
        metrics.update(output, {**truth, "masks": torch.nn.functional.pad(truth["masks"], (0, 56, 0, 56))})
    assert alias.compute() == direct.compute()
    assert direct.compute()["photo_false_alarms"] == pytest.approx(1.0)
    assert np.isclose(direct.compute()["box_iou"], 1.0)
