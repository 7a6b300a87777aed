"""Why the recognizer reads a digit too many on real crops: the same crops stretched or squeezed sideways.

    python -m benchmarks.scripts.real_stretch [CHECKPOINT] [--numbers FILE.npz] [--name NAME]

Each 64 x 64 crop is resized to ``64 s`` x 64 (bilinear) and centred back on 64 x 64: ``s > 1`` cuts
the sides (less of what surrounds the number), ``s < 1`` pads them by repeating the edge pixels.
A diagnostic of the dev set, never a setting to tune on it. Writes ``benchmarks/results/NAME.json``
(default ``real_stretch``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from benchmarks.record import save_result
from svhnx import pretrained
from svhnx.data.download import default_root
from svhnx.evaluate.real import load_numbers, read_numbers
from svhnx.inference.backends import load_model

STRETCHES = (0.85, 0.9, 0.95, 1.0, 1.05, 1.1)


def stretch(images: np.ndarray, factor: float) -> np.ndarray:
    """``images`` (N x 64 x 64 x 3) resized to ``64 factor`` wide and centred back on 64 x 64."""
    size = images.shape[2]
    width = int(round(size * factor))
    out = np.empty_like(images)
    for i, image in enumerate(images):
        wide = cv2.resize(image, (width, size), interpolation=cv2.INTER_LINEAR)
        if width >= size:
            left = (width - size) // 2
            out[i] = wide[:, left:left + size]
        else:
            pad = size - width
            out[i] = cv2.copyMakeBorder(wide, 0, 0, pad // 2, pad - pad // 2, cv2.BORDER_REPLICATE)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scripts.real_stretch", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", nargs="?", type=Path, default=None, help="a recognizer (default: the shipped one)")
    parser.add_argument("--numbers", type=Path, default=default_root() / "svhn-real" / "test-numbers-dev.npz")
    parser.add_argument("--name", default="real_stretch", help="the result file, benchmarks/results/NAME.json (default: %(default)s)")
    args = parser.parse_args(argv)
    model = pretrained.load("recognizer") if args.checkpoint is None else load_model(args.checkpoint, role="recognizer")
    numbers = load_numbers(args.numbers)
    rows = []
    for factor in STRETCHES:
        readings = read_numbers(model, stretch(numbers.images, factor))
        right = (readings.digits == numbers.digits).all(axis=1) & (readings.lengths == numbers.lengths)
        rows.append({"stretch": factor, "sequence_accuracy": float(right.mean()),
                     "one_digit_too_many_or_more": int((readings.lengths > numbers.lengths).sum()),
                     "too_few_digits": int((readings.lengths < numbers.lengths).sum())})
        print(rows[-1])
    source = "shipped recognizer" if args.checkpoint is None else str(args.checkpoint)
    print(save_result(args.name, {"recognizer": source, "numbers": str(args.numbers), "rows": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
