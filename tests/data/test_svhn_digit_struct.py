"""The SVHN format-1 annotations: the real sample files against the published box rows, the writer,
the bulk and the h5py-only read paths, missing images, and broken files."""

import csv
import gzip
from collections import defaultdict
from pathlib import Path
from unittest import mock

import h5py
import numpy as np
import pytest

from svhnx.data import svhn_digit_struct
from svhnx.data.svhn import MissingImageWarning, read_image, split_entries
from svhnx.data.svhn_digit_struct import DigitStructEntry, DigitStructError, read_digit_struct, write_digit_struct


@pytest.fixture(scope="module")
def annotations(data_root: Path) -> dict[tuple[str, str], list[dict[str, str]]]:
    """The rows of ``boxes.csv.gz`` by (split, image), in digit order."""
    rows = defaultdict(list)
    with gzip.open(data_root / "svhn-annotations" / "boxes.csv.gz", "rt") as f:
        for row in csv.DictReader(f):
            rows[row["split"], row["image"]].append(row)
    for digits in rows.values():
        digits.sort(key=lambda r: int(r["digit"]))
    return rows


def entry(name: str, labels: list[int], boxes: list[list[float]]) -> DigitStructEntry:
    return DigitStructEntry(name, np.array(labels, dtype=np.int64), np.array(boxes, dtype=np.float32))


def same_entries(a: list[DigitStructEntry], b: list[DigitStructEntry]) -> bool:
    return len(a) == len(b) and all(
        x.name == y.name and np.array_equal(x.labels, y.labels) and np.array_equal(x.boxes, y.boxes) for x, y in zip(a, b)
    )


def h5py_only():
    """Force every entry through the h5py-only path (nothing decodes in bulk)."""
    nothing = lambda data, addresses, base=0: tuple(np.zeros(np.asarray(addresses).size, np.int64) for _ in range(3))  # noqa: E731
    return mock.patch.object(svhn_digit_struct, "decode_compact", nothing)


EXAMPLES = [
    entry("1.png", [1, 9], [[246, 77, 81, 219], [323, 81, 96, 219]]),
    entry("2.png", [0], [[10.5, -1, 8, 15]]),
    entry("3.png", [2, 1, 0], [[99, 5, 14, 23], [114, 8, 8, 23], [121, 6, 12, 23]]),
    entry("4.png", [1, 3, 5, 4, 5, 8], [[18, 3, 5, 18], [24, 3, 6, 18], [30, 4, 8, 18], [37, 3, 10, 18], [48, 4, 9, 18], [56, 4, 8, 18]]),
]


@pytest.mark.parametrize("split", ["train", "test"])
def test_sample_equals_the_published_boxes(data_root, annotations, split):
    entries = read_digit_struct(data_root / "svhn-sample" / split / "digitStruct.mat")
    assert len(entries) in (39, 40)
    for e in entries:
        rows = annotations[split, e.name]
        assert rows, f"{split}/{e.name} is not in boxes.csv.gz"
        assert e.labels.tolist() == [int(r["label"]) % 10 for r in rows]
        expected = [[float(r[k]) for k in ("left", "top", "width", "height")] for r in rows]
        assert e.boxes.dtype == np.float32 and e.boxes.tolist() == expected


def test_sample_known_numbers(data_root):
    train = read_digit_struct(data_root / "svhn-sample" / "train" / "digitStruct.mat")
    test = read_digit_struct(data_root / "svhn-sample" / "test" / "digitStruct.mat")
    assert (train[0].name, train[0].labels.tolist()) == ("1.png", [1, 9])
    assert [e.labels.tolist() for e in test[:2]] == [[5], [2, 1, 0]]  # "210": label 10 read as 0


@pytest.mark.parametrize("split", ["train", "test", "extra"])
def test_real_files_decode_in_bulk_and_agree_with_h5py(data_root, split):
    path = data_root / "svhn-sample" / split / "digitStruct.mat"
    with mock.patch.object(svhn_digit_struct._Reader, "_read_values", side_effect=AssertionError("h5py path used")):
        bulk = read_digit_struct(path)
    with h5py_only():
        slow = read_digit_struct(path)
    assert same_entries(bulk, slow)


def test_write_read_round_trip_in_both_field_forms(tmp_path):
    path = write_digit_struct(tmp_path / "digitStruct.mat", EXAMPLES)
    with h5py.File(path, "r") as f:
        one_digit = f[f["digitStruct/bbox"][1, 0]]["label"]
        assert one_digit.dtype == np.float64 and one_digit[()].tolist() == [[10.0]]  # inline, 0 stored as 10
        assert f[f["digitStruct/bbox"][0, 0]]["label"].dtype == h5py.ref_dtype
    assert same_entries(read_digit_struct(path), EXAMPLES)
    with h5py_only():
        assert same_entries(read_digit_struct(path), EXAMPLES)


