"""Recognizer batches from preprocessed SVHN crops (:mod:`svhnx.data.svhn_preprocess`).

Training: an endless stream of batches, each a pure function of ``(seed, rank, batch index)``:
the crops are shuffled once per epoch (seeded by the epoch), every image gets a random 54 x 54
crop of its 64 x 64 crop (native :func:`svhnx.ops.random_crop`), and optionally a light
brightness/contrast jitter. Evaluation: the centre 54 x 54 crop (:func:`svhnx.ops.center_crop`).

Batches are dicts: ``images`` ``uint8[B, 54, 54, 3]``, ``digits`` ``int64[B, 5]``, ``lengths`` ``int64[B]``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from svhnx.data.streams import Batch, BatchStream, batch_seed
from svhnx.data.svhn_preprocess import SvhnCrops
from svhnx.ops import random_crop
from svhnx.ops.crop_rule import INPUT_SIZE, recognizer_input


@dataclass(frozen=True)
class LightAugment:
    """Per-image contrast (times ``contrast``) and brightness (plus ``brightness`` of full scale)
    jitter about the image's mean, drawn uniformly; the colours and geometry are left alone."""

    contrast: tuple[float, float] = (0.8, 1.2)
    brightness: float = 0.1

    def __call__(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Jitter ``uint8[B, H, W, C]`` images; returns a new uint8 tensor."""
        n = images.shape[0]
        x = images.float()
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        contrast = torch.empty(n, 1, 1, 1).uniform_(*self.contrast, generator=generator)
        shift = torch.empty(n, 1, 1, 1).uniform_(-self.brightness, self.brightness, generator=generator) * 255.0
        return ((x - mean) * contrast + mean + shift).round_().clamp_(0, 255).to(torch.uint8)


class SvhnTrainStream(BatchStream):
    """Endless training batches of random 54 x 54 crops (see the module docstring).

    Use with ``DataLoader(stream, batch_size=None, num_workers=...)``: the batches come out in the
    same order, with the same content, whatever the number of workers.

    Args:
        crops: the training crops (64 x 64).
        batch_size: images per batch.
        seed: base seed of the stream (shuffles, crop offsets, jitter).
        start: index of the first batch (resume at step ``k`` with ``start=k``).
        rank: distributed rank (default: the process group's, else 0); each rank has its own stream.
        augment: brightness/contrast jitter, or ``None``.
    """

    def __init__(
        self,
        crops: SvhnCrops,
        batch_size: int,
        *,
        seed: int,
        start: int = 0,
        rank: int | None = None,
        augment: LightAugment | None = None,
    ) -> None:
        super().__init__(batch_size, seed=seed, start=start, rank=rank)
        if len(crops) == 0:
            raise ValueError("crops: no training images")
        self.crops = crops
        self.augment = augment
        self._order: dict[int, np.ndarray] = {}

    def order(self, epoch: int) -> np.ndarray:
        """The shuffled image indices of ``epoch`` (a function of seed, rank and epoch)."""
        if epoch not in self._order:
            if len(self._order) > 2:
                self._order.pop(min(self._order))
            rng = np.random.default_rng([self.seed, self.rank, epoch])
            self._order[epoch] = rng.permutation(len(self.crops))
        return self._order[epoch]

    def indices(self, index: int) -> np.ndarray:
        """The images of batch ``index``: consecutive positions of the epoch-by-epoch shuffled stream."""
        count = len(self.crops)
        positions = index * self.batch_size + np.arange(self.batch_size)
        epochs, offsets = np.divmod(positions, count)
        return np.concatenate([self.order(int(e))[offsets[epochs == e]] for e in np.unique(epochs)])

    def batch(self, index: int) -> Batch:
        """Batch ``index`` of this rank's stream."""
        seed = batch_seed(self.seed, self.rank, index)
        rows = self.indices(index)
        images = torch.from_numpy(random_crop(self.crops.images[rows], INPUT_SIZE, seed=seed, threads=1))
        if self.augment is not None:
            images = self.augment(images, torch.Generator().manual_seed(seed))
        return {
            "images": images,
            "digits": torch.from_numpy(self.crops.digits[rows]),
            "lengths": torch.from_numpy(self.crops.lengths[rows]),
        }


def evaluation_batches(crops: SvhnCrops, batch_size: int) -> Iterator[Batch]:
    """The crops in order, ``batch_size`` at a time, each image's centre 54 x 54."""
    if batch_size <= 0:
        raise ValueError(f"batch_size: expected a positive count, got {batch_size}")
    for a in range(0, len(crops), batch_size):
        yield {
            "images": torch.from_numpy(recognizer_input(crops.images[a : a + batch_size])),
            "digits": torch.from_numpy(crops.digits[a : a + batch_size]),
            "lengths": torch.from_numpy(crops.lengths[a : a + batch_size]),
        }
