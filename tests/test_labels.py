import numpy as np
import pytest

from svhnx.labels import BLANK, LENGTH_OVERFLOW, format_label, number_to_target, parse_label, target_to_string


def test_format_and_parse_round_trip():
    target = np.array([BLANK, 4, 2, BLANK, BLANK])
    assert format_label(target) == ".42.."
    np.testing.assert_array_equal(parse_label(".42.."), target)


@pytest.mark.parametrize("text", ["42", "..a..", "1234567"])
def test_parse_rejects_malformed_text(text):
    with pytest.raises(ValueError):
        parse_label(text)


def test_format_rejects_unknown_class():
    with pytest.raises(ValueError, match="11"):
        format_label([11, 10, 10, 10, 10])


def test_numbers_are_left_aligned():
    digits, length = number_to_target([2, 1, 0])
    assert format_label(digits) == "210.." and length == 3
    assert target_to_string(digits) == "210"


def test_numbers_longer_than_five_get_the_overflow_length():
    digits, length = number_to_target([1, 2, 3, 4, 5, 6])
    assert format_label(digits) == "12345" and length == LENGTH_OVERFLOW
