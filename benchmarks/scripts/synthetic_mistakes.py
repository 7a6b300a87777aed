"""Mistakes of a recognizer on held-out synthetic crops, drawn at random as a grid to judge by eye.

    python -m benchmarks.scripts.synthetic_mistakes [--recognizer CKPT ...] [--seed 777] [--size 2048]
        [--count 64] [--pick-seed 2026] [--name synthetic_mistakes]

Reads the crops of :func:`svhnx.synth.dataset.validation_crops` of ``--seed`` with five views in
float32, as ``recognizer_views`` does (none given: the shipped recognizers, read as one), and draws
``--count`` of its mistakes, taken at random, each titled with the reading and the truth. Whether a
person could read those crops is what the figure is for: the synthetic held-out accuracy counts a
crop whose digits are blurred away as a mistake like any other. One thread. Writes
``benchmarks/results/NAME.png`` and ``NAME.json`` (the accuracy, and the crops drawn with their
readings and confidences).
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import torch

from benchmarks.reader_models import add_recognizer_argument, described, load_recognizer
from benchmarks.record import RESULTS, save_result
from svhnx.evaluate.real import read_numbers
from svhnx.inference.recognize import DEFAULT_VIEWS
from svhnx.labels import target_to_string
from svhnx.synth.dataset import validation_crops
from svhnx.synth.generator import SceneGenerator
from svhnx.viz.readings import plot_readings


def drawn_mistakes(right: np.ndarray, count: int, seed: int) -> np.ndarray:
    """Up to ``count`` indices of the ``False`` entries of ``right``, drawn at random by ``seed``, ascending."""
    wrong = np.flatnonzero(~right)
    return np.sort(np.random.default_rng(seed).choice(wrong, min(count, len(wrong)), replace=False))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scripts.synthetic_mistakes", description=__doc__.split("\n\n")[0])
    add_recognizer_argument(parser)
    parser.add_argument("--seed", type=int, default=777, help="the synthetic validation stream (default: %(default)s)")
    parser.add_argument("--size", type=int, default=2048, help="crops read (default: %(default)s)")
    parser.add_argument("--count", type=int, default=64, help="mistakes drawn (default: %(default)s)")
    parser.add_argument("--pick-seed", type=int, default=2026, help="which mistakes are drawn (default: %(default)s)")
    parser.add_argument("--name", default="synthetic_mistakes", help="benchmarks/results/NAME.png and .json (default: %(default)s)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    crops = validation_crops(SceneGenerator.from_data(None), args.size, seed=args.seed, threads=1)
    readings = read_numbers(load_recognizer(args.recognizer), crops.images, views=DEFAULT_VIEWS, precision="float32")
    truths = [target_to_string(d) for d in crops.digits]
    read = [target_to_string(d) for d in readings.digits]
    right = np.array([t == r for t, r in zip(truths, read)])
    drawn = drawn_mistakes(right, args.count, args.pick_seed)
    title = (f"{len(drawn)} of the {int((~right).sum()):,} mistakes in {len(right):,} held-out synthetic crops (seed {args.seed}, "
             f"accuracy {right.mean():.2%}), drawn at random\neach crop: reading (confidence) in red, and the truth")
    plot_readings(crops.images[drawn], crops.digits[drawn], readings.digits[drawn], readings.confidence[drawn],
                  np.zeros(len(drawn), bool), RESULTS / f"{args.name}.png", count=len(drawn), title=title)
    results = {
        "recognizer": described(args.recognizer), "seed": args.seed, "crops": len(right), "views": DEFAULT_VIEWS,
        "precision": "float32", "sequence_accuracy": round(float(right.mean()), 4), "mistakes": int((~right).sum()),
        "pick_seed": args.pick_seed, "load_average_1min": round(os.getloadavg()[0], 2),
        "drawn": [{"crop": int(i), "truth": truths[i], "read": read[i], "confidence": round(float(readings.confidence[i]), 3)} for i in drawn],
    }
    path = save_result(args.name, results)
    print(f"{results['mistakes']} mistakes in {len(right)} crops (accuracy {results['sequence_accuracy']:.2%}); "
          f"{len(drawn)} drawn in {RESULTS / f'{args.name}.png'}\nwrote {path}")


if __name__ == "__main__":
    main()
