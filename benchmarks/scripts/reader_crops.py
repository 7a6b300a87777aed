"""The whole-photo reader on small real photos: each of the 1,000 real SVHN number crops of
``svhn-real`` (64 x 64, the number's union box grown by 30%) read as a photo of its own.

    OMP_WAIT_POLICY=PASSIVE python -m benchmarks.scripts.reader_crops [--localizer RUN]
        [--recognizer RUN [RUN ...]] [--numbers FILE] [--name NAME]

A photo this small is looked at once, at 64 px (the first pass drops the larger scales, and no retry
fits), so the figures measure the localizer on real pixels where the sample photo ``test/3.png`` is
read. A reading is right when it is the crop's number; box IoU is against the union of its digit
boxes (about the centre 49 x 49 of every crop, since the crop is that box grown by 30%: a box around
the digits' ink scores less). Rejections are counted by their reason, and the recognizer's reading
of the true box (the same crop rule and rejections, :meth:`svhnx.inference.reader.Reader.read_box`)
shows what finding the number costs. Scored on all crops and on those less than 30% filled in (the
rest have streaked margins; ``svhn-real``'s README). A look for development, like the dev set it
reads: not a test figure, and no threshold is chosen on it. One thread; the localizer in float32.
Writes ``benchmarks/results/NAME.json`` (default ``reader_crops``) with every crop's outcome
(``outcomes``, one letter per crop under the reader's close looks), so that two localizers can be
compared crop by crop (:mod:`benchmarks.scripts.compare_readers`).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from benchmarks.reader_models import add_model_arguments, add_recognizer_precision_argument, described, load_localizer, load_recognizer
from benchmarks.record import print_table, save_result
from benchmarks.scripts.reader_scenes import outcomes
from svhnx.data.download import default_root
from svhnx.evaluate.real import UNCOVERED_LIMIT, RealNumbers, load_numbers
from svhnx.inference.reader import Reader, Reading
from svhnx.labels import target_to_string
from svhnx.metrics.segmentation import box_iou
from svhnx.ops import union_boxes

NUMBERS = "svhn-real/test-numbers-dev.npz"


def truths(numbers: RealNumbers) -> list[tuple[str, np.ndarray]]:
    """Each crop's number and the union box of its digits, in the 64 x 64 frame."""
    if numbers.boxes is None:
        raise ValueError("the numbers file has no digit boxes")
    return [(target_to_string(digits), union_boxes(boxes[:length], np.array([length]))[0])
            for digits, boxes, length in zip(numbers.digits, numbers.boxes, numbers.lengths.tolist())]


def score(readings: list[Reading], truth: list[tuple[str, np.ndarray]], keep: np.ndarray) -> dict[str, Any]:
    """Right / wrong / rejected shares and the mean box IoU of the ``readings`` where ``keep`` is set."""
    right = np.array([r.number == number for r, (number, _) in zip(readings, truth)])
    wrong = np.array([r.number not in (None, number) for r, (number, _) in zip(readings, truth)])
    iou = np.array([float(box_iou(np.array(r.box, np.float32), box)) if r.box is not None else 0.0
                    for r, (_, box) in zip(readings, truth)])
    return {
        "crops": int(keep.sum()),
        "right": round(float(right[keep].mean()), 4),
        "wrong": round(float(wrong[keep].mean()), 4),
        "rejected": round(float(1 - right[keep].mean() - wrong[keep].mean()), 4),
        "box_iou": round(float(iou[keep].mean()), 4),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scripts.reader_crops", description=__doc__.split("\n\n")[0])
    add_model_arguments(parser)
    parser.add_argument("--numbers", type=Path, default=None, help=f"a numbers file (default: $SVHNX_DATA/{NUMBERS})")
    add_recognizer_precision_argument(parser)
    parser.add_argument("--name", default="reader_crops", help="the result file, benchmarks/results/NAME.json (default: %(default)s)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    path = args.numbers or default_root() / NUMBERS
    try:
        numbers = load_numbers(path)
        truth = truths(numbers)
    except (OSError, ValueError) as error:  # a missing or malformed numbers file
        parser.error(f"{type(error).__name__}: {error}")
    load_before = os.getloadavg()
    reader = Reader(load_localizer(args.localizer), load_recognizer(args.recognizer), precision="float32", recognizer_precision=args.recognizer_precision)
    start = time.process_time()
    readings = [reader.read(image) for image in numbers.images]
    seconds = (time.process_time() - start) / len(readings)
    everything = np.ones(len(readings), dtype=bool)
    rows = [{"crops_kept": "all", **score(readings, truth, everything)}]
    if numbers.uncovered is not None:
        rows.append({"crops_kept": f"uncovered < {UNCOVERED_LIMIT}", **score(readings, truth, numbers.uncovered < UNCOVERED_LIMIT)})
    rows[0]["cpu_s_per_photo"] = round(seconds, 4)
    rows[0]["rejected_by_reason"] = dict(Counter(r.rejected for r in readings if r.rejected is not None).most_common())
    results = {
        "photos": {"numbers": str(path), "count": len(readings)},
        "localizer": described(args.localizer),
        "recognizer": described(args.recognizer),
        "min_confidence": reader.min_confidence,
        "recognizer_precision": reader.recognizer_precision,
        "rows": rows,
        "true_box_read_right": round(float(np.mean([reader.read_box(image, box).number == number
                                                    for image, (number, box) in zip(numbers.images, truth)])), 4),
        "outcomes": {str(reader.close_looks): outcomes(readings, truth)},
        "load_average_1_5_15_min": {"start": [round(x, 2) for x in load_before], "end": [round(x, 2) for x in os.getloadavg()]},
    }
    command = ["python", "-m", "benchmarks.scripts.reader_crops", *(argv if argv is not None else sys.argv[1:])]
    saved = save_result(args.name, results, command=command)
    print_table("Whole-photo reader on real SVHN number crops read as 64 x 64 photos", rows,
                ["crops_kept", "crops", "right", "wrong", "rejected", "box_iou"])
    print(f"recognizer alone, in the true box: {results['true_box_read_right']:.1%} right")
    print(f"wrote {saved}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
