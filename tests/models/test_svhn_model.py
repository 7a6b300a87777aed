"""Goodfellow et al.'s recognizer: its architecture, and the most probable reading given the length."""

import itertools

import numpy as np
import pytest
import torch
from torch import nn

from svhnx.labels import BLANK
from svhnx.models import create_model, list_models
from svhnx.models.svhn import most_probable_numbers


def test_architecture_follows_the_paper():
    model = create_model("svhn-goodfellow")
    assert "svhn-goodfellow" in list_models()
    convs = [m for m in model.features.modules() if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [48, 64, 128, 160, 192, 192, 192, 192]
    assert all(c.kernel_size == (5, 5) for c in convs)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in model.features.modules()) == 8
    assert sum(isinstance(m, nn.Dropout) for m in model.features.modules()) == 8
    sizes, x = [], torch.zeros(1, 3, 54, 54)
    for block in model.features:
        x = block(x)
        sizes.append(x.shape[-1])
    assert sizes == [27, 27, 14, 14, 7, 7, 4, 4]  # max-pool strides alternate 2 and 1
    dense = [m for m in model.dense.modules() if isinstance(m, nn.Linear)]
    assert [(d.in_features, d.out_features) for d in dense] == [(192 * 4 * 4, 3072), (3072, 3072)]
    assert model.heads.length.out_features == 7 and model.heads.digits.out_features == 5 * 11


def test_forward_shapes_and_input_checks():
    model = create_model("svhn-goodfellow", width=0.25, dense=32).eval()
    out = model(torch.randint(0, 256, (2, 54, 54, 3), dtype=torch.uint8))
    assert out["digits"].shape == (2, 5, 11) and out["length"].shape == (2, 7)
    with pytest.raises(ValueError, match="54 x 54 x 3"):
        model(torch.zeros(2, 64, 64, 3, dtype=torch.uint8))
    with pytest.raises(ValueError, match="uint8"):
        model(torch.zeros(2, 54, 54, 3))
    with pytest.raises(ValueError, match="width"):
        create_model("svhn-goodfellow", width=0)


def brute_force(digit_logits: np.ndarray, length_logits: np.ndarray) -> tuple[list[int], int, float]:
    """Every reading of every length 0-6, scored by the joint probability; the best one."""
    slot = digit_logits - np.log(np.exp(digit_logits).sum(-1, keepdims=True))
    length = length_logits - np.log(np.exp(length_logits).sum())
    best = ([], -1, -np.inf)
    for n in range(7):
        filled = min(n, 5)
        numbers = np.array(list(itertools.product(range(10), repeat=filled)), dtype=np.int64).reshape(10**filled, filled)
        readings = np.concatenate([numbers, np.full((len(numbers), 5 - filled), BLANK)], axis=1)
        scores = length[n] + slot[np.arange(5), readings].sum(axis=1)
        k = int(scores.argmax())
        if scores[k] > best[2]:
            best = (readings[k].tolist(), n, float(scores[k]))
    return best[0], best[1], float(np.exp(best[2]))


def test_most_probable_number_is_the_best_joint_reading():
    rng = np.random.default_rng(0)
    digit_logits = rng.normal(0, 2, (4, 5, 11)).astype(np.float32)
    length_logits = rng.normal(0, 2, (4, 7)).astype(np.float32)
    digit_logits[1, :, BLANK] -= 8  # make a five-digit (or longer) reading likely
    length_logits[1, 6] += 6  # "more than five digits": five digit slots, length class 6
    digits, lengths, confidence = most_probable_numbers({"digits": torch.from_numpy(digit_logits), "length": torch.from_numpy(length_logits)})
    for i in range(4):
        reading, n, p = brute_force(digit_logits[i].astype(np.float64), length_logits[i].astype(np.float64))
        assert digits[i].tolist() == reading and int(lengths[i]) == n
        assert float(confidence[i]) == pytest.approx(p, rel=1e-4)
    assert int(lengths[1]) == 6 and BLANK not in digits[1].tolist()


def test_the_length_decides_between_readings():
    digit_logits = torch.full((1, 5, 11), -10.0)
    digit_logits[0, 0, 2] = digit_logits[0, 1, 1] = 5.0  # "21"
    digit_logits[0, 2, 0], digit_logits[0, 2, BLANK] = 2.0, 2.0  # slot 3: "0" or blank, even odds
    digit_logits[0, 3:, BLANK] = 5.0
    length_logits = torch.tensor([[-5.0, -5.0, -5.0, 3.0, -5.0, -5.0, -5.0]])  # three digits
    digits, lengths, _ = most_probable_numbers({"digits": digit_logits, "length": length_logits})
    assert digits.tolist() == [[2, 1, 0, BLANK, BLANK]] and lengths.tolist() == [3]
    with pytest.raises(ValueError, match="length head"):
        most_probable_numbers({"digits": digit_logits})
