"""Training views of the localizer: windows, masks drawn from the digit boxes, union boxes, lengths."""

import numpy as np
import pytest

from svhnx.data.localizer_views import close_look_views, make_views, mixed_views, random_views, sample_windows, whole_views
from svhnx.metrics.segmentation import box_iou


def scene(height, width, boxes):
    """A grey photo with white digit boxes, and the boxes as float32."""
    image = np.full((height, width, 3), 60, np.uint8)
    for left, top, w, h in boxes:
        image[top : top + h, left : left + w] = 255
    return image, np.array(boxes, np.float32)


def test_masks_match_the_digit_boxes_in_a_window():
    # two digits in a 100 x 200 photo; a 64 x 64 window at (40, 20) keeps the pixel scale at 1
    image, boxes = scene(100, 200, [(50, 30, 10, 20), (62, 30, 10, 20)])
    views = make_views([image], boxes, [2], np.array([[40, 20, 64, 64]], np.float32))
    expected = np.zeros((64, 64), np.uint8)
    expected[10:30, 10:20] = 1
    expected[10:30, 22:32] = 1
    np.testing.assert_array_equal(views.masks[0], expected)
    # the mask marks exactly the white pixels of the cut image
    np.testing.assert_array_equal(views.masks[0], views.images[0, :, :, 0] == 255)
    np.testing.assert_array_equal(views.boxes[0], [10, 10, 22, 20])
    assert views.lengths[0] == 2


def test_scaled_window_scales_masks_and_boxes():
    image, boxes = scene(128, 128, [(32, 32, 32, 64)])
    views = make_views([image], boxes, [1], np.array([[0, 0, 128, 128]], np.float32))
    expected = np.zeros((64, 64), np.uint8)
    expected[16:48, 16:32] = 1
    np.testing.assert_array_equal(views.masks[0], expected)
    np.testing.assert_array_equal(views.boxes[0], [16, 16, 16, 32])


def test_digits_out_of_view_are_not_counted():
    image, boxes = scene(100, 300, [(10, 10, 20, 40), (200, 10, 20, 40), (250, 10, 20, 40)])
    views = make_views([image], boxes, [3], np.array([[0, 0, 64, 64]], np.float32))
    assert views.lengths[0] == 1
    np.testing.assert_array_equal(views.boxes[0], [10, 10, 20, 40])
    assert views.masks[0].sum() == 20 * 40


def test_random_windows_are_square_inside_the_photo_and_hold_the_number():
    rng = np.random.default_rng(0)
    n = 500
    sizes = np.stack([rng.integers(60, 400, n), rng.integers(60, 900, n)], axis=1)
    w = rng.uniform(5, 50, n)
    h = rng.uniform(5, 50, n)
    left = rng.uniform(0, sizes[:, 1] - w)
    top = rng.uniform(0, sizes[:, 0] - h)
    unions = np.stack([left, top, w, h], axis=1).astype(np.float32)
    windows = sample_windows(sizes, unions, rng)
    x, y, side, side_y = windows.T.astype(np.float64)
    np.testing.assert_array_equal(side, side_y)
    assert (x >= -1e-3).all() and (y >= -1e-3).all()
    assert (x + side <= sizes[:, 1] + 1e-3).all() and (y + side <= sizes[:, 0] + 1e-3).all()
    fits = 1.3 * np.maximum(w, h) <= sizes.min(axis=1)
    holds = (x <= left + 1e-3) & (x + side >= left + w - 1e-3) & (y <= top + 1e-3) & (y + side >= top + h - 1e-3)
    assert holds[fits].all()
    assert (side[fits] >= 1.3 * np.maximum(w, h)[fits] - 1e-3).all()
    # sizes spread from the number's size to the photo's short side
    relative = side / sizes.min(axis=1)
    assert relative.min() < 0.3 and relative.max() > 0.9


