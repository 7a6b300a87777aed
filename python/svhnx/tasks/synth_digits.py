"""``synth-digits``: a single-digit classifier trained on synthetic SVHN format-2 squares.

Training: an endless stream of 32 x 32 digit squares cut from generated number crops
(:mod:`svhnx.synth.digits`). Validation during training: a fixed set of ``--val-size`` synthetic
squares from a stream training never draws. Real pixels: ``python -m svhnx.evaluate RUN --digits32
FILE.npz`` (for example ``svhn-real/test-digits32-dev.npz``).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import torch
import torch.nn.functional as F

from svhnx.argtypes import fraction, positive_float, positive_int
from svhnx.data.streams import Batch, stream_loader
from svhnx.metrics.base import MetricAccumulator
from svhnx.synth import SceneGenerator
from svhnx.synth.digits import SynthDigitStream, validation_digits
from svhnx.tasks.arguments import check_atlas
from svhnx.tasks.base import Task, register_task
from svhnx.tasks.config import TrainConfig, Typefaces
from svhnx.tasks.synth import add_fade_argument, add_typeface_arguments

EVAL_BATCH = 512


class DigitAccuracy(MetricAccumulator):
    """Share of digits classified right (``digit_accuracy``)."""

    def __init__(self) -> None:
        self.right = 0
        self.count = 0

    def update(self, output: torch.Tensor, batch: Batch) -> None:
        self.right += int((output.argmax(dim=1) == batch["labels"].to(output.device)).sum())
        self.count += len(output)

    def compute(self) -> dict[str, float]:
        return {"digit_accuracy": self.right / self.count if self.count else float("nan")}


@dataclass
class SynthDigitsConfig(Typefaces, TrainConfig):
    """The ``synth-digits`` task's settings."""

    model: str = "digit-resnet"
    batch_size: int = 256
    steps: int = 6000
    lr: float = 2e-3
    weight_decay: float = 0.01
    ema: float = 0.999
    val_size: int = 4096
    width: float = 1.0
    dropout: float = 0.1
    fade: float = 0.0


@register_task
class SynthDigitsTask(Task[SynthDigitsConfig]):
    name = "synth-digits"
    description = "a single-digit classifier on synthetic 32 x 32 format-2 squares (svhnx.synth.digits)"
    Config = SynthDigitsConfig
    models = ("digit-resnet",)
    metric = "digit_accuracy"
    images_per_epoch = 73_257  # as many as SVHN format 2's training digits: what --epochs 1 means

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        group = parser.add_argument_group("synth-digits")
        group.add_argument("--val-size", type=positive_int, help="synthetic validation digits (default: %(default)s)")
        add_typeface_arguments(group)
        add_fade_argument(group)
        group.add_argument("--width", type=positive_float, help="channel multiplier of the classifier (default: %(default)s)")
        group.add_argument("--dropout", type=fraction, help="dropout rate before the classifier (default: %(default)s)")

    @classmethod
    def check_config(cls, config: SynthDigitsConfig, parser: argparse.ArgumentParser) -> None:
        check_atlas(config, parser)

    def model_kwargs(self) -> dict[str, Any]:
        return {"width": self.config.width, "dropout": self.config.dropout}

    @cached_property
    def generator(self) -> SceneGenerator:
        return SceneGenerator.from_data(self.config.data_root, handwriting=self.config.handwriting,
                                        system_fonts=self.config.system_fonts, atlas=self.config.atlas)

    def train_batches(self, start_step: int, *, rank: int = 0, device: torch.device | None = None) -> Iterable[Batch]:
        stream = SynthDigitStream(self.generator, self.config.batch_size, seed=self.config.seed, start=start_step, rank=rank,
                                  fade_share=self.config.fade)
        return stream_loader(stream, self.config.workers, device)

    def validation_batches(self, *, size: int | None = None, seed: int | None = None) -> Iterator[Batch]:
        images, labels = validation_digits(self.generator, size or self.config.val_size, seed=self.config.seed if seed is None else seed)
        for start in range(0, len(images), EVAL_BATCH):
            yield {"images": torch.from_numpy(images[start:start + EVAL_BATCH]), "labels": torch.from_numpy(labels[start:start + EVAL_BATCH])}

    def loss(self, output: torch.Tensor, batch: Batch) -> torch.Tensor:
        return F.cross_entropy(output.float(), batch["labels"])

    def new_metrics(self) -> MetricAccumulator:
        return DigitAccuracy()
