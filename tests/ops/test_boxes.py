"""union_boxes and expand_boxes against plain NumPy, one image at a time."""

import numpy as np
import pytest

from svhnx.ops import expand_boxes, union_boxes


def union_reference(boxes, counts):
    """The union box of each group, computed in float64 and rounded once."""
    out = []
    for group in np.split(boxes.astype(np.float64), np.cumsum(counts)[:-1]):
        left, top = group[:, 0].min(), group[:, 1].min()
        right, bottom = (group[:, 0] + group[:, 2]).max(), (group[:, 1] + group[:, 3]).max()
        out.append([left, top, right - left, bottom - top])
    return np.array(out, dtype=np.float64).reshape(-1, 4).astype(np.float32)


def expand_reference(boxes, image_sizes, factor):
    """Grow about the centre, then clip to [0, width] x [0, height]."""
    left, top, width, height = boxes.astype(np.float64).T
    cx, cy = left + 0.5 * width, top + 0.5 * height
    half_w, half_h = 0.5 * (1 + factor) * width, 0.5 * (1 + factor) * height
    x0, y0 = np.maximum(cx - half_w, 0), np.maximum(cy - half_h, 0)
    x1, y1 = np.minimum(cx + half_w, image_sizes[:, 1]), np.minimum(cy + half_h, image_sizes[:, 0])
    return np.stack([x0, y0, x1 - x0, y1 - y0], axis=1).astype(np.float32)


def random_digit_boxes(rng, images):
    """SVHN-like digit boxes: 1-5 per image, some crossing the image border; returns boxes, counts, sizes."""
    counts = rng.integers(1, 6, size=images)
    sizes = np.stack([rng.integers(30, 300, size=images), rng.integers(50, 500, size=images)], axis=1)
    image_of_box = np.repeat(np.arange(images), counts)
    height, width = sizes[image_of_box].T
    boxes = np.stack(
        [
            rng.uniform(-5, width - 5),
            rng.uniform(-5, height - 5),
            rng.uniform(1, 0.4 * width),
            rng.uniform(1, 0.9 * height),
        ],
        axis=1,
    ).astype(np.float32)
    return boxes, counts, sizes


@pytest.fixture
def digits():
    return random_digit_boxes(np.random.default_rng(7), 300)


def test_union_of_two_boxes():
    boxes = np.array([[10, 20, 5, 5], [12, 18, 10, 4]], dtype=np.float32)
    np.testing.assert_array_equal(union_boxes(boxes, [2]), [[10, 18, 12, 7]])


def test_union_of_one_box_is_the_box(digits):
    boxes = digits[0]
    np.testing.assert_array_equal(union_boxes(boxes, np.ones(len(boxes), dtype=np.int32)), boxes)


def test_union_matches_numpy(digits):
    boxes, counts, _ = digits
    expected = union_reference(boxes, counts)
    np.testing.assert_array_equal(union_boxes(boxes, counts), expected)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    np.testing.assert_array_equal(union_boxes(boxes, offsets=offsets), expected)


def test_union_of_no_images():
    assert union_boxes(np.zeros((0, 4), dtype=np.float32), np.zeros(0, dtype=np.int64)).shape == (0, 4)


def test_expand_grows_about_the_centre():
    boxes = np.array([[40, 30, 10, 20]], dtype=np.float32)
    np.testing.assert_allclose(expand_boxes(boxes, [[100, 100]]), [[38.5, 27, 13, 26]])
    np.testing.assert_allclose(expand_boxes(boxes, [[100, 100]], factor=1.0), [[35, 20, 20, 40]])
    np.testing.assert_array_equal(expand_boxes(boxes, [[100, 100]], factor=0.0), boxes)


def test_expand_clips_to_the_image():
    boxes = np.array([[-3, 2, 10, 10], [95, 90, 10, 20]], dtype=np.float32)
    np.testing.assert_allclose(expand_boxes(boxes, [[50, 60], [100, 100]], factor=0.4), [[0, 0, 9, 14], [93, 86, 7, 14]])


def test_expand_matches_numpy(digits):
    boxes, counts, sizes = digits
    unions = union_boxes(boxes, counts)
    for factor in (0.0, 0.3, 2.5):
        result = expand_boxes(unions, sizes, factor)
        np.testing.assert_allclose(result, expand_reference(unions, sizes, factor), rtol=1e-6, atol=1e-5)
        right, bottom = result[:, 0] + result[:, 2], result[:, 1] + result[:, 3]
        assert (result[:, :2] >= 0).all() and (result[:, 2:] > 0).all()
        assert (right <= sizes[:, 1] + 1e-4).all() and (bottom <= sizes[:, 0] + 1e-4).all()


