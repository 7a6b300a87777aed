"""Learning-curve figure of a run directory (matplotlib, Agg backend)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from svhnx.plotting import save_png  # noqa: E402

LOSS_COLUMNS = ("train_loss", "val_loss")


def plot_curves(rows: Sequence[dict[str, float]], metric_columns: Sequence[str], path: Path) -> None:
    """Losses (left) and validation metrics (right) against the training step, as a PNG."""
    if not rows:
        return
    steps = [r["step"] for r in rows]
    fig, (ax_loss, ax_metric) = plt.subplots(1, 2, figsize=(11, 4))
    for column in LOSS_COLUMNS:
        if column in rows[0]:
            ax_loss.plot(steps, [r[column] for r in rows], marker=".", label=column)
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel("step")
    ax_loss.set_title("loss")
    ax_loss.legend()
    for column in metric_columns:
        ax_metric.plot(steps, [r[column] for r in rows], marker=".", label=column)
    ax_metric.set_xlabel("step")
    ax_metric.set_title("validation")
    ax_metric.grid(alpha=0.3)
    ax_metric.legend(fontsize="small")
    save_png(fig, path)