def test_random_views_are_reproducible_and_consistent():
    images, boxes, counts = [], [], []
    rng = np.random.default_rng(1)
    for _ in range(8):
        h, w = rng.integers(80, 300, 2)
        digits = [(int(rng.integers(0, w - 60)), int(rng.integers(0, h - 40)), 12, 30)]
        digits.append((digits[0][0] + 14, digits[0][1], 12, 30))
        image, b = scene(h, w, digits)
        images.append(image)
        boxes.append(b)
        counts.append(2)
    boxes = np.concatenate(boxes)
    a = random_views(images, boxes, counts, np.random.default_rng(5))
    b = random_views(images, boxes, counts, np.random.default_rng(5))
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.masks, b.masks)
    assert a.images.shape == (8, 64, 64, 3) and a.masks.shape == (8, 64, 64)
    assert (a.lengths == 2).all()
    # the union box is the bounding box of the mask, up to the pixel-centre rule
    for mask, box in zip(a.masks, a.boxes):
        rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
        mask_box = [cols[0], rows[0], cols[-1] + 1 - cols[0], rows[-1] + 1 - rows[0]]
        assert box_iou(box, mask_box) > 0.8


def test_whole_views_keep_the_aspect_and_pad_with_the_edges():
    image, boxes = scene(100, 200, [(50, 30, 10, 20), (62, 30, 10, 20)])
    views = whole_views([image], boxes, [2], np.random.default_rng(3))
    view, mask = views.images[0], views.masks[0]
    assert view.shape == (64, 64, 3) and views.lengths[0] == 2
    # the photo is 2:1, so it spans at most 64 x 32 of the view; the rest repeats its grey edge
    rows = np.flatnonzero((view[:, :, 0] == 255).any(axis=1))
    assert 0 < len(rows) <= 8
    bright = view[:, :, 0] > 150
    assert mask.sum() > 0 and (mask == bright).mean() > 0.99  # up to the blurred edges of the resize
    left, top, width, height = views.boxes[0]
    assert width / height == pytest.approx(22 / 20, rel=0.15)


def test_mixed_views_split_the_batch():
    images, boxes = zip(*(scene(80, 120, [(30, 20, 12, 30)]) for _ in range(6)))
    views = mixed_views(list(images), np.concatenate(boxes), [1] * 6, np.random.default_rng(0), whole_fraction=0.5)
    assert views.images.shape == (6, 64, 64, 3)
    areas = views.masks.reshape(6, -1).sum(1)
    assert (areas[:3] < areas[3:].min()).all()  # whole scenes show the number smaller than windows do
    with pytest.raises(ValueError, match="whole_fraction"):
        mixed_views(list(images), np.concatenate(boxes), [1] * 6, np.random.default_rng(0), whole_fraction=1.5)


def test_close_looks_enlarge_the_number_and_its_mask_alike():
    # a 16 x 16 number in a 64 x 64 view: its close look is a window of 1.1-1.6 times its side, enlarged to 64 px
    image, boxes = scene(64, 64, [(24, 20, 8, 16), (32, 20, 8, 16)])
    views = make_views([image] * 4, np.concatenate([boxes] * 4), [2] * 4, np.array([[0, 0, 64, 64]] * 4, np.float32))
    close = close_look_views(views, np.random.default_rng(0), fraction=1.0)
    for i in range(4):
        assert close.masks[i].sum() > 5 * views.masks[i].sum()
        np.testing.assert_array_equal(close.masks[i], close.images[i, :, :, 0] >= 158)  # midway from grey 60 to white
        left, top, width, height = close.boxes[i]
        assert width == pytest.approx(height, rel=0.1) and 36 < width < 60  # 16 px over a side of 17.6-25.6, whole pixels
    assert (close.lengths == views.lengths).all()
    # nothing chosen, or no number in view, or a number that fills the view: nothing changes
    empty = make_views([image], boxes, [2], np.array([[40, 40, 20, 20]], np.float32))
    large = make_views([image], boxes, [2], np.array([[22, 18, 20, 20]], np.float32))
    for unchanged, fraction in ((views, 0.0), (empty, 1.0), (large, 1.0)):
        same = close_look_views(unchanged, np.random.default_rng(0), fraction)
        np.testing.assert_array_equal(same.images, unchanged.images)
        np.testing.assert_array_equal(same.masks, unchanged.masks)
    with pytest.raises(ValueError, match="fraction"):
        close_look_views(views, np.random.default_rng(0), fraction=2.0)
