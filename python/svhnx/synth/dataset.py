"""Recognizer batches from the scene generator, in the SVHN recognizer's format.

Training: an endless stream, each batch a pure function of ``(seed, rank, batch index)``: the
generator draws the batch's 64 x 64 number crops (scene indices ``index * B ... index * B + B - 1``
of the rank's stream), and each gets a random 54 x 54 crop (:func:`svhnx.ops.random_crop`), exactly
as :class:`svhnx.data.svhn_dataset.SvhnTrainStream` treats real SVHN crops. Validation: a fixed set
of crops from a stream of its own, centre 54 x 54.

Batches are dicts: ``images`` ``uint8[B, 54, 54, 3]``, ``digits`` ``int64[B, 5]``, ``lengths`` ``int64[B]``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from svhnx.data.sequences import Batch, BatchStream, batch_seed
from svhnx.data.svhn_dataset import INPUT_SIZE, evaluation_batches
from svhnx.data.svhn_preprocess import SvhnCrops
from svhnx.ops import random_crop
from svhnx.synth.format2 import rebuild_from_squares
from svhnx.synth.generator import SceneGenerator

CROP_SIZE = 64
VALIDATION_STREAM = 2**31 - 1  # the rank number of the validation stream; training ranks never reach it


def stream_seed(seed: int, rank: int) -> int:
    """The generator seed of rank ``rank``'s stream of scenes."""
    return batch_seed(seed, rank, 0)


class SynthCropStream(BatchStream):
    """Endless training batches of synthetic number crops (see the module docstring).

    Use with ``DataLoader(stream, batch_size=None, num_workers=...)``: the batches come out in the
    same order, with the same content, whatever the number of workers.

    Args:
        generator: the scene generator.
        batch_size: images per batch.
        seed: base seed of the stream.
        start: index of the first batch (resume at step ``k`` with ``start=k``).
        rank: distributed rank (default: the process group's, else 0); each rank has its own scenes.
        threads: generator threads per batch (default 1: parallelism comes from the loader's workers).
        format2: share of the crops made to look rebuilt from SVHN's 32 x 32 format-2 squares
            (:func:`svhnx.synth.format2.rebuild_from_squares`), chosen per batch by its seed.
    """

    def __init__(self, generator: SceneGenerator, batch_size: int, *, seed: int, start: int = 0,
                 rank: int | None = None, threads: int | None = 1, format2: float = 0.0) -> None:
        super().__init__(batch_size, seed=seed, start=start, rank=rank)
        if not 0.0 <= format2 <= 1.0:
            raise ValueError(f"format2: expected a share in [0, 1], got {format2}")
        self.generator = generator
        self.threads = threads
        self.format2 = format2

    @property
    def generator_seed(self) -> int:
        """The generator seed of this rank's scenes: batch ``k`` holds scenes ``k * B .. k * B + B - 1``."""
        return stream_seed(self.seed, self.rank)

    def batch(self, index: int) -> Batch:
        """Batch ``index`` of this rank's stream."""
        crops = self.generator.crops(self.batch_size, seed=self.generator_seed,
                                     first=index * self.batch_size, size=CROP_SIZE, threads=self.threads)
        seed = batch_seed(self.seed, self.rank, index)
        images = crops.images
        if self.format2 > 0:
            chosen = np.flatnonzero(np.random.default_rng(seed).random(len(images)) < self.format2)
            images = images.copy()
            for i in chosen:
                images[i] = rebuild_from_squares(images[i], crops.boxes[i, : crops.lengths[i]])
        images = random_crop(images, INPUT_SIZE, seed=seed, threads=1)
        return {
            "images": torch.from_numpy(images),
            "digits": torch.from_numpy(crops.digits),
            "lengths": torch.from_numpy(crops.lengths),
        }


def validation_crops(generator: SceneGenerator, size: int, *, seed: int, threads: int | None = None) -> SvhnCrops:
    """``size`` synthetic 64 x 64 crops from the validation stream of ``seed`` (never drawn in training)."""
    crops = generator.crops(size, seed=stream_seed(seed, VALIDATION_STREAM), size=CROP_SIZE, threads=threads)
    return SvhnCrops(crops.images, crops.digits, crops.lengths, [f"synth-{i}" for i in range(size)])


def validation_batches(generator: SceneGenerator, size: int, *, seed: int, batch_size: int = 256) -> Iterator[Batch]:
    """Centre 54 x 54 crops of :func:`validation_crops`, ``batch_size`` at a time."""
    return evaluation_batches(validation_crops(generator, size, seed=seed), batch_size)

