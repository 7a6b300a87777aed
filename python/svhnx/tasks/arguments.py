"""The flags every task shares (their argparse types: :mod:`svhnx.argtypes`)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from svhnx.argtypes import fraction, non_negative_float, non_negative_int, positive_float, positive_int

#: Flags that may change when a run is resumed (where and how it runs, not what it computes).
RUNTIME_FLAGS = ("device", "amp", "workers", "threads", "data_root", "download", "out", "resume", "progress", "tensorboard")


def add_shared_arguments(parser: argparse.ArgumentParser, defaults: Mapping[str, Any], models: Sequence[str]) -> None:
    """The flags of every task; ``defaults`` (the task's) fills model, batch size, steps, lr...;
    ``models`` are the ``--model`` choices (the models that fit the task)."""
    run = parser.add_argument_group("training")
    run.add_argument("--model", choices=models, default=defaults.get("model", models[0]),
                     help=f"the network to train: {' or '.join(models)} (default: %(default)s)")
    run.add_argument("--batch-size", type=positive_int, default=defaults.get("batch_size", 128),
                     help="images per step and process: under torchrun --nproc-per-node N a step takes N times this (default: %(default)s)")
    length = run.add_mutually_exclusive_group()
    length.add_argument("--steps", type=positive_int, default=defaults.get("steps", 1000), help="optimiser steps (default: %(default)s)")
    length.add_argument("--epochs", type=positive_float, default=None, help="train for this many epochs instead of --steps")
    run.add_argument("--lr", type=positive_float, default=defaults.get("lr", 1e-3), help="peak learning rate (default: %(default)s)")
    run.add_argument("--schedule", choices=("onecycle", "cosine", "constant"), default=defaults.get("schedule", "onecycle"),
                     help="learning rate: onecycle (warm-up, then cosine to 0), cosine (to 0) or constant (default: %(default)s)")
    run.add_argument("--warmup", type=fraction, default=defaults.get("warmup", 0.15),
                     help="onecycle: fraction of the steps warming up from lr/25 (default: %(default)s)")
    run.add_argument("--optimizer", choices=("adamw", "sgd"), default=defaults.get("optimizer", "adamw"),
                     help="AdamW, or SGD with Nesterov momentum 0.9 (default: %(default)s)")
    run.add_argument("--weight-decay", type=non_negative_float, default=defaults.get("weight_decay", 1e-4),
                     help="weight decay of the weights, not of biases and norm layers (default: %(default)s)")
    run.add_argument("--ema", type=fraction, default=defaults.get("ema", 0.0),
                     help="evaluate and save an exponential moving average of the weights with this decay "
                          "per step, e.g. 0.995; 0 = off (default: %(default)s)")
    run.add_argument("--eval-every", type=positive_int, default=defaults.get("eval_every", 500),
                     help="evaluate and checkpoint every this many steps, and at the end (default: %(default)s)")
    run.add_argument("--init", default=None, metavar="WEIGHTS",
                     help="start from these weights instead of random ones: a shipped model's name (recognizer, localizer, digits), "
                          "a weights file or a checkpoint of the same model and sizes; the optimiser and schedule start afresh")
    run.add_argument("--seed", type=non_negative_int, default=defaults.get("seed", 0),
                     help="seed of the initial weights and of the training data (default: %(default)s)")

    where = parser.add_argument_group("where and how")
    where.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="auto picks CUDA when present (default: auto)")
    where.add_argument("--amp", action=argparse.BooleanOptionalAction, default=None,
                       help="mixed precision; default on for CUDA, unavailable on the CPU")
    where.add_argument("--workers", type=non_negative_int, default=0, help="DataLoader worker processes (default: 0)")
    where.add_argument("--threads", type=positive_int, default=None, help="torch CPU threads (default: torch's choice)")
    where.add_argument("--data-root", type=Path, default=None, help="data folder (default: $SVHNX_DATA, else ~/.cache/svhnx)")
    where.add_argument("--download", action="store_true", help="download missing dataset files (verified)")
    where.add_argument("--out", type=Path, default=None, help="run directory (default: runs/<task>-<date>-<time>)")
    where.add_argument("--resume", action="store_true", help="continue the run in --out from its last.pt")
    where.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True, help="progress bar (default: on)")
    where.add_argument("--tensorboard", action="store_true",
                       help="also log the metrics rows for TensorBoard, in the run directory (needs pip install 'svhnx[tensorboard]')")


def add_recognizer_arguments(group: argparse._ArgumentGroup) -> None:
    """``--width``, ``--dense`` and ``--dropout``: the sizes of an SVHN recognizer (tasks ``svhn`` and ``synth``)."""
    group.add_argument("--width", type=positive_float, default=1.0, help="channel multiplier of the conv blocks (default: %(default)s)")
    group.add_argument("--dense", type=positive_int, default=None,
                       help="units of each dense layer (default: the model's own, 3072 for svhn-goodfellow, 512 for svhn-resnet)")
    group.add_argument("--dropout", type=fraction, default=0.2, help="dropout rate after every block and dense layer (default: %(default)s)")


def add_crops_dir_argument(group: argparse._ArgumentGroup) -> None:
    """``--crops-dir``: where the preprocessed SVHN crops are cached (tasks ``svhn`` and ``synth``)."""
    group.add_argument("--crops-dir", type=Path, default=None,
                       help="cache of the preprocessed 64 x 64 crops (default: $SVHNX_CACHE/svhn or ~/.cache/svhnx/svhn)")


def explicit_flags(parser: argparse.ArgumentParser, argv: list[str]) -> set[str]:
    """Destinations of the flags written out in ``argv``, the arguments of ``parser`` alone.

    ``argv`` is parsed into a namespace in which every destination already holds a marker: argparse
    fills in no default there, so only the flags given replace their marker.
    """
    unset = object()
    marked = argparse.Namespace(**{dest: unset for dest in vars(parser.parse_args([]))})
    return {dest for dest, value in vars(parser.parse_args(argv, namespace=marked)).items() if value is not unset}
