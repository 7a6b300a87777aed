"""Recognizers on numbers whose digits are stacked or set on a diagonal, against the rest, on real
dev crops and on held-out synthetic crops.

    python -m benchmarks.scripts.arranged_numbers [--recognizers CKPT ...] [--seed 4242] [--size 20000]

A number is *stepped* when each digit box's centre lies over half a box height below the one before
(:func:`svhnx.synth.layouts.stepped_numbers`). Real: ``svhn-real/test-numbers-dev.npz`` split by its
annotation boxes (8 of its 1,000 crops are stepped). Synthetic: ``--size`` crops of the default
generator (``Realism.arrangement`` 1) from the validation stream of ``--seed`` (as
:func:`svhnx.synth.dataset.validation_crops` draws it), which no run trains on,
split the same way; as many of the others as there are stepped ones are read. Sequence accuracy with
five views, one thread. Writes ``benchmarks/results/arranged_numbers.json``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmarks.record import print_table, save_result
from svhnx import pretrained
from svhnx.data.download import default_root
from svhnx.evaluate.real import load_numbers, read_numbers
from svhnx.inference.backends import load_model
from svhnx.synth.dataset import VALIDATION_STREAM, stream_seed
from svhnx.synth.generator import SceneGenerator
from svhnx.synth.layouts import stepped_numbers

NUMBERS = "svhn-real/test-numbers-dev.npz"


def accuracy(model: torch.nn.Module, images: np.ndarray, digits: np.ndarray, lengths: np.ndarray) -> float:
    """Sequence accuracy of ``model`` (five views) on the crops."""
    readings = read_numbers(model, images)
    return round(float(((readings.digits == digits).all(axis=1) & (readings.lengths == lengths)).mean()), 4)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scripts.arranged_numbers", description=__doc__.split("\n\n")[0])
    parser.add_argument("--recognizers", type=Path, nargs="+", default=None,
                        help="recognizer checkpoints or weights files (default: the shipped one)")
    parser.add_argument("--seed", type=int, default=4242, help="synthetic validation stream (default: %(default)s)")
    parser.add_argument("--size", type=int, default=20000, help="synthetic crops drawn before the split (default: %(default)s)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    real = load_numbers(default_root() / NUMBERS)
    if real.boxes is None:
        parser.error(f"{default_root() / NUMBERS}: no digit boxes, so its stepped numbers cannot be told apart")
    real_stepped = stepped_numbers(real.boxes, real.lengths)
    synth = SceneGenerator.from_data(None).crops(args.size, seed=stream_seed(args.seed, VALIDATION_STREAM), threads=1)
    synth_stepped = stepped_numbers(synth.boxes, synth.lengths)
    synth_rows = np.flatnonzero(~synth_stepped)[: int(synth_stepped.sum())]
    sets = {
        "real dev, stepped": (real.images[real_stepped], real.digits[real_stepped], real.lengths[real_stepped]),
        "real dev, in a row": (real.images[~real_stepped], real.digits[~real_stepped], real.lengths[~real_stepped]),
        "synthetic, stepped": (synth.images[synth_stepped], synth.digits[synth_stepped], synth.lengths[synth_stepped]),
        "synthetic, in a row": (synth.images[synth_rows], synth.digits[synth_rows], synth.lengths[synth_rows]),
    }
    models = {str(p): load_model(p, role="recognizer") for p in args.recognizers} if args.recognizers else {
        "shipped": pretrained.load("recognizer")}
    rows = []
    for name, model in models.items():
        row: dict[str, Any] = {"recognizer": name}
        for crops, (images, digits, lengths) in sets.items():
            row[f"{crops} ({len(images)})"] = accuracy(model, images, digits, lengths)
        rows.append(row)
        print(row, flush=True)
    results = {"seed": args.seed, "size": args.size, "views": 5, "threads": 1,
               "load_average_1min": round(os.getloadavg()[0], 2), "rows": rows}
    path = save_result("arranged_numbers", results)
    print_table("Sequence accuracy on stepped (stacked or diagonal) numbers and the rest", rows, list(rows[0]))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
