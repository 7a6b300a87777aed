"""Reading real house numbers: svhnx's shipped models (or checkpoints) on real SVHN pixels, with peers.

``python -m benchmarks real [--peers] [--recognizer CKPT ...] [--digits CKPT ...]`` scores

* the recognizer on ``svhn-real/test-numbers-dev.npz`` (1,000 real number crops), reading five views
  of each as the whole-photo reader does (``numbers``) and only the centre 54 x 54 (``numbers_1_view``):
  sequence and digit accuracy, accuracy per length, coverage at 98% accuracy, on all crops and on
  those less than 30% filled in, and milliseconds per crop on one thread; the recognizer computes in
  the reader's precision, and in each other one ``--recognizer-precision`` names (``numbers_bfloat16``);
* the digit classifiers on ``svhn-real/test-digits32-dev.npz`` (1,952 real 32 x 32 digits): the first
  alone (``digits32``), and all of them averaged with the recognizer reading each digit as a one-digit
  number (``digits32_with_recognizer``, :func:`svhnx.inference.digits.digit_reader`), and milliseconds per
  digit read one at a time;
* the recognizer on the number crops of the 9 ``svhn-sample`` photos (the SVHN crop rule);
* the whole-photo reader on those 9 photos (:mod:`benchmarks.real_photos`): right or wrong, box
  IoU against the true union box, seconds per photo; its localizer computes in ``--precision``
  (``auto`` by default, as the reader's own; recorded as ``localizer_precision``).

With ``--peers``, RapidOCR's text recognizer (PP-OCR, ``pip install rapidocr-onnxruntime``) and
Tesseract (``tesseract-ocr`` with ``pip install pytesseract``) read the same crops, and their full
pipelines the same photos, one thread each;
a peer that is not installed is skipped with a note. They are benchmark-only extras, never
dependencies of svhnx. Writes ``benchmarks/results/real.json``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from benchmarks.real_photos import score_peers, score_photos
from benchmarks.record import print_table, save_result
from svhnx import pretrained
from svhnx.data.download import default_root
from svhnx.data.svhn_preprocess import load_crops, preprocess_split
from svhnx.evaluate.real import load_digits32, load_numbers, read_numbers, score_digits32, score_numbers
from svhnx.hardware import PRECISIONS, resolve_precision
from svhnx.inference.backends import in_precision, load_model
from svhnx.inference.digits import SHIPPED_CLASSIFIERS, digit_reader, read_digits
from svhnx.inference.localize import DEFAULT_RETRY_SCALES, READER_SCALES
from svhnx.inference.predict import comma_text, confidence_band, long_sides, retry_long_sides
from svhnx.inference.reader import RECOGNIZER_PRECISION, UNSURE, Reader
from svhnx.inference.recognize import DEFAULT_VIEWS
from svhnx.labels import target_to_string
from svhnx.models.heads import ensemble_of

NUMBERS = "svhn-real/test-numbers-dev.npz"
READINGS = (("numbers", DEFAULT_VIEWS), ("numbers_1_view", 1))  # result key, views of each crop
DIGITS32 = "svhn-real/test-digits32-dev.npz"
SAMPLE = "svhn-sample"
PEER_SCALE = 3  # peers read the 64 x 64 crop enlarged 3x (both are made for larger text)


def sample_crops(root: Path) -> tuple[np.ndarray, list[str], list[str]]:
    """The 64 x 64 number crops of the svhn-sample photos (SVHN crop rule), their truths and names."""
    images, truths, names = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for split in ("train", "test", "extra"):
            folder = root / SAMPLE / split
            if not (folder / "digitStruct.mat").is_file():
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the sample lists more images than it ships
                crops = load_crops(preprocess_split(folder, Path(tmp) / f"{split}.h5", threads=1, progress=False))
            images.append(crops.images)
            truths += [target_to_string(d) for d in crops.digits]
            names += [f"{split}/{n}" for n in crops.names]
    return np.concatenate(images), truths, names


def ms_each(read: Callable[[np.ndarray], Any], items: np.ndarray) -> float:
    """Milliseconds per item of ``read`` over ``items`` (crops or digits; one call per item)."""
    start = time.perf_counter()
    for item in items:
        read(item)
    return 1000 * (time.perf_counter() - start) / max(len(items), 1)


def rapidocr_reader() -> Callable[[np.ndarray], str] | str:
    """RapidOCR's recognizer alone (no detection) on a crop, digits kept; or why it is unavailable."""
    if importlib.util.find_spec("rapidocr_onnxruntime") is None:
        return "not installed (pip install rapidocr-onnxruntime)"
    from rapidocr_onnxruntime import RapidOCR

    engine = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1)

    def read(crop: np.ndarray) -> str:
        big = cv2.resize(crop, None, fx=PEER_SCALE, fy=PEER_SCALE, interpolation=cv2.INTER_CUBIC)
        result, _ = engine(cv2.cvtColor(big, cv2.COLOR_RGB2BGR), use_det=False, use_cls=False, use_rec=True)
        return "".join(ch for ch in (result[0][0] if result else "") if ch.isdigit())

    return read


