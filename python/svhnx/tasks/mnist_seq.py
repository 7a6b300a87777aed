"""``mnist-seq``: read 1-5 digit synthetic MNIST sequences (28 x 140 grey, the study's first problem).

Training sequences are composited from MNIST's training split (an endless stream; by default every
digit slot gets a random affine and elastic warp); validation sequences from the test split only.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from svhnx.argtypes import fraction, non_negative_float, non_negative_int, positive_float, positive_int
from svhnx.data.augment import SlotWarp
from svhnx.data.mnist import load_mnist
from svhnx.data.sequences import SequenceStream, mnist_validation_set
from svhnx.data.streams import Batch, iterate_batches, stream_loader
from svhnx.labels import NUM_DIGIT_CLASSES
from svhnx.metrics.base import MetricAccumulator
from svhnx.metrics.sequence import SequenceAccuracy
from svhnx.tasks.base import Task, register_task
from svhnx.tasks.config import TrainConfig

SEQUENCES_PER_EPOCH = 100_000  # the study's epoch
EVAL_BATCH = 500


class SequenceMetrics(MetricAccumulator):
    """:class:`svhnx.metrics.SequenceAccuracy` fed from model outputs and batches."""

    def __init__(self) -> None:
        self.accuracy = SequenceAccuracy()

    def update(self, output: Any, batch: Batch) -> None:
        self.accuracy.update(output["digits"], batch["digits"], batch["lengths"], output.get("length"))

    def compute(self) -> dict[str, float]:
        return self.accuracy.compute()


@dataclass
class MnistSequenceConfig(TrainConfig):
    """The ``mnist-seq`` task's settings."""

    model: str = "mnist-lean"
    steps: int = 1600
    lr: float = 3e-3
    warmup: float = 0.1
    ema: float = 0.995
    eval_every: int = 200
    weight_decay: float = 5e-4
    val_size: int = 10_000
    val_seed: int = 1234
    warp: bool = True
    elastic: float = 2.0
    length_head: bool = False
    label_smoothing: float = 0.0
    width: float = 1.0


@register_task
class MnistSequenceTask(Task[MnistSequenceConfig]):
    name = "mnist-seq"
    classifies = True
    description = "multi-digit recognizer on synthetic MNIST sequences (28 x 140)"
    Config = MnistSequenceConfig
    models = ("mnist-lean", "mnist-study")
    metric = "sequence_accuracy"
    images_per_epoch = SEQUENCES_PER_EPOCH

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        group = parser.add_argument_group("mnist-seq")
        group.add_argument("--val-size", type=positive_int, help="validation sequences (default: %(default)s)")
        group.add_argument("--val-seed", type=non_negative_int,
                           help="seed of the validation sequences, independent of --seed (default: %(default)s)")
        group.add_argument("--warp", action=argparse.BooleanOptionalAction,
                           help="random affine warp of every digit slot of the training sequences (default: on)")
        group.add_argument("--elastic", type=non_negative_float,
                           help="with --warp, largest elastic displacement in pixels, 0 for none (default: %(default)s)")
        group.add_argument("--length-head", action=argparse.BooleanOptionalAction,
                           help="add the 7-way length classifier and its loss (default: off)")
        group.add_argument("--label-smoothing", type=fraction, help="of the digit losses (default: %(default)s)")
        group.add_argument("--width", type=positive_float,
                           help="channel multiplier of mnist-lean (default: %(default)s)")

    @classmethod
    def check_config(cls, config: MnistSequenceConfig, parser: argparse.ArgumentParser) -> None:
        if config.width != 1.0 and config.model != "mnist-lean":
            parser.error(f"--width: only mnist-lean has a channel multiplier, not {config.model}")

    def model_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"length_head": self.config.length_head}
        if self.config.width != 1.0:
            kwargs["width"] = self.config.width
        return kwargs

    def train_batches(self, start_step: int, *, rank: int = 0, device: torch.device | None = None) -> Iterable[Batch]:
        digits, labels = load_mnist("train", self.config.data_root, download=self.config.download)
        stream = SequenceStream(
            digits, labels, self.config.batch_size, seed=self.config.seed, start=start_step, rank=rank,
            warp=SlotWarp(elastic_px=self.config.elastic) if self.config.warp else None,
        )
        return stream_loader(stream, self.config.workers, device)

    def validation_batches(self, *, size: int | None = None, seed: int | None = None) -> Iterator[Batch]:
        key = (size or self.config.val_size, self.config.val_seed if seed is None else seed)
        cache = self.__dict__.setdefault("_validation", {})
        if key not in cache:
            if self.config.download:
                load_mnist("test", self.config.data_root, download=True)
            cache[key] = mnist_validation_set(key[0], seed=key[1], root=self.config.data_root)
        return iterate_batches(cache[key], EVAL_BATCH)

    def loss(self, output: Any, batch: Batch) -> torch.Tensor:
        """Sum over the five slots (and the length head) of the mean cross-entropy."""
        logits = output["digits"].float()
        loss = F.cross_entropy(
            logits.reshape(-1, NUM_DIGIT_CLASSES), batch["digits"].reshape(-1), label_smoothing=self.config.label_smoothing
        ) * logits.shape[1]
        if "length" in output:
            loss = loss + F.cross_entropy(output["length"].float(), batch["lengths"])
        return loss

    def new_metrics(self) -> MetricAccumulator:
        return SequenceMetrics()

    @torch.no_grad()
    def plot_predictions(self, model: nn.Module, batches: Iterable[Batch], device: torch.device, path: Any) -> None:
        from svhnx.viz.sequences import plot_sequence_predictions

        model.eval()
        images, truths, preds = [], [], []
        for batch in batches:
            output = model(batch["images"].to(device))
            images.append(batch["images"].numpy())
            truths.append(batch["digits"].numpy())
            preds.append(output["digits"].argmax(-1).cpu().numpy())
        plot_sequence_predictions(np.concatenate(images), np.concatenate(truths), np.concatenate(preds), path)

