"""Single synthetic digits the way SVHN format 2 is made: 32 x 32 squares about each digit.

A digit's box is made square about its centre (side = the larger of its width and height) and
resized to 32 x 32, so neighbouring digits show at the sides. The squares are cut from the
generator's 64 x 64 number crops (:meth:`SceneGenerator.crops`), where a digit is about 45 px tall.

Batches are dicts: ``images`` ``uint8[B, 32, 32, 3]``, ``labels`` ``int64[B]``; each is a pure
function of ``(seed, rank, batch index)``, as :class:`svhnx.synth.dataset.SynthCropStream`'s are.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from svhnx.data.streams import Batch, BatchStream, batch_seed
from svhnx.ops import crop_resize
from svhnx.ops.crop_rule import CROP_SIDE
from svhnx.synth.dataset import VALIDATION_STREAM, stream_seed
from svhnx.synth.fading import check_fade_share, fade_some
from svhnx.synth.format2 import square_boxes
from svhnx.synth.generator import CropBatch, SceneGenerator

DIGIT_SIZE = 32


def digit_squares(crops: CropBatch, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One random digit of each number crop as a 32 x 32 format-2 square: ``(images, labels)``.

    A digit whose box is degenerate (not finite, or empty) is left out.
    """
    slot = (rng.random(len(crops)) * crops.lengths).astype(np.int64)
    rows = np.arange(len(crops))
    picked = crops.boxes[rows, slot]
    usable = np.isfinite(picked).all(axis=1) & (picked[:, 2:] > 0).all(axis=1)
    rows, slot = rows[usable], slot[usable]
    boxes = square_boxes(picked[usable])
    images = crop_resize(crops.images[rows], boxes, (DIGIT_SIZE, DIGIT_SIZE), threads=1)
    return images, crops.digits[rows, slot]


class SynthDigitStream(BatchStream):
    """Endless batches of synthetic format-2 digits (use with ``DataLoader(stream, batch_size=None)``);
    ``fade_share`` of the number crops they are cut from are faded first (:func:`svhnx.synth.fading.fade`)."""

    def __init__(self, generator: SceneGenerator, batch_size: int, *, seed: int, start: int = 0, rank: int | None = None,
                 fade_share: float = 0.0) -> None:
        super().__init__(batch_size, seed=seed, start=start, rank=rank)
        check_fade_share(fade_share)
        self.generator = generator
        self.fade_share = fade_share

    def batch(self, index: int) -> Batch:
        crops = self.generator.crops(self.batch_size, seed=stream_seed(self.seed, self.rank),
                                     first=index * self.batch_size, size=CROP_SIDE, threads=1)
        seed = batch_seed(self.seed, self.rank, index)
        crops = replace(crops, images=fade_some(crops.images, self.fade_share, np.random.default_rng([seed, 3])))
        images, labels = digit_squares(crops, np.random.default_rng(seed))
        return {"images": torch.from_numpy(images), "labels": torch.from_numpy(labels)}


def validation_digits(generator: SceneGenerator, size: int, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``size`` digits from the validation stream of ``seed`` (never drawn in training)."""
    crops = generator.crops(size, seed=stream_seed(seed, VALIDATION_STREAM), size=CROP_SIDE)
    return digit_squares(crops, np.random.default_rng(batch_seed(seed, VALIDATION_STREAM, 0)))
