"""SVHN format 1 to recognizer crops, once: one HDF5 file per split.

Every image is decoded once (threads), its digit boxes' union is grown by 30% about its centre and
clipped to the image, and that box is cropped and resized to 64 x 64 by the native ops
(:func:`svhnx.ops.union_boxes`, :func:`~svhnx.ops.expand_boxes`, :func:`~svhnx.ops.crop_resize`).

The file (``h5py``) holds, one row per image in ``digitStruct.mat`` order:

* ``images`` ``uint8 [N, 64, 64, 3]`` (RGB), ``digits`` ``int64 [N, 5]`` (left-aligned, 10 = blank),
  ``lengths`` ``int64 [N]`` (6 = more than five digits), ``image_sizes`` ``int64 [N, 2]``
  (height, width), ``number_boxes`` and ``crop_boxes`` ``float32 [N, 4]`` (the union box and the
  expanded box that was cropped), ``names`` (file names);
* ``digit_boxes`` ``float32 [M, 4]`` with ``digit_counts`` ``int64 [N]`` (the boxes of image ``i``
  follow those of the images before it).

Its ``source`` attribute fingerprints the inputs (``digitStruct.mat``, the images, the crop
parameters); :func:`preprocess_split` rebuilds the file only when that changes.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
from tqdm.auto import tqdm

from svhnx.atomic import atomic_path
from svhnx.data.svhn import ANNOTATIONS, split_entries
from svhnx.data.svhn_digit_struct import DigitStructEntry
from svhnx.image_file import load_image
from svhnx.labels import MAX_DIGITS, number_to_target
from svhnx.ops import crop_resize, union_boxes
from svhnx.ops.crop_rule import CROP_SIDE, CROP_SIZE, GROWTH, grown_boxes

FORMAT = 1
CHUNK = 512  # images decoded and cropped together


@dataclass(frozen=True)
class SvhnCrops:
    """A preprocessed split in memory (see the module docstring for the fields)."""

    images: np.ndarray
    digits: np.ndarray
    lengths: np.ndarray
    names: list[str]

    def __len__(self) -> int:
        return len(self.images)

    @classmethod
    def join(cls, parts: Sequence[SvhnCrops]) -> SvhnCrops:
        """Several sets of crops as one (e.g. train and extra), in order."""
        return cls(
            np.concatenate([p.images for p in parts]),
            np.concatenate([p.digits for p in parts]),
            np.concatenate([p.lengths for p in parts]),
            [name for p in parts for name in p.names],
        )


def preprocess_split(
    split_dir: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    strict: bool = False,
    threads: int | None = None,
    progress: bool = True,
) -> Path:
    """Write (or reuse, when up to date) the crops file of a split folder at ``output``.

    Entries whose image is missing are skipped with a warning (``strict=True``: an error); see
    :func:`svhnx.data.svhn.split_entries`. The file is written to a temporary name and renamed.
    """
    split_dir, output = Path(split_dir), Path(output)
    entries = split_entries(split_dir, strict=strict)
    if not entries:
        raise ValueError(f"{split_dir}: no annotated image found")
    fingerprint = source_fingerprint(split_dir, entries)
    if output.is_file() and stored_fingerprint(output) == fingerprint:
        return output
    workers = threads or os.cpu_count() or 1
    with atomic_path(output) as tmp, h5py.File(tmp, "w") as f, ThreadPoolExecutor(workers) as pool:
        _write(f, split_dir, entries, pool, threads, progress)
        f.attrs["source"] = fingerprint
    return output


def source_fingerprint(split_dir: Path, entries: Sequence[DigitStructEntry]) -> str:
    """A digest of what the crops depend on: the format and crop parameters, ``digitStruct.mat``'s
    size and time, and every image's name, size and time."""
    digest = hashlib.sha256(json.dumps({"format": FORMAT, "crop": CROP_SIDE, "expand": GROWTH}).encode())
    for path in [split_dir / ANNOTATIONS, *(split_dir / e.name for e in entries)]:
        stat = path.stat()
        digest.update(f"{path.name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def stored_fingerprint(path: Path) -> str | None:
    """The ``source`` attribute of a crops file, or ``None`` if it is unreadable or has none."""
    try:
        with h5py.File(path, "r") as f:
            value = f.attrs.get("source")
    except OSError:
        return None
    return value.decode() if isinstance(value, bytes) else value


def _write(f: h5py.File, split_dir: Path, entries: Sequence[DigitStructEntry], pool: ThreadPoolExecutor,
           threads: int | None, progress: bool) -> None:
    n = len(entries)
    counts = np.array([len(e) for e in entries], dtype=np.int64)
    digit_boxes = np.concatenate([e.boxes for e in entries]).astype(np.float32)
    targets = [number_to_target(e.labels) for e in entries]
    f.create_dataset("digits", data=np.stack([t[0] for t in targets]))
    f.create_dataset("lengths", data=np.array([t[1] for t in targets], dtype=np.int64))
    f.create_dataset("digit_boxes", data=digit_boxes)
    f.create_dataset("digit_counts", data=counts)
    f.create_dataset("names", data=[e.name for e in entries], dtype=h5py.string_dtype())
    images = f.create_dataset("images", (n, *CROP_SIZE, 3), dtype=np.uint8, chunks=(min(n, 256), *CROP_SIZE, 3))
    sizes = f.create_dataset("image_sizes", (n, 2), dtype=np.int64)
    number_boxes = f.create_dataset("number_boxes", (n, 4), dtype=np.float32)
    crop_boxes = f.create_dataset("crop_boxes", (n, 4), dtype=np.float32)
    starts = np.concatenate([[0], np.cumsum(counts)])
    with tqdm(total=n, unit="img", desc=f"crops {split_dir.name}", disable=not progress) as bar:
        for a in range(0, n, CHUNK):
            b = min(n, a + CHUNK)
            decoded = list(pool.map(load_image, [split_dir / e.name for e in entries[a:b]]))
            shape = np.array([image.shape[:2] for image in decoded], dtype=np.int64)
            union = union_boxes(digit_boxes[starts[a] : starts[b]], counts[a:b], threads=threads)
            try:
                expanded = grown_boxes(union, shape, threads=threads)
            except ValueError as exc:
                raise ValueError(f"{split_dir}: a number box of images {entries[a].name} to {entries[b - 1].name}: {exc}") from exc
            images[a:b] = crop_resize(decoded, expanded, CROP_SIZE, threads=threads)
            sizes[a:b], number_boxes[a:b], crop_boxes[a:b] = shape, union, expanded
            bar.update(b - a)


def load_crops(path: str | os.PathLike[str], indices: np.ndarray | None = None) -> SvhnCrops:
    """A crops file (all of it, or the rows ``indices``) in memory."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"SVHN crops file not found: {path} (run the preprocessing first)")
    with h5py.File(path, "r") as f:
        missing = {"images", "digits", "lengths", "names"} - set(f)
        if missing:
            raise ValueError(f"{path}: not an SVHN crops file (no {', '.join(sorted(missing))})")
        rows = slice(None) if indices is None else np.sort(np.asarray(indices, dtype=np.int64))
        images, digits, lengths = f["images"][rows], f["digits"][rows], f["lengths"][rows]
        names = [n.decode() if isinstance(n, bytes) else n for n in f["names"][rows]]
    if images.shape[1:] != (*CROP_SIZE, 3) or digits.shape[1:] != (MAX_DIGITS,):
        raise ValueError(f"{path}: unexpected shapes {images.shape}, {digits.shape}")
    return SvhnCrops(images, digits, lengths, names)


@dataclass
class CropGeometry:
    """Where the crops of a file (some rows of it) came from: ``images`` ``uint8 [N, 64, 64, 3]``,
    ``image_sizes`` ``int64 [N, 2]``, ``crop_boxes`` ``float32 [N, 4]`` (the grown number boxes
    cut out) and each row's digit boxes (``digit_boxes`` ``float32 [M, 4]``, ``digit_counts`` ``[N]``)."""

    images: np.ndarray
    image_sizes: np.ndarray
    crop_boxes: np.ndarray
    digit_boxes: np.ndarray
    digit_counts: np.ndarray


def load_crop_geometry(path: str | os.PathLike[str], rows: np.ndarray) -> CropGeometry:
    """The crops of ``rows`` (read in sorted order) of a crops file, with the boxes they were cut from."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"SVHN crops file not found: {path} (run the preprocessing first)")
    with h5py.File(path, "r") as f:
        missing = {"images", "image_sizes", "crop_boxes", "digit_boxes", "digit_counts"} - set(f)
        if missing:
            raise ValueError(f"{path}: not an SVHN crops file (no {', '.join(sorted(missing))})")
        rows = np.sort(np.asarray(rows, dtype=np.int64))
        images = f["images"][rows]
        sizes, crop_boxes = f["image_sizes"][:], f["crop_boxes"][:]
        digit_boxes, counts = f["digit_boxes"][:], f["digit_counts"][:]
    offsets = np.concatenate([[0], np.cumsum(counts)])
    boxes = np.concatenate([digit_boxes[offsets[r] : offsets[r + 1]] for r in rows]) if len(rows) else digit_boxes[:0]
    return CropGeometry(images, sizes[rows], crop_boxes[rows], boxes, counts[rows])


def count_crops(path: str | os.PathLike[str]) -> int:
    """How many images a crops file holds."""
    with h5py.File(path, "r") as f:
        return int(f["images"].shape[0])


def train_validation_split(count: int, validation_fraction: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic split of ``count`` rows: ``(train, validation)`` sorted index arrays, the
    validation part a seeded random ``validation_fraction`` of them (rounded)."""
    if not 0.0 < validation_fraction < 1.0:
        raise ValueError(f"validation_fraction: expected a fraction in (0, 1), got {validation_fraction}")
    order = np.random.default_rng(seed).permutation(count)
    held_out = int(round(count * validation_fraction))
    return np.sort(order[held_out:]), np.sort(order[:held_out])

