"""The original study's transfer experiment: ``python -m svhnx.transfer MNIST_RUN [flags]``.

A recognizer trained on synthetic MNIST sequences (``python -m svhnx.train mnist-seq``) reads real
SVHN numbers: each image's digit boxes are united, grown by 30%, cropped and resized to 28 x 140,
and turned grey (the study's only processing). The reading is the most probable class of each
slot with the blanks dropped; its confidence is the product of those probabilities (and of the
length head's, when the model has one). It is scored like the SVHN recognizer: sequence accuracy,
per-digit accuracy and coverage at 98% accuracy (:mod:`svhnx.metrics.coverage`).

Writes ``transfer.json``, ``readings.png`` and ``readings-coverage.png`` into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import torch

from svhnx.atomic import atomic_path
from svhnx.data.download import DatasetNotFoundError
from svhnx.data.svhn import ANNOTATIONS, split_entries
from svhnx.data.svhn_archives import split_folder
from svhnx.evaluate import load_run
from svhnx.helptext import plain
from svhnx.image_file import load_image
from svhnx.labels import BLANK, number_to_target
from svhnx.metrics.coverage import coverage_at_accuracy, readings_correct
from svhnx.metrics.sequence import SequenceAccuracy
from svhnx.ops import crop_resize, union_boxes
from svhnx.ops.crop_rule import grown_boxes
from svhnx.viz.readings import plot_evaluation

SEQUENCE_SHAPE = (28, 140, 1)
BATCH = 500


def grey_sequences(split_dir: Path, *, limit: int | None = None, threads: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The numbers of a split folder as the MNIST model sees them: ``(images uint8 N x 28 x 140 x 1,
    digits int64 N x 5, lengths int64 N)`` (images with a missing file are skipped with a warning)."""
    entries = split_entries(split_dir)[:limit]
    if not entries:
        raise ValueError(f"{split_dir}: no annotated image found")
    with ThreadPoolExecutor(threads) as pool:
        images = list(pool.map(load_image, [split_dir / e.name for e in entries]))
    sizes = np.array([image.shape[:2] for image in images], dtype=np.int64)
    union = union_boxes(np.concatenate([e.boxes for e in entries]), np.array([len(e) for e in entries]), threads=threads)
    crops = crop_resize(images, grown_boxes(union, sizes, threads=threads), SEQUENCE_SHAPE[:2], threads=threads)
    grey = cv2.cvtColor(crops.reshape(-1, SEQUENCE_SHAPE[1], 3), cv2.COLOR_RGB2GRAY).reshape(len(crops), *SEQUENCE_SHAPE)
    targets = [number_to_target(e.labels) for e in entries]
    return grey, np.stack([t[0] for t in targets]), np.array([t[1] for t in targets], dtype=np.int64)


