"""Whole-photo reading on real photos: svhnx's reader and, optionally, off-the-shelf OCR peers.

The photos are a folder in the SVHN format-1 layout (``svhn-sample``: split folders, each with its
``digitStruct.mat``); every annotated image that is present is read whole. A reading is right
when it is the true number; the box is scored by its IoU with the union box of the true digits;
the time is the wall clock of the read call (the image already decoded), one photo at a time,
after one untimed warm-up read.

    from benchmarks.real_photos import score_photos, score_peers
    score_photos(reader, root / "svhn-sample")          # svhnx.inference.reader.Reader
    score_peers(root / "svhn-sample")                   # RapidOCR and Tesseract, where installed

Peers (benchmark-only extras, never dependencies of svhnx): RapidOCR's full pipeline
(``pip install rapidocr-onnxruntime``: PP-OCRv4 detection, direction classifier and recognition
on onnxruntime) and Tesseract (``apt-get install tesseract-ocr``, ``pip install pytesseract``,
sparse-text mode). A peer's reading is the digits of its most confident text that has digits.
"""

from __future__ import annotations

import os
import re
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from svhnx.data.svhn import MissingImageWarning, split_entries
from svhnx.image_file import load_image
from svhnx.metrics.segmentation import box_iou
from svhnx.ops import union_boxes

Box = tuple[float, float, float, float]
ReadFunction = Callable[[np.ndarray], tuple[str | None, Box | None]]


@dataclass(frozen=True)
class TruePhoto:
    """One annotated photo: its path, the true number and the union box of its digits."""

    path: Path
    number: str
    box: Box


def annotated_photos(photos_dir: str | os.PathLike[str]) -> list[TruePhoto]:
    """The annotated photos present under ``photos_dir`` (its split folders with a
    ``digitStruct.mat``, in name order; the folder itself if it has one), in file order."""
    root = Path(photos_dir)
    folders = [root] if (root / "digitStruct.mat").is_file() else sorted(p.parent for p in root.glob("*/digitStruct.mat"))
    if not folders:
        raise FileNotFoundError(f"{root}: no digitStruct.mat in it or in its subfolders")
    photos = []
    for folder in folders:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MissingImageWarning)  # the sample lists more images than it has
            entries = split_entries(folder)
        for entry in entries:
            union = union_boxes(entry.boxes, np.array([len(entry.boxes)]))[0]
            photos.append(TruePhoto(folder / entry.name, "".join(str(d) for d in entry.labels.tolist()),
                                    tuple(float(v) for v in union)))
    return photos


def score(read: ReadFunction, photos: list[TruePhoto]) -> dict[str, Any]:
    """Right readings, mean box IoU and seconds per photo of ``read`` (image -> ``(number or
    None, box or None)``), with a row per photo; the first photo is read once untimed (warm-up)."""
    rows = []
    if photos:
        read(load_image(photos[0].path))
    for photo in photos:
        image = load_image(photo.path)
        start = time.perf_counter()
        number, box = read(image)
        seconds = time.perf_counter() - start
        iou = float(box_iou(np.array(box, np.float32), np.array(photo.box, np.float32))) if box is not None else 0.0
        rows.append({"photo": f"{photo.path.parent.name}/{photo.path.name}", "size": list(image.shape[:2]), "truth": photo.number,
                     "read": number, "right": number == photo.number, "box_iou": round(iou, 3), "seconds": round(seconds, 4)})
    return {
        "right": sum(r["right"] for r in rows),
        "photos": len(rows),
        "mean_box_iou": round(float(np.mean([r["box_iou"] for r in rows])), 3) if rows else 0.0,
        "median_seconds_per_photo": round(statistics.median(r["seconds"] for r in rows), 4) if rows else 0.0,
        "mean_seconds_per_photo": round(float(np.mean([r["seconds"] for r in rows])), 4) if rows else 0.0,
        "rows": rows,
    }


def score_photos(reader: Any, photos_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """:func:`score` of an :class:`svhnx.inference.reader.Reader` on the annotated photos of ``photos_dir``."""

    def read(image: np.ndarray) -> tuple[str | None, Box | None]:
        reading = reader.read(image)
        return reading.number, reading.box

    return score(read, annotated_photos(photos_dir))


# -- peers ---------------------------------------------------------------------------------------
def _digits_of_best(texts: list[tuple[str, float, Box]]) -> tuple[str | None, Box | None]:
    """The digits of the most confident ``(text, score, box)`` that has any, with its box."""
    with_digits = [(re.sub(r"\D", "", text), s, box) for text, s, box in texts if re.search(r"\d", text)]
    if not with_digits:
        return None, None
    digits, _, box = max(with_digits, key=lambda t: t[1])
    return digits, box


def rapidocr_reader(threads: int = 1) -> ReadFunction:
    """RapidOCR's full pipeline on ``threads`` onnxruntime threads (ImportError if not installed)."""
    from rapidocr_onnxruntime import RapidOCR

    engine = RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=1)

    def read(image: np.ndarray) -> tuple[str | None, Box | None]:
        result, _ = engine(image[:, :, ::-1].copy())  # RapidOCR takes OpenCV's BGR order
        texts = []
        for points, text, confidence in result or []:
            xy = np.asarray(points, np.float32)
            left, top = xy.min(axis=0)
            right, bottom = xy.max(axis=0)
            texts.append((str(text), float(confidence), (float(left), float(top), float(right - left), float(bottom - top))))
        return _digits_of_best(texts)

    return read


def tesseract_reader(threads: int = 1) -> ReadFunction:
    """Tesseract in sparse-text mode through pytesseract (ImportError/OSError if not installed)."""
    import pytesseract

    os.environ["OMP_THREAD_LIMIT"] = str(threads)  # tesseract's own OpenMP threads
    pytesseract.get_tesseract_version()  # raises if the tesseract program is missing

    def read(image: np.ndarray) -> tuple[str | None, Box | None]:
        data = pytesseract.image_to_data(image, config="--psm 11", output_type=pytesseract.Output.DICT)
        texts = [
            (text, float(conf), (float(left), float(top), float(width), float(height)))
            for text, conf, left, top, width, height in zip(data["text"], data["conf"], data["left"], data["top"], data["width"], data["height"])
            if text.strip() and float(conf) >= 0
        ]
        return _digits_of_best(texts)

    return read


PEERS: dict[str, Callable[[int], ReadFunction]] = {"rapidocr": rapidocr_reader, "tesseract": tesseract_reader}


def score_peers(photos_dir: str | os.PathLike[str], threads: int = 1) -> dict[str, Any]:
    """:func:`score` of each peer in :data:`PEERS` that is installed; ``{"skipped": why}`` for the others."""
    photos = annotated_photos(photos_dir)
    out: dict[str, Any] = {}
    for name, make in PEERS.items():
        try:
            read = make(threads)
        except (ImportError, OSError, RuntimeError) as error:
            out[name] = {"skipped": f"{type(error).__name__}: {error}"}
            continue
        out[name] = score(read, photos)
    return out
