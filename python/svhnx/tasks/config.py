"""A training run's settings as a dataclass: :class:`TrainConfig` (every task's) and its subclasses.

Each task declares its own subclass (``SynthTask.Config``...): the fields are the task's flags, and
their defaults are the one home of the flags' defaults (the parser takes them from here,
:func:`svhnx.tasks.arguments.apply_config_defaults`). A checkpoint stores the config as plain data,
and :meth:`TrainConfig.from_mapping` rebuilds it without any parser.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

C = TypeVar("C", bound="TrainConfig")

#: Settings that may change when a run is resumed (where and how it runs, not what it computes).
RUNTIME_FIELDS = ("device", "amp", "workers", "threads", "data_root", "download", "out", "resume", "progress", "tensorboard")


@dataclass
class TrainConfig:
    """The settings every task shares: what is trained, for how long and how, and where it runs."""

    model: str = ""
    batch_size: int = 128
    steps: int = 1000
    epochs: float | None = None
    lr: float = 1e-3
    schedule: str = "onecycle"
    warmup: float = 0.15
    optimizer: str = "adamw"
    weight_decay: float = 1e-4
    ema: float = 0.0
    eval_every: int = 500
    init: str | None = None
    seed: int = 0
    # where and how
    device: str = "auto"
    amp: bool | None = None
    workers: int = 0
    threads: int | None = None
    data_root: Path | None = None
    download: bool = False
    out: Path | None = None
    resume: bool = False
    progress: bool = True
    tensorboard: bool = False

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """Every field's default."""
        return {f.name: f.default for f in fields(cls)}

    @classmethod
    def from_mapping(cls: type[C], values: Mapping[str, Any], *, strict: bool = True) -> C:
        """The config of ``values`` (e.g. a checkpoint's saved flags); a field not in ``values`` (a
        flag added since the run was saved) keeps its default. ``strict``: a name that is not a
        field raises ``ValueError``; otherwise it is dropped (a flag removed since)."""
        names = set(cls.field_names())
        unknown = sorted(set(values) - names)
        if strict and unknown:
            raise ValueError(f"{cls.__name__}: unknown settings {', '.join(unknown)}")
        return cls(**{k: v for k, v in values.items() if k in names})

    def replace(self: C, **changes: Any) -> C:
        """A copy with ``changes``."""
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class RecognizerSizes:
    """Sizes of an SVHN recognizer (``--width --dense --dropout``; tasks ``svhn`` and ``synth``)."""

    width: float = 1.0
    dense: int | None = None  # None: the model's own
    dropout: float = 0.2


@dataclass
class SvhnSource:
    """Where real SVHN is read from (``--svhn-dir``) and its preprocessed crops cached (``--crops-dir``)."""

    svhn_dir: Path | None = None
    crops_dir: Path | None = None


@dataclass
class GlyphSource:
    """A saved glyph atlas for the scene generator to draw from (``--atlas``) instead of this machine's fonts."""

    atlas: Path | None = None


@dataclass
class Typefaces(GlyphSource):
    """Which glyph families the scene generator draws (``--handwriting --system-fonts``), or a saved
    atlas of them (``--atlas``)."""

    handwriting: bool = True
    system_fonts: bool | None = None  # None: on unless $SVHNX_SYSTEM_FONTS is 0
