"""The metrics of Goodfellow et al. (2013) for reading house numbers, and their figures.

* sequence accuracy: the whole number right (its length and every digit);
* per-digit accuracy: the digit slots of the true numbers read right (:class:`svhnx.metrics.SequenceAccuracy`);
* coverage at 98% accuracy: keep the readings whose confidence (joint probability) clears a
  threshold, chosen as low as possible while the kept readings stay at least 98% right; coverage is
  the share kept. A system that may refuse to answer is useful at that operating point.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from svhnx.labels import LENGTH_OVERFLOW, NUM_LENGTH_CLASSES, target_to_string  # noqa: E402
from svhnx.metrics import SequenceAccuracy  # noqa: E402
from svhnx.models.svhn import most_probable_numbers  # noqa: E402
from svhnx.plotting import save_png  # noqa: E402
from svhnx.train.task import Batch, MetricAccumulator, batch_to  # noqa: E402

TARGET_ACCURACY = 0.98


def coverage_curve(confidence: np.ndarray, correct: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Accuracy against coverage when keeping the most confident readings.

    Only thresholds that keep or drop tied confidences together are possible, so the curve has one
    point per distinct confidence: ``(coverage, accuracy, threshold)``, coverage increasing; keeping
    every reading with ``confidence >= threshold[k]`` gives ``coverage[k]`` and ``accuracy[k]``.
    """
    confidence, correct = np.asarray(confidence, dtype=np.float64), np.asarray(correct, dtype=bool)
    if confidence.shape != correct.shape or confidence.ndim != 1:
        raise ValueError(f"confidence and correct: expected two 1-d arrays of one length, got {confidence.shape} and {correct.shape}")
    if len(confidence) == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    order = np.argsort(-confidence, kind="stable")
    sorted_confidence = confidence[order]
    kept = np.arange(1, len(order) + 1)
    accuracy = np.cumsum(correct[order]) / kept
    last_of_tie = np.append(sorted_confidence[1:] != sorted_confidence[:-1], True)
    return kept[last_of_tie] / len(order), accuracy[last_of_tie], sorted_confidence[last_of_tie]


def coverage_at_accuracy(confidence: np.ndarray, correct: np.ndarray, target: float = TARGET_ACCURACY) -> tuple[float, float]:
    """``(coverage, threshold)``: the largest share of readings, most confident first, that is at
    least ``target`` accurate, and the confidence threshold that keeps it (coverage 0 and threshold
    NaN when even the most confident readings miss the target)."""
    coverage, accuracy, threshold = coverage_curve(confidence, correct)
    ok = np.flatnonzero(accuracy >= target)
    if len(ok) == 0:
        return 0.0, float("nan")
    return float(coverage[ok[-1]]), float(threshold[ok[-1]])


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


def readings_correct(digits: torch.Tensor, lengths: torch.Tensor, target_digits: torch.Tensor, target_lengths: torch.Tensor) -> torch.Tensor:
    """Per image: the length read is the true one, every slot is right, and the number has at most five digits."""
    return (digits == target_digits).all(dim=1) & (lengths == target_lengths) & (target_lengths != LENGTH_OVERFLOW)


class SvhnMetrics(MetricAccumulator):
    """Goodfellow et al.'s metrics over recognizer outputs (``{"digits", "length"}`` logits).

    ``compute()`` gives ``sequence_accuracy``, ``digit_accuracy``, ``length_accuracy`` (the length
    read), ``position_<i>_accuracy``, ``coverage_at_98`` and ``threshold_at_98`` (the confidence
    threshold that gives it).
    """

    def __init__(self) -> None:
        self.slots = SequenceAccuracy()
        self.confidence: list[np.ndarray] = []
        self.correct: list[np.ndarray] = []

    def update(self, output: Mapping[str, torch.Tensor], batch: Batch) -> None:
        digits, lengths, confidence = most_probable_numbers(output)
        target_digits, target_lengths = batch["digits"].to(digits.device), batch["lengths"].to(digits.device)
        self.slots.update(digits, target_digits, target_lengths, F.one_hot(lengths, NUM_LENGTH_CLASSES))
        self.confidence.append(confidence.detach().cpu().numpy())
        self.correct.append(readings_correct(digits, lengths, target_digits, target_lengths).cpu().numpy())

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """``(confidence, correct)`` of every image so far."""
        if not self.confidence:
            return np.zeros(0), np.zeros(0, dtype=bool)
        return np.concatenate(self.confidence), np.concatenate(self.correct)

    def compute(self) -> dict[str, float]:
        confidence, correct = self.arrays()
        coverage, threshold = coverage_at_accuracy(confidence, correct)
        slots = self.slots.compute()
        return {
            "sequence_accuracy": float(correct.mean()) if len(correct) else float("nan"),
            **{k: v for k, v in slots.items() if k != "sequence_accuracy"},
            "coverage_at_98": coverage if len(correct) else float("nan"),
            "threshold_at_98": threshold,
        }


def plot_readings(
    images: np.ndarray, truths: np.ndarray, readings: np.ndarray, confidence: np.ndarray, correct: np.ndarray,
    path: str | Path, *, count: int = 32, columns: int = 8,
) -> None:
    """A PNG grid of crops titled with the reading and its confidence (mistakes first, in red, with
    the truth), under a title giving the mistakes, the accuracy and the legend."""
    shown = np.concatenate([np.flatnonzero(~correct), np.flatnonzero(correct)])[:count]
    columns = max(1, min(columns, len(shown)))
    rows = max(1, -(-len(shown) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 1.5, rows * 1.75), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, shown):
        ax.imshow(images[i].squeeze(), cmap="gray", vmin=0, vmax=255)
        title = f"{target_to_string(readings[i]) or '-'} ({confidence[i]:.2f})"
        if not correct[i]:
            title += f"\ntruth {target_to_string(truths[i])}"
        ax.set_title(title, fontsize=8, color="black" if correct[i] else "red", family="monospace")
    fig.suptitle(readings_title(correct), fontsize=9)
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


@torch.no_grad()
def plot_evaluation(model: torch.nn.Module, batches: Iterable[Batch], device: torch.device, path: str | Path) -> None:
    """Run a recognizer over ``batches``: sample readings at ``path`` (:func:`plot_readings`) and
    the coverage-accuracy curve at :func:`coverage_path` of it."""
    model.eval()
    metrics = SvhnMetrics()
    images, truths, readings = [], [], []
    for batch in batches:
        output = model(batch_to(batch, device)["images"])
        metrics.update(output, batch_to(batch, device))
        images.append(batch["images"].numpy())
        truths.append(batch["digits"].numpy())
        readings.append(most_probable_numbers(output)[0].cpu().numpy())
    confidence, correct = metrics.arrays()
    plot_readings(np.concatenate(images), np.concatenate(truths), np.concatenate(readings), confidence, correct, path)
    coverage, accuracy, _ = coverage_curve(confidence, correct)
    plot_coverage_curves({"recognizer": (coverage, accuracy)}, coverage_path(path))
