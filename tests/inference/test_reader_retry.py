"""The reader's retry: a second first pass at finer scales, only on photos the first reads no number in."""

import numpy as np
import pytest
import torch

from svhnx.inference.reader import Reader
from tests.inference.stand_ins import BrightIsNumber, Reads


class CountingLocalizer(BrightIsNumber):
    """:class:`BrightIsNumber` that records the long side of every first-pass input (close looks are 64 x 64)."""

    def __init__(self) -> None:
        super().__init__(length=3)
        self.sides: list[int] = []

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        self.sides.append(max(images.shape[1:3]))
        return super().forward(images)


def small_number_photo(side: int = 1000) -> np.ndarray:
    """A dark photo with a bright patch too small to survive a 64 px look, found at 512."""
    photo = np.zeros((side, side, 3), np.uint8)
    photo[500:516, 400:430] = 255
    return photo


def test_retry_finds_a_number_the_first_pass_misses():
    photo = small_number_photo()
    plain = Reader(BrightIsNumber(length=3), Reads("210"), scales=(64,), retry_scales=())
    assert plain.read(photo).rejected == "no-candidate"
    assert plain.read_at(photo, (512,)).number == "210"  # the same look, asked for directly
    reading = Reader(BrightIsNumber(length=3), Reads("210"), scales=(64,), retry_scales=(512,)).read(photo)
    assert reading.number == "210"
    assert np.allclose(reading.box, (400, 500, 30, 16), atol=2)  # the patch, found at 512 px


def test_no_retry_when_the_first_pass_reads_a_number():
    photo = np.zeros((1000, 1000, 3), np.uint8)
    photo[400:600, 300:700] = 255  # large: found at 64 px
    localizer = CountingLocalizer()
    assert Reader(localizer, Reads("210"), scales=(64,), retry_scales=(512,)).read(photo).number == "210"
    assert 512 not in localizer.sides


def test_no_retry_at_scales_longer_than_the_photo():
    localizer = CountingLocalizer()
    reading = Reader(localizer, Reads("210"), scales=(64,), retry_scales=(512,)).read(small_number_photo(side=400))
    assert 512 not in localizer.sides and max(localizer.sides) == 64
    assert reading.number is None


def test_a_retry_that_reads_nothing_keeps_the_first_rejection():
    photo = np.zeros((1000, 1000, 3), np.uint8)
    photo[400:600, 300:700] = 255
    unsure = Reads("210", certainty=0.5)  # every reading below the confidence threshold
    localizer = CountingLocalizer()
    first = Reader(localizer, unsure, scales=(64,), retry_scales=()).read(photo)
    retried = Reader(localizer, unsure, scales=(64,), retry_scales=(512,)).read(photo)
    assert first.rejected == "low-confidence" and retried == first
    assert 512 in localizer.sides  # the retry was made, and read no number either


def test_retry_scales_are_checked():
    with pytest.raises(ValueError, match="scales"):
        Reader(BrightIsNumber(), Reads("210"), retry_scales=(8,))
    assert Reader(BrightIsNumber(), Reads("210"), retry_scales=(512, 384, 512)).retry_scales == (384, 512)
