"""Learning-curve figure of a run directory (matplotlib, Agg backend).

Scores close to 1 (accuracies, Dice, IoU) are drawn as their error, ``1 - score``, on a log axis,
so that the climb from 97% to 99% is as visible as the one from 50% to 90%.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter

from svhnx.viz.png import save_png

LOSS_COLUMNS = ("train_loss", "val_loss")
#: Metric columns left off the error panel (still in metrics.csv): per-slot accuracies and thresholds.
HIDDEN = re.compile(r"position_\d+_|threshold")
ERROR_FLOOR = 1e-4  # a perfect score is drawn at 0.01% error, which a log axis can show


def error_columns(metric_columns: Sequence[str]) -> list[str]:
    """The columns the error panel draws, in their order."""
    return [c for c in metric_columns if not HIDDEN.search(c)]


def percent(value: float, _position: float) -> str:
    """Tick label of an error: ``0.5`` -> ``50%``, ``0.013`` -> ``1.3%``."""
    return f"{100 * value:.3g}%" if value > 0 else ""


def plot_curves(rows: Sequence[dict[str, float]], metric_columns: Sequence[str], path: Path, *, primary: str | None = None) -> None:
    """Losses (left) and the validation error ``1 - score`` (right, log axis) against the step, as a PNG.

    ``primary`` (the metric that selects ``best.pt``) is drawn bold and its last value is in the title.
    """
    if not rows:
        return
    steps = [r["step"] for r in rows]
    fig, (ax_loss, ax_error) = plt.subplots(1, 2, figsize=(11, 4))
    for column in LOSS_COLUMNS:
        if column in rows[0]:
            ax_loss.plot(steps, [r[column] for r in rows], marker=".", label=column)
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel("step")
    ax_loss.set_title("loss")
    ax_loss.grid(alpha=0.3, which="both")
    ax_loss.legend()
    for column in error_columns(metric_columns):
        errors = [max(1.0 - r[column], ERROR_FLOOR) for r in rows]
        bold = column == primary
        ax_error.plot(steps, errors, marker=".", label=column, linewidth=2.5 if bold else 1.0, zorder=3 if bold else 2)
    ax_error.set_yscale("log")
    ax_error.yaxis.set_major_formatter(FuncFormatter(percent))
    ax_error.yaxis.set_minor_formatter(FuncFormatter(lambda v, p: ""))
    ax_error.set_xlabel("step")
    ax_error.set_ylabel("error = 1 - score (log scale)")
    title = "validation error (lower is better)"
    if primary is not None and primary in rows[-1]:
        title += f"\n{primary} {100 * rows[-1][primary]:.2f}% at step {int(steps[-1])}"
    ax_error.set_title(title)
    ax_error.grid(alpha=0.3, which="both")
    ax_error.legend(fontsize="small")
    save_png(fig, path)
