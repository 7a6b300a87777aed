"""The generic training loop: optimiser, LR schedule, AMP, evaluation, checkpoints, exact resume."""

from __future__ import annotations

import contextlib
import functools
import math
import random
import signal
import sys
import threading
import time
from collections.abc import Generator, Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

import svhnx
from svhnx.checkpoint import FORMAT, check_model, plain_config, plain_rng_state
from svhnx.data.streams import Batch, batch_to
from svhnx.hardware import check_amp
from svhnx.models import create_model
from svhnx.pretrained import starting_weights
from svhnx.progress import with_progress
from svhnx.tasks.base import Task
from svhnx.tasks.config import TrainConfig
from svhnx.train import distributed
from svhnx.train.ema import averaged_model
from svhnx.train.log_line import log_line
from svhnx.train.run_dir import BEST, CURVES, LAST, RunDirectory, save_checkpoint
from svhnx.train.tensorboard_log import TensorBoardLog
from svhnx.viz.curves import plot_curves


@dataclass
class Progress:
    """Where a run is; saved in every checkpoint."""

    step: int = 0
    images: int = 0
    train_time_s: float = 0.0
    wall_time_s: float = 0.0
    best_value: float | None = None
    best_step: int | None = None


def select_device(name: str) -> torch.device:
    """``auto`` -> CUDA when present, else CPU; ``cuda`` without a GPU raises ValueError."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda: no CUDA device is available (torch.cuda.is_available() is False)")
    return torch.device(name)


def total_steps(config: TrainConfig, task: type[Task]) -> int:
    """``--steps``, or ``--epochs`` converted with the task's ``images_per_epoch`` (a step takes
    ``--batch-size`` images on each of the ``torchrun`` processes)."""
    if config.epochs is not None:
        return max(1, math.ceil(config.epochs * task.images_per_epoch / (config.batch_size * distributed.world_size())))
    return int(config.steps)


def build_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """AdamW or SGD with Nesterov momentum; no weight decay on biases and norm layers."""
    decay = [p for p in model.parameters() if p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.ndim <= 1]
    groups = [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    if config.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=config.lr)
    return torch.optim.SGD(groups, lr=config.lr, momentum=0.9, nesterov=True)


def lr_factor(schedule: str, step: int, steps: int, warmup: float) -> float:
    """Multiplier of the peak learning rate at ``step`` (0-based) of ``steps``.

    ``onecycle``: linear warm-up from 1/25 to 1 over the first ``warmup`` fraction of the steps,
    then cosine annealing to 0 (Smith's one-cycle policy). ``cosine``: cosine annealing from 1 to 0.
    ``constant``: 1.
    """
    if schedule == "constant":
        return 1.0
    warm = int(warmup * steps) if schedule == "onecycle" else 0
    if step < warm:
        return 1 / 25 + (1 - 1 / 25) * step / warm
    progress = min(1.0, (step - warm) / max(1, steps - warm))
    return 0.5 * (1 + math.cos(math.pi * progress))


def build_scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig, steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """The ``--schedule`` of :func:`lr_factor` as a torch scheduler (stepped once per step)."""
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, functools.partial(lr_factor, config.schedule, steps=steps, warmup=config.warmup)
    )


def rng_state() -> dict[str, Any]:
    """The torch, NumPy, Python (and CUDA) RNG states as tensors and plain data (checkpoint-safe)."""
    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return plain_rng_state(state)


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` returned."""
    torch.set_rng_state(state["torch"])
    numpy_state = state["numpy"]
    keys = numpy_state["keys"].numpy().astype(np.uint32)
    np.random.set_state((numpy_state["name"], keys, numpy_state["pos"], numpy_state["has_gauss"], numpy_state["gauss"]))
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


@contextlib.contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """While inside, the first SIGINT/SIGTERM sets ``stop`` (a second SIGINT interrupts as usual).

    Only the main thread can install handlers; elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def request_stop(signum: int, frame: Any) -> None:
        stop.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def batch_length(batch: Batch) -> int:
    return len(next(iter(batch.values())))


@torch.no_grad()
def evaluate_model(
    task: Task, model: nn.Module, batches: Iterable[Batch], device: torch.device, *, amp_dtype: torch.dtype | None = None
) -> dict[str, float]:
    """``val_loss`` and the task's metrics of ``model`` (put in eval mode) over ``batches``."""
    model.eval()
    accumulator = task.new_metrics()
    loss_sum, count = 0.0, 0
    for batch in batches:
        batch = batch_to(batch, device)
        with torch.autocast(device.type, dtype=amp_dtype or torch.float32, enabled=amp_dtype is not None):
            output = task.forward(model, batch)
            loss = task.loss(output, batch)
        n = batch_length(batch)
        loss_sum += float(loss) * n
        count += n
        accumulator.update(output, batch)
    return {"val_loss": loss_sum / max(count, 1), **accumulator.compute()}


class Trainer:
    """Trains ``task``'s model into ``run_dir``; ``checkpoint`` (a loaded ``last.pt``) resumes."""

    def __init__(
        self,
        task: Task,
        run_dir: RunDirectory,
        *,
        checkpoint: dict[str, Any] | None = None,
        progress_bar: bool = True,
    ) -> None:
        config = task.config
        self.task, self.config, self.run_dir = task, config, run_dir
        self.device = distributed.local_device(select_device(config.device))
        check_amp(config.amp, self.device)
        cuda = self.device.type == "cuda"
        self.amp = config.amp is not False if cuda else bool(config.amp)  # on the CPU: only when asked for (and AMX is there)
        self.amp_dtype = torch.bfloat16 if not cuda or torch.cuda.is_bf16_supported() else torch.float16
        self.steps = total_steps(config, type(task))
        self.progress_bar = progress_bar and distributed.is_main()
        if config.threads:
            torch.set_num_threads(config.threads)
        if checkpoint is None:
            seed_everything(config.seed)
        self.model_name, self.model_kwargs = config.model, task.model_kwargs()
        if checkpoint is not None:  # before any memory is spent on the model the file asks for
            check_model(self.model_name, self.model_kwargs, checkpoint.get("train_model_state", checkpoint.get("model_state")),
                        source=run_dir / LAST)
        self.model = create_model(self.model_name, **self.model_kwargs)
        if checkpoint is None and config.init:
            self.model.load_state_dict(starting_weights(config.init, self.model_name, self.model_kwargs))
        self.model = self.model.to(self.device)
        if cuda:
            self.model = self.model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # torch's stub lacks it
            torch.backends.cudnn.benchmark = True
        self.optimizer = build_optimizer(self.model, config)
        self.scheduler = build_scheduler(self.optimizer, config, self.steps)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp and self.amp_dtype == torch.float16)
        self.state = Progress()
        self.interrupted = False
        ema = config.ema
        self.ema = averaged_model(self.model, ema) if ema else None
        if checkpoint is not None:
            self._restore(checkpoint)
        self.train_model = distributed.wrap_model(self.model, self.device)  # DDP under torchrun
        self.tensorboard = TensorBoardLog(run_dir, self.state.step) if config.tensorboard and distributed.is_main() else None

    # -- checkpoints ---------------------------------------------------------------------------
    def _restore(self, checkpoint: dict[str, Any]) -> None:
        if checkpoint.get("format") != FORMAT:
            raise ValueError(f"checkpoint format {checkpoint.get('format')!r} is not {FORMAT}")
        self.model.load_state_dict(checkpoint.get("train_model_state", checkpoint["model_state"]))
        if self.ema is not None:
            self.ema.module.load_state_dict(checkpoint["model_state"])
            self.ema.n_averaged.fill_(checkpoint["ema_updates"])
        self.optimizer.load_state_dict(checkpoint["optimizer"])
        self.scheduler.load_state_dict(checkpoint["scheduler"])
        self.scaler.load_state_dict(checkpoint["scaler"])
        self.state = Progress(**checkpoint["progress"])
        set_rng_state(checkpoint["rng"])

    @property
    def eval_model(self) -> nn.Module:
        """The weights that are evaluated and saved as ``model_state``: the EMA average with ``--ema``."""
        return self.ema.module if self.ema is not None else self.model

    def checkpoint(self, metrics: dict[str, float]) -> dict[str, Any]:
        """Everything needed to rebuild the model (for evaluation) and to resume exactly.

        ``model_state`` holds the evaluated weights; with ``--ema`` the trained ones are in
        ``train_model_state``.
        """
        extra = {}
        config, config_paths = plain_config(self.config.as_dict())
        if self.ema is not None:
            extra = {"train_model_state": self.model.state_dict(), "ema_updates": int(self.ema.n_averaged)}
        return {**extra,
            "format": FORMAT,
            "svhnx": svhnx.__version__,
            "task": self.task.name,
            "config": config,
            "config_paths": config_paths,
            "model": {"name": self.model_name, "kwargs": self.model_kwargs},
            "model_state": self.eval_model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "progress": asdict(self.state),
            "rng": rng_state(),
            "metrics": metrics,
        }

    # -- evaluation ----------------------------------------------------------------------------
    def evaluate(self) -> dict[str, float]:
        """Validation loss and the task's metrics on its validation batches.

        Under ``torchrun`` rank 0 evaluates the whole validation set and broadcasts the result, so
        every rank agrees on the row and on ``best.pt`` and the numbers do not depend on the world size.
        """
        metrics = None
        if distributed.is_main():
            batches = with_progress(self.task.validation_batches(), "validating", enabled=self.progress_bar)
            metrics = evaluate_model(self.task, self.eval_model, batches, self.device,
                                     amp_dtype=self.amp_dtype if self.amp else None)
        metrics = distributed.broadcast_object(metrics)
        if metrics is None:  # rank 0 always evaluates
            raise RuntimeError("validation: rank 0 sent no metrics")
        self.model.train()
        return metrics

    # -- training ------------------------------------------------------------------------------
    def _train_step(self, batch: Batch) -> torch.Tensor:
        batch = batch_to(batch, self.device, non_blocking=True)
        with torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=self.amp):
            output = self.task.forward(self.train_model, batch)
            loss = self.task.loss(output, batch)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        if self.ema is not None:
            self.ema.update_parameters(self.model)
        return loss.detach()

    def _batches(self) -> Generator[Batch, None, None]:
        # A DataLoader iterator draws its base seed from torch's global RNG; put the state back so
        # that a resumed run's dropout draws are those of an uninterrupted one.
        saved = rng_state()
        batches = iter(self.task.train_batches(self.state.step, rank=distributed.rank(), device=self.device))
        set_rng_state(saved)
        yield from batches

    def run(self) -> dict[str, float]:
        """Train until ``--steps``, evaluating every ``--eval-every`` steps and at the end.

        SIGINT (Ctrl-C) or SIGTERM stops after the current step with ``last.pt`` saved there
        (:attr:`interrupted` is then true; ``--resume`` continues). Returns the last evaluation's row.
        """
        config, state = self.config, self.state
        self.model.train()
        wall_start = time.perf_counter() - state.wall_time_s
        loss_sum = torch.zeros((), device=self.device)
        loss_steps, interval_images, interval_time = 0, 0, 0.0
        last_row: dict[str, float] = {}
        bar = tqdm(
            total=self.steps, initial=state.step, unit="step", dynamic_ncols=True, disable=not self.progress_bar,
            mininterval=1.0 if sys.stderr.isatty() else 30.0, desc=self.task.name, smoothing=0.0,  # ETA from the mean rate
        )
        batches = self._batches()
        ema_loss: float | None = None
        stop = threading.Event()
        try:
            with stop_on_signals(stop):
                stopping = False
                while state.step < self.steps and not (stopping := distributed.any_rank(stop.is_set())):
                    tick = time.perf_counter()
                    batch = next(batches)
                    n = batch_length(batch) * distributed.world_size()  # images of the step, all ranks
                    loss = self._train_step(batch)
                    if self.device.type == "cuda" and (state.step + 1) % 50 == 0:
                        torch.cuda.synchronize()
                    elapsed = time.perf_counter() - tick
                    state.step += 1
                    state.images += n
                    state.train_time_s += elapsed
                    loss_sum += loss
                    loss_steps += 1
                    interval_images += n
                    interval_time += elapsed
                    if self.progress_bar and (state.step % 10 == 0 or self.device.type == "cpu"):
                        value = float(loss)
                        ema_loss = value if ema_loss is None else 0.9 * ema_loss + 0.1 * value
                        bar.set_postfix(loss=f"{ema_loss:.4f}", img_s=f"{interval_images / max(interval_time, 1e-9):.0f}", refresh=False)
                    bar.update(1)
                    if state.step % config.eval_every == 0 or state.step == self.steps:
                        train_loss = distributed.reduce_mean(float(loss_sum) / loss_steps)
                        images_per_s = interval_images / max(interval_time, 1e-9)
                        metrics = self.evaluate()
                        state.wall_time_s = time.perf_counter() - wall_start
                        last_row = self._record(train_loss, images_per_s, metrics, bar)
                        loss_sum.zero_()
                        loss_steps, interval_images, interval_time = 0, 0, 0.0
                if stopping and state.step < self.steps:
                    state.wall_time_s = time.perf_counter() - wall_start
                    if distributed.is_main():
                        save_checkpoint(self.run_dir / LAST, self.checkpoint({}))
                    distributed.barrier()
                    self.interrupted = True
                    if distributed.is_main():
                        tqdm.write(f"stopped at step {state.step}/{self.steps}; last.pt saved, --resume continues", file=sys.stderr)
        finally:
            bar.close()
            batches.close()
            if self.tensorboard is not None:
                self.tensorboard.close()
        return last_row

    def _record(self, train_loss: float, images_per_s: float, metrics: dict[str, float], bar: tqdm) -> dict[str, float]:
        """Write the metrics row, the checkpoints and the curves of one evaluation."""
        state, task = self.state, self.task
        row = {
            "step": state.step,
            "epoch": state.images / task.images_per_epoch,
            "images": state.images,
            "wall_time_s": state.wall_time_s,
            "train_time_s": state.train_time_s,
            "lr": self.optimizer.param_groups[0]["lr"],
            "train_loss": train_loss,
            "images_per_s": images_per_s,
            **metrics,
        }
        value = metrics[task.metric]
        improved = state.best_value is None or (value > state.best_value if task.higher_is_better else value < state.best_value)
        if improved:
            state.best_value, state.best_step = value, state.step
        if not distributed.is_main():
            distributed.barrier()  # until rank 0 has written the step's files
            return row
        self.run_dir.append_metrics(row)
        if self.tensorboard is not None:
            self.tensorboard.add_row(row)
        checkpoint = self.checkpoint(metrics)
        if improved:  # best.pt before last.pt: a crash between the two cannot leave best.pt stale
            save_checkpoint(self.run_dir / BEST, checkpoint)
        save_checkpoint(self.run_dir / LAST, checkpoint)
        plot_curves(self.run_dir.metrics(), [k for k in metrics if k != "val_loss"], self.run_dir / CURVES, primary=task.metric)
        line = log_line(state.step, self.steps, state.wall_time_s / 60, train_loss, metrics, task.metric)
        tqdm.write(line, file=sys.stderr)
        distributed.barrier()
        return row
