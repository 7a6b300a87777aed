"""SVHN preprocessing: crops against a per-image OpenCV reference on the real sample, targets,
reuse when up to date, atomic output, and the train/validation split."""

import os
import shutil
import warnings

import cv2
import h5py
import numpy as np
import pytest

from svhnx.data.svhn import MissingImageWarning
from svhnx.data.svhn_digit_struct import read_digit_struct
from svhnx.data.svhn_preprocess import load_crops, preprocess_split, train_validation_split


def reference_crop(path, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The recognizer input of one image, the obvious way: union box, +30% about the centre, clip,
    crop every pixel the box touches, ``cv2.resize`` to 64 x 64. Returns (crop, union, expanded)."""
    image = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
    h, w = image.shape[:2]
    b = boxes.astype(np.float64)
    left, top = b[:, 0].min(), b[:, 1].min()
    right, bottom = (b[:, 0] + b[:, 2]).max(), (b[:, 1] + b[:, 3]).max()
    cx, cy, bw, bh = (left + right) / 2, (top + bottom) / 2, (right - left) * 1.3, (bottom - top) * 1.3
    x0, y0 = max(0.0, cx - bw / 2), max(0.0, cy - bh / 2)
    x1, y1 = min(float(w), cx + bw / 2), min(float(h), cy + bh / 2)
    px0, py0 = int(np.clip(np.floor(x0), 0, w - 1)), int(np.clip(np.floor(y0), 0, h - 1))
    px1, py1 = int(np.clip(np.ceil(x1), px0 + 1, w)), int(np.clip(np.ceil(y1), py0 + 1, h))
    crop = cv2.resize(image[py0:py1, px0:px1], (64, 64), interpolation=cv2.INTER_LINEAR)
    return crop, np.array([left, top, right - left, bottom - top]), np.array([x0, y0, x1 - x0, y1 - y0])


@pytest.fixture
def split_copy(data_root, tmp_path):
    """A writable copy of the sample's test split (3 images, 40 entries)."""
    folder = tmp_path / "test"
    shutil.copytree(data_root / "svhn-sample" / "test", folder)
    for path in folder.iterdir():
        path.chmod(0o644)
    return folder


@pytest.mark.parametrize("split", ["train", "test", "extra"])
def test_crops_match_an_opencv_reference(data_root, tmp_path, split):
    folder = data_root / "svhn-sample" / split
    with pytest.warns(MissingImageWarning):
        path = preprocess_split(folder, tmp_path / f"{split}.h5", progress=False)
    entries = {e.name: e for e in read_digit_struct(folder / "digitStruct.mat")}
    with h5py.File(path, "r") as f:
        names = [n.decode() for n in f["names"][()]]
        assert names == ["1.png", "2.png", "3.png"]
        for i, name in enumerate(names):
            crop, union, expanded = reference_crop(folder / name, entries[name].boxes)
            assert np.abs(f["images"][i].astype(int) - crop).max() <= 1, name
            np.testing.assert_array_equal(f["number_boxes"][i], union.astype(np.float32))
            np.testing.assert_allclose(f["crop_boxes"][i], expanded, atol=1e-3)
            assert f["image_sizes"][i].tolist() == list(cv2.imread(str(folder / name)).shape[:2])
        counts = f["digit_counts"][()]
        np.testing.assert_array_equal(f["digit_boxes"][()], np.concatenate([entries[n].boxes for n in names]))
        assert counts.tolist() == [len(entries[n]) for n in names]


def test_targets_are_left_aligned_numbers(data_root, tmp_path):
    with pytest.warns(MissingImageWarning):
        crops = load_crops(preprocess_split(data_root / "svhn-sample" / "test", tmp_path / "test.h5", progress=False))
    assert crops.images.shape == (3, 64, 64, 3) and crops.images.dtype == np.uint8
    assert crops.digits[:2].tolist() == [[5, 10, 10, 10, 10], [2, 1, 0, 10, 10]]  # "5" and "210"
    assert crops.lengths[:2].tolist() == [1, 3]


def test_reused_when_up_to_date_and_rebuilt_when_an_input_changes(split_copy, tmp_path):
    output = tmp_path / "crops.h5"
    warnings.simplefilter("ignore", MissingImageWarning)
    preprocess_split(split_copy, output, progress=False)
    first = output.stat()
    preprocess_split(split_copy, output, progress=False)
    assert output.stat().st_ino == first.st_ino and output.stat().st_mtime_ns == first.st_mtime_ns
    image = split_copy / "2.png"
    os.utime(image, ns=(first.st_mtime_ns + 10**9, first.st_mtime_ns + 10**9))
    preprocess_split(split_copy, output, progress=False)
    assert output.stat().st_ino != first.st_ino  # a new file, renamed into place


def test_a_failed_run_leaves_the_previous_file(split_copy, tmp_path):
    output = tmp_path / "crops.h5"
    warnings.simplefilter("ignore", MissingImageWarning)
    preprocess_split(split_copy, output, progress=False)
    before = output.read_bytes()
    (split_copy / "2.png").write_bytes(b"not a png any more")
    with pytest.raises(ValueError, match="2.png: not an image"):
        preprocess_split(split_copy, output, progress=False)
    assert output.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".crops")] == []


def test_strict_refuses_missing_images(data_root, tmp_path):
    with pytest.raises(FileNotFoundError, match="37 of 40 images"):
        preprocess_split(data_root / "svhn-sample" / "test", tmp_path / "test.h5", strict=True, progress=False)
    assert not (tmp_path / "test.h5").exists()


def test_train_validation_split_is_deterministic_and_complete():
    train, validation = train_validation_split(33402)
    assert len(validation) == 6680 and len(train) == 33402 - 6680
    assert np.array_equal(np.sort(np.concatenate([train, validation])), np.arange(33402))
    again = train_validation_split(33402)
    assert np.array_equal(again[0], train) and np.array_equal(again[1], validation)
    assert not np.array_equal(train_validation_split(33402, seed=1)[1], validation)
    with pytest.raises(ValueError, match="validation_fraction"):
        train_validation_split(10, 1.0)


def test_load_crops_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="run the preprocessing first"):
        load_crops(tmp_path / "none.h5")
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["images"] = np.zeros((1, 64, 64, 3), np.uint8)
    with pytest.raises(ValueError, match="not an SVHN crops file"):
        load_crops(tmp_path / "other.h5")
