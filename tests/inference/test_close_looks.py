"""Close looks for the mask itself (svhnx.inference.localize.CloseLooks): a localizer whose mask
spills over a number's edges by a few of the view's pixels spills less when the number is enlarged."""

import numpy as np
import pytest
import torch
from stand_ins import BrightIsNumber, length_logits

from svhnx.inference.localize import CloseLooks
from svhnx.metrics.segmentation import dice_coefficient


class SpillsOver(torch.nn.Module):
    """A localizer that marks the bright pixels and 3 more pixels about them, in any view."""

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        bright = (images.float().mean(dim=3)[:, None] > 128).float()
        grown = torch.nn.functional.max_pool2d(bright, 7, stride=1, padding=3)
        return {"mask": (grown - 0.5) * 40, "length": length_logits(len(images), 2)}


def views_with_a_number(left: int, top: int, width: int, height: int) -> tuple[torch.Tensor, torch.Tensor]:
    """One dark 64 x 64 view with a bright ``width x height`` number, and its true mask."""
    image = np.full((1, 64, 64, 3), 20, np.uint8)
    image[0, top:top + height, left:left + width] = 230
    truth = torch.zeros(1, 1, 64, 64)
    truth[0, 0, top:top + height, left:left + width] = 1
    return torch.from_numpy(image), truth


def dice(model: torch.nn.Module, images: torch.Tensor, truth: torch.Tensor) -> float:
    return float(dice_coefficient((model(images)["mask"] > 0).float(), truth)[0])


def test_close_looks_take_most_of_a_spill_off_a_small_number():
    images, truth = views_with_a_number(20, 30, 12, 8)
    one_look = dice(SpillsOver(), images, truth)
    closer = dice(CloseLooks(SpillsOver()), images, truth)
    assert one_look < 0.6 and closer > 0.75


def test_a_number_that_fills_the_view_keeps_its_one_look():
    images, _ = views_with_a_number(4, 10, 56, 40)  # a window 1.25 times 56 would shrink the view
    np.testing.assert_array_equal(CloseLooks(SpillsOver())(images)["mask"] > 0, SpillsOver()(images)["mask"] > 0)


def test_a_view_without_a_candidate_is_left_as_it_was():
    dark = torch.full((2, 64, 64, 3), 20, dtype=torch.uint8)
    np.testing.assert_allclose(torch.sigmoid(CloseLooks(SpillsOver())(dark)["mask"]), torch.sigmoid(SpillsOver()(dark)["mask"]), atol=1e-6)


def test_the_other_heads_are_the_first_looks_and_a_batch_mixes_both_kinds():
    small, _ = views_with_a_number(20, 30, 12, 8)
    large, _ = views_with_a_number(4, 10, 56, 40)
    out = CloseLooks(SpillsOver())(torch.cat([small, large]))
    assert out["mask"].shape == (2, 1, 64, 64)
    assert out["length"].argmax(dim=1).tolist() == [2, 2]
    assert int((out["mask"][0] > 0).sum()) < int((SpillsOver()(small)["mask"] > 0).sum())


def test_bad_settings_and_a_mask_of_another_size_are_refused():
    with pytest.raises(ValueError, match="context"):
        CloseLooks(BrightIsNumber(), context=0)
    with pytest.raises(ValueError, match="passes"):
        CloseLooks(BrightIsNumber(), passes=0)

    class HalfSize(torch.nn.Module):
        def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
            return {"mask": torch.zeros(len(images), 1, 32, 32)}

    with pytest.raises(ValueError, match="size"):
        CloseLooks(HalfSize())(torch.zeros(1, 64, 64, 3, dtype=torch.uint8))
