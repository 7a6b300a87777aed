"""crop_resize against cutting the same window out with NumPy and resizing it with OpenCV."""

import cv2
import numpy as np
import pytest

from svhnx.ops import center_crop, crop_resize, pixel_windows, random_crop


def opencv_reference(images, boxes, size):
    """Crop each image by the documented pixel rule and resize it with cv2.INTER_LINEAR."""
    sizes = [image.shape[:2] for image in images]
    out = []
    for image, (x0, y0, x1, y1) in zip(images, pixel_windows(boxes, sizes)):
        resized = cv2.resize(image[y0:y1, x0:x1], (size[1], size[0]), interpolation=cv2.INTER_LINEAR)
        out.append(resized.reshape(size[0], size[1], -1))
    return np.stack(out)


def assert_within_one_level(result, expected):
    assert result.shape == expected.shape and result.dtype == np.uint8
    assert np.abs(result.astype(np.int16) - expected).max() <= 1


def random_images(rng, count, channels, low=1, high=300):
    shape = lambda: (*rng.integers(low, high, size=2), channels)  # noqa: E731
    return [rng.integers(0, 256, size=shape(), dtype=np.uint8) for _ in range(count)]


def random_boxes(rng, images, min_size=0.2, max_size=1.3):
    """Boxes of 0.2 to 1.3 times their image's size, some crossing its border, all overlapping it."""
    out = []
    for image in images:
        h, w = image.shape[:2]
        bw, bh = rng.uniform(min_size, max_size) * w, rng.uniform(min_size, max_size) * h
        left, top = rng.uniform(-0.5 * bw, w - 0.5 * bw), rng.uniform(-0.5 * bh, h - 0.5 * bh)
        out.append([left, top, bw, bh])
    return np.array(out, dtype=np.float32)


def test_pixel_windows_cover_every_touched_pixel():
    boxes = np.array(
        [
            [2.5, 3.2, 4.0, 1.1],  # fractional: floor the start, ceil the end
            [4, 4, 1, 1],  # exactly one pixel
            [4, 4, 1e-3, 1e-3],  # a sliver still gives one pixel
            [-3, -2, 5, 5],  # crossing the top-left border
            [8.5, 9.5, 10, 10],  # crossing the bottom-right border
        ],
        dtype=np.float32,
    )
    windows = pixel_windows(boxes, [[10, 10]] * len(boxes))
    np.testing.assert_array_equal(windows, [[2, 3, 7, 5], [4, 4, 5, 5], [4, 4, 5, 5], [0, 0, 2, 3], [8, 9, 10, 10]])


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("size", [(64, 64), (32, 48), (200, 150)])
def test_matches_opencv_on_images_of_different_sizes(channels, size):
    rng = np.random.default_rng(channels * 1000 + size[0])
    images = random_images(rng, 60, channels)
    boxes = random_boxes(rng, images)
    assert_within_one_level(crop_resize(images, boxes, size), opencv_reference(images, boxes, size))


@pytest.mark.parametrize("low, high", [(1, 8), (8, 40), (150, 600)])
def test_upscaling_and_downscaling(low, high):
    rng = np.random.default_rng(low)
    images = random_images(rng, 40, 3, low, high)
    boxes = random_boxes(rng, images, 0.5, 1.0)
    assert_within_one_level(crop_resize(images, boxes), opencv_reference(images, boxes, (64, 64)))


def test_grey_images_without_a_channel_axis():
    rng = np.random.default_rng(3)
    images = [image[..., 0] for image in random_images(rng, 10, 1)]
    boxes = random_boxes(rng, images)
    result = crop_resize(images, boxes)
    assert result.shape == (10, 64, 64, 1)
    assert_within_one_level(result, opencv_reference(images, boxes, (64, 64)))


@pytest.mark.parametrize("channels", [2, 4, 5])
def test_other_channel_counts(channels):
    rng = np.random.default_rng(channels)
    images = random_images(rng, 10, channels)
    boxes = random_boxes(rng, images)
    assert_within_one_level(crop_resize(images, boxes, (20, 30)), opencv_reference(images, boxes, (20, 30)))


