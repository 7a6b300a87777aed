"""The generic training loop: optimiser, LR schedule, AMP, evaluation, checkpoints, exact resume."""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

import svhnx
from svhnx.models import create_model
from svhnx.train.figures import plot_curves
from svhnx.train.run_dir import BEST, CURVES, LAST, RunDirectory, save_checkpoint
from svhnx.train.task import Batch, Task, batch_to

CHECKPOINT_FORMAT = 1


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


def total_steps(args: argparse.Namespace, task: type[Task]) -> int:
    """``--steps``, or ``--epochs`` converted with the task's ``images_per_epoch``."""
    if args.epochs is not None:
        return max(1, math.ceil(args.epochs * task.images_per_epoch / args.batch_size))
    return int(args.steps)


def build_optimizer(model: nn.Module, args: argparse.Namespace) -> torch.optim.Optimizer:
    """AdamW or SGD with Nesterov momentum; no weight decay on biases and norm layers."""
    decay = [p for p in model.parameters() if p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.ndim <= 1]
    groups = [{"params": decay, "weight_decay": args.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    if args.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=args.lr)
    return torch.optim.SGD(groups, lr=args.lr, momentum=0.9, nesterov=True)


def build_scheduler(optimizer: torch.optim.Optimizer, args: argparse.Namespace, steps: int) -> torch.optim.lr_scheduler.LRScheduler:
    """``onecycle`` (warm up to ``--lr`` over ``--warmup`` of the run, then cosine annealing),
    ``cosine`` (linear warm-up, cosine decay to zero) or ``constant`` (after linear warm-up)."""
    warmup = max(1, int(args.warmup * steps))
    if args.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=args.lr, total_steps=steps, pct_start=max(args.warmup, 1 / steps),
            cycle_momentum=args.optimizer == "sgd",
        )

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        if args.schedule == "constant":
            return 1.0
        return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warmup) / max(1, steps - warmup))))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def rng_state() -> dict[str, Any]:
    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def batch_length(batch: Batch) -> int:
    return len(next(iter(batch.values())))


class Trainer:
    """Trains ``task``'s model into ``run_dir``; ``checkpoint`` (a loaded ``last.pt``) resumes."""

    def __init__(
        self,
        task: Task,
        args: argparse.Namespace,
        run_dir: RunDirectory,
        *,
        checkpoint: dict[str, Any] | None = None,
        progress_bar: bool = True,
    ) -> None:
        self.task, self.args, self.run_dir = task, args, run_dir
        self.device = select_device(args.device)
        cuda = self.device.type == "cuda"
        self.amp = cuda and args.amp is not False
        self.amp_dtype = torch.bfloat16 if cuda and torch.cuda.is_bf16_supported() else torch.float16
        self.steps = total_steps(args, type(task))
        self.progress_bar = progress_bar
        if args.threads:
            torch.set_num_threads(args.threads)
        if checkpoint is None:
            seed_everything(args.seed)
        self.model_name, self.model_kwargs = args.model, task.model_kwargs()
        self.model = create_model(self.model_name, **self.model_kwargs).to(self.device)
        if cuda:
            self.model = self.model.to(memory_format=torch.channels_last)
            torch.backends.cudnn.benchmark = True
        self.optimizer = build_optimizer(self.model, args)
        self.scheduler = build_scheduler(self.optimizer, args, self.steps)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp and self.amp_dtype == torch.float16)
        self.state = Progress()
        if checkpoint is not None:
            self._restore(checkpoint)

    # -- checkpoints ---------------------------------------------------------------------------
    def _restore(self, checkpoint: dict[str, Any]) -> None:
        if checkpoint.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"checkpoint format {checkpoint.get('format')!r} is not {CHECKPOINT_FORMAT}")
        self.model.load_state_dict(checkpoint["model_state"])
        self.optimizer.load_state_dict(checkpoint["optimizer"])
        self.scheduler.load_state_dict(checkpoint["scheduler"])
        self.scaler.load_state_dict(checkpoint["scaler"])
        self.state = Progress(**checkpoint["progress"])
        set_rng_state(checkpoint["rng"])

    def checkpoint(self, metrics: dict[str, float]) -> dict[str, Any]:
        """Everything needed to rebuild the model (for evaluation) and to resume exactly."""
        return {
            "format": CHECKPOINT_FORMAT,
            "svhnx": svhnx.__version__,
            "task": self.task.name,
            "config": vars(self.args),
            "model": {"name": self.model_name, "kwargs": self.model_kwargs},
            "model_state": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "progress": asdict(self.state),
            "rng": rng_state(),
            "metrics": metrics,
        }

    # -- evaluation ----------------------------------------------------------------------------
    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        """Validation loss and the task's metrics on its validation batches."""
        self.model.eval()
        accumulator = self.task.new_metrics()
        loss_sum, count = 0.0, 0
        for batch in self.task.validation_batches():
            batch = batch_to(batch, self.device)
            with torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=self.amp):
                output = self.task.forward(self.model, batch)
                loss = self.task.loss(output, batch)
            n = batch_length(batch)
            loss_sum += float(loss) * n
            count += n
            accumulator.update(output, batch)
        self.model.train()
        return {"val_loss": loss_sum / max(count, 1), **accumulator.compute()}

    # -- training ------------------------------------------------------------------------------
    def _train_step(self, batch: Batch) -> torch.Tensor:
        batch = batch_to(batch, self.device, non_blocking=True)
        with torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=self.amp):
            output = self.task.forward(self.model, batch)
            loss = self.task.loss(output, batch)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        return loss.detach()

    def _batches(self) -> Iterator[Batch]:
        yield from self.task.train_batches(self.state.step, device=self.device)

    def run(self) -> dict[str, float]:
        """Train until ``--steps``, evaluating every ``--eval-every`` steps and at the end.

        Returns the last evaluation's row.
        """
        args, state = self.args, self.state
        self.model.train()
        wall_start = time.perf_counter() - state.wall_time_s
        loss_sum = torch.zeros((), device=self.device)
        loss_steps, interval_images, interval_time = 0, 0, 0.0
        last_row: dict[str, float] = {}
        bar = tqdm(
            total=self.steps, initial=state.step, unit="step", dynamic_ncols=True, disable=not self.progress_bar,
            mininterval=1.0 if sys.stderr.isatty() else 30.0, desc=self.task.name,
        )
        batches = self._batches()
        ema_loss: float | None = None
        try:
            while state.step < self.steps:
                tick = time.perf_counter()
                batch = next(batches)
                n = batch_length(batch)
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
                if state.step % args.eval_every == 0 or state.step == self.steps:
                    train_loss = float(loss_sum) / loss_steps
                    images_per_s = interval_images / max(interval_time, 1e-9)
                    metrics = self.evaluate()
                    state.wall_time_s = time.perf_counter() - wall_start
                    last_row = self._record(train_loss, images_per_s, metrics, bar)
                    loss_sum.zero_()
                    loss_steps, interval_images, interval_time = 0, 0, 0.0
        finally:
            bar.close()
            batches.close()
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
        self.run_dir.append_metrics(row)
        checkpoint = self.checkpoint(metrics)
        save_checkpoint(self.run_dir / LAST, checkpoint)
        if improved:
            save_checkpoint(self.run_dir / BEST, checkpoint)
        plot_curves(self.run_dir.metrics(), [k for k in metrics if k != "val_loss"], self.run_dir / CURVES)
        bar.write(
            f"step {state.step}/{self.steps}  {state.wall_time_s / 60:.1f} min  train_loss {train_loss:.4f}  "
            + "  ".join(f"{k} {v:.4f}" for k, v in metrics.items())
        )
        return row
