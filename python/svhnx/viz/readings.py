"""Figures of a recognizer's readings: sample crops (mistakes first) and the coverage-accuracy curve."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from svhnx.labels import target_to_string
from svhnx.metrics.coverage import TARGET_ACCURACY, coverage_curve
from svhnx.viz.png import save_png


def plot_coverage_curves(curves: Mapping[str, tuple[np.ndarray, np.ndarray]], path: str | Path, target: float = TARGET_ACCURACY) -> None:
    """A PNG of accuracy against coverage, one line per ``name: (coverage, accuracy)``, with the target accuracy marked."""
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for name, (coverage, accuracy) in curves.items():
        ax.plot(np.concatenate([[0.0], coverage]), np.concatenate([accuracy[:1], accuracy]), label=name)
    ax.axhline(target, color="grey", linestyle="--", linewidth=1, label=f"{target:.0%} accuracy")
    ax.set_xlabel("coverage (share of images answered, most confident first)")
    ax.set_ylabel("sequence accuracy of the answered images")
    ax.set_xlim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left")
    save_png(fig, path)


def plot_readings(
    images: np.ndarray, truths: np.ndarray, readings: np.ndarray, confidence: np.ndarray, correct: np.ndarray,
    path: str | Path, *, count: int = 32, columns: int = 8, title: str | None = None,
) -> None:
    """A PNG grid of crops titled with the reading and its confidence (mistakes first, in red, with
    the truth), under ``title`` (default: the mistakes, the accuracy and the legend,
    :func:`readings_title`)."""
    shown = np.concatenate([np.flatnonzero(~correct), np.flatnonzero(correct)])[:count]
    columns = max(1, min(columns, len(shown)))
    rows = max(1, -(-len(shown) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 1.5, rows * 1.75), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, shown):
        ax.imshow(images[i].squeeze(), cmap="gray", vmin=0, vmax=255)
        caption = f"{target_to_string(readings[i]) or '-'} ({confidence[i]:.2f})"
        if not correct[i]:
            caption += f"\ntruth {target_to_string(truths[i])}"
        ax.set_title(caption, fontsize=8, color="black" if correct[i] else "red", family="monospace")
    fig.suptitle(readings_title(correct) if title is None else title, fontsize=9)
    save_png(fig, path)


def readings_title(correct: np.ndarray) -> str:
    """``misread 12 of 300 (accuracy 96.00%), ...`` and the legend of :func:`plot_readings`."""
    wrong, total = int((~correct).sum()), len(correct)
    accuracy = 100 * (1 - wrong / total) if total else float("nan")
    return (f"misread {wrong:,} of {total:,} (accuracy {accuracy:.2f}%), mistakes first in red with the truth\n"
            "each crop: reading (confidence); '-' = nothing read")


def coverage_path(path: str | Path) -> Path:
    """Where the coverage-accuracy curve goes beside a readings figure: ``<stem>-coverage.png``."""
    path = Path(path)
    return path.with_name(f"{path.stem}-coverage.png")


def plot_evaluation(
    images: np.ndarray, truths: np.ndarray, readings: np.ndarray, confidence: np.ndarray, correct: np.ndarray,
    path: str | Path, *, label: str = "recognizer",
) -> None:
    """Sample readings at ``path`` (:func:`plot_readings`) and the coverage-accuracy curve of
    ``label`` at :func:`coverage_path` of it."""
    plot_readings(images, truths, readings, confidence, correct, path)
    coverage, accuracy, _ = coverage_curve(confidence, correct)
    plot_coverage_curves({label: (coverage, accuracy)}, coverage_path(path))
