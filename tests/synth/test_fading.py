"""Faded crops: blurred, lower in contrast and noised, like the real crops read worst."""

import cv2
import numpy as np
import pytest

from svhnx.synth.dataset import SynthCropStream
from svhnx.synth.digits import SynthDigitStream
from svhnx.synth.fading import fade, fade_some


def sharpness(image: np.ndarray) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var())


@pytest.fixture
def bars() -> np.ndarray:
    """Black and white vertical bars, 4 px wide: every edge as sharp as it gets."""
    image = np.zeros((64, 64, 3), np.uint8)
    image[:, (np.arange(64) // 4) % 2 == 1] = 255
    return image


def test_a_faded_crop_is_blurred_and_lower_in_contrast(bars):
    for seed in range(5):
        faded = fade(bars, np.random.default_rng(seed))
        assert faded.shape == bars.shape and faded.dtype == np.uint8
        assert sharpness(faded) < 0.5 * sharpness(bars)
        assert faded.std() < bars.std()


def test_fading_keeps_the_mean_colour_and_is_a_function_of_the_rng(bars):
    faded = fade(bars, np.random.default_rng(3))
    np.testing.assert_allclose(faded.mean(axis=(0, 1)), bars.mean(axis=(0, 1)), atol=2.0)
    np.testing.assert_array_equal(faded, fade(bars, np.random.default_rng(3)))
    assert not np.array_equal(faded, fade(bars, np.random.default_rng(4)))


@pytest.fixture(scope="module")
def generator(data_root):
    from svhnx.synth import SceneGenerator

    return SceneGenerator.from_data(data_root)


@pytest.mark.parametrize("stream, labels", [(SynthCropStream, "digits"), (SynthDigitStream, "labels")])
def test_training_streams_fade_the_share_asked_and_keep_the_labels(generator, stream, labels):
    plain = stream(generator, 64, seed=3).batch(2)
    some = stream(generator, 64, seed=3, fade_share=0.5).batch(2)
    changed = (plain["images"] != some["images"]).flatten(1).any(dim=1).float().mean().item()
    assert 0.25 < changed < 0.75
    assert (some[labels] == plain[labels]).all()
    assert (stream(generator, 64, seed=3, fade_share=0.5).batch(2)["images"] == some["images"]).all()
    with pytest.raises(ValueError, match="fade share"):
        stream(generator, 8, seed=0, fade_share=1.5)


def test_fade_some_leaves_the_input_alone():
    images = np.full((4, 16, 16, 3), 200, np.uint8)
    images[:, :, 8:] = 20
    faded = fade_some(images, 1.0, np.random.default_rng(0))
    assert (images[:, :, 8:] == 20).all() and not np.array_equal(faded, images)
    assert fade_some(images, 0.0, np.random.default_rng(0)) is images
