"""MNIST IDX files: the format, the official files' checks, and where the loader looks."""

import gzip
import io
import shutil

import numpy as np
import pytest

from svhnx.data import download
from svhnx.data.download import DatasetNotFoundError
from svhnx.data.mnist import MNIST_FILES, IDXFormatError, load_mnist, read_idx, resolve_mnist_files, write_idx


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("name", ["data.idx", "data.idx.gz"])
def test_idx_round_trip(tmp_path, dtype, name):
    array = (np.arange(2 * 3 * 4) - 5).astype(dtype).reshape(2, 3, 4)
    path = write_idx(tmp_path / name, array)
    assert path.read_bytes()[:2] == (b"\x1f\x8b" if name.endswith(".gz") else b"\x00\x00")
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.dtype.isnative
    np.testing.assert_array_equal(back, array)


def test_gzip_is_detected_by_content_not_name(tmp_path):
    array = np.arange(10, dtype=np.uint8)
    path = write_idx(tmp_path / "labels.idx", array, compress=True)
    np.testing.assert_array_equal(read_idx(path), array)


def test_write_idx_rejects_unsupported_dtypes(tmp_path):
    with pytest.raises(TypeError, match="IDX stores"):
        write_idx(tmp_path / "x.idx", np.zeros(3, dtype=np.int64))


def raw_idx(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    buffer.write(bytes([0, 0, 0x08, array.ndim]))
    for n in array.shape:
        buffer.write(int(n).to_bytes(4, "big"))
    buffer.write(array.tobytes())
    return buffer.getvalue()


@pytest.mark.parametrize(
    "content, match",
    [
        (raw_idx(np.zeros((3, 28, 28), np.uint8))[:-100], "truncated, shape \\(3, 28, 28\\) needs 2,352 bytes of data, found 2,252"),
        (raw_idx(np.zeros((3, 28, 28), np.uint8))[:10], "truncated IDX header"),
        (raw_idx(np.zeros(5, np.uint8)) + b"\x00", "1 unexpected bytes"),
        (b"\x00\x00\x08", "too short"),
        (b"PK\x03\x04" + bytes(100), "bad IDX magic"),
        (b"\x00\x00\x07\x01" + bytes(8), "bad IDX magic"),
        (gzip.compress(raw_idx(np.zeros((3, 28, 28), np.uint8)))[:-30], "corrupt or truncated gzip"),
        (b"\x1f\x8b" + bytes(40), "corrupt or truncated gzip"),
    ],
)
def test_corrupt_or_truncated_files_raise_a_clear_error(tmp_path, content, match):
    path = tmp_path / "broken-idx3-ubyte.gz"
    path.write_bytes(content)
    with pytest.raises(IDXFormatError, match=match) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_official_files_are_known_with_urls_sizes_and_md5s():
    names = {f.name for pair in MNIST_FILES.values() for f in pair}
    assert names == {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}
    for pair in MNIST_FILES.values():
        for remote in pair:
            assert len(remote.md5) == 32 and remote.size > 0
            assert remote.urls[0].startswith("http://yann.lecun.com/exdb/mnist/") and len(remote.urls) >= 2


def test_real_test_split_passes_the_official_checksums(data_root):
    images, labels = load_mnist("test", data_root / "mnist")
    assert images.shape == (10_000, 28, 28) and images.dtype == np.uint8
    assert labels.dtype == np.int64 and labels[:5].tolist() == [7, 2, 1, 0, 4]
    assert np.bincount(labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.mark.parametrize("subfolder", ["", "mnist"])
def test_train10k_stands_in_for_the_training_split(data_root, subfolder):
    root = data_root / subfolder if subfolder else data_root  # the data root or its mnist/ folder
    images_file, labels_file = resolve_mnist_files("train", root)
    assert images_file.name == "train10k-images-idx3-ubyte.gz" and labels_file.name == "train10k-labels-idx1-ubyte.gz"
    images, labels = load_mnist("train", root)
    assert images.shape == (10_000, 28, 28)
    assert np.bincount(labels).tolist() == [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]  # as its README says


def test_a_file_failing_its_checksum_is_refused(data_root, tmp_path):
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(data_root / "mnist" / name, tmp_path / name)
    labels = tmp_path / "t10k-labels-idx1-ubyte.gz"
    content = bytearray(labels.read_bytes())
    content[-1] ^= 0xFF  # same size, different bytes
    labels.write_bytes(bytes(content))
    with pytest.raises(DatasetNotFoundError, match="md5") as info:
        load_mnist("test", tmp_path)
    assert "t10k-labels-idx1-ubyte.gz" in str(info.value) and str(tmp_path) in str(info.value)


def test_missing_files_name_what_is_needed_and_where(tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        load_mnist("train", tmp_path)
    message = str(info.value)
    assert str(tmp_path / "mnist") in message
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "train10k-images-idx3-ubyte.gz"):
        assert name in message
    assert "https://" in message and "download=True" in message


def test_download_fetches_verifies_and_renames(data_root, tmp_path, monkeypatch):
    served = []

    def fake_urlopen(url, timeout):
        served.append(url)
        return open(data_root / "mnist" / url.rsplit("/", 1)[1], "rb")

    monkeypatch.setattr(download.urllib.request, "urlopen", fake_urlopen)
    images, labels = load_mnist("test", tmp_path, download=True)
    assert images.shape == (10_000, 28, 28) and len(served) == 2
    assert sorted(p.name for p in (tmp_path / "mnist").iterdir()) == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


def test_explicit_files_by_pair_or_by_split(tmp_path):
    digits = np.random.default_rng(0).integers(0, 256, (7, 28, 28), dtype=np.uint8)
    classes = np.arange(7, dtype=np.uint8)
    write_idx(tmp_path / "my-images.gz", digits)
    write_idx(tmp_path / "my-labels", classes)
    images, labels = load_mnist("train", files=(tmp_path / "my-images.gz", tmp_path / "my-labels"))
    np.testing.assert_array_equal(images, digits)
    np.testing.assert_array_equal(labels, classes)
    images, _ = load_mnist("test", tmp_path, files={"test": ("my-images.gz", "my-labels")})  # relative to the folder
    np.testing.assert_array_equal(images, digits)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"split": "validation"}, ValueError, "split: expected one of"),
        ({"split": "train", "files": {"val": ("a", "b")}}, ValueError, "keys must be splits"),
        ({"split": "train", "files": "images.gz"}, TypeError, "pair of paths"),
        ({"split": "train", "files": ("nothere-images", "nothere-labels")}, FileNotFoundError, "does not exist"),
    ],
)
def test_bad_arguments(tmp_path, kwargs, error, match):
    with pytest.raises(error, match=match):
        load_mnist(root=tmp_path, **kwargs)


def test_mismatched_image_and_label_files(tmp_path):
    write_idx(tmp_path / "images", np.zeros((4, 28, 28), np.uint8))
    write_idx(tmp_path / "labels", np.zeros(3, np.uint8))
    write_idx(tmp_path / "bad-labels", np.full(4, 12, np.uint8))
    with pytest.raises(IDXFormatError, match="expected 4 labels"):
        load_mnist("train", files=(tmp_path / "images", tmp_path / "labels"))
    with pytest.raises(IDXFormatError, match="0-9"):
        load_mnist("train", files=(tmp_path / "images", tmp_path / "bad-labels"))
