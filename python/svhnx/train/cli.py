"""``python -m svhnx.train TASK [flags]``: train a task's model into a run directory."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

import svhnx
from svhnx.checkpoint import FORMAT, CheckpointError
from svhnx.data.download import DatasetNotFoundError
from svhnx.hardware import check_amp
from svhnx.pretrained import WeightsError
from svhnx.progress import with_progress
from svhnx.tasks.arguments import add_shared_arguments, apply_config_defaults, explicit_flags
from svhnx.tasks.base import Task, get_task, list_tasks
from svhnx.tasks.config import RUNTIME_FIELDS, TrainConfig
from svhnx.train import distributed
from svhnx.train.loop import Trainer, select_device
from svhnx.train.run_dir import LAST, RunDirectory, RunDirectoryError, load_checkpoint
from svhnx.train.run_lock import lock_run_directory
from svhnx.train.tensorboard_log import INSTALL_HINT, tensorboard_available

PREDICTIONS = "predictions.png"
#: Failures of the user's data, files or folders: one ``error:`` line and exit status 2, no traceback.
USER_ERRORS = (DatasetNotFoundError, CheckpointError, RunDirectoryError, WeightsError)


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The top-level parser and one sub-parser per task (shared flags + the task's own)."""
    parser = argparse.ArgumentParser(
        prog="python -m svhnx.train", description="Train a model; writes config.json, metrics.csv, "
        "last.pt, best.pt and figures into the run directory.", allow_abbrev=False,
    )
    sub = parser.add_subparsers(dest="task", metavar="TASK", required=True, help=", ".join(list_tasks()))
    parsers = {}
    for name in list_tasks():
        task = get_task(name)
        p = sub.add_parser(name, help=task.description, description=task.description, allow_abbrev=False)
        add_shared_arguments(p, task.compatible_models())
        task.add_arguments(p)
        apply_config_defaults(p, task.Config)
        parsers[name] = p
    return parser, parsers


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The task's :class:`~svhnx.tasks.config.TrainConfig` of parsed ``python -m svhnx.train TASK ...`` flags."""
    values = vars(args).copy()
    return get_task(values.pop("task")).Config.from_mapping(values)


def parse_config(argv: Sequence[str]) -> tuple[type[Task], TrainConfig]:
    """The task and its config of a ``python -m svhnx.train`` command line (``argv`` without the
    program name, e.g. ``["unet", "--steps", "10"]``)."""
    parser, _ = build_parser()
    args = parser.parse_args(list(argv))
    return get_task(args.task), config_from_args(args)


