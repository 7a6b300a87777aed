"""Command-line flags for :class:`~svhnx.synth.generator.Realism`, shared by ``python -m svhnx.synth`` and the ``synth`` task."""

from __future__ import annotations

import argparse
from typing import Any

from svhnx.argtypes import unit_interval
from svhnx.synth.generator import REALISM_FIELDS, Realism

REALISM_HELP = {
    "background": "textures, plates, edges, clutter, lighting",
    "style": "stroke weight, outlines, shadows",
    "distortion": "rotation, shear, perspective",
    "degradation": "low resolution, blur, noise, JPEG",
    "annotation": "loose, uneven digit-box margins, as SVHN's annotators drew them",
    "arrangement": "short numbers stacked or set on a diagonal (5%% of 2-3 digit numbers at 1)",
    "suffix": "number crops with a letter or sign right after the number, not part of it (10%% at 1)",
}


def add_realism_arguments(group: argparse._ArgumentGroup | argparse.ArgumentParser) -> None:
    """``--background --style --distortion --degradation --annotation --arrangement --suffix``, each in [0, 1], default 1."""
    for name in REALISM_FIELDS:
        group.add_argument(f"--{name}", type=unit_interval, default=1.0, help=f"amount of {REALISM_HELP[name]}, 0..1 (default: 1)")


def realism_from_args(args: argparse.Namespace | Any) -> Realism:
    """The :class:`Realism` of parsed :func:`add_realism_arguments` flags, or of a config with the same fields."""
    return Realism(*(getattr(args, name) for name in REALISM_FIELDS))
