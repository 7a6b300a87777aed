"""``svhn``: read house numbers in SVHN format-1 crops with Goodfellow et al.'s recognizer.

Data: the split folders (``train/``, ``test/``, optionally ``extra/``) of ``--svhn-dir``, or by
default of ``<data root>/svhn``, extracted there from the official archives on first use
(``--download`` fetches them). Each split is preprocessed once into 64 x 64 crops
(:mod:`svhnx.data.svhn_preprocess`, cached in ``--crops-dir``).

Training uses a seeded 80% of ``train`` (plus all of ``extra`` with ``--extra``), random 54 x 54
crops; validation during training is the other 20% of ``train``, centre crops. ``python -m
svhnx.evaluate`` asks for data the run never validated on: for this task, the official ``test``
split (``--val-size`` takes its first images). Metrics: :class:`svhnx.metrics.coverage.SvhnMetrics`.
"""

from __future__ import annotations

import argparse
import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from svhnx.argtypes import fraction, non_negative_int
from svhnx.data.download import DatasetNotFoundError
from svhnx.data.streams import Batch, batch_to, stream_loader
from svhnx.data.svhn import ANNOTATIONS
from svhnx.data.svhn_archives import split_folder
from svhnx.data.svhn_dataset import LightAugment, SvhnTrainStream, evaluation_batches
from svhnx.data.svhn_preprocess import SvhnCrops, count_crops, load_crops, preprocess_split, train_validation_split
from svhnx.labels import NUM_DIGIT_CLASSES
from svhnx.metrics.base import MetricAccumulator
from svhnx.metrics.coverage import SvhnMetrics
from svhnx.models.svhn import most_probable_numbers
from svhnx.tasks.arguments import add_recognizer_arguments, add_svhn_source_arguments, check_svhn_source
from svhnx.tasks.base import Task, register_task
from svhnx.tasks.config import RecognizerSizes, SvhnSource, TrainConfig
from svhnx.viz.readings import plot_evaluation

TRAIN_IMAGES = 26_722  # 80% of the 33,402 train images: what --epochs 1 means
EVAL_BATCH = 256


@torch.no_grad()
def collect_readings(
    model: nn.Module, batches: Iterable[Batch], device: torch.device,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Run a recognizer over ``batches``: ``(images, true digits, digits read, confidence, correct)``
    of every image, the arrays :func:`svhnx.viz.readings.plot_evaluation` draws."""
    model.eval()
    metrics = SvhnMetrics()
    images, truths, readings = [], [], []
    for batch in batches:
        on_device = batch_to(batch, device)
        output = model(on_device["images"])
        metrics.update(output, on_device)
        images.append(batch["images"].numpy())
        truths.append(batch["digits"].numpy())
        readings.append(most_probable_numbers(output)[0].cpu().numpy())
    return (np.concatenate(images), np.concatenate(truths), np.concatenate(readings), *metrics.arrays())


def default_crops_dir() -> Path:
    """Where preprocessed crops go: ``$SVHNX_CACHE/svhn``, else ``~/.cache/svhnx/svhn``."""
    env = os.environ.get("SVHNX_CACHE")
    return (Path(env).expanduser() if env else Path.home() / ".cache" / "svhnx") / "svhn"


@dataclass
class SvhnRecognizerConfig(RecognizerSizes, SvhnSource, TrainConfig):
    """What the tasks that train an SVHN recognizer share (``svhn`` and ``synth``)."""

    model: str = "svhn-goodfellow"
    steps: int = 20_000
    eval_every: int = 1000
    weight_decay: float = 5e-4


@dataclass
class SvhnConfig(SvhnRecognizerConfig):
    """The ``svhn`` task's settings."""

    extra: bool = False
    val_fraction: float = 0.2
    split_seed: int = 0
    augment: bool = False


RecognizerConfigT = TypeVar("RecognizerConfigT", bound=SvhnRecognizerConfig)


class SvhnRecognizerTask(Task[RecognizerConfigT]):
    """What the tasks that train an SVHN recognizer share (``svhn`` and ``synth``): the model, its
    loss and metrics, and the real SVHN splits they are evaluated on."""

    classifies = True
    models = ("svhn-goodfellow", "svhn-resnet")
    metric = "sequence_accuracy"
    images_per_epoch = TRAIN_IMAGES

    def model_kwargs(self) -> dict[str, Any]:
        kwargs = {"width": self.config.width, "dense": self.config.dense, "dropout": self.config.dropout}
        return {k: v for k, v in kwargs.items() if v is not None}  # unset: the model's own default

    # -- real SVHN ---------------------------------------------------------------------------
    def split_dir(self, split: str) -> Path:
        """The folder of ``split`` (extracted from its archive first when needed)."""
        if self.config.svhn_dir is None:
            return split_folder(split, self.config.data_root, download=self.config.download)
        folder = Path(self.config.svhn_dir) / split
        if not (folder / ANNOTATIONS).is_file():
            raise DatasetNotFoundError(f"{folder / ANNOTATIONS} is missing (--svhn-dir must hold {split}/{ANNOTATIONS})")
        return folder

    def crops_file(self, split: str) -> Path:
        """The preprocessed crops of ``split``, built (or reused) in the crops folder."""
        folder = self.split_dir(split)
        tag = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:10]
        output = Path(self.config.crops_dir or default_crops_dir()) / f"{split}-{tag}.h5"
        return preprocess_split(folder, output, threads=self.config.threads, progress=self.config.progress)

    def evaluation_crops(self, *, test: bool, size: int | None) -> SvhnCrops:
        """The crops evaluation reads: the ``test`` split here (tasks with a validation part of
        their own extend this); the first ``size`` images, kept for the next call."""
        key = ("test" if test else "validation", size)
        cache = self.__dict__.setdefault("_evaluation", {})
        if key not in cache:
            crops = self._evaluation_source(test)
            if size is not None:
                crops = SvhnCrops(crops.images[:size], crops.digits[:size], crops.lengths[:size], crops.names[:size])
            cache[key] = crops
        return cache[key]

    def _evaluation_source(self, test: bool) -> SvhnCrops:
        if not test:
            raise ValueError(f"task {self.name!r} validates on data of its own, not on real SVHN")
        return load_crops(self.crops_file("test"))

    def validation_batches(self, *, size: int | None = None, seed: int | None = None) -> Iterator[Batch]:
        """During training (``seed`` is ``None``) the task's own validation crops, else the test split."""
        return evaluation_batches(self.evaluation_crops(test=seed is not None, size=size), EVAL_BATCH)

    def describe_evaluation_data(self, seed: int) -> str:
        return "the SVHN test split"

    # -- model -------------------------------------------------------------------------------
    def loss(self, output: Any, batch: Batch) -> torch.Tensor:
        """Cross-entropy of the length head plus, summed over the five slots, of the digit heads
        (slots past the number's end are trained to read blank)."""
        logits = output["digits"].float()
        digits = F.cross_entropy(logits.reshape(-1, NUM_DIGIT_CLASSES), batch["digits"].reshape(-1)) * logits.shape[1]
        return digits + F.cross_entropy(output["length"].float(), batch["lengths"])

    def new_metrics(self) -> MetricAccumulator:
        return SvhnMetrics()

    @torch.no_grad()
    def plot_predictions(self, model: nn.Module, batches: Iterable[Batch], device: torch.device, path: Any) -> None:
        """Sample readings at ``path`` and the coverage-accuracy curve beside it (``<stem>-coverage.png``)."""
        plot_evaluation(*collect_readings(model, batches, device), Path(path))


