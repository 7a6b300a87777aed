"""random_crop and center_crop against NumPy slicing."""

import numpy as np
import pytest

from svhnx.ops import center_crop, random_crop


@pytest.fixture
def batch():
    return np.random.default_rng(0).integers(0, 256, size=(200, 64, 64, 3), dtype=np.uint8)


def test_random_crop_is_the_slice_at_its_offset(batch):
    crops, offsets = random_crop(batch, seed=1, return_offsets=True)
    assert crops.shape == (200, 54, 54, 3) and offsets.shape == (200, 2)
    for image, crop, (top, left) in zip(batch, crops, offsets):
        np.testing.assert_array_equal(crop, image[top : top + 54, left : left + 54])
    np.testing.assert_array_equal(random_crop(batch, seed=1), crops)


def test_random_offsets_cover_every_position_uniformly():
    images = np.zeros((5500, 16, 20, 1), dtype=np.uint8)
    _, offsets = random_crop(images, (6, 10), seed=2, return_offsets=True)
    tops, lefts = np.bincount(offsets[:, 0], minlength=11), np.bincount(offsets[:, 1], minlength=11)
    assert len(tops) == 11 and len(lefts) == 11, "offsets stay where the crop fits"
    np.testing.assert_allclose(tops / 5500, 1 / 11, atol=0.012)
    np.testing.assert_allclose(lefts / 5500, 1 / 11, atol=0.012)


@pytest.mark.parametrize("threads", [1, 2, 3, 7])
def test_same_seed_same_crops_whatever_the_thread_count(batch, threads):
    expected = random_crop(batch, seed=42, threads=1)
    np.testing.assert_array_equal(random_crop(batch, seed=42, threads=threads), expected)
    np.testing.assert_array_equal(center_crop(batch, threads=threads), center_crop(batch, threads=1))


def test_each_image_has_its_own_stream(batch):
    """An image's offset depends on the seed and its index, not on the rest of the batch."""
    _, whole = random_crop(batch, seed=5, return_offsets=True)
    _, head = random_crop(batch[:10], seed=5, return_offsets=True)
    np.testing.assert_array_equal(whole[:10], head)
    _, other = random_crop(batch, seed=6, return_offsets=True)
    assert not np.array_equal(whole, other)


def test_crop_of_the_full_size_is_the_image(batch):
    crops, offsets = random_crop(batch[:3], (64, 64), seed=0, return_offsets=True)
    np.testing.assert_array_equal(crops, batch[:3])
    assert not offsets.any()
    np.testing.assert_array_equal(center_crop(batch[:3], (64, 64)), batch[:3])


@pytest.mark.parametrize("size, top, left", [((54, 54), 5, 5), ((53, 60), 5, 2), ((1, 1), 31, 31)])
def test_center_crop(batch, size, top, left):
    np.testing.assert_array_equal(center_crop(batch, size), batch[:, top : top + size[0], left : left + size[1]])


@pytest.mark.parametrize("width", [1, 7, 8, 15, 16, 17, 32, 33, 63, 64, 65, 70])
def test_every_crop_width(width):
    """Rows of every length class (the native copy inlines rows of 8-64 bytes)."""
    images = np.random.default_rng(width).integers(0, 256, size=(9, 12, 70, 1), dtype=np.uint8)
    crops, offsets = random_crop(images, (5, width), seed=width, return_offsets=True)
    for image, crop, (top, left) in zip(images, crops, offsets):
        np.testing.assert_array_equal(crop, image[top : top + 5, left : left + width])


def test_one_channel_batch_of_one():
    image = np.arange(64 * 64, dtype=np.uint8).reshape(1, 64, 64, 1)
    crops, (offset,) = random_crop(image, seed=3, return_offsets=True)
    assert crops.shape == (1, 54, 54, 1)
    np.testing.assert_array_equal(crops[0], image[0, offset[0] : offset[0] + 54, offset[1] : offset[1] + 54])
    np.testing.assert_array_equal(center_crop(image)[0], image[0, 5:59, 5:59])


def test_empty_batch():
    empty = np.zeros((0, 64, 64, 3), dtype=np.uint8)
    assert random_crop(empty, seed=0).shape == (0, 54, 54, 3)
    assert center_crop(empty).shape == (0, 54, 54, 3)


@pytest.mark.parametrize(
    "images, size, error, match",
    [
        (np.zeros((2, 64, 64, 3), np.float32), (54, 54), TypeError, "images: expected dtype uint8"),
        (np.zeros((64, 64, 3), np.uint8), (54, 54), ValueError, "images: expected 4 dimensions"),
        (np.zeros((2, 64, 128, 3), np.uint8)[:, :, ::2], (54, 54), ValueError, "images: expected a C-contiguous"),
        (np.zeros((2, 64, 64, 0), np.uint8), (54, 54), ValueError, "images: expected at least one channel"),
        (np.zeros((2, 50, 64, 3), np.uint8), (54, 54), ValueError, "size: a 54 x 54 crop does not fit in images of 50 x 64"),
        (np.zeros((2, 64, 64, 3), np.uint8), (54, 65), ValueError, "size: a 54 x 65 crop does not fit"),
        (np.zeros((2, 64, 64, 3), np.uint8), (0, 54), ValueError, "size: expected a positive height and width"),
    ],
)
def test_bad_input_raises_a_clear_error(images, size, error, match):
    with pytest.raises(error, match=match):
        random_crop(images, size, seed=0)
    with pytest.raises(error, match=match):
        center_crop(images, size)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [({"seed": -1}, ValueError, "seed"), ({"seed": 0.5}, TypeError, "seed"), ({"seed": 0, "threads": 0}, ValueError, "threads")],
)
def test_bad_arguments_raise(batch, kwargs, error, match):
    with pytest.raises(error, match=match):
        random_crop(batch, **kwargs)
