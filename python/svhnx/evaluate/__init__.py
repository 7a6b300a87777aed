"""Evaluate a trained run or checkpoint: ``python -m svhnx.evaluate RUN_OR_CHECKPOINT [...]``.

The checkpoint names its task, the task's flags and the model, so the evaluator rebuilds all three,
scores the model on fresh validation data (a seed the run never validated on) and draws sample
predictions, mistakes first. A weights file or a shipped model's name (``digits``) is scored the same
way, with the task and flags its ``meta`` kept from training. Several runs of one recognizer task are
scored as one :class:`~svhnx.evaluate.views.Ensemble`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from svhnx import pretrained
from svhnx.checkpoint import checkpoint_path, load_checkpoint, model_from_checkpoint, restore_config
from svhnx.evaluate.views import Ensemble, ShiftedViews, WarpedViews
from svhnx.inference.localize import CloseLooks
from svhnx.progress import with_progress
from svhnx.tasks.base import Task, get_task
from svhnx.train.loop import evaluate_model, select_device

__all__ = ["LoadedRun", "checkpoint_path", "evaluate_run", "load_ensemble", "load_run", "with_close_looks", "with_shifted_views",
           "with_warped_views"]


@dataclass
class LoadedRun:
    """A task and its trained model, rebuilt from a checkpoint (for an ensemble: the first
    member's checkpoint, task and path; ``members`` lists every member's checkpoint)."""

    path: Path
    task: Task
    model: nn.Module
    device: torch.device
    checkpoint: dict[str, Any]
    members: list[Path] = field(default_factory=list)


def load_run(path: str | Path, *, which: str = "best", device: str = "auto", data_root: Path | None = None) -> LoadedRun:
    """Rebuild the task (with the run's flags, ``data_root`` replaced if given) and the model, from a
    run directory, a training checkpoint, a weights file or a shipped model's name."""
    if (name := pretrained.shipped_name(path)) is not None:
        file, checkpoint = Path(name), _checkpoint_of_weights(name)
    else:
        file = checkpoint_path(path, which)
        checkpoint = load_checkpoint(file)
        if checkpoint.get("format") == pretrained.FORMAT:
            checkpoint = _checkpoint_of_weights(file)
    for key in ("task", "config", "model", "model_state"):
        if key not in checkpoint:
            raise ValueError(f"{file} is not an svhnx training checkpoint (no {key!r})")
    try:
        task_cls = get_task(checkpoint["task"])
    except ValueError:
        raise ValueError(f"{file}: unknown task {checkpoint['task']!r}") from None
    # settings added since the run keep their defaults; settings since removed are dropped
    config = task_cls.Config.from_mapping(checkpoint["config"], strict=False)
    config = config.replace(data_root=data_root or config.data_root, download=False)
    task = task_cls(config)
    target = select_device(device)
    model = model_from_checkpoint(checkpoint, file).to(target)
    return LoadedRun(file, task, model, target, checkpoint)


def _checkpoint_of_weights(source: str | Path) -> dict[str, Any]:
    """A weights file (or shipped model) as the parts of a training checkpoint that :func:`load_run`
    reads: the task, flags and step its ``meta`` kept from training (a mean of weights: its first
    member's), the model and its float32 weights."""
    try:
        spec, state = pretrained.spec_and_state(source)
    except pretrained.WeightsError as exc:
        raise ValueError(str(exc)) from None
    members = spec["meta"].get("members")
    facts = members[0] if isinstance(members, list) and members and isinstance(members[0], dict) else spec["meta"]
    if not isinstance(facts.get("task"), str) or not isinstance(facts.get("config"), dict):
        raise ValueError(f"{source}: its meta records no training task and flags, so there is no validation data to score it on")
    try:
        config_fields = fields(get_task(facts["task"]).Config)
    except ValueError:
        raise ValueError(f"{source}: unknown task {facts['task']!r}") from None
    paths = [f.name for f in config_fields if "Path" in str(f.type)]
    return {"task": facts["task"], "config": restore_config(facts["config"], paths), "progress": {"step": facts.get("step")},
            "model": {"name": spec["name"], "kwargs": spec["kwargs"]}, "model_state": state}


def load_ensemble(
    paths: Sequence[str | Path], *, which: str = "best", device: str = "auto", data_root: Path | None = None
) -> LoadedRun:
    """Several runs of one recognizer task as one :class:`~svhnx.evaluate.views.Ensemble`, with
    the first run's task (its validation data); one path loads that run alone."""
    runs = [load_run(p, which=which, device=device, data_root=data_root) for p in paths]
    if not runs:
        raise ValueError("paths: expected at least one run or checkpoint")
    first = runs[0]
    if len(runs) == 1:
        return first
    tasks = sorted({r.task.name for r in runs})
    if len(tasks) > 1:
        raise ValueError(f"an ensemble needs runs of one task, got {', '.join(tasks)}")
    _require_class_outputs(first, "its models cannot be ensembled")
    model = Ensemble([r.model for r in runs]).to(first.device).eval()
    return LoadedRun(first.path, first.task, model, first.device, first.checkpoint, [r.path for r in runs])


def with_shifted_views(run: LoadedRun, pixels: int) -> LoadedRun:
    """``run`` reading each image as the mean of five views: as it is and shifted by ``pixels``
    up, down, left and right (:class:`~svhnx.evaluate.views.ShiftedViews`)."""
    _require_class_outputs(run, "it cannot average shifted views")
    return replace(run, model=ShiftedViews(run.model, pixels).eval())


def with_warped_views(run: LoadedRun, views: int) -> LoadedRun:
    """``run`` reading each image as the mean of ``1 + views`` views: as it is and with every slot
    mildly warped (:class:`~svhnx.evaluate.views.WarpedViews`)."""
    _require_class_outputs(run, "it cannot average warped views")
    return replace(run, model=WarpedViews(run.model, views).eval())


def with_close_looks(run: LoadedRun, passes: int) -> LoadedRun:
    """``run``, a localizer, with its mask sharpened by ``passes`` close looks at its candidates
    (:class:`~svhnx.inference.localize.CloseLooks`)."""
    if run.task.name != "unet":
        raise ValueError(f"task {run.task.name!r}: close looks sharpen a localizer's mask (task 'unet')")
    return replace(run, model=CloseLooks(run.model, passes=passes).eval())


def _require_class_outputs(run: LoadedRun, consequence: str) -> None:
    if not run.task.classifies:
        raise ValueError(f"task {run.task.name!r}: its outputs are not class logits, so {consequence}")


def fresh_seed(run: LoadedRun) -> int:
    """A validation seed the run did not validate on: its ``val_seed`` + 1 (1 if it has none)."""
    return int(getattr(run.task.config, "val_seed", 0)) + 1


def evaluate_run(
    run: LoadedRun, *, size: int | None = None, seed: int | None = None, figure: Path | None = None, progress: bool = False
) -> dict[str, float]:
    """The task's metrics on validation data of ``size`` and ``seed`` (default: fresh), and the
    prediction figure at ``figure`` when given (``ValueError``, before any scoring, for a task that
    draws none); ``progress`` shows a bar for each pass."""
    if figure is not None and not run.task.has_prediction_figure:
        raise ValueError(f"figure: task {run.task.name!r} has no prediction figure")
    seed = fresh_seed(run) if seed is None else seed
    batches = run.task.validation_batches(size=size, seed=seed)
    metrics = evaluate_model(run.task, run.model, with_progress(batches, "scoring", enabled=progress), run.device)
    if figure is not None:
        batches = run.task.validation_batches(size=size, seed=seed)
        run.task.plot_predictions(run.model, with_progress(batches, "drawing", enabled=progress), run.device, figure)
    return metrics
