"""The whole-photo reader on held-out synthetic SVHN-like scenes: photos the size of SVHN's own,
numbers placed as SVHN's test split places them, read right, read wrong or rejected, by the
photo's long side; with one and with two close looks at the candidates, side by side.

    OMP_WAIT_POLICY=PASSIVE python -m benchmarks.scripts.reader_scenes [--scenes N] [--seed S]
        [--localizer RUN] [--recognizer RUN [RUN ...]] [--close-looks 1 2] [--name NAME]

Scenes: :meth:`svhnx.synth.generator.SceneGenerator.scenes` with the layout statistics (image
sizes, box places and sizes) of SVHN's *test* split, which no training run draws from, on a seed
no training or validation run uses. A reading is right when it is the scene's number; box IoU
is against the union box of its digits; the recognizer's reading of that true box (the same crop
rule and rejections, :meth:`svhnx.inference.reader.Reader.read_box`) shows how much is lost in
finding the number. The numbers whose digits step down (stacked or on a diagonal,
:func:`svhnx.synth.layouts.stepped_numbers`) are also scored apart. One thread, float32, the shipped models unless named. Writes
``benchmarks/results/NAME.json`` (default ``reader_scenes``), with every scene's outcome (``outcomes``:
one letter per scene, by close looks), so that two readers scored on the same stream can be
compared scene by scene (:mod:`benchmarks.scripts.compare_readers`).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

import cv2
import numpy as np
import torch

from benchmarks.reader_models import add_model_arguments, add_recognizer_precision_argument, described, load_localizer, load_recognizer
from benchmarks.record import print_table, save_result
from benchmarks.scripts.reader_synthetic import WRONG_KINDS, wrong_kind
from svhnx.inference.localize import DEFAULT_RETRY_SCALES, READER_SCALES
from svhnx.inference.predict import comma_text, confidence_band, long_sides, retry_long_sides
from svhnx.inference.reader import UNSURE, Reader, Reading
from svhnx.labels import target_to_string
from svhnx.metrics.segmentation import box_iou
from svhnx.ops import union_boxes
from svhnx.synth.generator import SceneBatch, SceneGenerator
from svhnx.synth.layouts import stepped_numbers

SEED = 424242  # a scene stream no training or validation run draws from
#: Buckets of the photos' long side in pixels: name, lowest, highest + 1.
LONG_SIDES = (("< 128", 0, 128), ("128-255", 128, 256), (">= 256", 256, sys.maxsize), ("all", 0, sys.maxsize))
CLOSE_LOOKS = (1, 2)


Truth = tuple[str, np.ndarray]  # a scene's number and the union box of its digits


def truths(scenes: SceneBatch) -> list[Truth]:
    """Each scene's number and the union box of its digits."""
    return [(target_to_string(digits), union_boxes(boxes[:length], np.array([length]))[0])
            for digits, boxes, length in zip(scenes.digits, scenes.boxes, scenes.lengths.tolist())]


def read_scenes(reader: Reader, scenes: SceneBatch) -> tuple[list[Reading], float]:
    """The reader's reading of every scene, and the CPU seconds it took per scene."""
    start = time.process_time()
    readings = [reader.read(image) for image in scenes.images]
    return readings, (time.process_time() - start) / max(len(readings), 1)


def score(readings: list[Reading], seconds: float, scenes: SceneBatch, truth: list[Truth]) -> list[dict[str, Any]]:
    """Right / wrong / rejected shares and the mean box IoU of the scenes' ``readings``, by long side
    and over all scenes; over all scenes also the wrong readings by kind
    (:func:`benchmarks.scripts.reader_synthetic.wrong_kind`) and the ``seconds`` per scene."""
    rows, kinds = [], []
    for image, reading, (number, box) in zip(scenes.images, readings, truth):
        iou = float(box_iou(np.array(reading.box, np.float32), box)) if reading.box is not None else 0.0
        wrong = reading.number not in (None, number)
        rows.append((max(image.shape[:2]), reading.number == number, wrong, iou))
        if wrong:
            kinds.append(wrong_kind(number, reading.number))
    table = np.array(rows, dtype=np.float64).reshape(-1, 4)
    out = []
    for name, low, high in LONG_SIDES:
        part = table[(table[:, 0] >= low) & (table[:, 0] < high)]
        if len(part):
            out.append({
                "long_side": name,
                "scenes": len(part),
                "right": round(float(part[:, 1].mean()), 4),
                "wrong": round(float(part[:, 2].mean()), 4),
                "rejected": round(float(1 - part[:, 1].mean() - part[:, 2].mean()), 4),
                "box_iou": round(float(part[:, 3].mean()), 4),
            })
    out[-1]["cpu_s_per_photo"] = round(seconds, 4)
    out[-1]["wrong_by_kind"] = {kind: kinds.count(kind) for kind in WRONG_KINDS}
    return out


def outcomes(readings: list[Reading], truth: list[Truth]) -> str:
    """One letter per scene, in stream order: ``R`` read right, ``W`` read wrong, ``-`` rejected."""
    return "".join("-" if r.number is None else "R" if r.number == number else "W" for r, (number, _) in zip(readings, truth))


