"""The synthetic-mistakes figure draws its crops at random among the mistakes, the same ones for a seed."""

import numpy as np

from benchmarks.scripts.synthetic_mistakes import drawn_mistakes


def test_only_mistakes_are_drawn_each_once_and_the_same_for_a_seed() -> None:
    right = np.array([True, False, True, False, False, True, False, False])
    drawn = drawn_mistakes(right, 3, seed=1)
    assert len(drawn) == 3 and len(set(drawn.tolist())) == 3
    assert not right[drawn].any() and list(drawn) == sorted(drawn)
    assert drawn.tolist() == drawn_mistakes(right, 3, seed=1).tolist()
    assert {tuple(drawn_mistakes(right, 3, seed=s)) for s in range(20)} != {tuple(drawn)}  # the seed decides which


def test_fewer_mistakes_than_asked_draws_them_all() -> None:
    right = np.array([True, False, True, False])
    assert drawn_mistakes(right, 10, seed=0).tolist() == [1, 3]
    assert drawn_mistakes(np.ones(5, bool), 10, seed=0).tolist() == []
