"""Bad arguments and files get errors that say what is wrong, not silent fixes or wrong causes."""

import numpy as np
import pytest

from svhnx.data.svhn_digit_struct import read_digit_struct
from svhnx.ops import composite_sequences, pixel_windows


def test_a_fractional_batch_size_is_refused_not_rounded():
    digits, labels = np.zeros((10, 28, 28), np.uint8), np.arange(10)
    with pytest.raises(TypeError, match="batch_size: expected an integer count, got 1.7"):
        composite_sequences(digits, labels, batch_size=1.7, seed=0)
    assert len(composite_sequences(digits, labels, batch_size=np.int64(2), seed=0)[0]) == 2


def test_pixel_windows_of_a_nan_box_is_an_error_not_int64_min():
    with pytest.raises(ValueError, match=r"boxes: box 1 is not finite: \[1.0+, nan, 3.0+, 4.0+\]"):
        pixel_windows(np.array([[1, 2, 3, 4], [1, np.nan, 3, 4]], np.float32), np.array([[10, 10], [10, 10]]))


def test_a_symlink_loop_is_reported_as_such(tmp_path):
    (tmp_path / "digitStruct.mat").symlink_to(tmp_path / "digitStruct.mat")
    with pytest.raises(OSError, match="Too many levels of symbolic links"):
        read_digit_struct(tmp_path / "digitStruct.mat")
