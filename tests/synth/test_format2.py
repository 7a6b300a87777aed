"""Synthetic crops made to look rebuilt from SVHN's 32 x 32 format-2 squares, and the single digits cut the same way."""

import numpy as np
import pytest

from svhnx.synth.format2 import covered_mask, fill_from_nearest, rebuild_from_squares, square_boxes


def test_square_boxes_keep_the_centre_and_take_the_longer_side():
    squares = square_boxes(np.array([[10, 20, 8, 16], [0, 0, 6, 2]], np.float32))
    np.testing.assert_allclose(squares, [[6, 20, 16, 16], [0, -2, 6, 6]])


def test_pixels_outside_the_squares_come_from_the_nearest_covered_pixel():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (12, 10, 3), dtype=np.uint8)
    covered = np.zeros((12, 10), bool)
    covered[4:8, 2:6] = True
    filled = fill_from_nearest(image, covered)
    np.testing.assert_array_equal(filled[covered], image[covered])
    np.testing.assert_array_equal(filled[0, 3], image[4, 3])  # straight above the square: its top row
    np.testing.assert_array_equal(filled[11, 5], image[7, 5])  # below: its bottom row
    np.testing.assert_array_equal(filled[0, 0], image[4, 2])  # off a corner: the corner


def test_covered_mask_is_the_union_of_the_digit_squares():
    mask = covered_mask((64, 64), np.array([[10, 20, 10, 20], [30, 22, 10, 20]], np.float32))
    assert mask[20:40, 5:25].all() and mask[22:42, 25:45].all()
    assert not mask[:20].any() and not mask[42:].any()


def test_rebuilt_crop_keeps_the_digits_and_streaks_the_margins():
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    out = rebuild_from_squares(image, np.array([[12, 10, 20, 44], [32, 10, 20, 44]], np.float32))
    assert out.shape == image.shape and out.dtype == np.uint8
    # columns of a square's width repeat its top row all the way up: vertical streaks
    assert (out[:10, 10:50] == out[10:11, 10:50]).all()


@pytest.fixture(scope="module")
def generator(data_root):
    from svhnx.synth import SceneGenerator

    return SceneGenerator.from_data(data_root)


def test_training_stream_applies_the_format2_look_to_the_share_asked(generator):
    from svhnx.synth.dataset import SynthCropStream

    plain = SynthCropStream(generator, 64, seed=3).batch(2)["images"]
    some = SynthCropStream(generator, 64, seed=3, format2=0.5).batch(2)["images"]
    again = SynthCropStream(generator, 64, seed=3, format2=0.5).batch(2)["images"]
    changed = (plain != some).flatten(1).any(dim=1).float().mean().item()
    assert 0.25 < changed < 0.75
    assert (some == again).all()
    with pytest.raises(ValueError, match="format2"):
        SynthCropStream(generator, 8, seed=0, format2=1.5)


def test_synthetic_digits_are_32_by_32_squares_labelled_with_their_digit(generator):
    from svhnx.synth.digits import SynthDigitStream, validation_digits

    batch = SynthDigitStream(generator, 32, seed=0).batch(5)
    assert batch["images"].shape == (32, 32, 32, 3) and batch["labels"].min() >= 0 and batch["labels"].max() <= 9
    assert (SynthDigitStream(generator, 32, seed=0).batch(5)["images"] == batch["images"]).all()
    images, labels = validation_digits(generator, 16, seed=0)
    assert images.shape == (16, 32, 32, 3) and labels.shape == (16,)


def test_installed_fonts_become_glyph_sets_and_unreadable_ones_are_skipped(tmp_path):
    import shutil

    import matplotlib

    from svhnx.synth.glyphs import DIGITS, system_font_files, system_glyph_sets

    bundled = __import__("pathlib").Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    shutil.copy(bundled / "DejaVuSans.ttf", tmp_path / "HouseSans.ttf")  # a font matplotlib does not ship by that name
    shutil.copy(bundled / "DejaVuSans.ttf", tmp_path / "DejaVuSans.ttf")  # one it does: left out
    shutil.copy(bundled / "cmsy10.ttf", tmp_path / "Ornaments.ttf")  # symbols (prime, infinity) where the digits are
    (tmp_path / "broken.ttf").write_bytes(b"not a font")
    files = system_font_files((str(tmp_path),))
    assert [f.name for f in files] == ["HouseSans.ttf", "Ornaments.ttf", "broken.ttf"]
    sets = list(system_glyph_sets(files))
    assert [s.name for s in sets] == ["system:HouseSans"]
    assert sorted(label for label in sets[0].labels if label >= 0) == [int(d) for d in DIGITS]


@pytest.mark.parametrize(("face", "symbols"), [("DejaVuSans", False), ("cmmi10", False), ("cmsy10", True), ("cmex10", True)])
def test_fonts_that_put_symbols_where_the_digits_are_are_told_by_their_glyph_names(face, symbols):
    import matplotlib
    from matplotlib.ft2font import FT2Font

    from svhnx.synth.glyphs import digits_named_otherwise

    # cmmi10's digits are old-style figures (zerooldstyle ...): digits all the same
    font = FT2Font(str(__import__("pathlib").Path(matplotlib.get_data_path()) / "fonts" / "ttf" / f"{face}.ttf"))
    assert digits_named_otherwise(font) is symbols


def test_a_font_without_glyph_names_is_not_judged_by_them():
    from svhnx.synth.glyphs import digits_named_otherwise

    class Unnamed:  # what FreeType reports for a face without names: made-up ones, from glyph indices
        face_flags = 0

        def get_char_index(self, code: int) -> int:
            return code - 30

        def get_glyph_name(self, index: int) -> str:
            return f"uni{index:08X}"

    assert digits_named_otherwise(Unnamed()) is False


def test_degenerate_digit_boxes_are_left_out_not_cropped():
    from svhnx.synth.digits import digit_squares
    from svhnx.synth.generator import CropBatch

    boxes = np.zeros((2, 5, 4), np.float32)
    boxes[0, 0] = [10, 10, 20, 40]
    boxes[1, 0] = [np.inf, np.nan, -np.inf, 0]  # what a glyph that renders to nothing gave
    digits = np.full((2, 5), 10)
    digits[:, 0] = [7, 3]
    crops = CropBatch(np.zeros((2, 64, 64, 3), np.uint8), boxes, digits, np.array([1, 1]))
    images, labels = digit_squares(crops, np.random.default_rng(0))
    assert images.shape == (1, 32, 32, 3) and labels.tolist() == [7]
    image = np.arange(64 * 64 * 3, dtype=np.uint8).reshape(64, 64, 3)
    assert rebuild_from_squares(image, boxes[1, :1]) is image
