"""Read the house number in photos: ``python -m svhnx.predict IMAGE_OR_DIR... [--localizer CKPT]
[--recognizer CKPT] [--format jsonl|csv] [--save-annotated DIR]``.

A folder stands for every image in it (by extension, not recursive), in natural name order
(``2.png`` before ``10.png``). Prints one JSON line per image, in the order given, with the keys
of :data:`OUTPUT_KEYS`::

    {"image": "door.jpg", "number": "210", "confidence": 0.93, "box": [412.0, 230.5, 96.0, 61.0],
     "length": 3, "rejected": null, "error": null}

or, with ``--format csv``, a header and one row per image with the columns of :data:`CSV_COLUMNS`
(the box as four columns; empty cells for ``null``).

An image that cannot be read (missing, not an image) gets a line whose ``error`` says why, its
reading fields ``null`` (and the message goes to stderr too); the others are still read, and the exit status is 1. See
:class:`svhnx.inference.reader.Reading` for what the other keys mean.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np

from svhnx.argtypes import positive_int
from svhnx.hardware import PRECISIONS
from svhnx.helptext import plain
from svhnx.image_file import DEFAULT_MAX_PIXELS, MAX_PIXELS_ENV, default_max_pixels, load_image, pixel_count, write_png
from svhnx.inference.backends import BACKENDS
from svhnx.inference.localize import DEFAULT_RETRY_SCALES, MULTIPLE, READER_SCALES, REFINE_PASSES, check_scales
from svhnx.inference.reader import CHECK_LENGTH, MIN_CONFIDENCE, READING_KEYS, RECOGNIZER_PRECISION, UNSURE, Reader, Reading
from svhnx.inference.recognize import DEFAULT_VIEWS, check_unsure
from svhnx.ops.crop_rule import VIEW_COUNTS, VIEW_SHIFTS

OUTPUT_KEYS = ("image", *READING_KEYS, "error")
CSV_COLUMNS = ("image", "number", "confidence", "box_left", "box_top", "box_width", "box_height", "length", "rejected", "error")
FORMATS = ("jsonl", "csv")
#: File extensions a folder argument is searched for (case-insensitive): what OpenCV decodes.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
BOX_COLOUR = (0, 200, 0)  # RGB
REJECTED_COLOUR = (220, 0, 0)


def annotate(image: np.ndarray, reading: Reading) -> np.ndarray:
    """A copy of the RGB ``image`` with the reading's box and text drawn on it (green when the
    number was accepted, red with the reason when it was rejected)."""
    out = image.copy()
    if reading.box is None:
        return out
    left, top, width, height = reading.box
    colour = BOX_COLOUR if reading.number is not None else REJECTED_COLOUR
    thickness = max(1, round(max(image.shape[:2]) / 400))
    cv2.rectangle(out, (round(left), round(top)), (round(left + width), round(top + height)), colour, thickness)
    text = reading.number if reading.number is not None else f"rejected: {reading.rejected}"
    text = f"{text} ({reading.confidence:.2f})"
    scale = max(0.4, max(image.shape[:2]) / 1000)
    (_, text_height), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    y = round(top) - baseline - 2
    if y - text_height < 0:
        y = round(top + height) + text_height + 2
    cv2.putText(out, text, (round(left), y), cv2.FONT_HERSHEY_SIMPLEX, scale, colour, thickness, cv2.LINE_AA)
    return out


def output_record(image: str, reading: Reading | None = None, error: str | None = None) -> dict:
    """One image's output, keys in the order of :data:`OUTPUT_KEYS`; an image that could not be read
    (``error``) has every reading field ``None``: nothing was read, so nothing was rejected either."""
    fields = reading.to_dict() if reading is not None else dict.fromkeys(READING_KEYS)
    record = {"image": image, **fields, "error": error}
    return {key: record[key] for key in OUTPUT_KEYS}


def csv_row(record: dict) -> list:
    """An :func:`output_record` as a row of :data:`CSV_COLUMNS` (``None`` -> empty cell)."""
    box = record["box"] or [None] * 4
    values = [record["image"], record["number"], record["confidence"], *box, record["length"], record["rejected"], record["error"]]
    return ["" if v is None else v for v in values]


class OutputWriter:
    """Writes records to ``stream`` as JSON lines or CSV (header first), flushing each."""

    def __init__(self, stream, fmt: str) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
        self.stream = stream
        self.csv = csv.writer(stream, lineterminator="\n") if fmt == "csv" else None
        if self.csv is not None:
            self.csv.writerow(CSV_COLUMNS)

    def write(self, record: dict) -> None:
        if self.csv is not None:
            self.csv.writerow(csv_row(record))
        else:
            self.stream.write(json.dumps(record) + "\n")
        self.stream.flush()


def natural_key(name: str) -> list:
    """Sort key that orders runs of digits by value: ``2.png`` before ``10.png``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def folder_images(folder: Path) -> list[str]:
    """The image files (:data:`IMAGE_SUFFIXES`) directly in ``folder``, in natural name order."""
    files = [f for f in folder.iterdir() if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES]
    return [str(f) for f in sorted(files, key=lambda f: natural_key(f.name))]


