"""The street-number scene generator: boxes where the ink is, determinism, the crop rule, errors."""

from pathlib import Path

import numpy as np
import pytest

from svhnx.ops import crop_resize, expand_boxes, pixel_windows, union_boxes
from svhnx.synth import Realism, SceneGenerator
from svhnx.synth.atlas import GlyphAtlas, read_atlas, save_atlas
from svhnx.synth.layouts import LAYOUT_COLUMNS, stepped_numbers


@pytest.fixture(scope="module")
def generator(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> SceneGenerator:
    return SceneGenerator.from_data(data_root, cache_dir=tmp_path_factory.getbasetemp() / "synth-cache")


@pytest.fixture(scope="module")
def clean(generator: SceneGenerator) -> SceneGenerator:
    return SceneGenerator(generator.atlas, generator.tables, Realism.clean())


def ink_mask(image: np.ndarray, level: float = 0.5) -> np.ndarray:
    """Pixels at least ``level`` of the way from the (flat) background colour to the ink colour."""
    pixels = image.reshape(-1, 3).astype(np.int64)
    colors, counts = np.unique(pixels, axis=0, return_counts=True)
    background = colors[counts.argmax()]
    distance = np.abs(image.astype(np.int64) - background).sum(axis=2)
    return distance > level * distance.max()


def test_box_of_a_single_digit_is_its_ink_bounding_box(clean: SceneGenerator) -> None:
    batch = clean.scenes(300, seed=1)
    singles = np.flatnonzero(batch.lengths == 1)
    assert len(singles) > 20
    for i in singles:
        ys, xs = np.nonzero(ink_mask(batch.images[i]))
        left, top, width, height = batch.boxes[i, 0]
        h, w = batch.images[i].shape[:2]
        # Ink pixels span [min, max + 1); the box, clipped to the image (a number may run off it),
        # must match that to within a pixel on every side.
        np.testing.assert_allclose(np.clip([left, top, left + width, top + height], 0, [w, h, w, h]),
                                   [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], atol=1.0, err_msg=f"scene {i}")


def test_annotated_boxes_are_loose_about_the_ink_like_svhn_boxes(generator: SceneGenerator) -> None:
    annotated = SceneGenerator(generator.atlas, generator.tables, Realism(0.0, 0.0, 0.0, 0.0, annotation=1.0))
    batch = annotated.scenes(300, seed=1)
    margins = []  # each side's margin about the ink, in box heights
    for i in np.flatnonzero(batch.lengths == 1):
        ys, xs = np.nonzero(ink_mask(batch.images[i]))
        left, top, width, height = batch.boxes[i, 0]
        h, w = batch.images[i].shape[:2]
        if left < 0 or top < 0 or left + width > w or top + height > h:
            continue  # a number running off the image has its box clipped
        sides = np.array([xs.min() - left, ys.min() - top, left + width - xs.max() - 1, top + height - ys.max() - 1])
        margins.append((sides + [0.0, 0.0, 1.0, 1.0]) / height)  # the ink spans [min, max + 1)
    margins = np.array(margins)
    assert len(margins) > 20
    # Loose by a few percent of the height on a typical side, now and then clipping the ink, never by
    # much (a pixel's rounding aside).
    assert 0.02 < np.median(margins) < 0.07
    assert (margins < 0).mean() > 0.01
    assert margins.min() > -0.08 and margins.max() < 0.25


def test_every_ink_pixel_lies_in_a_box_and_every_box_holds_ink(clean: SceneGenerator) -> None:
    batch = clean.scenes(100, seed=2)
    for i, image in enumerate(batch.images):
        ink, faint = ink_mask(image), ink_mask(image, 0.25)  # hairline strokes of tiny digits are faint
        ys, xs = np.nonzero(ink)
        cx, cy = xs + 0.5, ys + 0.5
        boxes = batch.boxes[i, : batch.lengths[i]]
        inside = np.zeros(len(xs), bool)
        for left, top, width, height in boxes:
            inside |= (cx >= left - 1) & (cx <= left + width + 1) & (cy >= top - 1) & (cy <= top + height + 1)
            window = faint[max(0, int(top)) : int(np.ceil(top + height)), max(0, int(left)) : int(np.ceil(left + width))]
            assert window.mean() > 0.1, f"scene {i}: box {(left, top, width, height)} holds almost no ink"
        assert inside.all(), f"scene {i}: {np.count_nonzero(~inside)} ink pixels outside every box"


def test_stepped_numbers_are_those_whose_digits_each_sit_lower_than_the_last() -> None:
    row, stacked, diagonal, half = ([[0, 0, 5, 10], [6, 1, 5, 10], [12, 0, 5, 10]], [[0, 0, 5, 10], [0, 12, 5, 10]],
                                    [[0, 0, 5, 10], [7, 7, 5, 10], [14, 14, 5, 10]], [[0, 0, 5, 10], [6, 8, 5, 10], [12, 9, 5, 10]])
    boxes = np.zeros((5, 5, 4), np.float32)
    for i, number in enumerate([row, stacked, diagonal, half, [[3, 3, 5, 10]]]):
        boxes[i, : len(number)] = number
    lengths = np.array([3, 2, 3, 3, 1])
    np.testing.assert_array_equal(stepped_numbers(boxes, lengths), [False, True, True, False, False])
    boxes[np.arange(5) >= lengths[:, None]] = np.nan  # svhn-real's files leave unused slots NaN
    np.testing.assert_array_equal(stepped_numbers(boxes, lengths), [False, True, True, False, False])


def test_some_short_numbers_are_stacked_or_diagonal_each_digit_upright_and_inside_the_image(clean: SceneGenerator) -> None:
    batch = SceneGenerator(clean.atlas, clean.tables, Realism(0.0, 0.0, 0.0, 0.0, 0.0, arrangement=1.0)).scenes(1000, seed=4)
    ids = np.flatnonzero(stepped_numbers(batch.boxes, batch.lengths))
    short = np.count_nonzero((batch.lengths >= 2) & (batch.lengths <= 3))
    assert 0.02 < len(ids) / short < 0.09  # 5% of 2-3 digit numbers
    assert set(batch.lengths[ids]) <= {2, 3}
    for i in ids:
        boxes, (h, w) = batch.boxes[i, : batch.lengths[i]], batch.images[i].shape[:2]
        assert (boxes[:, :2] >= 0).all() and (boxes[:, 0] + boxes[:, 2] <= w).all() and (boxes[:, 1] + boxes[:, 3] <= h).all()
        assert (boxes[:, 2] < boxes[:, 3]).all(), f"scene {i}: upright digits are taller than wide"
        ink = ink_mask(batch.images[i], 0.25)
        for left, top, width, height in boxes:
            assert ink[int(top) : int(np.ceil(top + height)), int(left) : int(np.ceil(left + width))].mean() > 0.1
    # At arrangement 0 every number is a row.
    rows = clean.scenes(1000, seed=4)
    assert not stepped_numbers(rows.boxes, rows.lengths).any()


def ink_outside_boxes(image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Ink pixels of a flat-background crop more than a pixel outside every one of its digit boxes (the
    background is the top row's colour: the crop reaches 15% of the number's height above it)."""
    distance = np.abs(image.astype(np.int64) - np.median(image[0], axis=0)).sum(axis=2)
    inside = np.zeros(image.shape[:2], dtype=bool)
    for left, top, width, height in boxes:
        inside[max(int(top) - 1, 0) : int(np.ceil(top + height)) + 1, max(int(left) - 1, 0) : int(np.ceil(left + width)) + 1] = True
    return (distance > 0.5 * distance.max()) & ~inside


def test_some_crops_show_a_letter_or_sign_after_the_number_on_its_baseline_not_part_of_it(clean: SceneGenerator) -> None:
    suffixed = SceneGenerator(clean.atlas, clean.tables, Realism(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, suffix=1.0))
    batch, plain = suffixed.crops(1000, seed=4), clean.crops(1000, seed=4)
    for name in ("digits", "lengths"):  # the numbers are the same; only what lies after them differs
        np.testing.assert_array_equal(getattr(batch, name), getattr(plain, name))
    # Half the crops with a suffix are framed about the number and its suffix: their window reaches further right.
    reframed = np.flatnonzero((batch.boxes != plain.boxes).any(axis=(1, 2)))
    assert 0.02 < len(reframed) / len(batch.lengths) < 0.07
    right_end = lambda boxes: (boxes[..., 0] + boxes[..., 2]).max(axis=1)  # noqa: E731
    assert (right_end(batch.boxes[reframed]) < right_end(plain.boxes[reframed])).all()
    with_suffix, below_baseline, whole = [], [], 0
    for i, (image, boxes, n) in enumerate(zip(batch.images, batch.boxes, batch.lengths)):
        stray = ink_outside_boxes(image, boxes[:n])
        if np.count_nonzero(stray) > 20:
            with_suffix.append(i)
            ys, xs = np.nonzero(stray)
            right, bottom = (boxes[:n, 0] + boxes[:n, 2]).max(), (boxes[:n, 1] + boxes[:n, 3]).max()
            assert (xs >= right - 1).mean() > 0.9, f"crop {i}: the stray ink lies after the number"
            whole += i in reframed and xs.max() < image.shape[1] - 1
            height = boxes[:n, 3].max()
            if np.ptp(ys) > 0.5 * height:  # a letter, not a sliver that the crop's edge left of it
                below_baseline.append((ys.max() + 1 - bottom) / height)
    assert 0.05 < len(with_suffix) / len(batch.lengths) < 0.12  # 10% drawn; handwriting has no letters, the crop cuts a few
    assert whole > 0.8 * len(reframed)  # framed with the number, the suffix shows whole
    # On the number's baseline: never below it, and mostly on it (the crop cuts some round letters above their lowest point).
    assert max(below_baseline) < 0.03 and abs(np.median(below_baseline)) < 0.03
    assert not any(np.count_nonzero(ink_outside_boxes(image, boxes[:n])) for image, boxes, n in zip(plain.images, plain.boxes, plain.lengths))
    # Whole scenes are left alone: the localizer's scenes and their streams do not change.
    for a, b in zip(suffixed.scenes(50, seed=4).images, clean.scenes(50, seed=4).images):
        np.testing.assert_array_equal(a, b)


def test_the_suffix_share_leaves_every_other_crop_as_it_was(generator: SceneGenerator) -> None:
    without = SceneGenerator(generator.atlas, generator.tables, Realism(suffix=0.0))
    a, b = generator.crops(300, seed=4), without.crops(300, seed=4)
    np.testing.assert_array_equal(a.digits, b.digits)
    same = [np.array_equal(x, y) for x, y in zip(a.images, b.images)]
    assert 0.85 < np.mean(same) < 0.97  # about 10% drawn with a suffix; the rest image for image


def test_boxes_share_a_height_per_number_as_in_svhn(generator: SceneGenerator) -> None:
    batch = generator.scenes(200, seed=3)
    for i in np.flatnonzero(batch.lengths > 1):
        heights = batch.boxes[i, : batch.lengths[i], 3]
        np.testing.assert_allclose(heights, heights[0], rtol=1e-5)
    assert (batch.digits[np.arange(5) >= batch.lengths[:, None]] == 10).all()
    assert (batch.boxes[np.arange(5) >= batch.lengths[:, None]] == 0).all()


@pytest.mark.parametrize("mode", ["scenes", "crops"])
def test_output_depends_on_seed_and_index_only(generator: SceneGenerator, mode: str) -> None:
    draw = getattr(generator, mode)
    one = draw(24, seed=7, threads=1)
    many = draw(24, seed=7, threads=3)
    tail = draw(10, seed=7, first=14, threads=2)
    for a, b in [(one, many)]:
        np.testing.assert_array_equal(a.boxes, b.boxes)
        np.testing.assert_array_equal(a.digits, b.digits)
        for x, y in zip(a.images, b.images):
            np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(one.boxes[14:], tail.boxes)
    for x, y in zip(one.images[14:], tail.images):
        np.testing.assert_array_equal(x, y)
    other = draw(24, seed=8)
    assert not np.array_equal(one.digits, other.digits)


def test_crops_follow_the_svhn_crop_rule_of_their_scenes(clean: SceneGenerator) -> None:
    scenes, crops = clean.scenes(64, seed=4), clean.crops(64, seed=4, size=64)
    np.testing.assert_array_equal(scenes.digits, crops.digits)
    sizes = np.array([im.shape[:2] for im in scenes.images])
    valid = np.arange(5) < scenes.lengths[:, None]
    unions = union_boxes(scenes.boxes[valid], counts=scenes.lengths)
    windows = pixel_windows(expand_boxes(unions, sizes, 0.3), sizes)  # x0, y0, x1, y1
    scale = 64 / (windows[:, 2:] - windows[:, :2])
    expected = scenes.boxes.copy()
    expected[..., :2] = (expected[..., :2] - windows[:, None, :2]) * scale[:, None]
    expected[..., 2:] *= scale[:, None]
    np.testing.assert_allclose(crops.boxes[valid], expected[valid], atol=1e-2)
    # The pixels agree too: a crop is drawn like crop_resize of its scene, up to anti-aliasing.
    resized = crop_resize(scenes.images, expand_boxes(unions, sizes, 0.3), (64, 64))
    diff = np.abs(resized.astype(np.int16) - crops.images.astype(np.int16))
    assert diff.mean() < 6, diff.mean()


def test_lengths_and_sizes_follow_the_real_layouts(generator: SceneGenerator) -> None:
    crops = generator.crops(3000, seed=5)
    real = generator.tables.column("length").astype(int)
    want = np.bincount(real, minlength=6)[1:6] / len(real)
    got = np.bincount(crops.lengths, minlength=6)[1:6] / len(crops)
    np.testing.assert_allclose(got, want, atol=0.03)
    first_digits = crops.digits[:, 0]
    assert np.count_nonzero(first_digits[crops.lengths > 1] == 0) < 0.02 * len(crops)  # house numbers rarely lead with 0
    assert crops.images.shape == (3000, 64, 64, 3) and crops.images.dtype == np.uint8


def test_crop_size_is_configurable(generator: SceneGenerator) -> None:
    crops = generator.crops(3, seed=0, size=32)
    assert crops.images.shape == (3, 32, 32, 3)
    assert (crops.boxes[:, 0, :2] >= -32).all() and (crops.boxes[:, 0, :2] < 32).all()


def test_bad_arguments_raise_clear_errors(generator: SceneGenerator) -> None:
    with pytest.raises(ValueError, match="count"):
        generator.crops(-1, seed=0)
    with pytest.raises(TypeError, match="seed"):
        generator.crops(2, seed=1.5)
    with pytest.raises(ValueError, match="size"):
        generator.crops(2, seed=0, size=4)
    with pytest.raises(ValueError, match="threads"):
        generator.scenes(2, seed=0, threads=0)
    with pytest.raises(ValueError, match="realism.blur|realism.degradation"):
        Realism(degradation=1.5)
    atlas, tables = generator.atlas, generator.tables
    with pytest.raises(TypeError, match="fields"):
        SceneGenerator(atlas.__class__(**{**atlas.__dict__, "fields": atlas.fields.astype(np.float32)}), tables)
    no_sevens = atlas.labels != 7
    pruned = atlas.__class__(**{**atlas.__dict__, "fields": atlas.fields[no_sevens], "labels": atlas.labels[no_sevens],
                                "styles": atlas.styles[no_sevens], "ink": atlas.ink[no_sevens], "scales": atlas.scales[no_sevens]})
    with pytest.raises(ValueError, match="no glyph for digit 7"):
        SceneGenerator(pruned, tables)
    short = tables.__class__(layouts=tables.layouts[:, : len(LAYOUT_COLUMNS) - 1].copy(), digit_probs=tables.digit_probs,
                             digit_aspects=tables.digit_aspects)
    with pytest.raises(ValueError, match="layouts"):
        SceneGenerator(atlas, short)
    broken = tables.layouts.copy()
    broken[3, LAYOUT_COLUMNS.index("length")] = 9
    with pytest.raises(ValueError, match="layouts: row 3"):
        SceneGenerator(atlas, tables.__class__(layouts=broken, digit_probs=tables.digit_probs, digit_aspects=tables.digit_aspects))


def test_missing_statistics_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="boxes.csv.gz"):
        SceneGenerator.from_data(tmp_path, cache_dir=tmp_path / "cache")


def test_a_saved_atlas_draws_the_same_scenes_wherever_it_is_read(generator: SceneGenerator, tmp_path: Path) -> None:
    save_atlas(generator.atlas, tmp_path / "atlas.npz", compress=True)
    atlas = read_atlas(tmp_path / "atlas.npz")
    assert atlas.style_names == generator.atlas.style_names
    again = SceneGenerator(atlas, generator.tables, generator.realism)
    np.testing.assert_array_equal(again.crops(4, seed=3).images, generator.crops(4, seed=3).images)


def test_a_file_that_is_not_an_atlas_is_refused_with_its_name(generator: SceneGenerator, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="missing.npz: no such file"):
        read_atlas(tmp_path / "missing.npz")
    (tmp_path / "text.npz").write_text("not a zip")
    with pytest.raises(ValueError, match="text.npz: not a readable .npz file"):
        read_atlas(tmp_path / "text.npz")
    (tmp_path / "broken.npz").write_bytes(b"PK\x03\x04" + bytes(64))  # a zip's magic, then nothing of one
    with pytest.raises(ValueError, match="broken.npz: not a readable .npz file"):
        read_atlas(tmp_path / "broken.npz")
    np.savez(tmp_path / "partial.npz", fields=generator.atlas.fields)  # the other arrays are missing
    with pytest.raises(ValueError, match="partial.npz: no .labels. array"):
        read_atlas(tmp_path / "partial.npz")
    objects = {name: getattr(generator.atlas, name) for name in GlyphAtlas.__dataclass_fields__}
    np.savez(tmp_path / "pickled.npz", **{**objects, "style_names": np.array([object()] * 2, dtype=object)})
    with pytest.raises(ValueError, match="pickled.npz: not a readable .npz file"):  # no pickles are loaded
        read_atlas(tmp_path / "pickled.npz")
