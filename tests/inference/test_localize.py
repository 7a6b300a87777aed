"""From probability maps and photos to candidate boxes."""

import numpy as np
import pytest
import torch
from stand_ins import BrightIsNumber

from svhnx.hardware import PRECISIONS, resolve_precision
from svhnx.inference.localize import (
    Candidate,
    as_rgb,
    localize,
    mask_to_boxes,
    pad_to_multiple,
    probability_map,
    scale_sizes,
)
from svhnx.models.unet import UNet


def test_pad_to_multiple_repeats_the_edges():
    image = np.arange(5 * 7 * 3, dtype=np.uint8).reshape(5, 7, 3)
    padded = pad_to_multiple(image)
    assert padded.shape == (16, 16, 3)
    np.testing.assert_array_equal(padded[:5, :7], image)
    np.testing.assert_array_equal(padded[10, 3], image[4, 3])
    np.testing.assert_array_equal(padded[2, 12], image[2, 6])
    assert pad_to_multiple(np.zeros((32, 48, 1), np.uint8)).shape == (32, 48, 1)


def test_pad_to_multiple_pads_small_images_to_the_least_side():
    image = np.arange(20 * 70 * 3, dtype=np.uint8).reshape(20, 70, 3)
    padded = pad_to_multiple(image, 16, min_side=64)
    assert padded.shape == (64, 80, 3)
    np.testing.assert_array_equal(padded[:20, :70], image)
    np.testing.assert_array_equal(padded[63, 5], image[19, 5])
    assert pad_to_multiple(np.zeros((96, 128, 3), np.uint8), 32, min_side=64).shape == (96, 128, 3)
    with pytest.raises(ValueError, match="min_side"):
        pad_to_multiple(image, 16, min_side=-1)


def test_as_rgb_accepts_grey_rgb_and_rgba():
    grey = np.full((4, 5), 7, np.uint8)
    assert as_rgb(grey).shape == (4, 5, 3) and (as_rgb(grey) == 7).all()
    rgba = np.zeros((4, 5, 4), np.uint8)
    rgba[..., 3] = 255
    assert as_rgb(rgba).shape == (4, 5, 3) and not as_rgb(rgba).any()
    with pytest.raises(TypeError, match="uint8"):
        as_rgb(np.zeros((4, 5, 3), np.float32))
    with pytest.raises(ValueError, match="C = 1, 3 or 4"):
        as_rgb(np.zeros((4, 5, 2), np.uint8))


def test_mask_to_boxes_finds_each_component_best_first():
    prob = np.zeros((40, 60), np.float32)
    prob[5:15, 10:30] = 0.9    # a number: box [10, 5, 20, 10]
    prob[25:35, 40:50] = 0.6   # a weaker blob: box [40, 25, 10, 10]
    prob[38, 2] = 0.99         # one noisy pixel, dropped
    candidates = mask_to_boxes(prob)
    assert candidates == [
        Candidate((10.0, 5.0, 20.0, 10.0), pytest.approx(0.9)),
        Candidate((40.0, 25.0, 10.0, 10.0), pytest.approx(0.6)),
    ]
    assert len(mask_to_boxes(prob, max_candidates=1)) == 1
    assert mask_to_boxes(prob, threshold=0.7)[0].box == (10.0, 5.0, 20.0, 10.0)
    assert mask_to_boxes(np.zeros((8, 8), np.float32)) == []


def test_a_larger_first_pass_map_keeps_the_noise_floor_in_pixels():
    blob = np.zeros((256, 256), np.float32)
    blob[100:107, 100:107] = 0.9  # 49 pixels: under 0.1% of a 256 x 256 map (65.5), dropped
    assert mask_to_boxes(blob) == []
    blob[100:109, 100:109] = 0.9  # 81 pixels: kept
    assert len(mask_to_boxes(blob)) == 1
    larger = np.zeros((512, 512), np.float32)  # a 512 px scale: the same floor, not four times it
    larger[200:209, 200:209] = 0.9
    assert len(mask_to_boxes(larger)) == 1
    larger[200:209, 200:209] = 0.0
    larger[200:207, 200:207] = 0.9
    assert mask_to_boxes(larger) == []


