"""MNIST digits: the IDX file format and the four official files.

``load_mnist("train")`` / ``load_mnist("test")`` return ``(images uint8[N, 28, 28], labels int64[N])``.
Files are looked up in ``<root>/mnist`` (or in ``root`` itself when it already holds MNIST files),
verified by size and md5, and downloaded only when ``download=True``. Where the official training
files are absent, the ``train10k-*`` files of the shared test data (10,000 real training digits,
see ``../shared/data/mnist/README.md``) stand in for the training split; any other IDX files can be
named explicitly with ``files=``.
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Union

import numpy as np

from svhnx.atomic import atomic_path
from svhnx.data.download import DatasetNotFoundError, RemoteFile, default_root, ensure_file, manual_steps, verify

__all__ = [
    "IDXFormatError",
    "MNIST_FILES",
    "TRAIN10K_FILES",
    "SPLITS",
    "load_mnist",
    "mnist_directory",
    "read_idx",
    "resolve_mnist_files",
    "write_idx",
]

PathLike = Union[str, "os.PathLike[str]"]
FilePair = tuple[PathLike, PathLike]

SPLITS = ("train", "test")
OFFICIAL_URL = "http://yann.lecun.com/exdb/mnist/"
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)


def _official(name: str, size: int, md5: str) -> RemoteFile:
    return RemoteFile(name, tuple(base + name for base in (OFFICIAL_URL, *MIRRORS)), size, md5)


#: The four files of the original distribution, per split: ``(images, labels)``.
MNIST_FILES: dict[str, tuple[RemoteFile, RemoteFile]] = {
    "train": (
        _official("train-images-idx3-ubyte.gz", 9_912_422, "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        _official("train-labels-idx1-ubyte.gz", 28_881, "d53e105ee54ea40749a09fcbcd1e9432"),
    ),
    "test": (
        _official("t10k-images-idx3-ubyte.gz", 1_648_877, "9fb629c4189551a2d022fa330f9573f3"),
        _official("t10k-labels-idx1-ubyte.gz", 4_542, "ec29112dd5afa0611ce80d1b7f02629c"),
    ),
}

#: The stand-in for the training split in the shared data folder: 10,000 real training digits.
#: Not published anywhere (no URLs); verified like the official files when found.
TRAIN10K_FILES: tuple[RemoteFile, RemoteFile] = (
    RemoteFile("train10k-images-idx3-ubyte.gz", (), 1_613_780, "ca67a6efb550ad2889029c2157eb9160"),
    RemoteFile("train10k-labels-idx1-ubyte.gz", (), 5_130, "ee7628099a46f4e0b9a06bd208df026d"),
)

# IDX type codes (third byte of the magic number) and their big-endian numpy dtypes.
_IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


class IDXFormatError(ValueError):
    """A file is not a well-formed IDX file (wrong magic, truncated, or trailing bytes)."""


def _read_bytes(path: Path) -> bytes:
    """The file's content, gunzipped when it starts with the gzip magic (whatever its name)."""
    with open(path, "rb") as f:
        raw = f.read()
    if not raw.startswith(_GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise IDXFormatError(f"{path}: corrupt or truncated gzip stream ({exc})") from None


def read_idx(path: PathLike) -> np.ndarray:
    """Read an IDX file (gzip-compressed or raw) into a native-endian array.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        IDXFormatError: the content is not an IDX file or its size disagrees with its header.
    """
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise IDXFormatError(f"{path}: {len(data)} bytes is too short for an IDX header")
    zero, code, ndim = int.from_bytes(data[:2], "big"), data[2], data[3]
    if zero != 0 or code not in _IDX_DTYPES:
        raise IDXFormatError(f"{path}: bad IDX magic number 0x{data[:4].hex()} (not an IDX file)")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IDXFormatError(f"{path}: truncated IDX header ({len(data)} bytes, {ndim} dimensions need {header})")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = _IDX_DTYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    found = len(data) - header
    if found < expected:
        raise IDXFormatError(f"{path}: truncated, shape {shape} needs {expected:,} bytes of data, found {found:,}")
    if found > expected:
        raise IDXFormatError(f"{path}: {found - expected:,} unexpected bytes after the data of shape {shape}")
    array = np.frombuffer(data, dtype=dtype, count=expected // dtype.itemsize, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def write_idx(path: PathLike, array: np.ndarray, *, compress: bool | None = None) -> Path:
    """Write ``array`` as an IDX file, atomically; gzip it when ``compress`` (default: name ends ``.gz``)."""
    path = Path(path)
    array = np.asarray(array)
    codes = {dtype.newbyteorder("="): code for code, dtype in _IDX_DTYPES.items()}
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        raise TypeError(f"array: IDX stores uint8, int8, int16, int32, float32 or float64, got {array.dtype}")
    if array.ndim > 255:
        raise ValueError(f"array: IDX allows at most 255 dimensions, got {array.ndim}")
    header = bytes([0, 0, codes[native], array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    content = header + np.ascontiguousarray(array, dtype=_IDX_DTYPES[codes[native]]).tobytes()
    if compress if compress is not None else path.name.endswith(".gz"):
        content = gzip.compress(content, mtime=0)
    with atomic_path(path) as tmp:
        tmp.write_bytes(content)
    return path


def mnist_directory(root: PathLike | None = None) -> Path:
    """The folder holding the MNIST files: ``root`` itself if it already holds any, else ``root/mnist``."""
    root = Path(root).expanduser() if root is not None else default_root()
    known = [f.name for pair in (*MNIST_FILES.values(), TRAIN10K_FILES) for f in pair]
    if any((root / name).exists() for name in known):
        return root
    return root / "mnist"


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"split: expected one of {SPLITS}, got {split!r}")


def _explicit_pair(split: str, files: FilePair | Mapping[str, FilePair], directory: Path) -> tuple[Path, Path] | None:
    """The ``(images, labels)`` paths ``files`` names for ``split``, relative ones under ``directory``
    (``Path()``, the working directory, when no root was given)."""
    if isinstance(files, Mapping):
        unknown = set(files) - set(SPLITS)
        if unknown:
            raise ValueError(f"files: keys must be splits {SPLITS}, got {sorted(unknown)}")
        if split not in files:
            return None
        pair = files[split]
    else:
        pair = files
    if isinstance(pair, (str, os.PathLike)) or len(pair) != 2:
        raise TypeError(f"files: expected an (images, labels) pair of paths for split {split!r}, got {pair!r}")
    paths = tuple(directory / Path(p).expanduser() for p in pair)
    for p in paths:
        if not p.is_file():
            raise FileNotFoundError(f"files[{split!r}]: {p} does not exist")
    return paths  # type: ignore[return-value]


def resolve_mnist_files(
    split: str,
    root: PathLike | None = None,
    *,
    download: bool = False,
    files: FilePair | Mapping[str, FilePair] | None = None,
) -> tuple[Path, Path]:
    """The verified ``(images, labels)`` files of ``split``; see :func:`load_mnist` for the lookup order."""
    _check_split(split)
    if files is not None:
        explicit = _explicit_pair(split, files, Path(root).expanduser() if root is not None else Path())
        if explicit is not None:
            return explicit
    directory = mnist_directory(root)
    official = MNIST_FILES[split]
    present = all((directory / f.name).exists() for f in official)
    if split == "train" and not present and not download:
        stand_in = TRAIN10K_FILES
        if all((directory / f.name).exists() for f in stand_in):
            for f in stand_in:
                problem = verify(directory / f.name, f)
                if problem is not None:
                    raise DatasetNotFoundError(problem)
            return directory / stand_in[0].name, directory / stand_in[1].name
        raise DatasetNotFoundError(
            f"MNIST training files not found in {directory}.\n"
            + manual_steps(official, directory)
            + f"\nor the 10,000-digit stand-ins {stand_in[0].name} and {stand_in[1].name},"
            " or name your own IDX files with files=."
        )
    images = ensure_file(official[0], directory, download_missing=download)
    labels = ensure_file(official[1], directory, download_missing=download)
    return images, labels


def load_mnist(
    split: str,
    root: PathLike | None = None,
    *,
    download: bool = False,
    files: FilePair | Mapping[str, FilePair] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """MNIST digits of ``split`` ("train" or "test") as ``(images uint8[N, 28, 28], labels int64[N])``.

    Lookup order: the pair ``files`` names for this split (``(images, labels)``, or a mapping
    ``{"train": (...), "test": (...)}``; relative paths are taken under ``root``, and these files are
    only checked for format), then the official files in :func:`mnist_directory` (verified
    by size and md5, downloaded first when ``download``), then, for "train" without ``download``,
    the ``train10k-*`` stand-ins. Anything missing raises :class:`DatasetNotFoundError` listing the
    files needed and where to put them.
    """
    image_path, label_path = resolve_mnist_files(split, root, download=download, files=files)
    images, labels = read_idx(image_path), read_idx(label_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise IDXFormatError(f"{image_path}: expected uint8 images N x H x W, got {images.dtype} {images.shape}")
    if labels.ndim != 1 or len(labels) != len(images):
        raise IDXFormatError(f"{label_path}: expected {len(images)} labels for {image_path.name}, got shape {labels.shape}")
    labels = labels.astype(np.int64)
    if len(labels) and (labels.min() < 0 or labels.max() > 9):
        raise IDXFormatError(f"{label_path}: labels must be digit classes 0-9, found {labels.min()}..{labels.max()}")
    return np.ascontiguousarray(images), labels
