"""composite_sequences against the original study's per-image generator."""

import numpy as np
import pytest

from svhnx.labels import BLANK
from svhnx.ops import composite_sequences


@pytest.fixture
def bank():
    rng = np.random.default_rng(0)
    digits = rng.integers(1, 256, size=(50, 28, 28), dtype=np.uint8)  # no all-black digit
    labels = rng.integers(0, 10, size=50)
    return digits, labels


def find_digit(bank_digits, patch):
    """Index of the bank entry equal to ``patch`` (28 x 28)."""
    matches = np.flatnonzero((bank_digits == patch).all(axis=(1, 2)))
    assert len(matches) >= 1
    return matches[0]


def test_every_slot_shows_its_label(bank):
    digits, labels = bank
    images, targets, lengths = composite_sequences(digits, labels, 64, seed=3)
    assert images.shape == (64, 28, 140, 1) and images.dtype == np.uint8
    assert targets.shape == (64, 5) and lengths.shape == (64,)
    for image, target, length in zip(images[..., 0], targets, lengths):
        filled = np.flatnonzero(target != BLANK)
        assert len(filled) == length and 1 <= length <= 5
        assert np.all(np.diff(filled) == 1), "digits must occupy consecutive slots"
        for slot in range(5):
            patch = image[:, slot * 28 : (slot + 1) * 28]
            if target[slot] == BLANK:
                assert not patch.any()
            else:
                assert labels[find_digit(digits, patch)] == target[slot]


def test_lengths_and_start_slots_are_uniform(bank):
    digits, labels = bank
    _, targets, lengths = composite_sequences(digits, labels, 20000, seed=1)
    np.testing.assert_allclose(np.bincount(lengths, minlength=6)[1:] / 20000, 0.2, atol=0.015)
    starts = (targets != BLANK).argmax(axis=1)
    one_digit = lengths == 1
    np.testing.assert_allclose(np.bincount(starts[one_digit], minlength=5) / one_digit.sum(), 0.2, atol=0.03)


def test_length_range_and_weights(bank):
    digits, labels = bank
    _, _, lengths = composite_sequences(digits, labels, 5000, seed=2, min_length=2, max_length=3, length_weights=[3, 1])
    assert set(np.unique(lengths)) == {2, 3}
    assert abs((lengths == 2).mean() - 0.75) < 0.03


@pytest.mark.parametrize("threads", [1, 2, 3, 7])
def test_same_seed_same_output_whatever_the_thread_count(bank, threads):
    digits, labels = bank
    reference = composite_sequences(digits, labels, 101, seed=42, threads=1)
    result = composite_sequences(digits, labels, 101, seed=42, threads=threads)
    for a, b in zip(reference, result):
        np.testing.assert_array_equal(a, b)


def test_different_seeds_differ(bank):
    digits, labels = bank
    a = composite_sequences(digits, labels, 16, seed=1)[0]
    b = composite_sequences(digits, labels, 16, seed=2)[0]
    assert not np.array_equal(a, b)


def test_colour_digits_keep_their_channels(bank):
    digits, labels = bank
    colour = np.repeat(digits[..., None], 3, axis=3)
    images, _, _ = composite_sequences(colour, labels, 4, seed=0)
    assert images.shape == (4, 28, 140, 3)


def test_empty_batch(bank):
    images, targets, lengths = composite_sequences(*bank, 0, seed=0)
    assert images.shape == (0, 28, 140, 1) and targets.shape == (0, 5) and lengths.shape == (0,)


@pytest.mark.parametrize(
    "change, error, match",
    [
        (lambda d, lab: (d.astype(np.float32), lab), TypeError, "digits: expected dtype uint8"),
        (lambda d, lab: (d[:, :, ::2], lab), ValueError, "C-contiguous"),
        (lambda d, lab: (d[0], lab), ValueError, "digits: expected 3 or 4 dimensions"),
        (lambda d, lab: (d[:0], lab[:0]), ValueError, "empty"),
        (lambda d, lab: (d, lab[:-1]), ValueError, "one label per digit"),
        (lambda d, lab: (d, lab + 10), ValueError, "0-9"),
        (lambda d, lab: (d, lab.astype(np.float64)), TypeError, "integer"),
    ],
)
def test_bad_input_raises_a_clear_error(bank, change, error, match):
    digits, labels = change(*bank)
    with pytest.raises(error, match=match):
        composite_sequences(digits, labels, 4, seed=0)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"seed": -1}, ValueError),
        ({"seed": 1.5}, TypeError),
        ({"seed": 0, "threads": 0}, ValueError),
        ({"seed": 0, "min_length": 0}, ValueError),
        ({"seed": 0, "max_length": 6}, ValueError),
        ({"seed": 0, "min_length": 1, "max_length": 2, "length_weights": [1, 2, 3]}, ValueError),
        ({"seed": 0, "min_length": 1, "max_length": 2, "length_weights": [0, 0]}, ValueError),
        ({"seed": 0, "min_length": 1, "max_length": 2, "length_weights": [1, np.nan]}, ValueError),
    ],
)
def test_bad_arguments_raise(bank, kwargs, error):
    with pytest.raises(error):
        composite_sequences(*bank, 4, **kwargs)
