"""Synthetic scenes against the real SVHN annotations, quantity by quantity.

``python -m benchmarks.synth_stats [--scenes N]`` draws N scenes from the generator and compares,
with the real ``svhn-annotations/boxes.csv.gz``: number length, digit box height relative to image
height, box aspect ratio (width / height), the gap between consecutive digit boxes relative to
their height, and image width and height. Writes overlaid histograms to
``benchmarks/results/synth_stats.png`` and two-sample Kolmogorov-Smirnov statistics to
``benchmarks/results/synth_stats.json``.

The generator draws its layouts from the real *train* split, so synthetic vs train measures how
faithfully the drawing reproduces them (boxes are measured from the drawn glyphs, not copied);
real train vs real test is printed alongside as the yardstick of a difference that is no error.
Synthetic boxes are compared as drawn and rounded to whole pixels, as SVHN's annotators drew them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from benchmarks.record import RESULTS, print_table, save_result
from svhnx.data.download import default_root
from svhnx.synth import SceneGenerator
from svhnx.synth.layouts import annotations_path, read_annotations
from svhnx.viz.png import save_png

QUANTITIES = {
    "length": "digits per number",
    "height": "box height / image height",
    "aspect": "box width / height",
    "gap": "gap between boxes / box height",
    "image_width": "image width (px)",
    "image_height": "image height (px)",
}


def quantities(sizes: np.ndarray, boxes: list[np.ndarray]) -> dict[str, np.ndarray]:
    """The compared quantities of images with ``sizes`` ``[N, 2]`` (width, height) and per-image boxes ``[k, 4]``."""
    lengths = np.array([len(b) for b in boxes])
    every = np.concatenate(boxes)
    image_h = np.repeat(sizes[:, 1], lengths)
    gaps = [(b[1:, 0] - (b[:-1, 0] + b[:-1, 2])) / ((b[1:, 3] + b[:-1, 3]) / 2) for b in boxes if len(b) > 1]
    return {
        "length": lengths.astype(np.float64),
        "height": every[:, 3] / image_h,
        "aspect": every[:, 2] / every[:, 3],
        "gap": np.concatenate(gaps),
        "image_width": sizes[:, 0].astype(np.float64),
        "image_height": sizes[:, 1].astype(np.float64),
    }


def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic: the largest gap between the empirical CDFs."""
    a, b = np.sort(a), np.sort(b)
    points = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, points, side="right") / len(a)
    cdf_b = np.searchsorted(b, points, side="right") / len(b)
    return float(np.max(np.abs(cdf_a - cdf_b)))


def real_quantities(root: Path, split: str) -> dict[str, np.ndarray]:
    ann = read_annotations(annotations_path(root))
    numbers = [idx for idx in ann.numbers(split) if len(idx) <= 5]
    sizes = np.array([ann.image_size[idx[0]] for idx in numbers])
    return quantities(sizes, [ann.box[idx].astype(np.float64) for idx in numbers])


def synthetic_quantities(generator: SceneGenerator, count: int, seed: int) -> tuple[dict, dict]:
    """Quantities of ``count`` scenes, with their boxes as drawn and rounded to whole pixels.

    SVHN's annotators placed boxes on whole pixels, so its gaps and aspect ratios sit on a lattice
    (a gap of exactly 0 is the commonest value); the rounded boxes compare like with like.
    """
    batch = generator.scenes(count, seed=seed)
    sizes = np.array([(im.shape[1], im.shape[0]) for im in batch.images])
    boxes = [batch.boxes[i, :k].astype(np.float64) for i, k in enumerate(batch.lengths)]
    rounded = []
    for b in boxes:
        corners = np.round(np.concatenate([b[:, :2], b[:, :2] + b[:, 2:]], axis=1))
        rounded.append(np.concatenate([corners[:, :2], np.maximum(corners[:, 2:] - corners[:, :2], 1)], axis=1))
    return quantities(sizes, boxes), quantities(sizes, rounded)


def plot(path: Path, synthetic: dict, train: dict, test: dict, ks: dict) -> None:
    """Overlaid histograms of each quantity, synthetic (boxes rounded like SVHN's) against real train and test."""
    fig, axes = plt.subplots(2, 3, figsize=(15, 8.5))
    for ax, (name, label) in zip(axes.ravel(), QUANTITIES.items()):
        values = np.concatenate([synthetic[name], train[name]])
        if name == "length":
            bins = np.arange(0.5, 6.5, 1.0)
        else:
            lo, hi = np.percentile(values, [0.5, 99.5])
            bins = np.linspace(lo, hi, 50)
        for data, what, style in [(train[name], "real train", dict(color="tab:blue", alpha=0.45)),
                                  (test[name], "real test", dict(color="tab:green", histtype="step", linewidth=1.5)),
                                  (synthetic[name], "synthetic", dict(color="tab:red", histtype="step", linewidth=2))]:
            ax.hist(np.clip(data, bins[0], bins[-1]), bins=bins, density=True, label=what, **style)
        ax.set_title(f"{label}\nKS synthetic-train {ks[name]['synthetic_rounded_vs_train']:.3f}, "
                     f"test-train {ks[name]['test_vs_train']:.3f}", fontsize=10)
        ax.legend(fontsize=8)
    fig.suptitle("svhnx.synth scenes vs real SVHN annotations (boxes.csv.gz)")
    save_png(fig, path, dpi=90)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.synth_stats", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenes", type=int, default=20000, help="synthetic scenes to draw (default 20000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-root", type=Path, default=None, help="folder with svhn-annotations/ (default $SVHNX_DATA)")
    args = parser.parse_args(argv)
    root = args.data_root if args.data_root is not None else default_root()

    generator = SceneGenerator.from_data(root)
    start = time.perf_counter()
    synthetic, rounded = synthetic_quantities(generator, args.scenes, args.seed)
    seconds = time.perf_counter() - start
    train, test = real_quantities(root, "train"), real_quantities(root, "test")
    ks = {name: {"synthetic_vs_train": ks_statistic(synthetic[name], train[name]),
                 "synthetic_rounded_vs_train": ks_statistic(rounded[name], train[name]),
                 "synthetic_rounded_vs_test": ks_statistic(rounded[name], test[name]),
                 "test_vs_train": ks_statistic(test[name], train[name]),
                 "median": {"synthetic": float(np.median(synthetic[name])), "train": float(np.median(train[name])),
                            "test": float(np.median(test[name]))}}
          for name in QUANTITIES}
    print_table(f"KS statistics, {args.scenes} synthetic scenes ({seconds:.1f} s to draw on {os.cpu_count()} threads)",
                [{"quantity": n, **{k: v for k, v in ks[n].items() if k != "median"}} for n in QUANTITIES],
                ["quantity", "synthetic_vs_train", "synthetic_rounded_vs_train", "synthetic_rounded_vs_test", "test_vs_train"])
    plot(RESULTS / "synth_stats.png", rounded, train, test, ks)
    path = save_result("synth_stats", {
        "synthetic_scenes": args.scenes,
        "seed": args.seed,
        "real_images": {"train": int(len(train["length"])), "test": int(len(test["length"]))},
        "ks": ks,
        "figure": "benchmarks/results/synth_stats.png",
    })
    print(f"\nwrote {path} and {RESULTS / 'synth_stats.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
