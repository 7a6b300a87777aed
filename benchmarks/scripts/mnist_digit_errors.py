"""Which MNIST test digits the ``mnist-seq`` recognizers get wrong, and how much those errors overlap.

    python -m benchmarks.scripts.mnist_digit_errors runs/mnist-seq-1600 runs/ens-seed1 ... [--checkpoint last] [--tta-warp 8]

Sequence accuracy is bounded by digit accuracy: a sequence of L digits is right only when all L are.
This shows each of the 10,000 test digits alone, in the middle slot of an otherwise blank sequence,
to every run's model and counts the digits it reads wrong; then the digits that k of the models
miss (k = 1..N), and the digits the ensemble (mean class probabilities) misses. Errors that every
model shares are a floor that more members cannot lift. Writes
``benchmarks/results/mnist_digit_errors.json`` and a PNG of the digits every model misses.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from benchmarks.record import RESULTS, save_result
from svhnx.data.mnist import load_mnist
from svhnx.evaluate import LoadedRun, load_run, with_warped_views
from svhnx.labels import MAX_DIGITS
from svhnx.train.run_dir import RunDirectory

SLOT = MAX_DIGITS // 2  # the middle slot
BATCH = 1000


def lone_digit_sequences(digits: np.ndarray) -> torch.Tensor:
    """``uint8[N, 28, 140, 1]``: each 28 x 28 digit in the middle slot, the other slots blank."""
    n, side = len(digits), digits.shape[1]
    images = np.zeros((n, side, side * MAX_DIGITS, 1), np.uint8)
    images[:, :, SLOT * side : (SLOT + 1) * side, 0] = digits
    return torch.from_numpy(images)


@torch.inference_mode()
def digit_probabilities(run: LoadedRun, images: torch.Tensor) -> np.ndarray:
    """``float[N, 10]``: the run's class probabilities of the middle slot's digit (blank left out)."""
    run.model.eval()
    out = [run.model(images[i : i + BATCH])["digits"][:, SLOT, :10].float().softmax(-1) for i in range(0, len(images), BATCH)]
    return torch.cat(out).numpy()


def plot_digits(digits: np.ndarray, truth: np.ndarray, guess: np.ndarray, path: Path) -> None:
    """A grid of digits titled "truth -> ensemble's reading"."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = min(10, max(1, len(digits)))
    rows = max(1, -(-len(digits) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.1, rows * 1.3), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, t, g in zip(axes.flat, digits, truth, guess):
        ax.imshow(image, cmap="gray")
        ax.set_title(f"{t} -> {g}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scripts.mnist_digit_errors", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", type=Path, nargs="+", help="finished mnist-seq runs")
    parser.add_argument("--checkpoint", choices=("best", "last"), default="last", help="each run's checkpoint (default: last)")
    parser.add_argument("--data-root", type=Path, default=None, help="MNIST folder (default: each run's own)")
    parser.add_argument("--tta-warp", type=int, default=0, metavar="V", help="read each digit with V warped views too (default: 0, none)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--name", default="mnist_digit_errors", help="result files, benchmarks/results/NAME.json and NAME.png")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    runs = [load_run(r, which=args.checkpoint, device="cpu", data_root=args.data_root) for r in args.runs]
    if args.tta_warp:
        runs = [with_warped_views(run, args.tta_warp) for run in runs]
    digits, labels = load_mnist("test", runs[0].task.config.data_root)
    images = lone_digit_sequences(digits)
    probabilities = []
    rows = []
    for path, run in zip(args.runs, runs):
        p = digit_probabilities(run, images)
        probabilities.append(p)
        wrong = int((p.argmax(1) != labels).sum())
        rows.append({"run": str(path), "command": RunDirectory(path).read_config()["command"],
                     "checkpoint_step": int(run.checkpoint["progress"]["step"]), "wrong_digits": wrong})
        print(f"{path}: {wrong} wrong digits", flush=True)

    misses = np.stack([p.argmax(1) != labels for p in probabilities])  # runs x digits
    missed_by = misses.sum(0)
    ensemble = np.mean(probabilities, axis=0).argmax(1)
    every = np.flatnonzero(missed_by == len(runs))
    figure = RESULTS / f"{args.name}.png"
    plot_digits(digits[every], labels[every], ensemble[every], figure)
    results = {
        "task": "mnist-seq",
        "test_digits": len(labels),
        "shown_as": f"each test digit alone in slot {SLOT + 1} of 5, the other slots blank",
        "checkpoints": f"{args.checkpoint}.pt of each run",
        "warped_views": args.tta_warp,
        "members": rows,
        "wrong_digits_mean": round(float(np.mean([r["wrong_digits"] for r in rows])), 1),
        "digits_missed_by_k_models": {str(k): int((missed_by == k).sum()) for k in range(1, len(runs) + 1)},
        "digits_missed_by_any": int((missed_by > 0).sum()),
        "digits_missed_by_all": int(len(every)),
        "ensemble_wrong_digits": int((ensemble != labels).sum()),
        "missed_by_all_test_indices": every.tolist(),
        "figure": figure.name,
    }
    print(f"ensemble of {len(runs)}: {results['ensemble_wrong_digits']} wrong; missed by all: {len(every)}, "
          f"by any: {results['digits_missed_by_any']}", flush=True)
    command = ["python", "-m", "benchmarks.scripts.mnist_digit_errors", *map(str, args.runs), "--checkpoint", args.checkpoint]
    if args.data_root is not None:
        command += ["--data-root", str(args.data_root)]
    if args.tta_warp:
        command += ["--tta-warp", str(args.tta_warp)]
    path = save_result(args.name, results, command=command)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