def tesseract_reader() -> Callable[[np.ndarray], str] | str:
    """Tesseract on a crop as one line of digits; or why it is unavailable."""
    if importlib.util.find_spec("pytesseract") is None:
        return "not installed (apt-get install tesseract-ocr; pip install pytesseract)"
    import pytesseract

    try:
        pytesseract.get_tesseract_version()
    except pytesseract.TesseractNotFoundError:
        return "the tesseract program is not installed (apt-get install tesseract-ocr)"
    os.environ["OMP_THREAD_LIMIT"] = "1"

    def read(crop: np.ndarray) -> str:
        big = cv2.resize(crop, None, fx=PEER_SCALE, fy=PEER_SCALE, interpolation=cv2.INTER_CUBIC)
        text = pytesseract.image_to_string(big, config="--psm 7 -c tessedit_char_whitelist=0123456789")
        return "".join(ch for ch in text if ch.isdigit())

    return read


def peer_scores(read: Callable[[np.ndarray], str], crops: np.ndarray, truths: Sequence[str]) -> dict[str, Any]:
    """A peer's sequence accuracy on ``crops`` and its milliseconds per crop."""
    start = time.perf_counter()
    readings = [read(crop) for crop in crops]
    elapsed = time.perf_counter() - start
    right = [r == t for r, t in zip(readings, truths)]
    return {"sequence_accuracy": float(np.mean(right)), "ms_per_crop": round(1000 * elapsed / len(crops), 2),
            "readings": readings if len(crops) <= 16 else None}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks real", description=__doc__.split("\n\n")[0])
    parser.add_argument("--recognizer", type=Path, nargs="+", default=None, metavar="CKPT",
                        help="recognizer checkpoints, several read as one ensemble; the first is the digit reader's "
                             "recognizer half (default: the shipped ones)")
    parser.add_argument("--localizer", type=Path, default=None, help="a localizer checkpoint for the whole photos (default: the shipped one)")
    parser.add_argument("--digits", type=Path, nargs="+", default=None, metavar="CKPT",
                        help="digit classifier checkpoints (default: the shipped ones)")
    parser.add_argument("--peers", action="store_true", help="also run RapidOCR and Tesseract on the same crops")
    parser.add_argument("--peer-crops", type=int, default=150,
                        help="real number crops the peers read, the first ones of the file (Tesseract takes about a second each; "
                             "svhnx is scored on the same subset too) (default: %(default)s)")
    parser.add_argument("--recognizer-precision", nargs="+", choices=PRECISIONS, default=[RECOGNIZER_PRECISION], metavar="PRECISION",
                        help=f"how the recognizer computes ({', '.join(PRECISIONS)}): the first for every reading; each other one "
                             "also reads the real number crops, side by side (default: %(default)s)")
    parser.add_argument("--precision", choices=PRECISIONS, default="auto",
                        help="how the whole-photo reader's localizer computes (default: %(default)s, as the reader's own)")
    parser.add_argument("--scales", type=long_sides, default=comma_text(READER_SCALES),
                        help="the whole-photo reader's first-pass long sides, comma-separated (default: %(default)s)")
    parser.add_argument("--retry-scales", type=retry_long_sides, default=comma_text(DEFAULT_RETRY_SCALES), metavar="S,S,...|none",
                        help="the whole-photo reader's retry on photos its first pass reads no number in (default: %(default)s)")
    parser.add_argument("--unsure", type=confidence_band, default=comma_text(UNSURE), metavar="LOW,HIGH",
                        help="the whole-photo reader's band of centre-view confidences within which the shifted views are read (default: %(default)s)")
    parser.add_argument("--data-root", type=Path, default=None, help="data folder (default: $SVHNX_DATA)")
    args = parser.parse_args(argv)
    precision, *others = [resolve_precision(p) for p in args.recognizer_precision]
    root = args.data_root or default_root()
    torch.set_num_threads(1)
    members = ([load_model(path, role="recognizer") for path in args.recognizer] if args.recognizer
               else [pretrained.load(name) for name in pretrained.members("recognizer")])
    recognizer = ensemble_of(members)
    digits = ([load_model(path, role="digits") for path in args.digits] if args.digits
              else [pretrained.load(name) for name in SHIPPED_CLASSIFIERS])
    results: dict[str, Any] = {"threads": 1, "load_average_1min": round(os.getloadavg()[0], 2), "recognizer_precision": precision,
                               "recognizer": list(map(str, args.recognizer)) if args.recognizer else "shipped", "digits": list(map(str, args.digits)) if args.digits else "shipped"}

    numbers = load_numbers(root / NUMBERS)
    figure = Path(__file__).parent / "results" / "real_numbers_mistakes.png"
    in_each = {how: in_precision(recognizer, how) for how in (precision, *others)}  # cast once, as the reader does
    results["numbers"] = score_numbers(in_each[precision], numbers, figure=figure, precision=precision)
    results["numbers"]["views"] = DEFAULT_VIEWS
    passes = [(key, views, precision) for key, views in READINGS]  # result key, views, precision
    passes += [(f"{key}_{other}", views, other) for other in others for key, views in READINGS]
    for key, views, how in passes[1:]:
        results[key] = score_numbers(in_each[how], numbers, views=views, precision=how)
    for key, views, how in passes:
        results[key]["precision"] = how
        model = in_each[how]
        results[key]["ms_per_crop"] = round(ms_each(lambda c: read_numbers(model, c[None], views=views, precision=how), numbers.images[:200]), 2)
    images, labels = load_digits32(root / DIGITS32)
    results["digits32"] = score_digits32(digits[0], images, labels)
    reader_of_digits = digit_reader(digits, members[0])
    results["digits32_with_recognizer"] = score_digits32(reader_of_digits, images, labels)
    for key, reader in (("digits32", digits[0]), ("digits32_with_recognizer", reader_of_digits)):
        results[key]["ms_per_digit"] = round(ms_each(lambda d, reader=reader: read_digits(d, reader), images[:200]), 2)

    crops, truths, names = sample_crops(root)
    read = [target_to_string(d) for d in read_numbers(in_each[precision], crops, precision=precision).digits]
    results["sample_crops"] = {"right": int(sum(r == t for r, t in zip(read, truths))), "count": len(truths),
                               "readings": dict(zip(names, read)), "truths": dict(zip(names, truths))}
    localizer = load_model(args.localizer, role="localizer") if args.localizer else pretrained.load("localizer")
    reader = Reader(localizer, in_each[precision], precision=args.precision, recognizer_precision=precision, scales=args.scales,
                    retry_scales=args.retry_scales, unsure=args.unsure)
    results["sample_photos"] = {"svhnx": score_photos(reader, root / SAMPLE)}
    results["localizer_precision"] = reader.precision
    results["scales"] = list(reader.scales)
    results["retry_scales"] = list(reader.retry_scales)
    results["unsure"] = list(reader.unsure)
    if args.peers:
        results["sample_photos"].update(score_peers(root / SAMPLE))

    rows = [{"reader": f"svhnx, {views} view{'s' * (views > 1)}, {how}", "real numbers": results[key]["all"]["sequence_accuracy"],
             "coverage at 98%": results[key]["all"]["coverage_at_98"], "ms/crop": results[key]["ms_per_crop"]}
            for key, views, how in passes]
    rows[0]["sample crops"] = f"{results['sample_crops']['right']}/{len(truths)}"
    if args.peers:
        for row, (key, views) in zip(rows, READINGS):
            subset = read_numbers(in_each[precision], numbers.images[:args.peer_crops], views=views, precision=precision)
            same = (subset.digits == numbers.digits[:args.peer_crops]).all(axis=1) & (subset.lengths == numbers.lengths[:args.peer_crops])
            results[key]["peer_subset"] = {"count": int(len(same)), "sequence_accuracy": float(same.mean())}
            row["peer subset"] = float(same.mean())
        results["peers"] = {}
        numbers_truths = [target_to_string(d) for d in numbers.digits]
        for name, make in (("rapidocr", rapidocr_reader), ("tesseract", tesseract_reader)):
            peer = make()
            if isinstance(peer, str):
                results["peers"][name] = {"skipped": peer}
                print(f"{name}: skipped, {peer}")
                continue
            scores = peer_scores(peer, numbers.images[:args.peer_crops], numbers_truths[:args.peer_crops])
            sample = peer_scores(peer, crops, truths)
            results["peers"][name] = {"numbers": scores, "sample_crops": {"right": int(round(sample["sequence_accuracy"] * len(truths))),
                                                                           "count": len(truths), "readings": sample["readings"]}}
            rows.append({"reader": name, "peer subset": scores["sequence_accuracy"], "ms/crop": scores["ms_per_crop"],
                         "sample crops": f"{results['peers'][name]['sample_crops']['right']}/{len(truths)}"})
    print_table("Reading real SVHN number crops (one thread)", rows, ["reader", "real numbers", "peer subset", "coverage at 98%", "ms/crop", "sample crops"])
    print(f"digits32: {results['digits32']['digit_accuracy']:.4f} of {results['digits32']['count']} real digits "
          f"({results['digits32']['ms_per_digit']} ms each), {results['digits32_with_recognizer']['digit_accuracy']:.4f} "
          f"with the recognizer ({results['digits32_with_recognizer']['ms_per_digit']} ms each)")
    print(f"\nwrote {save_result('real', results)}")


if __name__ == "__main__":
    main()