def expand_inputs(arguments: Sequence[str], on_empty_folder: Callable[[Path], None] | None = None) -> list[str]:
    """The image paths the arguments name: a file as given, a folder as its image files
    (:func:`folder_images`); a folder without any adds nothing, and is passed to ``on_empty_folder``."""
    paths: list[str] = []
    for argument in arguments:
        if not Path(argument).is_dir():
            paths.append(argument)
            continue
        images = folder_images(Path(argument))
        if not images and on_empty_folder is not None:
            on_empty_folder(Path(argument))
        paths += images
    return paths


def empty_folder_warning(folder: Path) -> str:
    """What to tell a user who named ``folder``, which holds no image files."""
    subfolders = sorted((f.name for f in folder.iterdir() if f.is_dir()), key=natural_key)
    hint = f"; its subfolders are not read, name them instead: {', '.join(subfolders)}" if subfolders else ""
    return f"{folder}: no images in this folder ({', '.join(IMAGE_SUFFIXES)}){hint}"


def annotated_name(image: Path, taken: set[str]) -> str:
    """``<stem>.png`` for the annotated copy of ``image``, numbered if the name is taken."""
    name, n = f"{image.stem}.png", 1
    while name in taken:
        n += 1
        name = f"{image.stem}-{n}.png"
    taken.add(name)
    return name


def comma_text(values: Sequence[float], empty: str = "none") -> str:
    """``values`` written as a comma-separated flag takes them (``empty`` for none): a default to parse and show in ``--help``."""
    return ",".join(f"{v:g}" for v in values) or empty


def long_sides(text: str) -> tuple[int, ...]:
    """``--scales``: comma-separated long sides in pixels, each at least :data:`MULTIPLE`."""
    try:
        return check_scales([int(side) for side in text.split(",")])
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated long sides of at least {MULTIPLE} pixels, got {text!r}") from None


def retry_long_sides(text: str) -> tuple[int, ...]:
    """``--retry-scales``: like :func:`long_sides`, or ``none`` for no retry."""
    return () if text.strip().lower() == "none" else long_sides(text)