def test_split_entries_skips_missing_images_with_a_warning(data_root):
    split = data_root / "svhn-sample" / "test"
    with pytest.warns(MissingImageWarning, match=r"37 of 40 images .* are missing \(4\.png, 5\.png"):
        entries = split_entries(split)
    assert [e.name for e in entries] == ["1.png", "2.png", "3.png"]
    with pytest.raises(FileNotFoundError, match="37 of 40 images"):
        split_entries(split, strict=True)


def test_read_image_is_rgb_with_the_known_size(data_root, tmp_path):
    image = read_image(data_root / "svhn-sample" / "train" / "1.png")
    assert image.shape == (350, 741, 3) and image.dtype == np.uint8
    with pytest.raises(FileNotFoundError):
        read_image(tmp_path / "none.png")
    (tmp_path / "bad.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match="not an image"):
        read_image(tmp_path / "bad.png")


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_digit_struct(tmp_path / "digitStruct.mat")


@pytest.mark.parametrize("keep", [0.0, 0.01, 0.5, 0.99])
def test_truncated_file(data_root, tmp_path, keep):
    data = (data_root / "svhn-sample" / "train" / "digitStruct.mat").read_bytes()
    path = tmp_path / "digitStruct.mat"
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(DigitStructError, match="truncated"):
        read_digit_struct(path)


def test_not_hdf5(tmp_path):
    path = tmp_path / "digitStruct.mat"
    path.write_bytes(b"MATLAB 5.0 MAT-file" + bytes(200))
    with pytest.raises(DigitStructError, match="MATLAB v7.3"):
        read_digit_struct(path)


def test_hdf5_without_digit_struct(tmp_path):
    path = tmp_path / "digitStruct.mat"
    with h5py.File(path, "w") as f:
        f["other"] = [1, 2, 3]
    with pytest.raises(DigitStructError, match="no /digitStruct group"):
        read_digit_struct(path)


def broken_copy(tmp_path: Path, edit) -> Path:
    """The examples written to a file, then ``edit(f)`` applied to it with h5py."""
    path = write_digit_struct(tmp_path / "digitStruct.mat", EXAMPLES)
    with h5py.File(path, "r+") as f:
        edit(f)
    return path


def bbox(f: h5py.File, i: int) -> h5py.Group:
    return f[f["digitStruct/bbox"][i, 0]]


def test_missing_field(tmp_path):
    path = broken_copy(tmp_path, lambda f: bbox(f, 2).__delitem__("top"))
    with pytest.raises(DigitStructError, match=r"entry 2: bbox has no field 'top'"):
        read_digit_struct(path)


def replace_field(entry: int, field: str, value: np.ndarray):
    """An edit for :func:`broken_copy`: bbox ``field`` of ``entry`` replaced by ``value``."""

    def edit(f):
        group = bbox(f, entry)
        del group[field]
        group[field] = value

    return edit


def test_field_lengths_disagree(tmp_path):
    with pytest.raises(DigitStructError, match=r"entry 2 \('3\.png'\): bbox field 'width' does not hold 3 numbers"):
        read_digit_struct(broken_copy(tmp_path, replace_field(2, "width", np.array([[5.0]]))))


def test_label_out_of_range(tmp_path):
    with pytest.raises(DigitStructError, match=r"entry 1 \('2\.png'\): digit 0 has label 11\.0"):
        read_digit_struct(broken_copy(tmp_path, replace_field(1, "label", np.array([[11.0]]))))


def test_names_and_boxes_disagree_in_count(tmp_path):
    def edit(f):
        names = f["digitStruct/name"][()]
        del f["digitStruct/name"]
        f["digitStruct"].create_dataset("name", data=names[:3])

    with pytest.raises(DigitStructError, match="name has 3 entries but /digitStruct/bbox has 4"):
        read_digit_struct(broken_copy(tmp_path, edit))


def test_reference_to_the_wrong_kind_of_object(tmp_path):
    def edit(f):
        refs = f["digitStruct/bbox"][()]
        refs[3, 0] = f["digitStruct/name"][0, 0]  # a name where a bbox struct belongs
        f["digitStruct/bbox"][...] = refs

    with pytest.raises(DigitStructError, match="entry 3: bbox points to a DatasetID, expected a GroupID"):
        read_digit_struct(broken_copy(tmp_path, edit))

