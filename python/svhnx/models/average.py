"""Average the weights of models fine-tuned from one starting point (a "model soup").

Wortsman et al. (2022) found that nets fine-tuned from the same weights stay in one basin of the
loss, so the mean of their weights is itself a good net, often better than each of them, and it
costs nothing at inference: it is one net of the same size.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch


def average_states(states: Sequence[Mapping[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The element-wise mean of float state dicts with the same names and shapes, in float32.

    Integer entries (batch-norm counters) must agree or are taken from the first state. Raises
    :class:`ValueError` when there is nothing to average or the states' layers differ."""
    if not states:
        raise ValueError("no state dicts to average")
    first = states[0]
    for index, state in enumerate(states[1:], start=1):
        if set(state) != set(first):
            differ = sorted(set(state) ^ set(first))
            raise ValueError(f"state {index} has other layers than state 0: {differ[:5]}")
        for name, value in state.items():
            if value.shape != first[name].shape:
                raise ValueError(f"state {index}: {name} is {tuple(value.shape)}, state 0's is {tuple(first[name].shape)}")
    averaged = {}
    for name, value in first.items():
        if value.is_floating_point():
            averaged[name] = torch.stack([state[name].float() for state in states]).mean(dim=0)
        else:
            averaged[name] = value.clone()
    return averaged
