"""The mistakes grids say how many readings are wrong, the accuracy, and what the symbols mean."""

import numpy as np

from svhnx.viz.readings import readings_title
from svhnx.viz.sequences import grid_title


def test_the_sequence_grid_title_counts_the_mistakes_and_explains_the_dot():
    truths = np.array([[1, 2, 10, 10, 10]] * 4)
    preds = truths.copy()
    preds[0, 1] = 3
    title = grid_title(truths, preds)
    assert title.startswith("misread 1 of 4 (sequence accuracy 75.00%)")
    assert "'.' = empty slot" in title


def test_the_svhn_grid_title_counts_the_mistakes_and_explains_the_dash():
    title = readings_title(np.array([True] * 299 + [False]))
    assert title.startswith("misread 1 of 300 (accuracy 99.67%)") and "'-' = nothing read" in title
