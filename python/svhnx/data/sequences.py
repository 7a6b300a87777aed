"""Synthetic multi-digit MNIST sequences: an endless training stream (a
:class:`~svhnx.data.streams.BatchStream`) and a fixed validation set, composited from the test
split only, with its own seed.

Batches are dicts: ``images`` ``uint8[B, 28, 140, 1]``, ``digits`` ``int64[B, 5]`` (10 = blank),
``lengths`` ``int64[B]``.
"""

from __future__ import annotations

from os import PathLike

import numpy as np
import torch

from svhnx.data.augment import SlotWarp
from svhnx.data.mnist import load_mnist
from svhnx.data.streams import Batch, BatchStream, batch_seed
from svhnx.ops import composite_sequences


class SequenceStream(BatchStream):
    """Endless batches of synthetic sequences composited from a digit bank.

    Use with ``DataLoader(stream, batch_size=None, num_workers=...)``: the batches come out in the
    same order, with the same content, whatever the number of workers.

    Args:
        digits: ``uint8[N, 28, 28]`` digit bank (the training split).
        labels: their classes 0-9.
        batch_size: sequences per batch.
        seed: base seed of the stream.
        start: index of the first batch (resume at step ``k`` with ``start=k``).
        rank: distributed rank (default: the process group's, else 0); each rank has its own stream.
        warp: per-slot augmentation, or ``None`` for the composited digits as they are.
        min_length, max_length: range of the number lengths, drawn uniformly.
    """

    def __init__(
        self,
        digits: np.ndarray,
        labels: np.ndarray,
        batch_size: int,
        *,
        seed: int,
        start: int = 0,
        rank: int | None = None,
        warp: SlotWarp | None = None,
        min_length: int = 1,
        max_length: int = 5,
    ) -> None:
        super().__init__(batch_size, seed=seed, start=start, rank=rank)
        self.digits = np.ascontiguousarray(digits)
        self.labels = np.ascontiguousarray(labels, dtype=np.int64)
        self.warp = warp
        self.min_length, self.max_length = min_length, max_length

    def batch(self, index: int) -> Batch:
        """Batch ``index`` of this rank's stream (a pure function of seed, rank and index)."""
        seed = batch_seed(self.seed, self.rank, index)
        images, digits, lengths = composite_sequences(
            self.digits, self.labels, self.batch_size, seed=seed, threads=1,
            min_length=self.min_length, max_length=self.max_length,
        )
        images_t = torch.from_numpy(images)
        if self.warp is not None:
            images_t = self.warp(images_t, torch.Generator().manual_seed(seed))
        return {"images": images_t, "digits": torch.from_numpy(digits), "lengths": torch.from_numpy(lengths)}


def validation_sequences(digits: np.ndarray, labels: np.ndarray, count: int, *, seed: int) -> Batch:
    """``count`` fixed sequences composited from ``digits`` (pass the test split), as one batch dict."""
    images, targets, lengths = composite_sequences(digits, labels, count, seed=seed)
    return {"images": torch.from_numpy(images), "digits": torch.from_numpy(targets), "lengths": torch.from_numpy(lengths)}


def mnist_validation_set(
    count: int, *, seed: int, root: str | PathLike[str] | None = None, files: object = None
) -> Batch:
    """Validation sequences from MNIST's test split (never the training split)."""
    digits, labels = load_mnist("test", root, files=files)  # type: ignore[arg-type]
    return validation_sequences(digits, labels, count, seed=seed)
