"""Fold batch norms into the convolutions before them, for inference.

In eval mode a batch norm is a fixed per-channel scale and shift, so a convolution followed by one
is a single convolution with rescaled weights and a bias: the same outputs up to float rounding,
and one pass over the activations fewer. Every model here writes such pairs as neighbours in an
``nn.Sequential``, which is where :func:`fold_batch_norms` looks for them::

    model = fold_batch_norms(trained)  # a copy in eval mode; ``trained`` is left as it was
"""

from __future__ import annotations

import copy
from typing import cast

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval


def foldable_pairs(model: nn.Module) -> list[tuple[nn.Sequential, int]]:
    """``(sequential, i)`` for every float32 ``Conv2d`` at ``sequential[i]`` followed by a
    ``BatchNorm2d`` that tracks running statistics (the pairs :func:`fold_batch_norms` folds)."""
    pairs = []
    for module in model.modules():
        if not isinstance(module, nn.Sequential):
            continue
        for i in range(len(module) - 1):
            conv, norm = module[i], module[i + 1]
            if (isinstance(conv, nn.Conv2d) and isinstance(norm, nn.BatchNorm2d) and norm.track_running_stats
                    and conv.weight.dtype == torch.float32 and norm.num_features == conv.out_channels):
                pairs.append((module, i))
    return pairs


def fold_batch_norms(model: nn.Module) -> nn.Module:
    """A copy of ``model`` in eval mode with each batch norm of :func:`foldable_pairs` folded into
    its convolution (the norm's place taken by ``nn.Identity``); ``model`` itself when there is
    nothing to fold. The copy is for running: its state dict has no batch-norm entries, so it is not
    one to save as a checkpoint."""
    names = {id(module): name for name, module in model.named_modules()}
    pairs = [(names[id(sequential)], i) for sequential, i in foldable_pairs(model)]  # found once, applied to the copy
    if not pairs:
        return model
    folded = copy.deepcopy(model).eval()
    for name, i in pairs:
        sequential = cast(nn.Sequential, folded.get_submodule(name))
        sequential[i] = fuse_conv_bn_eval(cast(nn.Conv2d, sequential[i]), cast(nn.BatchNorm2d, sequential[i + 1]))
        sequential[i + 1] = nn.Identity()
    return folded
