"""The flags every task shares (their argparse types: :mod:`svhnx.argtypes`); their defaults are the
fields of the task's config (:mod:`svhnx.tasks.config`)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from svhnx.argtypes import fraction, non_negative_float, non_negative_int, positive_float, positive_int
from svhnx.tasks.config import GlyphSource, SvhnSource, TrainConfig


def add_shared_arguments(parser: argparse.ArgumentParser, models: Sequence[str]) -> None:
    """The flags of every task (:class:`~svhnx.tasks.config.TrainConfig`); ``models`` are the
    ``--model`` choices (the models that fit the task)."""
    run = parser.add_argument_group("training")
    run.add_argument("--model", choices=models, help=f"the network to train: {' or '.join(models)} (default: %(default)s)")
    run.add_argument("--batch-size", type=positive_int,
                     help="images per step and process: under torchrun --nproc-per-node N a step takes N times this (default: %(default)s)")
    length = run.add_mutually_exclusive_group()
    length.add_argument("--steps", type=positive_int, help="optimiser steps (default: %(default)s)")
    length.add_argument("--epochs", type=positive_float, help="train for this many epochs instead of --steps")
    run.add_argument("--lr", type=positive_float, help="peak learning rate (default: %(default)s)")
    run.add_argument("--schedule", choices=("onecycle", "cosine", "constant"),
                     help="learning rate: onecycle (warm-up, then cosine to 0), cosine (to 0) or constant (default: %(default)s)")
    run.add_argument("--warmup", type=fraction, help="onecycle: fraction of the steps warming up from lr/25 (default: %(default)s)")
    run.add_argument("--optimizer", choices=("adamw", "sgd"), help="AdamW, or SGD with Nesterov momentum 0.9 (default: %(default)s)")
    run.add_argument("--weight-decay", type=non_negative_float,
                     help="weight decay of the weights, not of biases and norm layers (default: %(default)s)")
    run.add_argument("--ema", type=fraction,
                     help="evaluate and save an exponential moving average of the weights with this decay "
                          "per step, e.g. 0.995; 0 = off (default: %(default)s)")
    run.add_argument("--eval-every", type=positive_int,
                     help="evaluate and checkpoint every this many steps, and at the end (default: %(default)s)")
    run.add_argument("--init", metavar="WEIGHTS",
                     help="start from these weights instead of random ones: a shipped model's name (recognizer, localizer, digits), "
                          "a weights file or a checkpoint of the same model and sizes; the optimiser and schedule start afresh")
    run.add_argument("--seed", type=non_negative_int, help="seed of the initial weights and of the training data (default: %(default)s)")

    where = parser.add_argument_group("where and how")
    where.add_argument("--device", choices=("auto", "cpu", "cuda"), help="auto picks CUDA when present (default: %(default)s)")
    where.add_argument("--amp", action=argparse.BooleanOptionalAction,
                       help="mixed precision: default on for CUDA; on the CPU, bfloat16 autocast, off unless asked for, "
                            "and only on CPUs with AMX tiles or AVX-512 BF16")
    where.add_argument("--workers", type=non_negative_int, help="DataLoader worker processes (default: %(default)s)")
    where.add_argument("--threads", type=positive_int, help="torch CPU threads (default: torch's choice)")
    where.add_argument("--data-root", type=Path, help="data folder (default: $SVHNX_DATA, else ~/.cache/svhnx)")
    where.add_argument("--download", action="store_true", help="download missing dataset files (verified)")
    where.add_argument("--out", type=Path, help="run directory (default: runs/<task>-<date>-<time>)")
    where.add_argument("--resume", action="store_true", help="continue the run in --out from its last.pt")
    where.add_argument("--progress", action=argparse.BooleanOptionalAction, help="progress bar (default: on)")
    where.add_argument("--tensorboard", action="store_true",
                       help="also log the metrics rows for TensorBoard, in the run directory (needs pip install 'svhnx[tensorboard]')")


def apply_config_defaults(parser: argparse.ArgumentParser, config: type[TrainConfig]) -> None:
    """Take every flag's default from ``config``'s fields; the flags and the fields must match one
    to one (``ValueError`` names those that do not: a flag without a field, or the reverse)."""
    dests = set(vars(parser.parse_args([])))
    fields = set(config.field_names())
    if dests != fields:
        raise ValueError(f"{config.__name__}: flags without a field: {sorted(dests - fields)}; fields without a flag: {sorted(fields - dests)}")
    parser.set_defaults(**config.defaults())


def add_recognizer_arguments(group: argparse._ArgumentGroup) -> None:
    """``--width``, ``--dense`` and ``--dropout``: the sizes of an SVHN recognizer (:class:`~svhnx.tasks.config.RecognizerSizes`)."""
    group.add_argument("--width", type=positive_float, help="channel multiplier of the conv blocks (default: %(default)s)")
    group.add_argument("--dense", type=positive_int,
                       help="units of each dense layer (default: the model's own, 3072 for svhn-goodfellow, 512 for svhn-resnet)")
    group.add_argument("--dropout", type=fraction, help="dropout rate after every block and dense layer (default: %(default)s)")


def add_atlas_argument(group: argparse._ArgumentGroup) -> None:
    """``--atlas FILE.npz``: the saved glyph atlas the scene generator draws from (``atlas`` of the config)."""
    group.add_argument("--atlas", type=Path, metavar="FILE.npz",
                       help="draw the glyphs of this saved atlas (python -m svhnx.synth atlas, or a cached atlas-*.npz, e.g. "
                            "from a machine with more fonts) instead of this machine's fonts and handwriting (default: none)")


def check_atlas(config: GlyphSource, parser: argparse.ArgumentParser) -> None:
    """``--atlas``, when given, must be a file (its content is checked when the generator is built)."""
    if config.atlas is not None and not Path(config.atlas).is_file():
        parser.error(f"--atlas {config.atlas}: no such file")


def add_svhn_source_arguments(group: argparse._ArgumentGroup, splits: str) -> None:
    """``--svhn-dir`` (a folder of the split folders ``splits``, e.g. ``"train/, test/ (extra/)"``)
    and ``--crops-dir`` (where their preprocessed crops are cached): :class:`~svhnx.tasks.config.SvhnSource`."""
    group.add_argument("--svhn-dir", type=Path,
                       help=f"folder with the split folders {splits}, each with digitStruct.mat and its images "
                            "(default: <data root>/svhn, extracted from the official archives)")
    group.add_argument("--crops-dir", type=Path,
                       help="cache of the preprocessed 64 x 64 crops (default: $SVHNX_CACHE/svhn or ~/.cache/svhnx/svhn)")


def check_svhn_source(config: SvhnSource, parser: argparse.ArgumentParser) -> None:
    """``--svhn-dir``, when given, must be a folder."""
    if config.svhn_dir is not None and not Path(config.svhn_dir).is_dir():
        parser.error(f"--svhn-dir {config.svhn_dir}: no such folder")


def explicit_flags(parser: argparse.ArgumentParser, argv: list[str]) -> set[str]:
    """Destinations of the flags written out in ``argv``, the arguments of ``parser`` alone.

    ``argv`` is parsed into a namespace in which every destination already holds a marker: argparse
    fills in no default there, so only the flags given replace their marker.
    """
    unset = object()
    marked = argparse.Namespace(**{dest: unset for dest in vars(parser.parse_args([]))})
    return {dest for dest, value in vars(parser.parse_args(argv, namespace=marked)).items() if value is not unset}
