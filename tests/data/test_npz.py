"""Reading .npz files that came from elsewhere: every bad file is a ValueError that names it."""

from pathlib import Path

import numpy as np
import pytest

from svhnx.data.npz import read_npz


def test_arrays_of_the_kind_and_rank_asked_for_are_read(tmp_path: Path) -> None:
    np.savez(tmp_path / "ok.npz", images=np.zeros((2, 4, 4, 3), np.uint8), names=np.asarray(["a", "b"]))
    arrays = read_npz(tmp_path / "ok.npz", {"images": ("u", 4), "names": ("U", 1)})
    assert arrays["images"].shape == (2, 4, 4, 3) and arrays["names"].tolist() == ["a", "b"]


@pytest.mark.parametrize("content, reason", [
    (b"not an archive", "not a readable .npz file"),
    (b"PK\x03\x04" + bytes(64), "not a readable .npz file"),  # a zip's magic, then nothing of one
])
def test_a_file_that_is_no_archive_is_refused(tmp_path: Path, content: bytes, reason: str) -> None:
    (tmp_path / "bad.npz").write_bytes(content)
    with pytest.raises(ValueError, match=f"bad.npz: {reason}"):
        read_npz(tmp_path / "bad.npz", {})


def test_missing_misshapen_or_pickled_arrays_are_refused(tmp_path: Path) -> None:
    np.savez(tmp_path / "a.npz", images=np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match="no 'labels' array"):
        read_npz(tmp_path / "a.npz", {"labels": ("i", 1)})
    with pytest.raises(ValueError, match="'images' is float32 with 2 dimensions, expected 4"):
        read_npz(tmp_path / "a.npz", {"images": ("u", 4)})
    np.savez(tmp_path / "b.npz", names=np.asarray([object()], dtype=object))
    with pytest.raises(ValueError, match="b.npz: not a readable .npz file"):  # the object array is not unpickled
        read_npz(tmp_path / "b.npz", {})
