"""Large synthetic photos: determinism, boxes where the digits are, distractors never in the mask."""

import pickle

import numpy as np
import pytest

from svhnx.data.localizer_views import PHOTO_VIEWS, photo_views, photo_windows
from svhnx.ops import box_masks
from svhnx.synth.atlas import build_atlas
from svhnx.synth.glyphs import ttf_glyph_sets
from svhnx.synth.photos import PhotoGenerator

SIDES = (160, 320)  # small photos keep the tests fast; the drawing is the same at any size


@pytest.fixture(scope="module")
def generator() -> PhotoGenerator:
    atlas = build_atlas(ttf_glyph_sets(("DejaVuSans", "DejaVuSerif-Bold")))  # two faces: quick to build
    return PhotoGenerator(atlas, sides=SIDES)


def test_a_photo_depends_only_on_seed_and_index(generator: PhotoGenerator):
    batch = generator.photos(3, seed=7, first=4)
    again = generator.photo(7, 6)
    np.testing.assert_array_equal(batch[2].image, again.image)
    np.testing.assert_array_equal(batch[2].boxes, again.boxes)
    np.testing.assert_array_equal(batch[2].distractors, again.distractors)
    assert not np.array_equal(generator.photo(8, 6).image, again.image)


def test_photos_have_their_size_and_boxes_inside(generator: PhotoGenerator):
    for photo in generator.photos(12, seed=1, with_number=True):
        height, width = photo.image.shape[:2]
        assert photo.image.dtype == np.uint8 and photo.image.shape[2] == 3
        assert SIDES[0] - 1 <= max(height, width) <= SIDES[1] + 1
        assert 1 <= len(photo.boxes) <= 5 and len(photo.digits) == len(photo.boxes)
        assert photo.number == "".join(map(str, photo.digits))
        left, top, w, h = photo.boxes.T
        assert (w > 0).all() and (h > 0).all()
        assert (left >= 0).all() and (top >= 0).all() and (left + w <= width + 1e-3).all() and (top + h <= height + 1e-3).all()


def test_digit_boxes_hold_ink(generator: PhotoGenerator):
    # the digits are drawn where their boxes say: a box differs more inside than a same-size patch of plain wall
    for photo in generator.photos(6, seed=2, with_number=True):
        for left, top, w, h in photo.boxes:
            patch = photo.image[int(top) : int(np.ceil(top + h)), int(left) : int(np.ceil(left + w))].astype(np.float32)
            assert patch.std() > 12


def test_distractors_are_apart_from_the_digits(generator: PhotoGenerator):
    # words, letters beside the number and blank plaques are distractors: little of them lies in a digit box
    seen = 0
    for photo in generator.photos(16, seed=3, with_number=True):
        height, width = photo.image.shape[:2]
        digits = box_masks(photo.boxes, np.array([len(photo.boxes)]), (height, width))[0].astype(bool)
        for box in photo.distractors:
            inside = box_masks(box[None], np.array([1]), (height, width))[0].astype(bool)
            if inside.sum() and not inside.all():
                seen += 1
                assert (inside & digits).sum() <= 0.25 * inside.sum()
    assert seen > 10


def test_number_free_photos_give_empty_masks(generator: PhotoGenerator):
    photos = generator.photos(4, seed=4, with_number=False)
    assert all(p.number == "" and len(p.boxes) == 0 for p in photos)
    assert any(len(p.distractors) for p in photos)
    views = photo_views(photos, np.random.default_rng(0), rounds=2)
    assert views.images.shape == (4 * 2 * PHOTO_VIEWS, 64, 64, 3)
    assert views.masks.sum() == 0 and (views.lengths == 0).all() and (views.boxes == 0).all()


def test_photo_views_frame_the_number_and_mask_only_digits(generator: PhotoGenerator):
    photos = generator.photos(8, seed=5, with_number=True)
    views = photo_views(photos, np.random.default_rng(1))
    first, close_up = views.lengths[0::PHOTO_VIEWS], views.lengths[2::PHOTO_VIEWS]
    assert (first > 0).all() and (close_up > 0).all()  # scanning window 1 and the close-up hold the number
    for i, photo in enumerate(photos):
        window = photo_windows(photo.boxes, photo.distractors, *photo.image.shape[:2], np.random.default_rng(i))
        assert (window[:, 2] == window[:, 3]).all() and (window[:, :2] >= 0).all()
    # the mask is the digit boxes only: its pixels are within the union box of the digits in view
    for mask, (left, top, w, h) in zip(views.masks, views.boxes):
        rows, cols = np.nonzero(mask)
        if len(rows):
            assert rows.min() >= np.floor(top) and rows.max() < np.ceil(top + h) + 1
            assert cols.min() >= np.floor(left) and cols.max() < np.ceil(left + w) + 1


def test_bad_arguments_are_refused(generator: PhotoGenerator):
    with pytest.raises(ValueError, match="number_fraction"):
        PhotoGenerator(generator.atlas, number_fraction=1.5)
    with pytest.raises(ValueError, match="sides"):
        PhotoGenerator(generator.atlas, sides=(400, 300))


def test_generator_pickles(generator: PhotoGenerator):
    copy = pickle.loads(pickle.dumps(generator))
    np.testing.assert_array_equal(copy.photo(0, 1).image, generator.photo(0, 1).image)


def test_photo_grid_outlines_digits_in_green(generator: PhotoGenerator):
    from svhnx.synth.__main__ import photo_with_boxes

    photo = generator.photo(0, 2, with_number=True)
    drawn = photo_with_boxes(photo)
    left, top = (round(v) for v in photo.boxes[0][:2])
    assert tuple(drawn[top, left]) == (0, 255, 0)
    assert drawn.shape == photo.image.shape and not np.shares_memory(drawn, photo.image)
