"""A recognizer read with one view of each crop and with five, on held-out synthetic crops and on
the real dev crops, side by side.

    python -m benchmarks.scripts.recognizer_views [--recognizer RUN_OR_CKPT ...] [--seeds 12 777] [--size 2048]
        [--precision float32 bfloat16] [--name NAME]

Synthetic: :func:`svhnx.synth.dataset.validation_crops` of each seed (a validation stream no
training run draws from; seed 12 is the shipped recognizer's own validation stream). Real:
``svhn-real/test-numbers-dev.npz``. Sequence accuracy and coverage at 98% for views 1 and 5
(:func:`svhnx.inference.recognize.recognize`), in each ``--precision`` (columns after the first
precision's are suffixed with its name). Several recognizers are read as one ensemble; none: the
shipped ones. One thread. Writes ``benchmarks/results/NAME.json`` (default ``recognizer_views``).
"""

from __future__ import annotations

import argparse
import os
from typing import Any

import torch

from benchmarks.reader_models import add_recognizer_argument, described, load_recognizer
from benchmarks.record import print_table, save_result
from svhnx.data.download import default_root
from svhnx.evaluate.real import Readings, load_numbers, number_scores, read_numbers
from svhnx.hardware import PRECISIONS, resolve_precision
from svhnx.inference.backends import in_precision
from svhnx.inference.recognize import DEFAULT_VIEWS
from svhnx.synth.dataset import validation_crops
from svhnx.synth.generator import SceneGenerator

NUMBERS = "svhn-real/test-numbers-dev.npz"


def scores(readings: Readings, digits: Any, lengths: Any) -> dict[str, float]:
    """Sequence accuracy and coverage at 98% of ``readings``."""
    s = number_scores(readings, digits, lengths)
    return {"sequence_accuracy": round(s["sequence_accuracy"], 4), "coverage_at_98": round(s["coverage_at_98"], 4)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scripts.recognizer_views", description=__doc__.split("\n\n")[0])
    add_recognizer_argument(parser)
    parser.add_argument("--seeds", type=int, nargs="+", default=[12, 777], help="synthetic validation streams (default: %(default)s)")
    parser.add_argument("--size", type=int, default=2048, help="synthetic crops per seed (default: %(default)s)")
    parser.add_argument("--precision", nargs="+", choices=PRECISIONS, default=["float32"],
                        help="how the recognizer computes, each in turn (default: %(default)s)")
    parser.add_argument("--name", default="recognizer_views", help="the result file, benchmarks/results/NAME.json (default: %(default)s)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    model = load_recognizer(args.recognizer)
    in_each = {how: in_precision(model, resolve_precision(how)) for how in args.precision}  # cast once, not per crop set
    generator = SceneGenerator.from_data(None)
    sets = {f"synthetic seed {seed}": validation_crops(generator, args.size, seed=seed, threads=1) for seed in args.seeds}
    real = load_numbers(default_root() / NUMBERS)
    rows = []
    for name, crops in [*sets.items(), ("svhn-real dev", real)]:
        row: dict[str, Any] = {"crops": name, "count": len(crops.images)}
        for index, precision in enumerate(args.precision):
            for views in (1, DEFAULT_VIEWS):
                key = f"{views} view{'s' * (views > 1)}" + (f" {resolve_precision(precision)}" if index else "")
                readings = read_numbers(in_each[precision], crops.images, views=views, precision=precision)
                row[key] = scores(readings, crops.digits, crops.lengths)
        rows.append(row)
        print(row, flush=True)
    results = {"recognizer": described(args.recognizer), "threads": 1,
               "precisions": [resolve_precision(p) for p in args.precision], "load_average_1min": round(os.getloadavg()[0], 2), "rows": rows}
    path = save_result(args.name, results)
    flat = [{"crops": r["crops"], **{f"{k} {m}": v[m] for k, v in r.items() if isinstance(v, dict) for m in v}} for r in rows]
    print_table("One view against five (sequence accuracy, coverage at 98%)", flat, list(flat[0]))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
