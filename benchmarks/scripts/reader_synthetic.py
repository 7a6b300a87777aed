"""The whole-photo reader on held-out synthetic photos: right readings on house fronts with a
number, and wrong readings reported (not rejected) on house fronts without one; with and without
the localizer's length check and the close looks at candidates (none, one or two), to show what each adds; and a sweep
of the reader's ``min_confidence`` (the rejection threshold).

    OMP_WAIT_POLICY=PASSIVE python -m benchmarks.scripts.reader_synthetic [--localizer RUN] [--recognizer RUN]
        [--seed N] [--confirm-seed M] [--localizer-alone] [--views V] [--precision P] [--recognizer-precision P] [--name NAME]

Without ``--localizer``/``--recognizer`` the models shipped in :mod:`svhnx.pretrained` are scored;
``--localizer-alone`` scores the localizer only (no recognizer needed).

The localizer alone is scored too: how often the close look confirms a
candidate, how often its length head says the best one holds no digit (a reading there is always
rejected by the length check, whatever the recognizer reads), and how often that length is right.

Photos: :class:`svhnx.synth.photos.PhotoGenerator` on a seed no training or validation run draws
from, ``--with-number`` photos with a number (right when the reading is the number; box IoU with
the union box of its digits) and ``--number-free`` photos without one (every accepted reading is
wrong). One thread; the localizer in float32 unless ``--precision`` says otherwise. Writes ``benchmarks/results/NAME.json`` (default ``reader_synthetic``),
with every photo's outcome at the reader's threshold (``outcomes``, by seed) for
:mod:`benchmarks.scripts.compare_readers`.

The sweep: every candidate the default reader (:data:`DEFAULT_CONFIGURATION`) reads in a photo is read
once and its reading kept (number, confidence, whether its length is the length head's); the
reader's rule is then replayed for each threshold of :data:`THRESHOLDS` (:func:`replay`), which
gives exactly what ``Reader(min_confidence=t).read`` reports (checked against the reader's own
readings at its default: photo by photo on every tenth photo, and the whole sweep row against the
default configuration's row). Each row also counts the wrong readings by kind (:func:`wrong_kind`).
``--confirm-seed`` runs the sweep again on the photos of a second seed: choose a threshold on one
seed, confirm it on the other.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from benchmarks.reader_models import add_model_arguments, described, load_localizer, load_recognizer
from benchmarks.record import print_table, save_result
from svhnx import pretrained
from svhnx.hardware import PRECISIONS, resolve_precision
from svhnx.inference.reader import CHECK_LENGTH, RECOGNIZER_PRECISION, Reader
from svhnx.inference.recognize import DEFAULT_VIEWS
from svhnx.metrics.segmentation import box_iou
from svhnx.ops import union_boxes
from svhnx.synth.photos import Photo, PhotoGenerator

SEED = 8642  # a photo stream no training or validation run draws from
THRESHOLDS = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.98)  # min_confidence values of the sweep
CHECK_EVERY = 10  # the sweep checks its replay against Reader.read on every 10th photo
CONFIGURATIONS = {
    "length check + close look": {"check_length": True, "refine": True},
    "no length check, close look": {"check_length": False, "refine": True},
    "length check, no close look": {"check_length": True, "refine": False},
    "no length check, one close look": {"check_length": False, "refine": True, "close_looks": 1},
}
#: The configuration of the default reader: the one the sweep replays and is checked against.
DEFAULT_CONFIGURATION = next(name for name, options in CONFIGURATIONS.items() if options == {"check_length": CHECK_LENGTH, "refine": True})


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
def candidate_readings(reader: Reader, image: np.ndarray, scales: Sequence[int] | None = None) -> list[tuple[str, np.float32, bool]]:
    """What ``reader`` reads in each candidate of a photo, before any rejection: ``(number,
    confidence, length agrees with the length head)``, in the localizer's order (the reader's
    close look, crops and recognizer, as in :meth:`Reader.read`; a reader with the close look),
    its first pass at ``scales`` (default: the reader's)."""
    if not reader.refine:
        raise ValueError("candidate_readings: the lengths come from the close look; use a reader with refine=True")
    candidates, lengths = reader.close_look(image, reader.first_pass(image, scales))
    if not candidates:
        return []
    crops = reader._crops(image, candidates)  # the reader's own 30%-expanded 64 x 64 crops
    numbers, read_lengths, confidences = reader.read_crops(crops)
    lengths = lengths if lengths is not None and reader.check_length else [None] * len(candidates)
    return [(n, c, length is None or length == r) for n, c, r, length in zip(numbers, confidences, read_lengths, lengths)]


def file_sha256(path: Path) -> str | None:
    """The SHA-256 of a model file (``None`` for a run directory): what a calibration checks it was made on."""
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def one_or_list(items: list[Any]) -> Any:
    """One item as itself, several as the list (a single recognizer's result keeps its old form)."""
    return items[0] if len(items) == 1 else items


#: A photo's candidate readings at the first pass, and at the retry (none when no retry scale fits the photo).
PhotoReadings = tuple[list[tuple[str, np.float32, bool]], list[tuple[str, np.float32, bool]]]


def photo_readings(reader: Reader, image: np.ndarray) -> PhotoReadings:
    """:func:`candidate_readings` of the first pass and of the retry :meth:`Reader.read` would make."""
    retry = reader.retry_scales_for(image)
    return candidate_readings(reader, image), candidate_readings(reader, image, retry) if retry else []


def replay(readings: PhotoReadings, min_confidence: float) -> str | None:
    """The number ``Reader.read`` reports with this ``min_confidence``: the first reading of the
    first pass, most confident first, that has digits, is confident enough and agrees with the
    length head; else the same of the retry."""
    for candidates in readings:
        for number, confidence, length_agrees in sorted(candidates, key=lambda r: -r[1]):  # stable, like the reader
            if number and not confidence < min_confidence and length_agrees:
                return number
    return None


#: How a wrong reading differs from the number, in the order :func:`wrong_kind` tries them.
WRONG_KINDS = ("digits_added_after", "digits_added_before", "digits_missing", "other")


def wrong_kind(truth: str, reading: str) -> str:
    """How ``reading`` differs from ``truth`` (they differ): digits added after it (a letter after the
    number read as a digit, ``264a`` as ``2640``), before it, digits missing (a box that cut the number), or other."""
    if reading.startswith(truth):
        return WRONG_KINDS[0]
    if reading.endswith(truth):
        return WRONG_KINDS[1]
    return WRONG_KINDS[2] if reading in truth else WRONG_KINDS[3]


def sweep(
    reader: Reader, with_number: list[Photo], number_free: list[Photo], thresholds: tuple[float, ...]
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """For each threshold, the shares of :func:`score` (less box IoU and time), exactly as the
    reader with that ``min_confidence`` would have them; checked against ``reader.read`` at its own
    on every :data:`CHECK_EVERY`-th photo (and on all photos by :func:`main`, against the default row).
    Also every photo's outcome at the reader's own threshold, one letter a photo in stream order
    (``R`` read right, ``W`` a wrong number or one on a number-free photo, ``-`` nothing reported),
    ``{"with_number": ..., "number_free": ...}``, for :mod:`benchmarks.scripts.compare_readers`."""
    truths = [photo.number for photo in with_number]
    records = []
    for i, photo in enumerate([*with_number, *number_free]):
        records.append(photo_readings(reader, photo.image))
        if i % CHECK_EVERY == 0 and replay(records[-1], reader.min_confidence) != reader.read(photo.image).number:
            raise AssertionError(f"the replay disagrees with Reader.read at min_confidence={reader.min_confidence}")
    rows = []
    n, m = max(len(with_number), 1), max(len(number_free), 1)
    at_own = [replay(r, reader.min_confidence) for r in records]
    for threshold in thresholds:
        numbers = at_own if threshold == reader.min_confidence else [replay(r, threshold) for r in records]
        right = sum(number == truth for number, truth in zip(numbers, truths))
        wrong = [wrong_kind(truth, number) for number, truth in zip(numbers, truths) if number is not None and number != truth]
        rows.append({"min_confidence": threshold, "with_number_right": round(right / n, 4), "with_number_wrong": round(len(wrong) / n, 4),
                     "with_number_rejected": round(1 - (right + len(wrong)) / n, 4),
                     "number_free_wrong": round(sum(number is not None for number in numbers[len(with_number):]) / m, 4),
                     "with_number_wrong_by_kind": {kind: wrong.count(kind) for kind in WRONG_KINDS}})
    letters = ["-" if number is None else "R" if number == truth else "W" for number, truth in zip(at_own, [*truths, *[None] * len(number_free)])]
    return rows, {"with_number": "".join(letters[: len(with_number)]), "number_free": "".join(letters[len(with_number) :])}


def photo_sets(generator: PhotoGenerator, seed: int, with_number: int, number_free: int) -> tuple[list[Photo], list[Photo]]:
    """Photos ``0 .. with_number - 1`` of stream ``seed`` with a number, the next ``number_free`` without."""
    return (generator.photos(with_number, seed=seed, with_number=True),
            generator.photos(number_free, seed=seed, first=with_number, with_number=False))


@torch.inference_mode()
def localizer_alone(localizer: torch.nn.Module, with_number: list[Photo], number_free: list[Photo], precision: str = "float32") -> dict[str, Any]:
    """Shares of photos where the reader's close look confirms a candidate, where the length head
    says the best confirmed one holds no digit, and (with a number) where that length is the true
    one, and the best confirmed candidate's mean box IoU."""
    reader = Reader(localizer, torch.nn.Identity(), precision=precision)  # its first pass and close look only
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
    add_model_arguments(parser)
    parser.add_argument("--localizer-alone", action="store_true", help="score the localizer alone (no recognizer, no sweep)")
    parser.add_argument("--with-number", type=int, default=200, help="photos with a number (default: %(default)s)")
    parser.add_argument("--number-free", type=int, default=500, help="photos without a number (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=SEED, help="the photos' stream (default: %(default)s)")
    parser.add_argument("--confirm-seed", type=int, default=None, help="also sweep the photos of this stream (a second, held-out set)")
    parser.add_argument("--views", type=int, default=DEFAULT_VIEWS, help="views of each crop the recognizer reads (default: %(default)s)")
    parser.add_argument("--recognizer-precision", choices=PRECISIONS, default=RECOGNIZER_PRECISION,
                        help="how the recognizer computes (default: %(default)s)")
    parser.add_argument("--precision", choices=PRECISIONS, default="float32",
                        help="how the localizer computes (default: %(default)s, the same on every CPU)")
    parser.add_argument("--name", default="reader_synthetic", help="the result file, benchmarks/results/NAME.json (default: %(default)s)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    localizer = load_localizer(args.localizer).to(memory_format=torch.channels_last)
    generator = PhotoGenerator.from_data()
    with_number, number_free = photo_sets(generator, args.seed, args.with_number, args.number_free)
    load_before = os.getloadavg()
    alone = localizer_alone(localizer, with_number, number_free, args.precision)
    print("localizer alone:", alone, flush=True)
    rows: list[dict[str, Any]] = []
    sweeps: dict[str, list[dict[str, Any]]] = {}
    outcomes: dict[str, dict[str, str]] = {}
    if not args.localizer_alone:
        recognizer = load_recognizer(args.recognizer)
        for name, options in CONFIGURATIONS.items():
            reader = Reader(localizer, recognizer, precision=args.precision, recognizer_precision=args.recognizer_precision, views=args.views, **options)
            rows.append({"configuration": name, "min_confidence": reader.min_confidence, **score(reader, with_number, number_free)})
            print(rows[-1], flush=True)
        reader = Reader(localizer, recognizer, precision=args.precision, recognizer_precision=args.recognizer_precision, views=args.views)
        thresholds = tuple(sorted({*THRESHOLDS, reader.min_confidence}))
        sweeps[str(args.seed)], outcomes[str(args.seed)] = sweep(reader, with_number, number_free, thresholds)
        at_default = next(row for row in sweeps[str(args.seed)] if row["min_confidence"] == reader.min_confidence)
        row = next(row for row in rows if row["configuration"] == DEFAULT_CONFIGURATION)
        if any(at_default[key] != row[key] for key in at_default if key in row):
            raise AssertionError(f"the sweep at min_confidence={reader.min_confidence} disagrees with the reader: {at_default} vs {row}")
        if args.confirm_seed is not None:
            sweeps[str(args.confirm_seed)], outcomes[str(args.confirm_seed)] = sweep(
                reader, *photo_sets(generator, args.confirm_seed, args.with_number, args.number_free), thresholds)
    results = {
        "photos": {"seed": args.seed, "with_number": args.with_number, "number_free": args.number_free, "sides": list(generator.sides)},
        "localizer": described(args.localizer),
        "recognizer": None if args.localizer_alone else one_or_list([str(p) for p in args.recognizer] if args.recognizer else ["shipped"]),
        "recognizer_sha256": None if args.localizer_alone else one_or_list(
            [file_sha256(p) for p in args.recognizer or [pretrained.path(name) for name in pretrained.members("recognizer")]]),
        "views": None if args.localizer_alone else args.views,
        "precision": resolve_precision(args.precision),
        "recognizer_precision": None if args.localizer_alone else resolve_precision(args.recognizer_precision),
        "localizer_alone": alone,
        "rows": rows,
        "min_confidence_sweep": {"configuration": DEFAULT_CONFIGURATION, "by_seed": sweeps},
        "outcomes": outcomes,
        "load_average_1_5_15_min": {"start": [round(x, 2) for x in load_before], "end": [round(x, 2) for x in os.getloadavg()]},
    }
    command = ["python", "-m", "benchmarks.scripts.reader_synthetic", *(argv if argv is not None else sys.argv[1:])]
    path = save_result(args.name, results, command=command)
    if rows:
        print_table("Whole-photo reader on synthetic house fronts", rows,
                    ["configuration", "with_number_right", "with_number_wrong", "with_number_box_iou", "number_free_wrong", "cpu_s_per_photo"])
    for seed, table in sweeps.items():
        print_table(f"min_confidence sweep, seed {seed} ({DEFAULT_CONFIGURATION})", table,
                    ["min_confidence", "with_number_right", "with_number_wrong", "with_number_rejected", "number_free_wrong"])
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
