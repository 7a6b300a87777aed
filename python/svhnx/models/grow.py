"""Grow a trained model wider without changing what it computes.

The zero-init form of Chen et al.'s Net2WiderNet (2016): every weight of the trained model is
copied into the leading slice of the wider one; the new channels keep their fresh random weights,
and every old channel reads them with weight 0. The wider model's outputs are the trained one's
until training moves those zeros, so a run started from it begins where the trained model ended
and has room to go further.

Channels are matched by position: old channel ``i`` is new channel ``i`` in every layer, and a
layer's inputs are its input layer's channels in order. A layer that reads a concatenation (a
U-Net's skip connections) names its parts in ``input_parts``. Layers only the grown model has
(``new_layers``, such as a U-Net's refinement head) keep their own initialisation, which must
leave the outputs unchanged (a last layer initialised to zero).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn

#: ``{weight name: [(old channels, new channels), ...]}``: the parts of a concatenated input, in order.
InputParts = Mapping[str, Sequence[tuple[int, int]]]


def widen_state(
    old: Mapping[str, torch.Tensor], wider: nn.Module, *, input_parts: InputParts | None = None, new_layers: Sequence[str] = ()
) -> dict[str, torch.Tensor]:
    """The state dict of ``wider`` (a freshly initialised model of the same layout with at least as
    many channels everywhere, plus the modules named in ``new_layers``) holding ``old``'s weights,
    so that it computes what ``old`` computed.

    Raises :class:`ValueError` when a tensor is missing or narrower than ``old``'s."""
    input_parts = dict(input_parts or {})
    state = {name: value.detach().clone() for name, value in wider.state_dict().items()}
    added = {name for name in state if any(name.startswith(f"{layer}.") for layer in new_layers)}
    if set(state) - added != set(old):
        missing, extra = sorted(set(old) - set(state)), sorted(set(state) - added - set(old))
        raise ValueError(f"the models' layers differ: only the trained one has {missing}, only the wider one {extra}")
    transposed = {f"{name}.weight" for name, module in wider.named_modules() if isinstance(module, nn.ConvTranspose2d)}
    for name, new in state.items():
        if name in added:
            continue
        before = old[name].to(new.dtype)
        if before.ndim != new.ndim or any(a > b for a, b in zip(before.shape, new.shape)):
            raise ValueError(f"{name}: {tuple(new.shape)} is not at least as wide as the trained {tuple(before.shape)}")
        if new.ndim < 2:  # biases, batch-norm statistics, counters: one value per output channel
            new[tuple(slice(0, size) for size in before.shape)] = before
            continue
        out_dim, in_dim = (1, 0) if name in transposed else (0, 1)
        if before.shape[2:] != new.shape[2:]:
            raise ValueError(f"{name}: kernel {tuple(new.shape[2:])} differs from the trained {tuple(before.shape[2:])}")
        parts = input_parts.get(name, [(before.shape[in_dim], new.shape[in_dim])])
        if sum(p[0] for p in parts) != before.shape[in_dim] or sum(p[1] for p in parts) != new.shape[in_dim]:
            raise ValueError(f"{name}: input parts {list(parts)} do not add up to {before.shape[in_dim]} -> {new.shape[in_dim]} inputs")
        rows = new.narrow(out_dim, 0, before.shape[out_dim])
        rows.zero_()  # the old outputs read nothing from the new inputs
        start_old = start_new = 0
        for size_old, size_new in parts:
            rows.narrow(in_dim, start_new, size_old).copy_(before.narrow(in_dim, start_old, size_old))
            start_old, start_new = start_old + size_old, start_new + size_new
    return state


def widen(
    trained: nn.Module, wider: nn.Module, example: torch.Tensor, *, input_parts: InputParts | None = None, new_layers: Sequence[str] = ()
) -> nn.Module:
    """``wider`` (in eval mode) holding ``trained``'s weights by :func:`widen_state`, checked on the
    batch ``example``: :class:`ValueError` when an output differs, as it does when a concatenated
    input was not named in ``input_parts`` or a new layer does not start at zero."""
    state = widen_state({k: v.float() if v.is_floating_point() else v for k, v in trained.state_dict().items()}, wider,
                        input_parts=input_parts, new_layers=new_layers)
    wider.load_state_dict(state)
    trained.eval()
    wider.eval()
    with torch.no_grad():
        before, after = trained(example), wider(example)
    if isinstance(before, torch.Tensor):  # a classifier's logits rather than a dict of outputs
        before, after = {"output": before}, {"output": after}
    for key in before:
        gap = float((before[key].float() - after[key].float()).abs().max())
        if gap > 1e-4 * (1 + float(before[key].abs().max())):
            raise ValueError(f"the wider model's {key!r} differs from the trained one's by {gap:.2g}: "
                             "a layer reads a concatenation not named in input_parts?")
    return wider
