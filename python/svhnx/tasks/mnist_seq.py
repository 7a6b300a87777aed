"""``mnist-seq``: read 1-5 digit synthetic MNIST sequences (28 x 140 grey, the study's first problem).

Training sequences are composited from MNIST's training split (an endless stream; by default every
digit slot gets a random affine and elastic warp); validation sequences from the test split only.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Iterator
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


@register_task
class MnistSequenceTask(Task):
    name = "mnist-seq"
    classifies = True
    description = "multi-digit recognizer on synthetic MNIST sequences (28 x 140)"
    defaults = {
        "model": "mnist-lean",
        "batch_size": 128,
        "steps": 1600,
        "lr": 3e-3,
        "warmup": 0.1,
        "ema": 0.995,
        "eval_every": 200,
        "weight_decay": 5e-4,
    }
    models = ("mnist-lean", "mnist-study")
    metric = "sequence_accuracy"
    images_per_epoch = SEQUENCES_PER_EPOCH

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        group = parser.add_argument_group("mnist-seq")
        group.add_argument("--val-size", type=positive_int, default=10_000, help="validation sequences (default: %(default)s)")
        group.add_argument("--val-seed", type=non_negative_int, default=1234,
                           help="seed of the validation sequences, independent of --seed (default: %(default)s)")
        group.add_argument("--warp", action=argparse.BooleanOptionalAction, default=True,
                           help="random affine warp of every digit slot of the training sequences (default: on)")
        group.add_argument("--elastic", type=non_negative_float, default=2.0,
                           help="with --warp, largest elastic displacement in pixels, 0 for none (default: %(default)s)")
        group.add_argument("--length-head", action=argparse.BooleanOptionalAction, default=False,
                           help="add the 7-way length classifier and its loss (default: off)")
        group.add_argument("--label-smoothing", type=fraction, default=0.0, help="of the digit losses (default: %(default)s)")
        group.add_argument("--width", type=positive_float, default=1.0,
                           help="channel multiplier of mnist-lean (default: %(default)s)")

    @classmethod
    def check_arguments(cls, args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
        if args.width != 1.0 and args.model != "mnist-lean":
            parser.error(f"--width: only mnist-lean has a channel multiplier, not {args.model}")

    def model_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"length_head": self.args.length_head}
        if self.args.width != 1.0:
            kwargs["width"] = self.args.width
        return kwargs

    def train_batches(self, start_step: int, *, rank: int = 0, device: torch.device | None = None) -> Iterable[Batch]:
        digits, labels = load_mnist("train", self.args.data_root, download=self.args.download)
        stream = SequenceStream(
            digits, labels, self.args.batch_size, seed=self.args.seed, start=start_step, rank=rank,
            warp=SlotWarp(elastic_px=self.args.elastic) if self.args.warp else None,
        )
        return stream_loader(stream, self.args.workers, device)

    def validation_batches(self, *, size: int | None = None, seed: int | None = None) -> Iterator[Batch]:
        key = (size or self.args.val_size, self.args.val_seed if seed is None else seed)
        cache = self.__dict__.setdefault("_validation", {})
        if key not in cache:
            if self.args.download:
                load_mnist("test", self.args.data_root, download=True)
            cache[key] = mnist_validation_set(key[0], seed=key[1], root=self.args.data_root)
        return iterate_batches(cache[key], EVAL_BATCH)

    def loss(self, output: Any, batch: Batch) -> torch.Tensor:
        """Sum over the five slots (and the length head) of the mean cross-entropy."""
        logits = output["digits"].float()
        loss = F.cross_entropy(
            logits.reshape(-1, NUM_DIGIT_CLASSES), batch["digits"].reshape(-1), label_smoothing=self.args.label_smoothing
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

