"""Untrusted ``digitStruct.mat`` files and archives: declared sizes, values and names are checked,
damaged files read as h5py reads them, and archives have size and member limits."""

import io
import tarfile

import h5py
import numpy as np
import pytest

from svhnx.data.svhn_archives import UnsafeArchiveError, safe_extract
from svhnx.data.svhn_digit_struct import DigitStructEntry, DigitStructError, read_digit_struct, write_digit_struct


def entry(name, labels, boxes):
    return DigitStructEntry(name, np.array(labels, dtype=np.int64), np.array(boxes, dtype=np.float64))


@pytest.mark.parametrize("declared", [2**28, 2**40])
def test_a_small_file_declaring_huge_arrays_is_refused(tmp_path, declared):
    path = tmp_path / "digitStruct.mat"
    with h5py.File(path, "w") as f:  # chunked and never written: the file stays a few KB
        for key in ("name", "bbox"):
            f.create_dataset(f"digitStruct/{key}", shape=(declared, 1), maxshape=(None, 1), chunks=(1, 1), dtype=h5py.ref_dtype)
    assert path.stat().st_size < 20_000
    with pytest.raises(DigitStructError, match=f"/digitStruct/name declares {declared:,} items, more than its"):
        read_digit_struct(path)


@pytest.mark.parametrize("value", [1e300, float("inf"), float("nan"), -1e6])
def test_box_values_beyond_any_photo_are_refused(tmp_path, value):
    path = write_digit_struct(tmp_path / "digitStruct.mat", [entry("1.png", [1, 2], [[1, 2, 3, 4], [5, 6, value, 8]])])
    with pytest.raises(DigitStructError, match=r"entry 0 \('1.png'\): digit 1 has label 2.0 .* boxes within \+-65536 pixels"):
        read_digit_struct(path)


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", "a\\b.png", "..", "", "new\nline.png"])
def test_names_must_be_plain_file_names(tmp_path, name):
    path = write_digit_struct(tmp_path / "digitStruct.mat", [entry("1.png", [1], [[1, 2, 3, 4]]), entry(name, [2], [[1, 2, 3, 4]])])
    with pytest.raises(DigitStructError, match=r"entry 1: name .* is not a plain file name"):
        read_digit_struct(path)


def test_archives_are_refused_beyond_their_byte_and_member_limits(tmp_path):
    bomb = tmp_path / "bomb.tar.gz"
    with tarfile.open(bomb, "w:gz") as tar:
        member = tarfile.TarInfo("train/zeros.bin")
        member.size = 20_000_000
        tar.addfile(member, io.BytesIO(bytes(member.size)))
    assert bomb.stat().st_size < 100_000
    with pytest.raises(UnsafeArchiveError, match="its members hold more than"):
        safe_extract(bomb, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    many = tmp_path / "many.tar"
    with tarfile.open(many, "w") as tar:
        for i in range(20):
            tar.addfile(tarfile.TarInfo(f"train/{i}.png"), io.BytesIO(b""))
    with pytest.raises(UnsafeArchiveError, match="more than 10 members"):
        safe_extract(many, tmp_path / "out", max_members=10)
    assert len(safe_extract(many, tmp_path / "out", max_members=20)) == 20
