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


def test_a_readings_grid_takes_the_title_it_is_given_and_captions_each_crop(monkeypatch, tmp_path):
    from svhnx.viz import readings

    figures = []
    monkeypatch.setattr(readings, "save_png", lambda fig, path: figures.append(fig))
    images = np.zeros((2, 64, 64, 3), np.uint8)
    truths, read = np.array([[4, 2, 10, 10, 10]] * 2), np.array([[4, 2, 10, 10, 10], [4, 10, 10, 10, 10]])
    args = (images, truths, read, np.array([0.9, 0.4]), np.array([True, False]), tmp_path / "grid.png")
    readings.plot_readings(*args, title="two drawn crops")
    readings.plot_readings(*args)
    given, default = figures
    assert given._suptitle.get_text() == "two drawn crops"
    assert default._suptitle.get_text() == readings_title(np.array([True, False]))
    assert [ax.get_title() for ax in given.axes[:2]] == ["4 (0.40)\ntruth 42", "42 (0.90)"]  # the mistake first
