"""box_masks against testing every pixel centre with NumPy."""

import numpy as np
import pytest

from svhnx.ops import box_masks


def masks_reference(boxes, counts, size, image_sizes=None):
    """1 where a pixel centre lies in one of the image's (scaled) boxes."""
    height, width = size
    out = np.zeros((len(counts), height, width), dtype=np.uint8)
    cx, cy = np.arange(width) + 0.5, np.arange(height) + 0.5
    starts = np.concatenate([[0], np.cumsum(counts)])
    for g in range(len(counts)):
        sx = 1.0 if image_sizes is None else width / image_sizes[g][1]
        sy = 1.0 if image_sizes is None else height / image_sizes[g][0]
        for left, top, w, h in boxes[starts[g] : starts[g + 1]].astype(np.float64):
            inside_x = (cx >= left * sx) & (cx < (left + w) * sx)
            inside_y = (cy >= top * sy) & (cy < (top + h) * sy)
            out[g] |= np.outer(inside_y, inside_x).astype(np.uint8)
    return out


def random_boxes(rng, images, mask_size):
    """0-4 boxes per image, some crossing the border, some empty, some on pixel edges and centres."""
    counts = rng.integers(0, 5, size=images)
    m = counts.sum()
    sizes = np.stack([rng.integers(20, 300, size=images), rng.integers(20, 500, size=images)], axis=1)
    height, width = sizes[np.repeat(np.arange(images), counts)].T
    boxes = np.stack([rng.uniform(-0.2, 1, m) * width, rng.uniform(-0.2, 1, m) * height,
                      rng.uniform(0, 0.5, m) * width, rng.uniform(0, 0.5, m) * height], axis=1)
    snapped = rng.random(m) < 0.3
    boxes[snapped] = np.round(boxes[snapped] * 2) / 2  # edges exactly on pixel edges and centres
    boxes[rng.random(m) < 0.05, 2] = 0
    return boxes.astype(np.float32), counts, sizes


def test_pixels_whose_centre_is_inside():
    boxes = np.array([[1, 1, 2, 2], [0.5, 3, 1, 1], [2.6, 3, 1, 1]], dtype=np.float32)
    expected = np.array([[0, 0, 0, 0], [0, 1, 1, 0], [0, 1, 1, 0], [1, 0, 0, 1]], dtype=np.uint8)
    np.testing.assert_array_equal(box_masks(boxes, [3], (4, 4))[0], expected)


def test_whole_image_box_fills_the_rescaled_mask():
    boxes = np.array([[0, 0, 200, 100], [0, 0, 100, 50]], dtype=np.float32)
    masks = box_masks(boxes, [1, 1], (64, 64), image_sizes=[[100, 200], [100, 200]])
    assert masks[0].all()
    np.testing.assert_array_equal(masks[1], np.pad(np.ones((32, 32), np.uint8), ((0, 32), (0, 32))))


def test_image_without_boxes_has_an_empty_mask():
    masks = box_masks(np.array([[1, 1, 2, 2]], dtype=np.float32), [0, 1, 0], (8, 8))
    assert not masks[0].any() and masks[1].any() and not masks[2].any()


@pytest.mark.parametrize("size", [(64, 64), (17, 40)])
def test_matches_numpy(size):
    boxes, counts, sizes = random_boxes(np.random.default_rng(size[1]), 200, size)
    np.testing.assert_array_equal(
        box_masks(boxes, counts, size, image_sizes=sizes), masks_reference(boxes, counts, size, sizes)
    )
    in_mask_pixels = boxes * 0.2
    np.testing.assert_array_equal(box_masks(in_mask_pixels, counts, size), masks_reference(in_mask_pixels, counts, size))


@pytest.mark.parametrize("threads", [1, 2, 3, 7])
def test_same_output_whatever_the_thread_count(threads):
    boxes, counts, sizes = random_boxes(np.random.default_rng(1), 101, (64, 64))
    expected = box_masks(boxes, counts, image_sizes=sizes, threads=1)
    np.testing.assert_array_equal(box_masks(boxes, counts, image_sizes=sizes, threads=threads), expected)


def test_no_images():
    assert box_masks(np.zeros((0, 4), np.float32), np.zeros(0, np.int64)).shape == (0, 64, 64)


BOXES = np.array([[1, 1, 2, 2], [0, 0, 1, 1]], dtype=np.float32)


@pytest.mark.parametrize(
    "boxes, counts, kwargs, error, match",
    [
        (BOXES.astype(np.float64), [2], {}, TypeError, "boxes: expected dtype float32"),
        (BOXES.T.copy(), [2], {}, ValueError, r"boxes: expected shape \(M, 4\)"),
        (BOXES.T, [2], {}, ValueError, "boxes: expected a C-contiguous"),
        (np.array([[1, 1, np.inf, 2]], np.float32), [1], {}, ValueError, "boxes: box 0 is not finite"),
        (np.array([[1, 1, 2, -2]], np.float32), [1], {}, ValueError, "boxes: box 0 has a negative"),
        (BOXES, [1], {}, ValueError, "counts: expected counts that add up to the number of boxes"),
        (BOXES, [3, -1], {}, ValueError, "counts: expected non-negative counts"),
        (BOXES, [1.0, 1.0], {}, TypeError, "counts: expected an integer array"),
        (BOXES, [2], {"mask_size": (0, 64)}, ValueError, "mask_size: expected a positive height and width"),
        (BOXES, [2], {"image_sizes": [[10, 10], [10, 10]]}, ValueError, r"image_sizes: expected shape \(1, 2\)"),
        (BOXES, [2], {"image_sizes": [[10, 0]]}, ValueError, "image_sizes: expected positive"),
        (BOXES, [2], {"image_sizes": [[10.0, 10.0]]}, TypeError, "image_sizes: expected an integer array"),
        (BOXES, [2], {"threads": 0}, ValueError, "threads"),
    ],
)
def test_bad_input_raises_a_clear_error(boxes, counts, kwargs, error, match):
    with pytest.raises(error, match=match):
        box_masks(boxes, counts, **kwargs)
