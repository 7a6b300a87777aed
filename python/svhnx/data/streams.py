"""Batches and the endless, resumable streams they come in (every dataset of svhnx uses these).

A batch is a dict of tensors (``images`` ``uint8 [B, H, W, C]`` and the task's targets). A stream's
batch ``index`` is a pure function of ``(seed, rank, index)``: DataLoader workers share out the
indices (worker ``w`` of ``W`` makes batches ``w, w + W, ...``, which the DataLoader hands back in
order), distributed ranks draw from different streams, and resuming at step ``k`` is starting the
stream at batch ``k``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

Batch = dict[str, torch.Tensor]


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


def stream_loader(stream: BatchStream, workers: int, device: torch.device | None = None) -> DataLoader:
    """A DataLoader of a stream's batches made by ``workers`` processes (0: this one), in pinned
    memory when they go to a CUDA ``device``."""
    return DataLoader(stream, batch_size=None, num_workers=workers, pin_memory=device is not None and device.type == "cuda",
                      persistent_workers=False, prefetch_factor=4 if workers else None)


def iterate_batches(data: Batch, batch_size: int) -> Iterator[Batch]:
    """Slice a dict of equally long tensors into consecutive batches of ``batch_size``."""
    total = len(next(iter(data.values())))
    for begin in range(0, total, batch_size):
        yield {key: value[begin : begin + batch_size] for key, value in data.items()}


def batch_to(batch: Batch, device: torch.device, *, non_blocking: bool = False) -> Batch:
    """Move every tensor of a batch to ``device``."""
    return {k: v.to(device, non_blocking=non_blocking) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}
