"""The whole-photo benchmark counts its wrong readings by how they differ from the number."""

import pytest

from benchmarks.scripts.reader_synthetic import WRONG_KINDS, wrong_kind


@pytest.mark.parametrize(
    ("truth", "reading", "kind"),
    [
        ("264", "2640", "digits_added_after"),  # the letter of 264a read as a 0
        ("49", "498", "digits_added_after"),
        ("19", "719", "digits_added_before"),
        ("756", "75", "digits_missing"),  # a box that cut the last digit
        ("13757", "3757", "digits_missing"),
        ("71", "7", "digits_missing"),
        ("174", "114", "other"),
        ("28", "2", "digits_missing"),
        ("28", "29", "other"),
    ],
)
def test_a_wrong_reading_is_counted_by_how_it_differs_from_the_number(truth: str, reading: str, kind: str) -> None:
    assert wrong_kind(truth, reading) == kind
    assert kind in WRONG_KINDS
