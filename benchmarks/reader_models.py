"""The models a whole-photo reader benchmark reads with: the ``--localizer`` and ``--recognizer``
options, which name checkpoints, runs or weights files, and the shipped models where they name none."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from torch import nn

from svhnx import pretrained
from svhnx.hardware import PRECISIONS
from svhnx.inference.backends import load_model, load_models_or_shipped
from svhnx.inference.reader import RECOGNIZER_PRECISION


def add_localizer_argument(parser: argparse.ArgumentParser) -> None:
    """``--localizer RUN``: the U-Net localizer (default: the shipped one)."""
    parser.add_argument("--localizer", type=Path, default=None, help="U-Net localizer checkpoint or run (default: the shipped one)")


def add_recognizer_argument(parser: argparse.ArgumentParser) -> None:
    """``--recognizer RUN [RUN ...]``: the recognizers, several read as one (default: the shipped ones)."""
    parser.add_argument("--recognizer", type=Path, nargs="+", default=None,
                        help="recognizer checkpoints or runs; several are read as one ensemble (default: the shipped ones)")


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """``--localizer RUN`` and ``--recognizer RUN [RUN ...]`` (several recognizers are read as one)."""
    add_localizer_argument(parser)
    add_recognizer_argument(parser)


def add_recognizer_precision_argument(parser: argparse.ArgumentParser) -> None:
    """``--recognizer-precision``: how the recognizer computes, the localizer staying in float32."""
    parser.add_argument("--recognizer-precision", choices=PRECISIONS, default=RECOGNIZER_PRECISION,
                        help="how the recognizer computes (the localizer computes in float32) (default: %(default)s)")


def load_localizer(path: Path | None) -> nn.Module:
    """The localizer at ``path``, or the shipped one."""
    return load_model(path, role="localizer") if path else pretrained.load("localizer")


def load_recognizer(paths: Sequence[Path] | None) -> nn.Module:
    """The recognizers at ``paths`` read as one, or the shipped ones."""
    return load_models_or_shipped(paths, role="recognizer")


def described(paths: Path | Sequence[Path] | None) -> str:
    """How a result names the model files given: ``"a.pt + b.pt"``, or ``"shipped"`` for none."""
    if paths is None:
        return "shipped"
    return str(paths) if isinstance(paths, Path) else " + ".join(map(str, paths))