@pytest.mark.parametrize("threads", [1, 2, 3, 7])
def test_same_output_whatever_the_thread_count(digits, threads):
    boxes, counts, sizes = digits
    unions = union_boxes(boxes, counts, threads=1)
    np.testing.assert_array_equal(union_boxes(boxes, counts, threads=threads), unions)
    np.testing.assert_array_equal(expand_boxes(unions, sizes, threads=threads), expand_boxes(unions, sizes, threads=1))


BOXES = np.array([[1, 2, 3, 4], [5, 6, 7, 8], [0, 0, 1, 1]], dtype=np.float32)


def with_box(values):
    boxes = BOXES.copy()
    boxes[1] = values
    return boxes


@pytest.mark.parametrize(
    "boxes, error, match",
    [
        (BOXES.astype(np.float64), TypeError, "boxes: expected dtype float32"),
        (np.ascontiguousarray(BOXES[:, :3]), ValueError, r"boxes: expected shape \(M, 4\)"),
        (BOXES[0], ValueError, "boxes: expected 2 dimensions"),
        (np.asfortranarray(BOXES), ValueError, "boxes: expected a C-contiguous"),
        (with_box([np.nan, 0, 1, 1]), ValueError, "boxes: box 1 is not finite"),
        (with_box([0, np.inf, 1, 1]), ValueError, "boxes: box 1 is not finite"),
        (with_box([0, 0, -1, 1]), ValueError, "boxes: box 1 has a negative width or height"),
        (with_box([0, 0, 1, -0.5]), ValueError, "boxes: box 1 has a negative width or height"),
    ],
)
def test_bad_boxes_raise(boxes, error, match):
    with pytest.raises(error, match=match):
        union_boxes(boxes, [1, 2])
    with pytest.raises(error, match=match):
        expand_boxes(boxes, np.full((3, 2), 100) if boxes.ndim == 2 else [[100, 100]])


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"counts": [1, 1]}, ValueError, "counts: expected counts that add up to the number of boxes"),
        ({"counts": [2, 2]}, ValueError, "counts: expected counts that add up"),
        ({"counts": [3, 0]}, ValueError, "counts: expected positive counts"),
        ({"counts": [4, -1]}, ValueError, "counts: expected positive counts"),
        ({"counts": [1.0, 2.0]}, TypeError, "counts: expected an integer array"),
        ({"counts": [[1, 2]]}, ValueError, "counts: expected 1 dimensions"),
        ({"offsets": [0, 1, 3]}, None, None),
        ({"offsets": [1, 3]}, ValueError, "offsets: expected N \\+ 1 offsets from 0"),
        ({"offsets": [0, 2]}, ValueError, "offsets: expected N \\+ 1 offsets from 0"),
        ({"offsets": [0, 2, 2, 3]}, ValueError, "offsets: expected increasing offsets"),
        ({"offsets": [0, 4, 1, 3]}, ValueError, "offsets: expected increasing offsets"),
        ({"offsets": np.zeros(0, dtype=int)}, ValueError, "offsets: expected N \\+ 1 offsets"),
        ({}, ValueError, "exactly one"),
        ({"counts": [1, 2], "offsets": [0, 1, 3]}, ValueError, "exactly one"),
        ({"counts": [3], "threads": 0}, ValueError, "threads"),
    ],
)
def test_bad_grouping_raises(kwargs, error, match):
    if error is None:
        assert union_boxes(BOXES, **kwargs).shape == (2, 4)
        return
    with pytest.raises(error, match=match):
        union_boxes(BOXES, **kwargs)


@pytest.mark.parametrize(
    "boxes, sizes, factor, error, match",
    [
        (with_box([5, 6, 0, 8]), [[100, 100]] * 3, 0.3, ValueError, "boxes: box 1 has a zero width or height"),
        (with_box([100, 6, 7, 8]), [[100, 100]] * 3, 0.3, ValueError, r"boxes: box 1 .* lies outside its 100 x 100 image"),
        (with_box([-7, 6, 7, 8]), [[100, 100]] * 3, 0.3, ValueError, "box 1 .* lies outside"),
        (with_box([5, -8, 7, 8]), [[100, 100]] * 3, 0.3, ValueError, "box 1 .* lies outside"),
        (BOXES, [[100, 100]] * 2, 0.3, ValueError, r"image_sizes: expected shape \(3, 2\)"),
        (BOXES, [100, 100, 100], 0.3, ValueError, "image_sizes: expected 2 dimensions"),
        (BOXES, [[100, 100], [0, 100], [100, 100]], 0.3, ValueError, "image_sizes: expected positive"),
        (BOXES, np.full((3, 2), 100.0), 0.3, TypeError, "image_sizes: expected an integer array"),
        (BOXES, [[100, 100]] * 3, -0.1, ValueError, "factor: expected a finite, non-negative"),
        (BOXES, [[100, 100]] * 3, np.nan, ValueError, "factor: expected a finite, non-negative"),
    ],
)
def test_bad_expand_arguments_raise(boxes, sizes, factor, error, match):
    with pytest.raises(error, match=match):
        expand_boxes(boxes, sizes, factor)