def test_one_pixel_box_fills_the_output_with_that_pixel():
    image = np.arange(5 * 6 * 3, dtype=np.uint8).reshape(5, 6, 3)
    result = crop_resize([image], np.array([[4, 2, 1, 1]], dtype=np.float32))
    assert (result[0] == image[2, 4]).all()


def test_box_crossing_every_border_takes_the_whole_image():
    rng = np.random.default_rng(4)
    image = rng.integers(0, 256, size=(30, 40, 3), dtype=np.uint8)
    box = np.array([[-10, -5, 60, 50]], dtype=np.float32)
    expected = cv2.resize(image, (64, 64), interpolation=cv2.INTER_LINEAR)
    assert_within_one_level(crop_resize([image], box)[0], expected)


def test_same_size_crop_is_copied_exactly():
    rng = np.random.default_rng(5)
    image = rng.integers(0, 256, size=(100, 120, 3), dtype=np.uint8)
    result = crop_resize([image], np.array([[10, 20, 64, 64]], dtype=np.float32))
    np.testing.assert_array_equal(result[0], image[20:84, 10:74])


def test_batch_array_equals_list_of_images():
    rng = np.random.default_rng(6)
    batch = rng.integers(0, 256, size=(7, 50, 80, 3), dtype=np.uint8)
    boxes = random_boxes(rng, batch)
    np.testing.assert_array_equal(crop_resize(batch, boxes), crop_resize(list(batch), boxes))
    assert_within_one_level(crop_resize(batch[:1], boxes[:1]), opencv_reference(batch[:1], boxes[:1], (64, 64)))


def test_empty_batch_array():
    result = crop_resize(np.zeros((0, 10, 10, 3), dtype=np.uint8), np.zeros((0, 4), dtype=np.float32))
    assert result.shape == (0, 64, 64, 3)


@pytest.mark.parametrize("threads", [1, 2, 3, 7])
def test_same_output_whatever_the_thread_count(threads):
    rng = np.random.default_rng(8)
    images = random_images(rng, 50, 3)
    boxes = random_boxes(rng, images)
    np.testing.assert_array_equal(crop_resize(images, boxes, threads=threads), crop_resize(images, boxes, threads=1))


@pytest.mark.parametrize("channels", [1, 3, 5])
@pytest.mark.parametrize("crop", [(54, 54), (64, 1), (1, 64), (64, 64)])
def test_a_random_part_is_exactly_random_crop_of_the_full_resize(channels, crop):
    rng = np.random.default_rng(channels + crop[0])
    images = random_images(rng, 40, channels)
    boxes = random_boxes(rng, images)
    full = crop_resize(images, boxes, (64, 64))
    part, offsets = crop_resize(images, boxes, (64, 64), crop=crop, seed=11, return_offsets=True)
    expected, expected_offsets = random_crop(full, crop, seed=11, return_offsets=True)
    np.testing.assert_array_equal(part, expected)
    np.testing.assert_array_equal(offsets, expected_offsets)


def test_without_a_seed_the_part_is_the_centre_crop():
    rng = np.random.default_rng(4)
    images = random_images(rng, 30, 3)
    boxes = random_boxes(rng, images)
    part = crop_resize(images, boxes, (64, 48), crop=(54, 40))
    np.testing.assert_array_equal(part, center_crop(crop_resize(images, boxes, (64, 48)), (54, 40)))