@register_task
class SvhnTask(SvhnRecognizerTask[SvhnConfig]):
    name = "svhn"
    description = "Goodfellow et al.'s multi-digit recognizer on SVHN format-1 crops (54 x 54 x 3)"
    Config = SvhnConfig

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        group = parser.add_argument_group("svhn")
        add_svhn_source_arguments(group, "train/, test/ (extra/)")
        group.add_argument("--extra", action=argparse.BooleanOptionalAction,
                           help="add the 202k 'extra' images to training (default: off)")
        group.add_argument("--val-fraction", type=fraction, help="of train held out for validation (default: %(default)s)")
        group.add_argument("--split-seed", type=non_negative_int, help="seed of the train/validation split (default: %(default)s)")
        group.add_argument("--augment", action=argparse.BooleanOptionalAction,
                           help="brightness/contrast jitter of the training crops (default: off)")
        add_recognizer_arguments(group)

    @classmethod
    def check_config(cls, config: SvhnConfig, parser: argparse.ArgumentParser) -> None:
        if config.val_fraction <= 0:
            parser.error("--val-fraction: expected a fraction in (0, 1)")
        check_svhn_source(config, parser)

    # -- data --------------------------------------------------------------------------------
    def _train_validation(self) -> tuple[np.ndarray, np.ndarray, Path]:
        path = self.crops_file("train")
        train, validation = train_validation_split(count_crops(path), self.config.val_fraction, self.config.split_seed)
        return train, validation, path

    def training_crops(self) -> SvhnCrops:
        train, _, path = self._train_validation()
        parts = [load_crops(path, train)]
        if self.config.extra:
            parts.append(load_crops(self.crops_file("extra")))
        return SvhnCrops.join(parts) if len(parts) > 1 else parts[0]

    def _evaluation_source(self, test: bool) -> SvhnCrops:
        """The validation part of ``train``, or the ``test`` split."""
        if test:
            return super()._evaluation_source(test)
        _, rows, path = self._train_validation()
        return load_crops(path, rows)

    def train_batches(self, start_step: int, *, rank: int = 0, device: torch.device | None = None) -> Iterable[Batch]:
        stream = SvhnTrainStream(
            self.training_crops(), self.config.batch_size, seed=self.config.seed, start=start_step, rank=rank,
            augment=LightAugment() if self.config.augment else None,
        )
        return stream_loader(stream, self.config.workers, device)