def confidence_band(text: str) -> tuple[float, float]:
    """``--unsure``: ``LOW,HIGH``, two probabilities with ``LOW <= HIGH``."""
    try:
        return check_unsure([float(v) for v in text.split(",")])
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LOW,HIGH with 0 <= LOW <= HIGH <= 1, got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m svhnx.predict", description=plain(__doc__.split("\n\n")[0]))
    parser.add_argument("images", nargs="+", metavar="IMAGE_OR_DIR",
                        help="photos to read (PNG, JPEG, ...), or folders: every image in them, in name order")
    parser.add_argument("--localizer", metavar="CKPT", help="U-Net localizer checkpoint or weights file (default: $SVHNX_LOCALIZER, else the shipped one)")
    parser.add_argument("--recognizer", metavar="CKPT", help="recognizer checkpoint or weights file (default: $SVHNX_RECOGNIZER, else the shipped one)")
    parser.add_argument("--backend", choices=BACKENDS, default="torch",
                        help="run the checkpoints with PyTorch or their ONNX exports with onnxruntime (default: %(default)s)")
    parser.add_argument("--format", choices=FORMATS, default="jsonl", help="output: JSON lines or CSV with a header (default: %(default)s)")
    parser.add_argument("--save-annotated", metavar="DIR", type=Path, help="write each photo with its box and reading as DIR/<name>.png")
    parser.add_argument("--min-confidence", type=float, default=None, help=f"reject readings below this joint probability (default: the recognizer's calibrated threshold if its weights file has one, else {MIN_CONFIDENCE})")
    parser.add_argument("--views", type=int, choices=VIEW_COUNTS, default=DEFAULT_VIEWS, metavar="N",
                        help=f"views of each number crop the recognizer reads and averages, 1-{len(VIEW_SHIFTS)}: the centre, then "
                             "windows shifted 2 pixels (default: %(default)s)")
    parser.add_argument("--unsure", type=confidence_band, default=comma_text(UNSURE), metavar="LOW,HIGH",
                        help="read a candidate's shifted views only when its centre view's confidence is within LOW..HIGH; "
                             "0,1 reads them all (default: %(default)s)")
    parser.add_argument("--close-looks", type=positive_int, default=REFINE_PASSES, metavar="N",
                        help="close looks at each candidate, each around the box the one before found; 1 is a little faster (default: %(default)s)")
    parser.add_argument("--scales", type=long_sides, default=comma_text(READER_SCALES), metavar="S,S,...",
                        help="long sides, in pixels, at which the localizer's first pass looks at the photo; a larger one finds "
                             "smaller numbers, at more time (default: %(default)s)")
    parser.add_argument("--retry-scales", type=retry_long_sides, default=comma_text(DEFAULT_RETRY_SCALES), metavar="S,S,...|none",
                        help="long sides of a second first pass, made only on photos where the first reads no number (nothing found "
                             "or every reading rejected), at those no longer than the photo (default: %(default)s)")
    parser.add_argument("--precision", choices=PRECISIONS, default="auto",
                        help="how the torch localizer computes: auto is bfloat16 on CPUs with AMX or AVX-512 BF16, float32 elsewhere (default: %(default)s)")
    parser.add_argument("--recognizer-precision", choices=PRECISIONS, default=RECOGNIZER_PRECISION,
                        help="how the torch recognizer computes, the same choices (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=None,
                        help="intra-op threads of torch or onnxruntime (default: one per core; 1 is the fastest per photo on a busy machine)")
    parser.add_argument("--max-pixels", type=pixel_count, default=None,
                        help=f"refuse photos with more pixels than this, read from the file header before decoding "
                             f"(default: ${MAX_PIXELS_ENV}, else {DEFAULT_MAX_PIXELS:,})")
    parser.add_argument("--length-check", action=argparse.BooleanOptionalAction, default=CHECK_LENGTH,
                        help=f"also reject readings whose length disagrees with the localizer's length head (default: {'on' if CHECK_LENGTH else 'off'})")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    options = {"check_length": args.length_check, "backend": args.backend, "precision": args.precision,
               "recognizer_precision": args.recognizer_precision,
               "threads": args.threads, "views": args.views, "unsure": args.unsure, "close_looks": args.close_looks, "scales": args.scales,
               "retry_scales": args.retry_scales}
    if args.min_confidence is not None:
        options["min_confidence"] = args.min_confidence
    paths = expand_inputs(args.images, lambda folder: print(f"{parser.prog}: warning: {empty_folder_warning(folder)}", file=sys.stderr))
    if not paths:
        parser.exit(2, f"{parser.prog}: error: no images to read\n")
    try:
        max_pixels = args.max_pixels or default_max_pixels()
        reader = Reader.from_checkpoints(args.localizer, args.recognizer, **options)
    except (OSError, ValueError, ImportError) as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    failed = False
    taken: set[str] = set()
    out = OutputWriter(sys.stdout, args.format)
    for name in paths:
        try:
            image = load_image(name, max_pixels=max_pixels)
            reading = reader.read(image)
            if args.save_annotated is not None:
                write_png(args.save_annotated / annotated_name(Path(name), taken), annotate(image, reading))
        except (OSError, ValueError) as error:
            failed = True
            message = f"{type(error).__name__}: {error}"
            print(f"{parser.prog}: {message}", file=sys.stderr)
            out.write(output_record(name, error=message))
            continue
        out.write(output_record(name, reading))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
