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
from pathlib import Path

import numpy as np
import torch

from svhnx.data.npz import read_npz
from svhnx.data.streams import Batch, BatchStream, batch_seed
from svhnx.data.svhn_dataset import evaluation_batches
from svhnx.data.svhn_preprocess import SvhnCrops
from svhnx.labels import BLANK
from svhnx.ops import crop_resize, random_crop
from svhnx.ops.crop_rule import CROP_SIDE, CROP_SIZE, INPUT_SIZE
from svhnx.synth.fading import check_fade_share, fade_some
from svhnx.synth.format2 import rebuild_from_squares
from svhnx.synth.generator import SceneGenerator

VALIDATION_STREAM = 2**31 - 1  # the rank number of the validation stream; training ranks never reach it
FRAMING_LIMIT = 0.25  # the framing scale stays within exp(+-FRAMING_LIMIT)


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
        framing: spread (standard deviation of the log scale) of each crop's framing: the 64 x 64
            crop is re-cut from a window whose width and height are scaled independently by
            ``exp(framing * N(0, 1))`` (clipped to ``exp(+-0.25)``), as if the box it was grown from
            had been drawn looser or tighter, the way SVHN's hand-drawn boxes vary; past the crop's
            edge the border pixels repeat. 0: the exact crop rule.
        fade_share: share of the crops faded (:func:`svhnx.synth.fading.fade`: blurred, lowered in
            contrast and noised), chosen per batch by its seed, after the format-2 look.
        negatives: ``uint8 [M, 64, 64, 3]`` crops with no number in them (:func:`load_negatives`).
        negative_share: share of each batch's crops replaced by one of ``negatives``, drawn with
            replacement, with the target "no digits" (length 0, five blanks).
    """

    def __init__(self, generator: SceneGenerator, batch_size: int, *, seed: int, start: int = 0,
                 rank: int | None = None, threads: int | None = 1, format2: float = 0.0, framing: float = 0.0,
                 fade_share: float = 0.0, negatives: np.ndarray | None = None, negative_share: float = 0.0) -> None:
        super().__init__(batch_size, seed=seed, start=start, rank=rank)
        if not 0.0 <= negative_share <= 1.0:
            raise ValueError(f"negative_share: expected a share in [0, 1], got {negative_share}")
        if negative_share > 0 and (negatives is None or len(negatives) == 0):
            raise ValueError("negative_share > 0 needs negatives: at least one number-free crop")
        if negatives is not None:
            check_negatives(negatives)
        if not 0.0 <= format2 <= 1.0:
            raise ValueError(f"format2: expected a share in [0, 1], got {format2}")
        if not 0.0 <= framing <= 1.0:
            raise ValueError(f"framing: expected a spread in [0, 1], got {framing}")
        check_fade_share(fade_share)
        self.generator = generator
        self.threads = threads
        self.format2 = format2
        self.framing = framing
        self.fade_share = fade_share
        self.negatives = negatives
        self.negative_share = negative_share

    @property
    def generator_seed(self) -> int:
        """The generator seed of this rank's scenes: batch ``k`` holds scenes ``k * B .. k * B + B - 1``."""
        return stream_seed(self.seed, self.rank)

    def batch(self, index: int) -> Batch:
        """Batch ``index`` of this rank's stream."""
        crops = self.generator.crops(self.batch_size, seed=self.generator_seed,
                                     first=index * self.batch_size, size=CROP_SIDE, threads=self.threads)
        seed = batch_seed(self.seed, self.rank, index)
        images, digits, lengths = crops.images, crops.digits, crops.lengths
        if self.format2 > 0:
            chosen = np.flatnonzero(np.random.default_rng(seed).random(len(images)) < self.format2)
            images = images.copy()
            for i in chosen:
                images[i] = rebuild_from_squares(images[i], crops.boxes[i, : crops.lengths[i]])
        images = fade_some(images, self.fade_share, np.random.default_rng([seed, 3]))
        if self.negative_share > 0:
            assert self.negatives is not None
            rng = np.random.default_rng([seed, 2])
            chosen = np.flatnonzero(rng.random(len(images)) < self.negative_share)
            images, digits, lengths = images.copy(), digits.copy(), lengths.copy()
            images[chosen] = self.negatives[rng.integers(0, len(self.negatives), len(chosen))]
            digits[chosen] = BLANK
            lengths[chosen] = 0
        if self.framing > 0:
            images = crop_resize(images, framing_windows(len(images), self.framing, seed), CROP_SIZE,
                                 crop=INPUT_SIZE, seed=seed, threads=1)
        else:
            images = random_crop(images, INPUT_SIZE, seed=seed, threads=1)
        return {
            "images": torch.from_numpy(images),
            "digits": torch.from_numpy(digits),
            "lengths": torch.from_numpy(lengths),
        }


def check_negatives(negatives: np.ndarray) -> None:
    """Raise ``ValueError`` unless ``negatives`` are ``uint8 [M, 64, 64, 3]`` crops."""
    if negatives.dtype != np.uint8 or negatives.shape[1:] != (CROP_SIDE, CROP_SIDE, 3):
        raise ValueError(f"negatives: expected uint8 M x {CROP_SIDE} x {CROP_SIDE} x 3 crops, got {negatives.dtype} {negatives.shape}")


def load_negatives(path: str | Path) -> np.ndarray:
    """The number-free crops of a file written by ``benchmarks/scripts/mine_negatives.py``
    (its ``images``), checked: ``uint8 [M, 64, 64, 3]``, at least one."""
    images = read_npz(path, {"images": ("u", 4)})["images"]
    check_negatives(images)
    if len(images) == 0:
        raise ValueError(f"{path}: holds no crops")
    return images


def framing_windows(count: int, spread: float, seed: int) -> np.ndarray:
    """``float32 [count, 4]`` windows ``[left, top, width, height]`` in a 64 x 64 crop: centred,
    each side scaled by ``exp(spread * N(0, 1))`` within ``exp(+-FRAMING_LIMIT)``, from a stream of ``seed``."""
    log_scale = np.random.default_rng([seed, 1]).normal(0.0, spread, (count, 2))
    sides = CROP_SIDE * np.exp(np.clip(log_scale, -FRAMING_LIMIT, FRAMING_LIMIT))
    corners = (CROP_SIDE - sides) / 2
    return np.concatenate([corners, sides], axis=1).astype(np.float32)


def validation_crops(generator: SceneGenerator, size: int, *, seed: int, threads: int | None = None) -> SvhnCrops:
    """``size`` synthetic 64 x 64 crops from the validation stream of ``seed`` (never drawn in training)."""
    crops = generator.crops(size, seed=stream_seed(seed, VALIDATION_STREAM), size=CROP_SIDE, threads=threads)
    return SvhnCrops(crops.images, crops.digits, crops.lengths, [f"synth-{i}" for i in range(size)])


def validation_batches(generator: SceneGenerator, size: int, *, seed: int, batch_size: int = 256) -> Iterator[Batch]:
    """Centre 54 x 54 crops of :func:`validation_crops`, ``batch_size`` at a time."""
    return evaluation_batches(validation_crops(generator, size, seed=seed), batch_size)