def _run_record(task: type[Task], trainer: Trainer, argv: Sequence[str]) -> dict[str, Any]:
    """What ``config.json`` says about the run."""
    return {
        "task": task.name,
        "args": trainer.config.as_dict(),
        "model": {"name": trainer.model_name, "kwargs": trainer.model_kwargs},
        "total_steps": trainer.steps,
        "device": str(trainer.device),
        "amp": trainer.amp,
        "command": ["python", "-m", "svhnx.train", *argv],
        "svhnx": svhnx.__version__,
        "torch": torch.__version__,
        "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }


def _run_directory(config: TrainConfig) -> RunDirectory:
    """The run folder of ``config.out``; the parser asks for ``--out``, a config built in Python may lack it."""
    if config.out is None:
        raise ValueError("out: no run folder given (--out)")
    return RunDirectory(config.out)


def _resumed_config(
    task: type[Task], config: TrainConfig, parser: argparse.ArgumentParser, argv: list[str]
) -> tuple[TrainConfig, dict[str, Any]]:
    """The saved run's config with this call's runtime settings, and its checkpoint."""
    run_dir = _run_directory(config)
    if not run_dir.has_checkpoint:
        parser.error(f"--resume: {run_dir / LAST} does not exist")
    try:
        checkpoint = load_checkpoint(run_dir / LAST)
    except OSError as exc:
        raise CheckpointError(f"{run_dir / LAST}: cannot read it ({exc})") from None
    if checkpoint.get("format") != FORMAT or not isinstance(checkpoint.get("config"), dict) or "task" not in checkpoint:
        raise CheckpointError(f"{run_dir / LAST}: not a format-{FORMAT} training checkpoint, so the run cannot be resumed")
    if checkpoint["task"] != task.name:
        parser.error(f"--resume: {config.out} is a {checkpoint['task']!r} run, not {task.name!r}")
    saved = checkpoint["config"]
    conflicts = sorted(
        # argv[0] is the task: the flags after it are the task parser's
        k for k in explicit_flags(parser, argv[1:]) if k not in RUNTIME_FIELDS and k in saved and saved[k] != getattr(config, k)
    )
    if conflicts:
        flags = ", ".join(f"--{k.replace('_', '-')} (run has {saved[k]!r})" for k in conflicts)
        parser.error(f"--resume continues a run as it was configured; these flags differ: {flags}")
    # This call's values stand in for settings added since the run began (and settings since
    # removed are dropped); the run's own come next.
    runtime = {k: getattr(config, k) for k in RUNTIME_FIELDS}
    return task.Config.from_mapping({**config.as_dict(), **saved, **runtime}, strict=False), checkpoint


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser, parsers = build_parser()
    args = parser.parse_args(argv)
    task_cls, task_parser = get_task(args.task), parsers[args.task]
    config = config_from_args(args)
    try:
        device = select_device(config.device)
        check_amp(config.amp, device)
    except ValueError as exc:
        task_parser.error(str(exc))
    if config.tensorboard and not tensorboard_available():
        task_parser.error(INSTALL_HINT)
    if config.resume and config.out is None:
        task_parser.error("--resume needs --out RUN_DIR (the run to continue)")
    distributed.setup(device)  # under torchrun: join its process group (only rank 0 writes files)
    if config.out is None:
        config.out = distributed.broadcast_object(Path("runs") / f"{task_cls.name}-{dt.datetime.now():%Y%m%d-%H%M%S}")
    if not config.resume:
        task_cls.check_config(config, task_parser)  # before anything is written
    try:
        with lock_run_directory(Path(config.out)) if distributed.is_main() else contextlib.nullcontext():
            return _train(task_cls, config, argv, task_parser)
    except USER_ERRORS as exc:
        print(f"{task_parser.prog}: error: {exc}", file=sys.stderr)
        return 2


def _train(task_cls: type[Task], config: TrainConfig, argv: list[str], task_parser: argparse.ArgumentParser) -> int:
    """Start or resume the run in ``config.out`` (locked by the caller) and train it to the end."""
    run_dir = _run_directory(config)
    checkpoint = None
    if config.resume:
        config, checkpoint = _resumed_config(task_cls, config, task_parser, argv)
        task_cls.check_config(config, task_parser)
    elif run_dir.has_checkpoint:
        task_parser.error(f"--out {config.out} already holds a run; pass --resume to continue it, or choose another --out")
    elif distributed.is_main() and (removed := run_dir.clear_unfinished()):
        print(f"removed what a run that never saved {LAST} left: {', '.join(p.name for p in removed)}", file=sys.stderr)

    task = task_cls(config)
    trainer = Trainer(task, run_dir, checkpoint=checkpoint, progress_bar=config.progress)
    if checkpoint is None and distributed.is_main():
        run_dir.write_config(_run_record(task_cls, trainer, argv))
    elif distributed.is_main():
        run_dir.truncate_metrics(trainer.state.step)
        run_dir.remove_partial_files()
        print(f"resuming {run_dir.path} at step {trainer.state.step}/{trainer.steps}", file=sys.stderr)
    trainer.run()
    if trainer.interrupted:
        return 130
    try:
        if distributed.is_main():
            batches = with_progress(task.validation_batches(), "drawing predictions", enabled=config.progress)
            task.plot_predictions(trainer.eval_model, batches, trainer.device, run_dir / PREDICTIONS)
    except NotImplementedError:
        pass
    if distributed.is_main():
        print(f"run directory: {run_dir.path}", file=sys.stderr)
    return 0
