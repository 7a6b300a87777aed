"""Distributed data-parallel training under ``torchrun``: the process group, rank helpers and the
small collectives the training loop needs.

``torchrun --nproc-per-node N -m svhnx.train TASK ...`` starts N processes and tells each its
place through environment variables (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``,
``MASTER_PORT``). :func:`setup` reads them and joins the process group: NCCL when training on
CUDA (one GPU per process, ``cuda:LOCAL_RANK``), Gloo on the CPU. Without those variables (a plain
``python -m svhnx.train``) everything here is a cheap no-op for a world of one.

Scalar and object collectives (stop flags, metrics, the run directory's name) go through a Gloo
group on the CPU even when the gradients go through NCCL, so they never wait on a CUDA stream.
"""

from __future__ import annotations

import gc
import os
from typing import Any, TypeVar

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

T = TypeVar("T")

_control_group: dist.ProcessGroup | None = None


def _env_int(name: str, default: int) -> int:
    text = os.environ.get(name)
    if text is None or text == "":
        return default
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"${name}: expected an integer (as torchrun sets it), got {text!r}") from None


def launched_world_size() -> int:
    """The world size ``torchrun`` announced in ``$WORLD_SIZE`` (1 when not launched by it)."""
    size = _env_int("WORLD_SIZE", 1)
    if size < 1:
        raise ValueError(f"$WORLD_SIZE: expected a positive count, got {size}")
    return size


def is_distributed() -> bool:
    """Whether this process is one of several in an initialised process group."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    """This process's global rank (0 without a process group)."""
    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    """How many processes train together (1 without a process group)."""
    return dist.get_world_size() if is_distributed() else 1


def local_rank() -> int:
    """This process's rank on its machine (``$LOCAL_RANK``, 0 when unset): its GPU index."""
    return _env_int("LOCAL_RANK", 0) if is_distributed() else 0


def is_main() -> bool:
    """Whether this is rank 0, the process that writes logs, checkpoints and the progress bar."""
    return rank() == 0


def setup(device: torch.device) -> torch.device:
    """Join the process group ``torchrun`` describes in the environment, if any, and return this
    process's device: ``cuda:LOCAL_RANK`` for CUDA training, ``device`` itself otherwise.

    The backend is NCCL for CUDA and Gloo for the CPU. Calling it again is harmless; with no
    ``$WORLD_SIZE`` above 1 it only returns ``device``.
    """
    global _control_group
    if launched_world_size() > 1 and not dist.is_initialized():
        if not dist.is_available():
            raise RuntimeError("torchrun launched several processes but this PyTorch build has no torch.distributed")
        if device.type == "cuda":
            index = _env_int("LOCAL_RANK", 0)
            if index >= torch.cuda.device_count():
                raise ValueError(
                    f"$LOCAL_RANK {index}: this machine has {torch.cuda.device_count()} CUDA device(s); "
                    "start at most that many processes per node (torchrun --nproc-per-node)"
                )
            torch.cuda.set_device(index)
            dist.init_process_group("nccl", device_id=torch.device("cuda", index))
            _control_group = dist.new_group(backend="gloo")
        else:
            dist.init_process_group("gloo")
            _control_group = None  # the default group is already Gloo
    return local_device(device)


def local_device(device: torch.device) -> torch.device:
    """``cuda:LOCAL_RANK`` when training on CUDA in a process group, else ``device`` unchanged."""
    if device.type == "cuda" and is_distributed():
        return torch.device("cuda", local_rank())
    return device


def teardown() -> None:
    """Leave the process group (if this process joined one).

    A finished trainer can outlive its run in a reference cycle (an exception caught deep inside
    matplotlib keeps the training loop's frames), and with it the DDP wrapper, which holds the
    group. Left to interpreter shutdown, freeing that group can abort the process
    (``terminate called without an active exception``), so such cycles are collected first.
    """
    global _control_group
    if dist.is_available() and dist.is_initialized():
        gc.collect()
        dist.destroy_process_group()
    _control_group = None


def wrap_model(model: nn.Module, device: torch.device) -> nn.Module:
    """``model`` in :class:`~torch.nn.parallel.DistributedDataParallel` when several processes
    train together (gradients are averaged over the ranks in backward), else ``model`` itself.

    DDP broadcasts rank 0's parameters and buffers on construction, so every rank starts (and,
    because batch norm buffers are broadcast before every forward, stays) identical.
    """
    if not is_distributed():
        return model
    device_ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=device_ids)


def barrier() -> None:
    """Wait until every rank gets here (no-op for a world of one)."""
    if is_distributed():
        dist.barrier(group=_control_group)


def any_rank(flag: bool) -> bool:
    """True on every rank if ``flag`` is true on any: how the ranks agree to stop at one step."""
    if not is_distributed():
        return flag
    value = torch.tensor([1 if flag else 0], dtype=torch.int32)
    dist.all_reduce(value, op=dist.ReduceOp.MAX, group=_control_group)
    return bool(value.item())


def reduce_mean(value: float) -> float:
    """The mean of ``value`` over the ranks (``value`` itself for a world of one)."""
    if not is_distributed():
        return value
    total = torch.tensor([value], dtype=torch.float64)
    dist.all_reduce(total, op=dist.ReduceOp.SUM, group=_control_group)
    return float(total.item()) / world_size()


def broadcast_object(obj: T, src: int = 0) -> T:
    """Rank ``src``'s ``obj`` (any picklable value) on every rank; ``obj`` itself for a world of one."""
    if not is_distributed():
        return obj
    box: list[Any] = [obj]
    dist.broadcast_object_list(box, src=src, group=_control_group)
    return box[0]