def slot_readings(output: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """An MNIST-sequence model's readings, left-aligned like SVHN targets: ``(digits N x 5, lengths
    N, confidence N)``; the digits keep their order, the blanks (which may lead) go to the end."""
    probabilities = output["digits"].float().softmax(dim=-1)
    best_p, best = probabilities.max(dim=-1)
    lengths = (best != BLANK).sum(dim=1)
    order = torch.sort((best == BLANK).to(torch.int8), dim=1, stable=True).indices  # digits first, in order
    digits = best.gather(1, order)
    confidence = best_p.prod(dim=1)
    if "length" in output:
        confidence = confidence * output["length"].float().softmax(dim=-1).gather(1, lengths[:, None]).squeeze(1)
    return digits, lengths, confidence


@torch.no_grad()
def transfer(run: str | Path, split_dir: Path, out: Path, *, limit: int | None = None, device: str = "auto",
             threads: int | None = None) -> dict[str, float]:
    """Apply the MNIST-sequence model of ``run`` to ``split_dir``; write the figures and JSON into ``out``."""
    loaded = load_run(run, device=device)
    shape = getattr(loaded.model, "input_shape", None)
    if tuple(shape or ()) != SEQUENCE_SHAPE:
        raise ValueError(f"{loaded.path}: the transfer experiment needs an MNIST-sequence model (28 x 140 x 1 input), this one takes {shape}")
    images, targets, target_lengths = grey_sequences(split_dir, limit=limit, threads=threads)
    readings: list[torch.Tensor] = []
    lengths: list[torch.Tensor] = []
    confidence: list[torch.Tensor] = []
    for a in range(0, len(images), BATCH):
        output = loaded.model(torch.from_numpy(images[a : a + BATCH]).to(loaded.device))
        for part, values in zip((readings, lengths, confidence), slot_readings(output)):
            part.append(values.cpu())
    digits, lengths_read, confidence_t = torch.cat(readings), torch.cat(lengths), torch.cat(confidence)
    target_t, target_lengths_t = torch.from_numpy(targets), torch.from_numpy(target_lengths)
    correct = readings_correct(digits, lengths_read, target_t, target_lengths_t).numpy()
    slots = SequenceAccuracy()
    slots.update(digits, target_t, target_lengths_t)
    coverage, threshold = coverage_at_accuracy(confidence_t.numpy(), correct)
    metrics = {
        "images": len(images),
        "sequence_accuracy": float(correct.mean()),
        "digit_accuracy": slots.compute()["digit_accuracy"],
        "length_accuracy": float((lengths_read == target_lengths_t).float().mean()),
        "coverage_at_98": coverage,
        "threshold_at_98": threshold,
    }
    out.mkdir(parents=True, exist_ok=True)
    figure = out / "readings.png"
    plot_evaluation(images, targets, digits.numpy(), confidence_t.numpy(), correct, figure, label="MNIST-sequence model on SVHN")
    with atomic_path(out / "transfer.json") as tmp:
        record = {k: v if np.isfinite(v) else None for k, v in metrics.items()}  # strict JSON: no NaN
        tmp.write_text(json.dumps({"checkpoint": str(loaded.path), "split": str(split_dir), **record}, indent=2) + "\n")
    return metrics


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m svhnx.transfer", description=plain(__doc__), allow_abbrev=False,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, metavar="MNIST_RUN", help="an mnist-seq run directory or .pt checkpoint")
    parser.add_argument("--split", choices=("train", "test", "extra"), default="test", help="SVHN split to read (default: test)")
    parser.add_argument("--svhn-dir", type=Path, default=None,
                        help="folder with the split folders (default: <data root>/svhn, extracted from the official archives)")
    parser.add_argument("--data-root", type=Path, default=None, help="data folder (default: $SVHNX_DATA, else ~/.cache/svhnx)")
    parser.add_argument("--download", action="store_true", help="download the split's archive if missing (verified)")
    parser.add_argument("--limit", type=int, default=None, help="read only the first LIMIT images")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: <run>/transfer-svhn-<split>)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="auto picks CUDA when present (default: auto)")
    parser.add_argument("--threads", type=int, default=None, help="decoding and cropping threads (default: all cores)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.limit is not None and args.limit <= 0:
        parser.error("--limit: expected a positive count")
    try:
        if args.svhn_dir is None:
            split_dir = split_folder(args.split, args.data_root, download=args.download)
        else:
            split_dir = args.svhn_dir / args.split
            if not (split_dir / ANNOTATIONS).is_file():
                raise DatasetNotFoundError(f"{split_dir / ANNOTATIONS} is missing")
        run_dir = args.run if args.run.is_dir() else args.run.parent
        out = args.out or run_dir / f"transfer-svhn-{args.split}"
        metrics = transfer(args.run, split_dir, out, limit=args.limit, device=args.device, threads=args.threads)
    except (DatasetNotFoundError, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"MNIST-sequence model {args.run} on SVHN {args.split} ({metrics['images']} images):")
    for name, value in metrics.items():
        if name != "images":
            print(f"  {name:20s} {value:.4f}")
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
