"""The one line the training loop prints per evaluation: the key numbers only, in at most 100 columns.

Every metric of the evaluation stays in ``metrics.csv``; the line shows the step, the time, the
training and validation losses and the metric that selects ``best.pt``.
"""

from __future__ import annotations

import math

WIDTH = 100


def format_value(name: str, value: float) -> str:
    """Accuracies as percentages (``98.70%``), everything else with four decimals."""
    if name.endswith("accuracy") and math.isfinite(value):
        return f"{100 * value:.2f}%"
    return f"{value:.4f}"


def log_line(
    step: int, steps: int, minutes: float, train_loss: float, metrics: dict[str, float], metric: str,
    *, width: int = WIDTH,
) -> str:
    """``step 200/1600  1.3 min  train_loss 0.4123  val_loss 0.3011  sequence_accuracy 91.20%``.

    Parts are dropped, least important first (``val_loss``, the time, ``train_loss``), until the line fits ``width``.
    """
    parts = {
        "step": f"step {step}/{steps}",
        "time": f"{minutes:.1f} min",
        "train_loss": f"train_loss {train_loss:.4f}",
        "val_loss": f"val_loss {metrics['val_loss']:.4f}" if "val_loss" in metrics else "",
        "metric": f"{metric} {format_value(metric, metrics[metric])}",
    }
    for optional in ("val_loss", "time", "train_loss"):
        line = "  ".join(part for part in parts.values() if part)
        if len(line) <= width:
            return line
        parts[optional] = ""
    return "  ".join(part for part in parts.values() if part)[:width]

