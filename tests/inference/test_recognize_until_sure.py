"""The reader reads a crop's shifted views only when its centre view is unsure."""

import numpy as np
import pytest
import torch
from torch import nn

from svhnx.inference.predict import build_parser
from svhnx.inference.reader import Reader
from svhnx.inference.recognize import ALL_UNSURE, recognize, recognize_until_sure
from svhnx.models.svhn import most_probable_numbers
from tests.inference.stand_ins import BrightIsNumber, Reads


class SureWhereBright(nn.Module):
    """Reads ``1`` in every window, as sure as the window's top-left pixel is bright: a shifted
    window of the same crop is more or less sure than its centre."""

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        certainty = images[:, 0, 0, 0].float() / 30
        digits = torch.zeros(len(images), 5, 11)
        digits[:, 0, 1] = certainty
        digits[:, 1:, 10] = 20.0
        length = torch.zeros(len(images), 7)
        length[:, 1] = certainty
        return {"digits": digits, "length": length}


def crops_with_brightness(values: list[int]) -> np.ndarray:
    """64 x 64 crops brightening to the right and down, from ``values`` at the centre window's corner."""
    ramp = np.add.outer(np.arange(64), np.arange(64)).astype(np.int64)
    return np.stack([np.clip(v + 4 * (ramp - 10), 0, 255) for v in values]).astype(np.uint8)[..., None].repeat(3, axis=3)


def confidences(output) -> np.ndarray:
    return most_probable_numbers(output)[2].numpy()


def test_only_unsure_crops_are_read_in_all_their_views():
    model, crops = SureWhereBright(), crops_with_brightness([0, 120, 250])
    one, five = recognize(model, crops, 1), recognize(model, crops, 5)
    centre = confidences(one)
    assert centre[0] < 0.3 and 0.3 <= centre[1] <= 0.99 and centre[2] > 0.99
    mixed = recognize_until_sure(model, crops, 5, (0.3, 0.99))
    for head in ("digits", "length"):
        torch.testing.assert_close(mixed[head][[0, 2]], one[head][[0, 2]])  # sure: the centre view stands
        torch.testing.assert_close(mixed[head][1], five[head][1])  # unsure: all five views, as recognize reads them


def test_the_default_band_reads_every_view():
    model, crops = SureWhereBright(), crops_with_brightness([0, 120, 250])
    assert ALL_UNSURE == (0.0, 1.0)
    for head, value in recognize_until_sure(model, crops, 5).items():
        torch.testing.assert_close(value, recognize(model, crops, 5)[head])


@pytest.mark.parametrize("band", [(0.5, 0.2), (-0.1, 0.5), (0.2, 1.5), (0.3,), (0.1, 0.2, 0.3)])
def test_a_band_that_is_not_one_is_refused(band):
    crops = crops_with_brightness([60])
    with pytest.raises(ValueError, match="unsure"):
        recognize_until_sure(SureWhereBright(), crops, 5, band)
    with pytest.raises(ValueError, match="unsure"):
        Reader(BrightIsNumber(), Reads("1"), unsure=band)


def test_predict_passes_the_band_to_the_reader():
    assert build_parser().parse_args(["x.png"]).unsure == (0.3, 0.99)  # the reader's default, rule sure1
    assert build_parser().parse_args(["x.png", "--unsure", "0,1"]).unsure == ALL_UNSURE
    assert build_parser().parse_args(["x.png", "--unsure", "0.3,0.99"]).unsure == (0.3, 0.99)
    for bad in ("0.9,0.1", "0.3", "a,b", "0,2"):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["x.png", "--unsure", bad])


class LearnedReads(Reads):
    """:class:`Reads` with a weight, so that its outputs require grad as a trained recognizer's do."""

    def __init__(self, number: str) -> None:
        super().__init__(number)
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        return {head: value * self.scale for head, value in super().forward(images).items()}


def test_crops_are_read_outside_inference_mode():
    numbers, lengths, confidence = Reader(BrightIsNumber(), LearnedReads("42")).read_crops(crops_with_brightness([60, 200]))
    assert numbers == ["42", "42"] and lengths.tolist() == [2, 2] and (confidence > 0.99).all()
