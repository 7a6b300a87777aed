"""The small-photo benchmark: each real number crop is a photo, scored against its number and the
union of its digit boxes."""

import numpy as np
import pytest

from benchmarks.scripts.reader_crops import main, score, truths
from svhnx.evaluate.real import RealNumbers
from svhnx.inference.reader import Reading

NAN = [np.nan] * 4


def two_numbers(boxes: bool = True) -> RealNumbers:
    """Crops of "21" (digits at x 10-20 and 22-32) and "7" (x 20-40)."""
    return RealNumbers(
        images=np.zeros((2, 64, 64, 3), np.uint8),
        digits=np.array([[2, 1, 10, 10, 10], [7, 10, 10, 10, 10]]),
        lengths=np.array([2, 1]),
        uncovered=np.array([0.1, 0.5], np.float32),
        boxes=np.array([[[10, 12, 10, 40], [22, 12, 10, 40], NAN, NAN, NAN],
                        [[20, 5, 20, 50], NAN, NAN, NAN, NAN]], np.float32) if boxes else None,
    )


def test_each_crop_is_scored_against_its_number_and_union_box() -> None:
    truth = truths(two_numbers())
    assert [number for number, _ in truth] == ["21", "7"]
    assert truth[0][1].tolist() == [10, 12, 22, 40] and truth[1][1].tolist() == [20, 5, 20, 50]
    readings = [Reading("21", 0.9, (10.0, 12.0, 22.0, 40.0)), Reading("1", 0.8, (20.0, 5.0, 10.0, 50.0))]
    everything = np.array([True, True])
    assert score(readings, truth, everything) == {"crops": 2, "right": 0.5, "wrong": 0.5, "rejected": 0.0, "box_iou": 0.75}
    rejected = [Reading("21", 0.9, (10.0, 12.0, 22.0, 40.0)), Reading(None, 0.0, None, rejected="no-candidate")]
    assert score(rejected, truth, everything) == {"crops": 2, "right": 0.5, "wrong": 0.0, "rejected": 0.5, "box_iou": 0.5}
    assert score(readings, truth, np.array([False, True]))["right"] == 0.0


def test_a_file_without_digit_boxes_cannot_be_scored() -> None:
    with pytest.raises(ValueError, match="no digit boxes"):
        truths(two_numbers(boxes=False))


def test_a_missing_numbers_file_is_a_clear_error(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit):
        main(["--numbers", str(tmp_path / "missing.npz")])
    assert "missing.npz" in capsys.readouterr().err
