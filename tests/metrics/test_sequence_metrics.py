"""Sequence, digit, length and per-position accuracy."""

import math

import numpy as np
import pytest
import torch

from svhnx.labels import parse_label
from svhnx.metrics.sequence import SequenceAccuracy, sequence_correct


def labels(*texts):
    return torch.from_numpy(np.stack([parse_label(t) for t in texts]))


def test_accuracies_on_a_hand_made_batch():
    truth = labels("..42.", "12345", "7....", "..9..")
    pred = labels("..42.", "12845", "7...1", "..9..")
    lengths = torch.tensor([2, 5, 1, 1])
    metric = SequenceAccuracy()
    metric.update(pred, truth, lengths)
    result = metric.compute()
    assert result["sequence_accuracy"] == 0.5
    assert result["digit_accuracy"] == 8 / 9  # the blank read as 1 is not a digit slot
    assert result["length_accuracy"] == 0.75  # "7...1" reads as two digits
    assert [result[f"position_{i}_accuracy"] for i in range(1, 6)] == [1, 1, 0.75, 1, 0.75]


def test_logits_are_decoded_and_batches_add_up():
    truth = labels("..42.", "12345")
    logits = torch.nn.functional.one_hot(truth, 11).float()
    metric = SequenceAccuracy()
    metric.update(logits[:1], truth[:1], torch.tensor([2]))
    metric.update(logits[1:], truth[1:], torch.tensor([5]))
    assert metric.compute()["sequence_accuracy"] == 1.0


def test_length_head_is_used_when_given():
    truth = labels("1....")
    metric = SequenceAccuracy()
    metric.update(truth, truth, torch.tensor([1]), length_logits=torch.nn.functional.one_hot(torch.tensor([3]), 7).float())
    assert metric.compute()["length_accuracy"] == 0.0


def test_numbers_longer_than_five_digits_are_never_read_right():
    truth = labels("12345", "12345")
    assert sequence_correct(truth, truth, torch.tensor([5, 6])).tolist() == [True, False]


def test_empty_and_malformed_input():
    assert math.isnan(SequenceAccuracy().compute()["sequence_accuracy"])
    with pytest.raises(ValueError, match="N x 5"):
        SequenceAccuracy().update(torch.zeros(2, 4, dtype=torch.long), torch.zeros(2, 4, dtype=torch.long), torch.ones(2))
