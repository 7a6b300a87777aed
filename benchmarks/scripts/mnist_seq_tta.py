"""Test-time augmentation of one ``mnist-seq`` model: accuracy and inference cost, side by side.

    OMP_WAIT_POLICY=PASSIVE python -m benchmarks.scripts.mnist_seq_tta runs/mnist-seq-1600 [--checkpoint last]

Scores the run's model on the five fresh validation sets of :mod:`benchmarks.scripts.mnist_seq_cpu`
three ways: as it is, with :class:`~svhnx.evaluate.views.ShiftedViews` (the image and four copies
shifted one pixel) and with :class:`~svhnx.evaluate.views.WarpedViews` (the image and eight copies
with every digit slot mildly warped), timing each set's pass. Writes
``benchmarks/results/mnist_seq_tta.json``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from benchmarks.record import save_result
from benchmarks.scripts.mnist_seq_cpu import FRESH_SETS, VALIDATION, fresh_validation
from svhnx.evaluate import LoadedRun, load_run, with_shifted_views, with_warped_views
from svhnx.evaluate.views import MILD_WARP

SHIFT = 1  # pixels
WARPED_VIEWS = 8


def timed(run: LoadedRun, views: int) -> dict:
    """:func:`fresh_validation` of ``run``, with the mean seconds per 10,000 sequences."""
    start = time.perf_counter()
    scores = fresh_validation(run)
    seconds = (time.perf_counter() - start) / FRESH_SETS
    return {"views": views, **scores, "seconds_per_set": round(seconds, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scripts.mnist_seq_tta", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="a finished mnist-seq run")
    parser.add_argument("--checkpoint", choices=("best", "last"), default="last", help="(default: last)")
    parser.add_argument("--data-root", type=Path, default=None, help="MNIST folder (default: the run's)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--name", default="mnist_seq_tta", help="result file, benchmarks/results/NAME.json")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    run = load_run(args.run, which=args.checkpoint, device="cpu", data_root=args.data_root)
    shifted, warped = with_shifted_views(run, SHIFT), with_warped_views(run, WARPED_VIEWS)
    ways = {
        "plain": (run, 1),
        f"shifted_views_{SHIFT}px": (shifted, len(shifted.model.shifts)),
        f"warped_views_{WARPED_VIEWS}": (warped, 1 + warped.model.views),
    }
    results: dict = {"task": "mnist-seq", "run": str(args.run), "checkpoint": f"{args.checkpoint}.pt",
                     "validation": f"{FRESH_SETS} fresh sets of {VALIDATION:,} sequences from the MNIST test digits",
                     "threads": args.threads, "warp": repr(MILD_WARP)}
    for name, (model_run, views) in ways.items():
        results[name] = timed(model_run, views)
        score = results[name]
        print(f"{name}: {score['sequence_accuracy_mean']:.4f} +- {score['sequence_accuracy_sd']:.4f}, "
              f"{score['seconds_per_set']} s per set", flush=True)
    command = ["python", "-m", "benchmarks.scripts.mnist_seq_tta", str(args.run), "--checkpoint", args.checkpoint]
    if args.data_root is not None:
        command += ["--data-root", str(args.data_root)]
    print(f"wrote {save_result(args.name, results, command=command)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
