"""Recognizer batches from SVHN crops: random 54 x 54 windows, epoch shuffles, exact resume,
worker-independence, light augmentation, centre crops for evaluation."""

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from svhnx.data.svhn_dataset import LightAugment, SvhnTrainStream, evaluation_batches
from svhnx.data.svhn_preprocess import SvhnCrops


@pytest.fixture(scope="module")
def crops() -> SvhnCrops:
    rng = np.random.default_rng(0)
    n = 10
    digits = np.full((n, 5), 10, dtype=np.int64)
    digits[:, 0] = np.arange(n) % 10
    return SvhnCrops(rng.integers(0, 256, (n, 64, 64, 3), dtype=np.uint8), digits, np.ones(n, np.int64), [f"{i}.png" for i in range(n)])


def window_of(crop: np.ndarray, image: np.ndarray) -> tuple[int, int] | None:
    """The (top, left) where ``crop`` sits in ``image``, if it does."""
    for top in range(image.shape[0] - crop.shape[0] + 1):
        for left in range(image.shape[1] - crop.shape[1] + 1):
            if np.array_equal(image[top : top + crop.shape[0], left : left + crop.shape[1]], crop):
                return top, left
    return None


def test_batches_are_random_windows_of_their_images(crops):
    stream = SvhnTrainStream(crops, 4, seed=3)
    offsets = set()
    for index in range(5):
        batch = stream.batch(index)
        assert batch["images"].shape == (4, 54, 54, 3) and batch["images"].dtype == torch.uint8
        for image, digit in zip(batch["images"].numpy(), batch["digits"][:, 0].tolist()):
            source = crops.images[digit]  # digit i labels image i
            offset = window_of(image, source)
            assert offset is not None
            offsets.add(offset)
    assert len(offsets) > 5


def test_every_epoch_visits_every_image_once(crops):
    stream = SvhnTrainStream(crops, 5, seed=1)
    first = np.concatenate([stream.indices(i) for i in range(2)])
    second = np.concatenate([stream.indices(i) for i in range(2, 4)])
    assert sorted(first.tolist()) == sorted(second.tolist()) == list(range(10))
    assert first.tolist() != second.tolist()
    straddling = SvhnTrainStream(crops, 4, seed=1)  # batch 2 takes 2 images of epoch 0 and 2 of epoch 1
    assert sorted(np.concatenate([straddling.indices(i) for i in range(3)])[:10].tolist()) == list(range(10))


def test_the_stream_resumes_exactly_and_ignores_workers(crops):
    stream = SvhnTrainStream(crops, 3, seed=5)
    expected = [stream.batch(i) for i in range(2, 6)]
    resumed = iter(SvhnTrainStream(crops, 3, seed=5, start=2))
    loader = iter(DataLoader(SvhnTrainStream(crops, 3, seed=5, start=2), batch_size=None, num_workers=2))
    for want in expected:
        for got in (next(resumed), next(loader)):
            assert all(torch.equal(got[k], want[k]) for k in want)
    other = SvhnTrainStream(crops, 3, seed=6).batch(2)
    assert not torch.equal(other["images"], expected[0]["images"])


def test_light_augmentation(crops):
    plain = SvhnTrainStream(crops, 4, seed=2).batch(0)["images"]
    jittered = SvhnTrainStream(crops, 4, seed=2, augment=LightAugment()).batch(0)["images"]
    again = SvhnTrainStream(crops, 4, seed=2, augment=LightAugment()).batch(0)["images"]
    assert jittered.dtype == torch.uint8 and jittered.shape == plain.shape
    assert torch.equal(jittered, again) and not torch.equal(jittered, plain)
    assert (jittered.float() - plain.float()).abs().mean() < 40


def test_evaluation_uses_the_centre_crop(crops):
    batches = list(evaluation_batches(crops, 4))
    assert [len(b["images"]) for b in batches] == [4, 4, 2]
    assert np.array_equal(batches[0]["images"][1].numpy(), crops.images[1][5:59, 5:59])
    assert torch.equal(batches[2]["digits"], torch.from_numpy(crops.digits[8:]))


def test_bad_arguments(crops):
    with pytest.raises(ValueError, match="batch_size"):
        SvhnTrainStream(crops, 0, seed=0)
    with pytest.raises(ValueError, match="start"):
        SvhnTrainStream(crops, 2, seed=0, start=-1)
    with pytest.raises(ValueError, match="batch_size"):
        next(evaluation_batches(crops, 0))
