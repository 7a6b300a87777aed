"""Parsing a full-size SVHN train ``digitStruct.mat`` (33,402 images), three ways, in one run.

The file is built in a temporary folder by ``write_digit_struct`` in the official structure (a
struct per image, object references to one compact double per digit and field, label 10 for 0),
from the 33,402 real train rows of ``$SVHNX_DATA/svhn-annotations/boxes.csv.gz`` when present, else
from random numbers with the same length distribution.

(a) ``read_digit_struct``: h5py opens each image's ``bbox`` struct, every name, field and value is
    decoded in bulk from the file's bytes.
(b) The same reader with bulk decoding switched off: h5py's low-level API, one dereference and one
    read per value (the reader's fallback path).
(c) The usual way: high-level h5py, ``f[ref][...]`` for every value. It is timed on the first
    ``NAIVE_IMAGES`` images and extrapolated to the whole file (recorded as such).

Writes ``benchmarks/results/digit_struct.json``.
"""

from __future__ import annotations

import csv
import gzip
import os
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import h5py
import numpy as np

from benchmarks.record import print_table, save_result
from svhnx.data import svhn_digit_struct
from svhnx.data.svhn_digit_struct import DigitStructEntry, read_digit_struct, write_digit_struct

TRAIN_IMAGES = 33402
# Number lengths of the train split (from boxes.csv.gz): used when the annotations are absent.
TRAIN_LENGTHS = {1: 5137, 2: 18130, 3: 8691, 4: 1434, 5: 9, 6: 1}
NAIVE_IMAGES = 2000
REPEATS = 3


def train_entries() -> tuple[list[DigitStructEntry], str]:
    """The train split's entries from ``boxes.csv.gz`` if present, else random ones like them."""
    path = Path(os.environ.get("SVHNX_DATA", ""), "svhn-annotations", "boxes.csv.gz")
    if path.is_file():
        rows = defaultdict(list)
        with gzip.open(path, "rt") as f:
            for row in csv.DictReader(f):
                if row["split"] == "train":
                    rows[row["image"]].append(row)
        entries = []
        for name, digits in rows.items():
            digits.sort(key=lambda r: int(r["digit"]))
            labels = np.array([int(r["label"]) % 10 for r in digits])
            boxes = np.array([[float(r[k]) for k in ("left", "top", "width", "height")] for r in digits], np.float32)
            entries.append(DigitStructEntry(name, labels, boxes))
        return entries, "real train rows of boxes.csv.gz"
    rng = np.random.default_rng(0)
    lengths = rng.permutation(np.repeat(list(TRAIN_LENGTHS), list(TRAIN_LENGTHS.values())))
    entries = [
        DigitStructEntry(f"{i + 1}.png", rng.integers(0, 10, n), rng.integers(1, 200, (n, 4)).astype(np.float32))
        for i, n in enumerate(lengths)
    ]
    return entries, "random numbers with the train length distribution"


def read_naive(path: Path, limit: int) -> list[tuple[str, dict[str, list[float]]]]:
    """The usual high-level h5py reading: one ``f[...]`` call per value, for the first ``limit`` images."""
    out = []
    with h5py.File(path, "r") as f:
        names, bboxes = f["digitStruct/name"], f["digitStruct/bbox"]
        for i in range(limit):
            name = "".join(chr(c[0]) for c in f[names[i][0]])
            box = f[bboxes[i][0]]
            fields = {}
            for key in ("label", "left", "top", "width", "height"):
                values = box[key]
                if values.shape[0] == 1:
                    fields[key] = [float(values[0][0])]
                else:
                    fields[key] = [float(f[values[j][0]][0][0]) for j in range(values.shape[0])]
            out.append((name, fields))
    return out


def h5py_only() -> mock._patch:
    """Switch the reader's bulk decoding off: every entry takes the h5py path."""
    nothing = lambda data, addresses, base=0: tuple(np.zeros(np.asarray(addresses).size, np.int64) for _ in range(3))  # noqa: E731
    return mock.patch.object(svhn_digit_struct, "decode_compact", nothing)


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def same(a: list[DigitStructEntry], b: list[DigitStructEntry]) -> bool:
    return len(a) == len(b) and all(
        x.name == y.name and np.array_equal(x.labels, y.labels) and np.array_equal(x.boxes, y.boxes) for x, y in zip(a, b)
    )


def main() -> None:
    load = os.getloadavg()[0]  # other work on the machine slows every method alike
    entries, source = train_entries()
    digits = sum(len(e) for e in entries)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "digitStruct.mat"
        write_s, _ = timed(lambda: write_digit_struct(path, entries))
        file_mb = path.stat().st_size / 1e6
        print(f"built {path.name}: {len(entries):,} images, {digits:,} digits ({source}), {file_mb:.0f} MB in {write_s:.0f} s")

        bulk_times = []
        for _ in range(REPEATS):
            seconds, parsed = timed(lambda: read_digit_struct(path))
            bulk_times.append(seconds)
            assert same(parsed, entries), "bulk parse differs from the entries written"
        with h5py_only():
            h5py_s, parsed = timed(lambda: read_digit_struct(path))
        assert same(parsed, entries), "h5py-only parse differs from the entries written"
        naive_part_s, naive = timed(lambda: read_naive(path, NAIVE_IMAGES))
        assert [n for n, _ in naive] == [e.name for e in entries[:NAIVE_IMAGES]]
        naive_s = naive_part_s * len(entries) / NAIVE_IMAGES

    bulk_s = min(bulk_times)
    rows = [
        {"method": "read_digit_struct (bulk)", "seconds": bulk_s, "images/s": len(entries) / bulk_s, "vs naive": naive_s / bulk_s},
        {"method": "read_digit_struct, h5py only", "seconds": h5py_s, "images/s": len(entries) / h5py_s, "vs naive": naive_s / h5py_s},
        {"method": f"naive f[ref] per value (x{len(entries) / NAIVE_IMAGES:.1f} from {NAIVE_IMAGES})", "seconds": naive_s,
         "images/s": len(entries) / naive_s, "vs naive": 1.0},
    ]
    print_table(f"Parse a full-size train digitStruct.mat ({len(entries):,} images, {file_mb:.0f} MB)", rows,
                ["method", "seconds", "images/s", "vs naive"])
    path = save_result("digit_struct", {
        "file": {"images": len(entries), "digits": digits, "megabytes": round(file_mb, 1), "content": source,
                 "write_seconds": round(write_s, 2)},
        "bulk_seconds": round(bulk_s, 3),
        "bulk_seconds_all_repeats": [round(t, 3) for t in bulk_times],
        "h5py_only_seconds": round(h5py_s, 3),
        "naive_seconds_extrapolated": round(naive_s, 2),
        "naive_measured": {"images": NAIVE_IMAGES, "seconds": round(naive_part_s, 3)},
        "speedup_bulk_vs_naive": round(naive_s / bulk_s, 1),
        "speedup_bulk_vs_h5py_only": round(h5py_s / bulk_s, 1),
        "load_average_1min_at_start": round(load, 2),
    })
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