def stepped_score(readings: list[Reading], scenes: SceneBatch, truth: list[Truth]) -> dict[str, Any]:
    """Right and wrong shares of the scenes' ``readings`` on those whose number steps down (stacked
    or on a diagonal)."""
    stepped = np.flatnonzero(stepped_numbers(scenes.boxes, scenes.lengths))
    read = [readings[i].number for i in stepped]
    numbers = [truth[i][0] for i in stepped]
    right = sum(r == n for r, n in zip(read, numbers))
    wrong = sum(r not in (None, n) for r, n in zip(read, numbers))
    return {"scenes": len(stepped), "right": round(right / max(len(stepped), 1), 4), "wrong": round(wrong / max(len(stepped), 1), 4)}


def true_box_right(reader: Reader, scenes: SceneBatch, truth: list[Truth]) -> float:
    """Share of scenes the recognizer reads right in their true number box."""
    return round(float(np.mean([reader.read_box(image, box).number == number for image, (number, box) in zip(scenes.images, truth)])), 4)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scripts.reader_scenes", description=__doc__.split("\n\n")[0])
    add_model_arguments(parser)
    parser.add_argument("--scenes", type=int, default=1000, help="scenes to read (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=SEED, help="the scenes' stream (default: %(default)s)")
    parser.add_argument("--close-looks", type=int, nargs="+", default=CLOSE_LOOKS,
                        help="close looks at the candidates, each count scored apart (default: %(default)s)")
    parser.add_argument("--min-confidence", type=float, default=None,
                        help="the reader's threshold (default: the recognizer's calibrated one, else 0.9)")
    parser.add_argument("--unsure", type=confidence_band, default=comma_text(UNSURE), metavar="LOW,HIGH",
                        help="the reader's band of centre-view confidences within which the shifted views are read (default: %(default)s)")
    parser.add_argument("--scales", type=long_sides, default=comma_text(READER_SCALES), help="the first pass's long sides, comma-separated (default: %(default)s)")
    parser.add_argument("--retry-scales", type=retry_long_sides, default=comma_text(DEFAULT_RETRY_SCALES),
                        help="long sides of the retry made on a scene the first pass reads no number in, comma-separated; "
                             "none for no retry (default: %(default)s)")
    add_recognizer_precision_argument(parser)
    parser.add_argument("--name", default="reader_scenes", help="the result file, benchmarks/results/NAME.json (default: %(default)s)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    scenes = SceneGenerator.from_data(split="test").scenes(args.scenes, seed=args.seed)
    truth = truths(scenes)
    load_before = os.getloadavg()
    localizer, recognizer = load_localizer(args.localizer), load_recognizer(args.recognizer)
    shipped = Reader(localizer, recognizer, precision="float32", recognizer_precision=args.recognizer_precision, min_confidence=args.min_confidence,
                     scales=args.scales, retry_scales=args.retry_scales, unsure=args.unsure)
    rows, stepped, letters = [], [], {}
    for looks in args.close_looks:
        reader = Reader(shipped.localizer, shipped.recognizer, precision="float32", recognizer_precision=shipped.recognizer_precision,
                        close_looks=looks, min_confidence=shipped.min_confidence, scales=shipped.scales,
                        retry_scales=shipped.retry_scales, unsure=shipped.unsure)
        readings, seconds = read_scenes(reader, scenes)
        rows += [{"close_looks": looks, **row} for row in score(readings, seconds, scenes, truth)]
        stepped.append({"close_looks": looks, **stepped_score(readings, scenes, truth)})
        letters[str(looks)] = outcomes(readings, truth)
        print(rows[-1], stepped[-1], flush=True)
    results = {
        "scenes": {"seed": args.seed, "count": args.scenes, "layouts": "SVHN test split"},
        "localizer": described(args.localizer),
        "recognizer": described(args.recognizer),
        "min_confidence": shipped.min_confidence,
        "scales": list(shipped.scales),
        "retry_scales": list(shipped.retry_scales),
        "unsure": list(shipped.unsure),
        "recognizer_precision": shipped.recognizer_precision,
        "rows": rows,
        "stepped_numbers": stepped,
        "true_box_read_right": true_box_right(shipped, scenes, truth),
        "outcomes": letters,
        "load_average_1_5_15_min": {"start": [round(x, 2) for x in load_before], "end": [round(x, 2) for x in os.getloadavg()]},
    }
    command = ["python", "-m", "benchmarks.scripts.reader_scenes", *(argv if argv is not None else sys.argv[1:])]
    path = save_result(args.name, results, command=command)
    print_table("Whole-photo reader on synthetic SVHN-like scenes", rows, ["close_looks", "long_side", "scenes", "right", "wrong", "rejected", "box_iou"])
    print_table("The same, numbers stacked or on a diagonal", stepped, ["close_looks", "scenes", "right", "wrong"])
    print(f"recognizer alone, in the true box: {results['true_box_read_right']:.1%} right")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
