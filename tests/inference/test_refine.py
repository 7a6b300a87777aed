"""The close look at candidates (svhnx.inference.localize.refine): tighter boxes, dropped false candidates."""

import numpy as np
import pytest
import torch
from stand_ins import BrightIsNumber

from svhnx.inference.localize import REFINE_CONTEXT, Candidate, clip_box, refine, square_windows, window_views


def photo() -> np.ndarray:
    image = np.full((400, 600, 3), 30, np.uint8)
    image[200:230, 300:360] = 230  # the number: 60 x 30 at (300, 200)
    return image


def test_square_windows_are_centred_and_kept_inside():
    windows = square_windows(np.array([[300, 200, 60, 30], [0, 0, 10, 40], [0, 0, 500, 300]]), 400, 600, REFINE_CONTEXT)
    np.testing.assert_allclose(windows[0], [270, 155, 120, 120])
    np.testing.assert_allclose(windows[1], [0, 0, 80, 80])  # moved inside
    assert windows[2][2] == 1000 and windows[2][0] < 0  # larger than the photo: centred, padded


def test_window_views_copy_pixels_at_scale_one_and_pad_outside():
    image = np.random.default_rng(0).integers(0, 256, (100, 120, 3), dtype=np.uint8)
    [view] = window_views(image, np.array([[10, 20, 64, 64]]))
    np.testing.assert_array_equal(view, image[20:84, 10:74])
    [padded] = window_views(image, np.array([[-32, -32, 64, 64]]))
    np.testing.assert_array_equal(padded[32:, 32:], image[:32, :32])
    np.testing.assert_array_equal(padded[0, 0], image[0, 0])
    with pytest.raises(ValueError, match="outside"):
        window_views(image, np.array([[500, 500, 64, 64]]))


def test_refine_tightens_a_coarse_box_and_drops_what_it_does_not_confirm():
    coarse = Candidate((285.0, 190.0, 90.0, 50.0), 0.6)
    nothing = Candidate((50.0, 50.0, 40.0, 30.0), 0.9)
    [found] = refine(BrightIsNumber(length=2), photo(), [nothing, coarse], precision="float32")
    left, top, width, height = found.candidate.box
    assert abs(left - 300) < 3 and abs(top - 200) < 3 and abs(width - 60) < 4 and abs(height - 30) < 4
    assert found.length == 2 and found.candidate.score > 0.9
    assert refine(BrightIsNumber(length=2), photo(), [], precision="float32") == []


def test_a_close_look_joins_the_digits_of_a_stacked_number_and_leaves_a_line_of_another_height_out():
    image = np.full((400, 600, 3), 30, np.uint8)
    image[150:180, 300:324] = 230  # the upper digit: 24 x 30 at (300, 150)
    image[195:225, 300:324] = 230  # the lower digit, 15 pixels below it
    image[240:246, 280:344] = 160  # a fainter rule 6 pixels tall under the number, inside the coarse box
    coarse = Candidate((290.0, 145.0, 45.0, 105.0), 0.6)
    [found] = refine(BrightIsNumber(length=2), image, [coarse], precision="float32", passes=1)
    left, top, width, height = found.candidate.box
    assert abs(left - 300) < 3 and abs(top - 150) < 3 and abs(width - 24) < 4 and abs(height - 75) < 4


def test_a_second_close_look_tightens_a_loose_box_again():
    loose = Candidate((150.0, 100.0, 360.0, 200.0), 0.6)  # six times the number's width
    [once] = refine(BrightIsNumber(length=2), photo(), [loose], precision="float32", passes=1)
    [twice] = refine(BrightIsNumber(length=2), photo(), [loose], precision="float32")  # REFINE_PASSES = 2
    error = lambda box: max(abs(a - b) for a, b in zip(box, (300, 200, 60, 30)))  # noqa: E731
    assert error(once.candidate.box) > 5 > error(twice.candidate.box)
    with pytest.raises(ValueError, match="passes"):
        refine(BrightIsNumber(length=2), photo(), [loose], passes=0)


def test_reader_looks_closely_at_twice_the_candidates_it_reads():
    from svhnx.inference.reader import Reader

    image = np.full((300, 600, 3), 30, np.uint8)
    for i in range(5):  # five bright patches, apart
        image[100:130, 20 + 110 * i : 80 + 110 * i] = 230
    reader = Reader(BrightIsNumber(length=2), torch.nn.Identity(), max_candidates=2, precision="float32")
    first = reader.first_pass(image)
    assert len(first) == 4
    closer, lengths = reader.close_look(image, first)
    assert len(closer) == 2 and lengths == [2, 2]
    plain = Reader(BrightIsNumber(length=2), torch.nn.Identity(), max_candidates=2, refine=False, precision="float32")
    assert len(plain.first_pass(image)) == 2 and plain.close_look(image, first) == (first, None)
    with pytest.raises(ValueError, match="close_looks"):
        Reader(BrightIsNumber(length=2), torch.nn.Identity(), close_looks=0)


def test_a_close_look_past_the_photo_edge_keeps_the_box_inside_the_photo():
    strip = np.full((100, 600, 3), 30, np.uint8)
    strip[90:] = 230  # bright along the bottom edge: the window's repeated edge below the photo is bright too
    for passes in (1, 2):
        [found] = refine(BrightIsNumber(length=2), strip, [Candidate((0.0, 80.0, 600.0, 20.0), 0.6)], precision="float32", passes=passes)
        left, top, width, height = found.candidate.box
        assert left >= 0 and top >= 0 and left + width <= 600 and top + height <= 100
    assert clip_box((-5.0, 90.0, 20.0, 30.0), 100, 600) == (0.0, 90.0, 15.0, 10.0)
    assert clip_box((700.0, 0.0, 10.0, 10.0), 100, 600) is None
