"""Accuracy of multi-digit readings (targets as :mod:`svhnx.labels` defines them): sequence, per-digit, per-position and length.

A reading is the five predicted slot classes (10 = blank). It is right when every slot is right;
a number of more than five digits (length class 6) can never be read right.
"""

from __future__ import annotations

import torch

from svhnx.labels import BLANK, LENGTH_OVERFLOW, MAX_DIGITS


def predicted_lengths(digits: torch.Tensor) -> torch.Tensor:
    """Length implied by predicted slot classes ``N x 5``: the count of non-blank slots."""
    return (digits != BLANK).sum(dim=1)


def sequence_correct(pred_digits: torch.Tensor, target_digits: torch.Tensor, target_lengths: torch.Tensor) -> torch.Tensor:
    """Per sample: every slot right and the number at most five digits long (bool ``N``)."""
    return (pred_digits == target_digits).all(dim=1) & (target_lengths != LENGTH_OVERFLOW)


class SequenceAccuracy:
    """Accumulates reading accuracy over batches.

    ``compute()`` gives ``sequence_accuracy`` (whole number right), ``digit_accuracy`` (slots that
    hold a digit, read right), ``length_accuracy`` (from the length head when there is one, else
    from the count of non-blank predicted slots) and ``position_<i>_accuracy`` (slot ``i``, 1-5,
    blanks included).
    """

    def __init__(self) -> None:
        self.samples = 0
        self.sequences_right = 0
        self.digits = 0
        self.digits_right = 0
        self.lengths_right = 0
        self.positions_right = torch.zeros(MAX_DIGITS, dtype=torch.long)

    def update(
        self,
        digit_logits: torch.Tensor,
        target_digits: torch.Tensor,
        target_lengths: torch.Tensor,
        length_logits: torch.Tensor | None = None,
    ) -> None:
        """Add a batch: logits ``N x 5 x 11`` (or predicted classes ``N x 5``), targets ``N x 5``,
        lengths ``N``, optional length logits ``N x 7``."""
        pred = digit_logits.argmax(dim=-1) if digit_logits.ndim == 3 else digit_logits
        if pred.shape != target_digits.shape or pred.shape[1:] != (MAX_DIGITS,):
            raise ValueError(f"predictions {tuple(pred.shape)} and targets {tuple(target_digits.shape)} must both be N x {MAX_DIGITS}")
        pred, target_digits, target_lengths = pred.cpu(), target_digits.cpu(), target_lengths.cpu()
        slot_right = pred == target_digits
        holds_digit = target_digits != BLANK
        length_pred = length_logits.argmax(dim=-1).cpu() if length_logits is not None else predicted_lengths(pred)
        self.samples += len(pred)
        self.sequences_right += int(sequence_correct(pred, target_digits, target_lengths).sum())
        self.digits += int(holds_digit.sum())
        self.digits_right += int((slot_right & holds_digit).sum())
        self.lengths_right += int((length_pred == target_lengths).sum())
        self.positions_right += slot_right.sum(dim=0)

    def compute(self) -> dict[str, float]:
        """The accuracies so far (NaN before any sample)."""
        n = self.samples or float("nan")
        out = {
            "sequence_accuracy": self.sequences_right / n,
            "digit_accuracy": self.digits_right / (self.digits or float("nan")),
            "length_accuracy": self.lengths_right / n,
        }
        for i, right in enumerate(self.positions_right.tolist(), start=1):
            out[f"position_{i}_accuracy"] = right / n
        return out
