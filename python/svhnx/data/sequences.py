"""Synthetic multi-digit MNIST sequences: an endless training stream and a fixed validation set.

Every training batch is a pure function of ``(seed, rank, batch index)``: DataLoader workers share
out the batch indices (worker ``w`` of ``W`` makes batches ``w, w + W, ...``, which the DataLoader
hands back in order), distributed ranks draw from different streams, and resuming at step ``k``
is starting the stream at batch ``k``. Validation sequences are composited from the test split
only, with their own seed.

Batches are dicts: ``images`` ``uint8[B, 28, 140, 1]``, ``digits`` ``int64[B, 5]`` (10 = blank),
``lengths`` ``int64[B]``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from os import PathLike

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import IterableDataset, get_worker_info

from svhnx.data.mnist import load_mnist
from svhnx.ops import composite_sequences

Batch = dict[str, torch.Tensor]
ELASTIC_GRID = 4  # control points per side of the elastic displacement field


def batch_seed(seed: int, rank: int, index: int) -> int:
    """The 64-bit seed of batch ``index`` of rank ``rank``'s stream: independent for every triple."""
    if seed < 0 or rank < 0 or index < 0:
        raise ValueError(f"seed, rank and index must be non-negative, got {seed}, {rank}, {index}")
    return int(np.random.SeedSequence([seed, rank, index]).generate_state(1, np.uint64)[0])


def distributed_rank() -> int:
    """This process's rank in the default process group, 0 without one."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank()
    return 0


@dataclass(frozen=True)
class SlotWarp:
    """Random affine distortion of each digit slot (28 x 28 cell) of a sequence image.

    Every slot gets its own rotation, scale, shear and shift (and, with ``elastic_px``, a smooth
    random displacement field); blank slots stay black. This multiplies
    the variety of a small digit bank (e.g. 10,000 training digits) at the cost of one
    ``grid_sample`` per batch.
    """

    rotate_deg: float = 10.0
    scale: tuple[float, float] = (0.9, 1.1)
    shear: float = 0.15
    shift_px: float = 2.0
    #: Largest displacement (pixels) of a smooth random elastic field on top of the affine map; 0 = none.
    elastic_px: float = 0.0

    def scaled(self, factor: float) -> SlotWarp:
        """This warp with every range (rotation, scale around 1, shear, shift, elastic) times ``factor``."""
        lo, hi = self.scale
        return replace(self, rotate_deg=self.rotate_deg * factor, scale=(1 - (1 - lo) * factor, 1 + (hi - 1) * factor),
                       shear=self.shear * factor, shift_px=self.shift_px * factor, elastic_px=self.elastic_px * factor)

    def __call__(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Warp ``images`` (``uint8[B, H, 5W, 1]``, slots of width ``H``) and return a new uint8 tensor."""
        b, h, w, c = images.shape
        slots = w // h
        cells = images.reshape(b, h, slots, h, c).permute(0, 2, 4, 1, 3).reshape(b * slots, c, h, h)
        n = cells.shape[0]

        def uniform(lo: float, hi: float) -> torch.Tensor:
            return torch.empty(n).uniform_(lo, hi, generator=generator)

        angle = uniform(-1, 1) * math.radians(self.rotate_deg)
        scale = uniform(*self.scale)
        shear = uniform(-self.shear, self.shear)
        shift = (torch.rand(n, 2, generator=generator) * 2 - 1) * (2 * self.shift_px / h)
        cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
        theta = torch.stack(
            [
                torch.stack([cos, -sin + shear * cos, shift[:, 0]], dim=1),
                torch.stack([sin, cos + shear * sin, shift[:, 1]], dim=1),
            ],
            dim=1,
        )
        grid = F.affine_grid(theta, [n, c, h, h], align_corners=False)
        if self.elastic_px > 0:
            coarse = torch.rand(n, 2, ELASTIC_GRID, ELASTIC_GRID, generator=generator) * 2 - 1
            field = F.interpolate(coarse, size=(h, h), mode="bicubic", align_corners=True)
            grid = grid + field.permute(0, 2, 3, 1) * (2 * self.elastic_px / h)
        warped = F.grid_sample(cells.float(), grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        warped = warped.round_().clamp_(0, 255).to(torch.uint8)
        return warped.reshape(b, slots, c, h, h).permute(0, 3, 1, 4, 2).reshape(b, h, w, c).contiguous()


class BatchStream(IterableDataset):
    """An endless stream of batches ``start, start + 1, ...``, each a pure function of its index.

    Subclasses pass ``batch_size``, ``seed``, ``start`` and ``rank`` up and implement :meth:`batch`; DataLoader workers take every
    ``num_workers``-th index, so any worker count yields the same batches as one process.
    """

    def __init__(self, batch_size: int, *, seed: int, start: int = 0, rank: int | None = None) -> None:
        super().__init__()
        if batch_size <= 0:
            raise ValueError(f"batch_size: expected a positive count, got {batch_size}")
        if start < 0:
            raise ValueError(f"start: expected a non-negative batch index, got {start}")
        self.batch_size = batch_size
        self.seed = seed
        self.start = start
        self.rank = distributed_rank() if rank is None else rank

    def batch(self, index: int) -> Batch:
        """Batch ``index`` of the stream."""
        raise NotImplementedError

    def __iter__(self) -> Iterator[Batch]:
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        index = self.start + worker
        while True:
            yield self.batch(index)
            index += workers


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


def iterate_batches(data: Batch, batch_size: int) -> Iterator[Batch]:
    """Slice a dict of equally long tensors into consecutive batches of ``batch_size``."""
    total = len(next(iter(data.values())))
    for begin in range(0, total, batch_size):
        yield {key: value[begin : begin + batch_size] for key, value in data.items()}