def test_digits_side_by_side_merge_into_one_number():
    prob = np.zeros((40, 60), np.float32)
    prob[10:20, 10:16] = 0.8   # digit 1
    prob[10:21, 18:24] = 0.8   # digit 2, a 2-pixel gap
    prob[30:38, 50:58] = 0.8   # another thing, far below
    boxes = [c.box for c in mask_to_boxes(prob)]
    assert (10.0, 10.0, 14.0, 11.0) in boxes and len(boxes) == 2
    assert len(mask_to_boxes(prob, merge=False)) == 3


def test_scale_sizes_keep_the_aspect_and_never_upsample_past_the_smallest():
    assert scale_sizes(1100, 550) == [(64, 32), (128, 64), (448, 224)]
    assert scale_sizes(1100, 550, scales=(64, 128, 256)) == [(64, 32), (128, 64), (256, 128)]
    assert scale_sizes(100, 200) == [(32, 64), (64, 128)]
    assert scale_sizes(30, 40) == [(48, 64)]
    with pytest.raises(ValueError, match="scales"):
        scale_sizes(100, 100, scales=())


def test_localize_maps_boxes_back_to_photo_pixels():
    photo = np.zeros((600, 900, 3), np.uint8)
    photo[300:360, 450:600] = 255  # a bright "number"
    candidates = localize(BrightIsNumber(), photo)
    assert len(candidates) == 1
    left, top, width, height = candidates[0].box
    # the largest scale is 448 px wide: one map pixel is 900 / 448 = 2.0 photo pixels
    assert left == pytest.approx(450, abs=8) and top == pytest.approx(300, abs=8)
    assert width == pytest.approx(150, abs=8) and height == pytest.approx(60, abs=8)
    assert candidates[0].score > 0.9


def test_probability_map_fuses_scales_by_maximum():
    photo = np.zeros((512, 512), np.uint8)
    photo[200:210, 200:260] = 255  # thin: only visible at the larger scales
    single = probability_map(BrightIsNumber(), photo, scales=(64,))
    fused = probability_map(BrightIsNumber(), photo, scales=(64, 256))
    assert single.shape == (64, 64) and fused.shape == (256, 256)
    assert fused.max() > 0.99
    assert fused[100:105, 100:130].mean() > 0.9


class InputShapes(BrightIsNumber):
    """:class:`BrightIsNumber` that records the shape of every batch it is given."""

    def __init__(self):
        super().__init__()
        self.shapes = []

    def forward(self, images):
        self.shapes.append(tuple(images.shape[1:3]))
        return super().forward(images)


def test_the_inference_views_are_the_size_of_the_training_views():
    from svhnx.data.localizer_views import VIEW_SIZE
    from svhnx.inference.localize import MIN_INPUT_SIDE, REFINE_SIZE

    assert MIN_INPUT_SIDE == REFINE_SIZE == VIEW_SIZE


def test_a_photo_looked_at_once_is_padded_to_the_training_view_size():
    small, large = InputShapes(), InputShapes()
    probability_map(small, np.zeros((31, 101), np.uint8))  # one scale: 20 x 64
    probability_map(large, np.zeros((300, 1000), np.uint8))  # three: 19 x 64, 38 x 128, 134 x 448
    assert small.shapes == [(64, 64)]
    assert large.shapes == [(32, 64), (64, 128), (160, 448)]  # only to a multiple of 32


def test_precision_names_are_checked_and_auto_picks_one():
    assert resolve_precision("auto") in ("float32", "bfloat16")
    assert [resolve_precision(p) for p in PRECISIONS[1:]] == ["float32", "bfloat16"]
    with pytest.raises(ValueError, match="precision"):
        resolve_precision("half")
    with pytest.raises(ValueError, match="precision"):
        localize(BrightIsNumber(), np.zeros((32, 32, 3), np.uint8), precision="fp16")


def test_bfloat16_localizer_gives_nearly_the_float32_probabilities():
    torch.manual_seed(0)
    model = UNet(widths=(8, 16, 32, 64, 128)).eval()
    photo = np.random.default_rng(0).integers(0, 256, (90, 200, 3), dtype=np.uint8)
    photo[30:60, 80:120] = 255
    exact = probability_map(model, photo, scales=(64, 128), precision="float32")
    fast = probability_map(model, photo, scales=(64, 128), precision="bfloat16")
    assert exact.shape == fast.shape == (58, 128)
    assert np.abs(exact - fast).max() < 0.05
    assert not np.array_equal(exact, fast)  # bfloat16 did run
