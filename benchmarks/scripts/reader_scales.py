"""The whole-photo reader's first-pass scales (``predict --scales``) on synthetic house fronts:
right, wrong and rejected readings by how large the number is in the photo, wrong readings on
fronts without a number, and CPU seconds per photo, for each set of scales on the same photos.

    OMP_WAIT_POLICY=PASSIVE python -m benchmarks.scripts.reader_scales [--scales 64,128,320 64,128,320,512 64,128,320+512]
        [--with-number 400] [--number-free 200] [--seed 8700] [--mosaic] [--precision float32] [--recognizer-precision float32] [--name NAME]

The shipped models, one thread; photos from :class:`svhnx.synth.photos.PhotoGenerator` on a seed no
training or validation run draws from (600-2000 px a side). ``A+B`` (``64,128,320+512``) is a
first pass at scales ``A`` and, on photos it reads no number in, a retry at ``B`` (``Reader(retry_scales=...)``). A number's size is its union box's
height over the photo's short side (:data:`SIZE_EDGES`). ``--mosaic`` stands for a wider shot of a
street: each photo becomes one quadrant of a 2 x 2 mosaic whose other three are number-free fronts
of the same stream, resized to its size, so its number is half as large in the photo, among more
facade and more text. Writes ``benchmarks/results/NAME.json`` (default ``reader_scales``).
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import cv2
import numpy as np
import torch

from benchmarks.record import print_table, save_result
from benchmarks.scripts.reader_synthetic import photo_sets
from svhnx import pretrained
from svhnx.hardware import PRECISIONS
from svhnx.inference.localize import DEFAULT_RETRY_SCALES, DEFAULT_SCALES, READER_SCALES
from svhnx.inference.predict import comma_text, confidence_band, long_sides
from svhnx.inference.reader import UNSURE, Reader
from svhnx.ops import union_boxes
from svhnx.synth.photos import Photo, PhotoGenerator

SEED = 8700  # a photo stream no training, validation or other benchmark draws from
#: Bucket edges of the number's height over the photo's short side.
SIZE_EDGES = (0.0, 0.03, 0.05, 0.1, 1.0)


def relative_height(photo: Photo) -> float:
    """The number's union box height over the photo's short side."""
    union = union_boxes(photo.boxes, np.array([len(photo.boxes)]))[0]
    return float(union[3]) / min(photo.image.shape[:2])


def mosaic(photo: Photo, others: list[Photo], quadrant: int) -> Photo:
    """``photo`` in ``quadrant`` (0-3, row by row) of a 2 x 2 mosaic of its size twice over, the
    other three quadrants ``others`` resized to its size; its boxes moved with it (the others'
    text is not tracked: they hold no number)."""
    height, width = photo.image.shape[:2]
    cells = [cv2.resize(other.image, (width, height), interpolation=cv2.INTER_AREA) for other in others]
    cells.insert(quadrant, photo.image)
    image = np.vstack([np.hstack(cells[:2]), np.hstack(cells[2:])])
    shift = np.array([width * (quadrant % 2), height * (quadrant // 2), 0, 0], np.float32)
    return Photo(image, photo.boxes + shift, photo.digits, photo.distractors + shift)


def mosaics(photos: list[Photo], generator: PhotoGenerator, seed: int, first: int) -> list[Photo]:
    """Each of ``photos`` in a mosaic with number-free photos ``first ..`` of stream ``seed``, in a
    quadrant drawn from ``seed``."""
    quadrants = np.random.default_rng([seed, 0x5CA1E]).integers(0, 4, len(photos))
    return [mosaic(photo, generator.photos(3, seed=seed, first=first + 3 * i, with_number=False), int(quadrant))
            for i, (photo, quadrant) in enumerate(zip(photos, quadrants))]


def scale_plan(text: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """``A`` or ``A+B`` (comma-separated long sides each) as ``(scales, retry_scales)``."""
    first, _, retry = text.partition("+")
    return long_sides(first), long_sides(retry) if retry else ()


def plan_text(plan: tuple[tuple[int, ...], tuple[int, ...]]) -> str:
    return "+".join(",".join(map(str, part)) for part in plan if part)


def size_label(low: float, high: float) -> str:
    return f"{100 * low:g}-{100 * high:g}%"


def score(reader: Reader, with_number: list[Photo], number_free: list[Photo]) -> dict[str, Any]:
    """Right / wrong / rejected shares by number size and in all, the wrong share on number-free
    photos, and CPU seconds per photo."""
    sizes = np.array([relative_height(photo) for photo in with_number])
    start = time.process_time()
    outcomes = []
    for photo in with_number:
        number = reader.read(photo.image).number
        outcomes.append("rejected" if number is None else "right" if number == photo.number else "wrong")
    false_readings = sum(reader.read(photo.image).number is not None for photo in number_free)
    seconds = (time.process_time() - start) / max(len(with_number) + len(number_free), 1)
    outcome = np.array(outcomes)
    by_size = {}
    for low, high in zip(SIZE_EDGES[:-1], SIZE_EDGES[1:]):
        mine = (sizes >= low) & (sizes < high)
        by_size[size_label(low, high)] = {"photos": int(mine.sum()),
                                          **{kind: round(float((outcome[mine] == kind).mean()), 4) if mine.any() else None
                                             for kind in ("right", "wrong")}}
    return {"right": round(float((outcome == "right").mean()), 4), "wrong": round(float((outcome == "wrong").mean()), 4),
            "number_free_wrong": round(false_readings / max(len(number_free), 1), 4),
            "cpu_s_per_photo": round(seconds, 4), "by_size": by_size}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scripts.reader_scales", description=__doc__.split("\n\n")[0])
    default_sets = [(READER_SCALES, DEFAULT_RETRY_SCALES), (DEFAULT_SCALES, ())]
    parser.add_argument("--scales", type=scale_plan, nargs="+", default=default_sets, metavar="A[+B]",
                        help=f"sets of scales, each comma-separated, +B a retry (default: {' '.join(map(plan_text, default_sets))})")
    parser.add_argument("--with-number", type=int, default=400, help="photos with a number (default: %(default)s)")
    parser.add_argument("--number-free", type=int, default=200, help="photos without a number (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=SEED, help="the photos' stream (default: %(default)s)")
    parser.add_argument("--mosaic", action="store_true", help="read each photo as a quadrant of a 2 x 2 mosaic of fronts (a wider shot)")
    parser.add_argument("--precision", choices=PRECISIONS, default="float32", help="how the localizer computes (default: %(default)s)")
    parser.add_argument("--recognizer-precision", choices=PRECISIONS, default="float32",
                        help="how the recognizers compute (default: %(default)s)")
    parser.add_argument("--unsure", type=confidence_band, default=comma_text(UNSURE), metavar="LOW,HIGH",
                        help="the reader's band of centre-view confidences within which the shifted views are read (default: %(default)s)")
    parser.add_argument("--name", default="reader_scales", help="the result file, benchmarks/results/NAME.json (default: %(default)s)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    localizer, recognizer = pretrained.load("localizer"), pretrained.load_as_one("recognizer")
    generator = PhotoGenerator.from_data()
    with_number, number_free = photo_sets(generator, args.seed, args.with_number, args.number_free)
    if args.mosaic:
        fill = len(with_number) + len(number_free)
        with_number = mosaics(with_number, generator, args.seed, fill)
        number_free = mosaics(number_free, generator, args.seed, fill + 3 * len(with_number))
    load_before = os.getloadavg()
    rows = []
    for scales, retry in args.scales:
        reader = Reader(localizer, recognizer, scales=scales, retry_scales=retry, unsure=args.unsure, precision=args.precision,
                        recognizer_precision=args.recognizer_precision)
        rows.append({"scales": plan_text((scales, retry)), **score(reader, with_number, number_free)})
        print(rows[-1], flush=True)
    table = [{"scales": row["scales"], "size": size, **cell} for row in rows for size, cell in row["by_size"].items()]
    table += [{"scales": row["scales"], "size": "all", "photos": len(with_number), "right": row["right"], "wrong": row["wrong"]} for row in rows]
    results = {"seed": args.seed, "mosaic": args.mosaic, "with_number": len(with_number), "number_free": len(number_free), "precision": args.precision,
               "recognizer_precision": args.recognizer_precision, "unsure": list(args.unsure), "threads": 1, "rows": rows,
               "load_average_1_5_15_min": {"before": [round(x, 2) for x in load_before], "after": [round(x, 2) for x in os.getloadavg()]}}
    path = save_result(args.name, results)
    print_table("reader by first-pass scales, synthetic house fronts", table, ["scales", "size", "photos", "right", "wrong"])
    print_table("number-free fronts and time", rows, ["scales", "number_free_wrong", "cpu_s_per_photo"])
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