@pytest.mark.parametrize("threads", [1, 2, 5])
def test_random_parts_do_not_depend_on_the_thread_count(threads):
    rng = np.random.default_rng(9)
    images = random_images(rng, 33, 3)
    boxes = random_boxes(rng, images)
    run = lambda t: crop_resize(images, boxes, crop=(54, 54), seed=3, threads=t)  # noqa: E731
    np.testing.assert_array_equal(run(threads), run(1))
    assert not np.array_equal(run(1), crop_resize(images, boxes, crop=(54, 54), seed=4, threads=1))


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"crop": (65, 54)}, ValueError, "crop: a 65 x 54 crop does not fit in the resized 64 x 64"),
        ({"crop": (54, 0)}, ValueError, "crop: expected a positive height and width"),
        ({"crop": 54}, TypeError, "crop: expected a .height, width. pair"),
        ({"seed": 3}, ValueError, "seed: only used with crop"),
        ({"crop": (54, 54), "seed": -1}, ValueError, "seed: expected an integer in"),
        ({"crop": (54, 54), "seed": 1.5}, TypeError, "seed: expected an integer"),
    ],
)
def test_bad_crop_or_seed_raises_a_clear_error(kwargs, error, match):
    with pytest.raises(error, match=match):
        crop_resize([IMAGE], BOX, (64, 64), **kwargs)


IMAGE = np.zeros((20, 30, 3), dtype=np.uint8)
BOX = np.array([[2, 3, 10, 10]], dtype=np.float32)


@pytest.mark.parametrize(
    "images, boxes, size, error, match",
    [
        ([IMAGE.astype(np.float32)], BOX, (64, 64), TypeError, r"images\[0\]: expected dtype uint8"),
        (IMAGE[None].astype(np.int16), BOX, (64, 64), TypeError, "images: expected dtype uint8"),
        ([IMAGE, np.ascontiguousarray(IMAGE[..., :1])], np.repeat(BOX, 2, 0), (64, 64), ValueError, r"images\[1\]: expected 3 channel"),
        ([IMAGE[:, ::2]], BOX, (64, 64), ValueError, r"images\[0\]: expected a C-contiguous"),
        ([IMAGE[None]], BOX, (64, 64), ValueError, r"images\[0\]: expected 2 or 3 dimensions"),
        (IMAGE, BOX, (64, 64), ValueError, "images: expected 4 dimensions"),
        ([IMAGE[:0]], BOX, (64, 64), ValueError, r"images\[0\]: expected a non-zero height"),
        (np.zeros((1, 0, 5, 3), np.uint8), BOX, (64, 64), ValueError, "images: expected a non-zero height"),
        ([], np.zeros((0, 4), np.float32), (64, 64), ValueError, "images: expected at least one image"),
        ([IMAGE.tolist()], BOX, (64, 64), TypeError, r"images\[0\]: expected a uint8 numpy array, got list"),
        ("image", BOX, (64, 64), TypeError, "images: expected a uint8 N x H x W x C array"),
        (7, BOX, (64, 64), TypeError, "images: expected"),
        ([IMAGE, IMAGE], BOX, (64, 64), ValueError, r"boxes: expected one box per image \(2\), got 1"),
        ([IMAGE], BOX.astype(np.float64), (64, 64), TypeError, "boxes: expected dtype float32"),
        ([IMAGE], np.array([[2, 3, 0, 10]], np.float32), (64, 64), ValueError, "boxes: box 0 has a zero width"),
        ([IMAGE], np.array([[2, 3, -1, 10]], np.float32), (64, 64), ValueError, "boxes: box 0 has a negative"),
        ([IMAGE], np.array([[np.nan, 3, 1, 10]], np.float32), (64, 64), ValueError, "boxes: box 0 is not finite"),
        ([IMAGE], np.array([[30, 3, 5, 5]], np.float32), (64, 64), ValueError, r"box 0 .* lies outside its 20 x 30 image"),
        ([IMAGE], np.array([[-5, 3, 5, 5]], np.float32), (64, 64), ValueError, "box 0 .* lies outside"),
        ([IMAGE], BOX, (0, 64), ValueError, "size: expected a positive height and width"),
        ([IMAGE], BOX, (64,), ValueError, "size: expected a .height, width. pair"),
        ([IMAGE], BOX, (64.0, 64), TypeError, "size: expected a .height, width. pair of integers"),
    ],
)
def test_bad_input_raises_a_clear_error(images, boxes, size, error, match):
    with pytest.raises(error, match=match):
        crop_resize(images, boxes, size)


def test_bad_thread_count_raises():
    with pytest.raises(ValueError, match="threads"):
        crop_resize([IMAGE], BOX, threads=0)
