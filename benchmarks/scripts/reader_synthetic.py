"""The whole-photo reader on held-out synthetic photos: right readings on house fronts with a
number, and wrong readings reported (not rejected) on house fronts without one; with and without
the localizer's length check and the close look at candidates, to show what each adds.

    OMP_WAIT_POLICY=PASSIVE python -m benchmarks.scripts.reader_synthetic --localizer RUN [--recognizer RUN]

The localizer alone (no recognizer needed) is scored too: how often the close look confirms a
candidate, how often its length head says the best one holds no digit (a reading there is always
rejected by the length check, whatever the recognizer reads), and how often that length is right.

Photos: :class:`svhnx.synth.photos.PhotoGenerator` on a seed no training or validation run draws
from, ``--with-number`` photos with a number (right when the reading is the number; box IoU with
the union box of its digits) and ``--number-free`` photos without one (every accepted reading is
wrong). One thread, float32. Writes ``benchmarks/results/reader_synthetic.json``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from benchmarks.record import print_table, save_result
from svhnx.inference.backends import load_model
from svhnx.inference.reader import Reader
from svhnx.metrics.segmentation import box_iou
from svhnx.ops import union_boxes
from svhnx.synth.photos import Photo, PhotoGenerator

SEED = 8642  # a photo stream no training or validation run draws from
CONFIGURATIONS = {
    "length check + close look": {"check_length": True, "refine": True},
    "no length check, close look": {"check_length": False, "refine": True},
    "length check, no close look": {"check_length": True, "refine": False},
}


def score(reader: Reader, with_number: list[Photo], number_free: list[Photo]) -> dict[str, Any]:
    """Right/wrong/rejected shares on photos with a number, wrong share on photos without one."""
    right = wrong = 0
    ious = []
    start = time.process_time()
    for photo in with_number:
        reading = reader.read(photo.image)
        right += reading.number == photo.number
        wrong += reading.number is not None and reading.number != photo.number
        truth = union_boxes(photo.boxes, np.array([len(photo.boxes)]))[0]
        ious.append(float(box_iou(np.array(reading.box, np.float32), truth)) if reading.box is not None else 0.0)
    false_readings = sum(reader.read(photo.image).number is not None for photo in number_free)
    photos = len(with_number) + len(number_free)
    return {
        "with_number_right": round(right / max(len(with_number), 1), 4),
        "with_number_wrong": round(wrong / max(len(with_number), 1), 4),
        "with_number_rejected": round(1 - (right + wrong) / max(len(with_number), 1), 4),
        "with_number_box_iou": round(float(np.mean(ious)), 4) if ious else 0.0,
        "number_free_wrong": round(false_readings / max(len(number_free), 1), 4),
        "cpu_s_per_photo": round((time.process_time() - start) / max(photos, 1), 4),
    }


@torch.inference_mode()
def localizer_alone(localizer: torch.nn.Module, with_number: list[Photo], number_free: list[Photo]) -> dict[str, Any]:
    """Shares of photos where the reader's close look confirms a candidate, where the length head
    says the best confirmed one holds no digit, and (with a number) where that length is the true
    one, and the best confirmed candidate's mean box IoU."""
    reader = Reader(localizer, torch.nn.Identity(), precision="float32")  # its first pass and close look only
    out: dict[str, Any] = {}
    for kind, photos in (("with_number", with_number), ("number_free", number_free)):
        found = zero = right = 0
        ious = []
        for photo in photos:
            candidates, lengths = reader.close_look(photo.image, reader.first_pass(photo.image))
            found += bool(candidates)
            zero += bool(candidates) and lengths[0] == 0
            right += bool(candidates) and lengths[0] == min(len(photo.boxes), 6)
            if len(photo.boxes):
                truth = union_boxes(photo.boxes, np.array([len(photo.boxes)]))[0]
                ious.append(float(box_iou(np.array(candidates[0].box, np.float32), truth)) if candidates else 0.0)
        n = max(len(photos), 1)
        out[kind] = {"candidate_confirmed": round(found / n, 4), "length_head_says_none": round(zero / n, 4)}
        if kind == "with_number":
            out[kind]["length_head_right"] = round(right / n, 4)
            out[kind]["box_iou"] = round(float(np.mean(ious)), 4) if ious else 0.0
            out[kind]["box_iou_at_least_0.5"] = round(float(np.mean(np.array(ious) >= 0.5)), 4) if ious else 0.0
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scripts.reader_synthetic", description=__doc__.split("\n\n")[0])
    parser.add_argument("--localizer", type=Path, required=True, help="U-Net localizer checkpoint or run")
    parser.add_argument("--recognizer", type=Path, default=None, help="recognizer checkpoint or run (default: score the localizer alone)")
    parser.add_argument("--with-number", type=int, default=200, help="photos with a number (default: %(default)s)")
    parser.add_argument("--number-free", type=int, default=500, help="photos without a number (default: %(default)s)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    localizer = load_model(args.localizer, role="localizer").to(memory_format=torch.channels_last)
    generator = PhotoGenerator.from_data()
    with_number = generator.photos(args.with_number, seed=SEED, with_number=True)
    number_free = generator.photos(args.number_free, seed=SEED, first=args.with_number, with_number=False)
    load_before = os.getloadavg()
    alone = localizer_alone(localizer, with_number, number_free)
    print("localizer alone:", alone, flush=True)
    rows = []
    if args.recognizer is not None:
        recognizer = load_model(args.recognizer, role="recognizer")
        for name, options in CONFIGURATIONS.items():
            reader = Reader(localizer, recognizer, precision="float32", **options)
            rows.append({"configuration": name, **score(reader, with_number, number_free)})
            print(rows[-1], flush=True)
    results = {
        "photos": {"seed": SEED, "with_number": args.with_number, "number_free": args.number_free, "sides": list(generator.sides)},
        "localizer": str(args.localizer),
        "recognizer": str(args.recognizer) if args.recognizer else None,
        "localizer_alone": alone,
        "rows": rows,
        "load_average_1_5_15_min": {"start": [round(x, 2) for x in load_before], "end": [round(x, 2) for x in os.getloadavg()]},
    }
    command = ["python", "-m", "benchmarks.scripts.reader_synthetic", *(argv if argv is not None else sys.argv[1:])]
    path = save_result("reader_synthetic", results, command=command)
    if rows:
        print_table("Whole-photo reader on synthetic house fronts", rows,
                    ["configuration", "with_number_right", "with_number_wrong", "with_number_box_iou", "number_free_wrong", "cpu_s_per_photo"])
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
