"""``synth``: the SVHN recognizer trained only on synthetic street-number crops (:mod:`svhnx.synth`).

Training: an endless stream of generated 64 x 64 number crops (the SVHN crop rule applied to
synthetic scenes), random 54 x 54 crops (:class:`svhnx.synth.dataset.SynthCropStream`).
Validation during training: a fixed set of ``--val-size`` synthetic crops from a stream training
never draws. ``python -m svhnx.evaluate`` scores the model on *real* photos: the ``test`` split of
``--svhn-dir`` (or ``<data root>/svhn``), as the ``svhn`` task does, which is the transfer the
original study's synthetic data failed. Model, loss and metrics are the ``svhn`` task's.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import torch

from svhnx.argtypes import positive_int, unit_interval
from svhnx.data.streams import Batch, stream_loader
from svhnx.synth import SceneGenerator
from svhnx.synth.arguments import add_realism_arguments, realism_from_args
from svhnx.synth.dataset import SynthCropStream, load_negatives
from svhnx.synth.dataset import validation_batches as synthetic_validation_batches
from svhnx.tasks.arguments import add_atlas_argument, add_recognizer_arguments, add_svhn_source_arguments, check_atlas, check_svhn_source
from svhnx.tasks.base import register_task
from svhnx.tasks.config import Typefaces
from svhnx.tasks.svhn import EVAL_BATCH, TRAIN_IMAGES, SvhnRecognizerConfig, SvhnRecognizerTask


def add_typeface_arguments(group: argparse._ArgumentGroup) -> None:
    """``--handwriting``, ``--system-fonts`` and ``--atlas`` (:class:`~svhnx.tasks.config.Typefaces`): which glyphs the scene generator draws."""
    group.add_argument("--handwriting", action=argparse.BooleanOptionalAction,
                       help="MNIST handwriting among the typefaces, when <data root>/mnist has it (default: on)")
    group.add_argument("--system-fonts", action=argparse.BooleanOptionalAction,
                       help="the fonts installed on the system among the typefaces, e.g. Debian's fonts-* packages "
                            "(default: on, unless $SVHNX_SYSTEM_FONTS is 0)")
    add_atlas_argument(group)


def add_fade_argument(group: argparse._ArgumentGroup) -> None:
    """``--fade SHARE``: the share of the training crops faded (:func:`svhnx.synth.fading.fade`)."""
    group.add_argument("--fade", type=unit_interval,
                       help="share of the training crops faded: blurred, lowered in contrast and noised, "
                            "like the real crops read worst (svhnx.synth.fading) (default: %(default)s: off)")


@dataclass
class SynthConfig(Typefaces, SvhnRecognizerConfig):
    """The ``synth`` task's settings (the realism amounts are :class:`~svhnx.synth.generator.Realism`'s)."""

    val_size: int = 2048
    background: float = 1.0
    style: float = 1.0
    distortion: float = 1.0
    degradation: float = 1.0
    annotation: float = 1.0
    arrangement: float = 1.0
    suffix: float = 1.0
    format2: float = 0.25
    framing: float = 0.0
    fade: float = 0.0
    negatives: Path | None = None
    negative_share: float = 0.1


@register_task
class SynthTask(SvhnRecognizerTask[SynthConfig]):
    name = "synth"
    description = "the SVHN recognizer on synthetic street-number crops (svhnx.synth); evaluated on real SVHN"
    Config = SynthConfig
    images_per_epoch = TRAIN_IMAGES  # an "epoch" is as many crops as the real SVHN training set has

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        group = parser.add_argument_group("synth")
        group.add_argument("--val-size", type=positive_int, help="synthetic validation crops (default: %(default)s)")
        add_typeface_arguments(group)
        add_realism_arguments(group)
        group.add_argument("--format2", type=unit_interval,
                           help="share of the training crops made to look rebuilt from SVHN's 32 x 32 format-2 digit squares "
                                "(lower resolution, margins filled from the nearest digit square) (default: %(default)s)")
        group.add_argument("--framing", type=unit_interval,
                           help="spread of each training crop's framing: its window's width and height scaled by "
                                "exp(FRAMING * N(0, 1)), like a looser or tighter hand-drawn box (default: %(default)s: off)")
        add_fade_argument(group)
        group.add_argument("--negatives", type=Path, metavar="FILE.npz",
                           help="number-free 64 x 64 crops to mix in with the target 'no digits' "
                                "(written by python -m benchmarks.scripts.mine_negatives) (default: none)")
        group.add_argument("--negative-share", type=unit_interval,
                           help="share of each batch replaced by --negatives crops (default: %(default)s)")
        real = parser.add_argument_group("real SVHN (for python -m svhnx.evaluate)")
        add_svhn_source_arguments(real, "test/")
        model = parser.add_argument_group("model")
        add_recognizer_arguments(model)

    @classmethod
    def check_config(cls, config: SynthConfig, parser: argparse.ArgumentParser) -> None:
        check_svhn_source(config, parser)
        if config.negatives is not None and not Path(config.negatives).is_file():
            parser.error(f"--negatives {config.negatives}: no such file")
        check_atlas(config, parser)

    @cached_property
    def generator(self) -> SceneGenerator:
        """The scene generator of this run's flags (its glyph atlas is cached on disk)."""
        realism = realism_from_args(self.config)
        return SceneGenerator.from_data(self.config.data_root, realism=realism, handwriting=self.config.handwriting,
                                        system_fonts=self.config.system_fonts, atlas=self.config.atlas)

    def train_batches(self, start_step: int, *, rank: int = 0, device: torch.device | None = None) -> Iterable[Batch]:
        negatives = load_negatives(self.config.negatives) if self.config.negatives is not None else None
        stream = SynthCropStream(self.generator, self.config.batch_size, seed=self.config.seed, start=start_step, rank=rank,
                                 format2=self.config.format2, framing=self.config.framing, fade_share=self.config.fade,
                                 negatives=negatives,
                                 negative_share=self.config.negative_share if negatives is not None else 0.0)
        return stream_loader(stream, self.config.workers, device)

    def validation_batches(self, *, size: int | None = None, seed: int | None = None) -> Iterator[Batch]:
        """Synthetic crops during training (``seed`` is ``None``); real SVHN test images otherwise."""
        if seed is not None:
            return super().validation_batches(size=size, seed=seed)
        return synthetic_validation_batches(self.generator, size or self.config.val_size, seed=self.config.seed, batch_size=EVAL_BATCH)
