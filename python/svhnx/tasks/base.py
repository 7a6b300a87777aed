"""The :class:`Task` interface and the task registry (see :mod:`svhnx.train` for how to add one)."""

from __future__ import annotations

import argparse
import importlib
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any, ClassVar, Generic, TypeVar

import torch
from torch import nn

from svhnx.data.streams import Batch
from svhnx.metrics.base import MetricAccumulator
from svhnx.models import list_models
from svhnx.tasks.config import TrainConfig

#: Task name -> module that defines it (imported on demand). Add a line for a new task.
TASK_MODULES: dict[str, str] = {
    "mnist-seq": "svhnx.tasks.mnist_seq",
    "svhn": "svhnx.tasks.svhn",
    "unet": "svhnx.tasks.localizer",
    "boxreg": "svhnx.tasks.localizer",
    "synth": "svhnx.tasks.synth",
    "synth-digits": "svhnx.tasks.synth_digits",
}

_TASKS: dict[str, type[Task[Any]]] = {}
T = TypeVar("T", bound="type[Task[Any]]")
ConfigT = TypeVar("ConfigT", bound=TrainConfig)


class Task(ABC, Generic[ConfigT]):
    """What the generic training loop needs to know about one learning problem.

    Class attributes:
        name: the CLI name (``python -m svhnx.train NAME``).
        description: one line for ``--help``.
        Config: the task's settings, a :class:`~svhnx.tasks.config.TrainConfig` subclass whose
            fields are the task's flags and whose defaults are theirs (``model``, ``steps``,
            ``lr``... redeclared with the task's values, and the task's own fields).
        models: the model names that fit this task (its inputs and outputs), offered by
            ``--model``; empty means only ``Config.model``.
        metric: the validation metric that selects ``best.pt``; ``higher_is_better`` says which way.
        images_per_epoch: how many training samples ``--epochs 1`` means.
        classifies: whether every model output is class logits (classes on the last dimension),
            so that several trained models can be read as one :class:`~svhnx.evaluate.views.Ensemble`.

    A task is generic in its ``Config`` (``class MyTask(Task[MyConfig])``), so ``self.config`` has
    the task's own fields. An instance is built from a ``Config`` (``self.config``); it should load data lazily, in :meth:`train_batches` /
    :meth:`validation_batches`, so that evaluating a checkpoint does not read the training set.
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""
    Config: ClassVar[type[TrainConfig]] = TrainConfig
    models: ClassVar[tuple[str, ...]] = ()
    metric: ClassVar[str]
    higher_is_better: ClassVar[bool] = True
    images_per_epoch: ClassVar[int]
    classifies: ClassVar[bool] = False

    def __init__(self, config: ConfigT) -> None:
        if not isinstance(config, self.Config):
            raise TypeError(f"task {self.name!r}: expected a {self.Config.__name__}, got {type(config).__name__}")
        self.config: ConfigT = config

    @property
    def args(self) -> ConfigT:
        """Alias of :attr:`config` for one release (tasks read ``self.config`` now)."""
        return self.config

    @classmethod
    def compatible_models(cls) -> list[str]:
        """The registered models of :attr:`models` (or the default model), for ``--model``."""
        registered = set(list_models())
        return [m for m in cls.models or (cls.Config.model,) if m in registered]

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """Add this task's own flags (the shared ones are already there), one per field of
        :attr:`Config` and without defaults: the parser takes those from :attr:`Config`."""

    @classmethod
    def check_config(cls, config: ConfigT, parser: argparse.ArgumentParser) -> None:
        """Reject bad combinations of flags with ``parser.error(...)``."""

    def model_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``create_model(config.model, ...)``; stored in the checkpoint."""
        return {}

    @abstractmethod
    def train_batches(self, start_step: int, *, rank: int = 0, device: torch.device | None = None) -> Iterable[Batch]:
        """Training batches on the CPU, starting with the batch of step ``start_step``.

        The batches must be a deterministic function of the seed, ``rank`` and the step, so that
        a resumed run sees exactly the data it would have seen (an endless stream indexed by
        step, or seeded per-epoch shuffles that skip to the right place). ``device`` is where the
        batches will go (to pin memory for CUDA).
        """

    @abstractmethod
    def validation_batches(self, *, size: int | None = None, seed: int | None = None) -> Iterable[Batch]:
        """Validation batches (the same every call for the same ``size`` and ``seed``; ``None``
        means the task's flags). ``python -m svhnx.evaluate`` asks for a fresh seed."""

    def describe_evaluation_data(self, seed: int) -> str:
        """What ``validation_batches(seed=seed)`` reads, in words, for ``python -m svhnx.evaluate``."""
        return f"validation seed {seed}"

    def forward(self, model: nn.Module, batch: Batch) -> Any:
        """Run the model on a batch that is already on the model's device."""
        return model(batch["images"])

    @abstractmethod
    def loss(self, output: Any, batch: Batch) -> torch.Tensor:
        """The scalar training loss of a batch."""

    @abstractmethod
    def new_metrics(self) -> MetricAccumulator:
        """An empty accumulator of this task's validation metrics (must include :attr:`metric`)."""

    def plot_predictions(self, model: nn.Module, batches: Iterable[Batch], device: torch.device, path: Any) -> None:
        """Write a PNG of sample predictions (optional; used by the evaluator)."""
        raise NotImplementedError(f"task {self.name!r} has no prediction figure")

    @property
    def has_prediction_figure(self) -> bool:
        """Whether this task draws :meth:`plot_predictions` (the evaluator skips the figure if not)."""
        return type(self).plot_predictions is not Task.plot_predictions


def register_task(cls: T) -> T:
    """Class decorator: make a :class:`Task` subclass available under its ``name``."""
    if not getattr(cls, "name", None):
        raise ValueError(f"{cls.__name__} needs a name")
    existing = _TASKS.get(cls.name)
    if existing is not None and existing is not cls:
        raise ValueError(f"task {cls.name!r} is already registered by {existing.__name__}")
    _TASKS[cls.name] = cls
    return cls


def list_tasks() -> list[str]:
    """Names of the known tasks."""
    return sorted(set(TASK_MODULES) | set(_TASKS))


def get_task(name: str) -> type[Task[Any]]:
    """The task class called ``name``, importing its module if needed."""
    if name not in _TASKS and name in TASK_MODULES:
        importlib.import_module(TASK_MODULES[name])
    if name not in _TASKS:
        raise ValueError(f"unknown task {name!r}; choose from {', '.join(list_tasks())}")
    return _TASKS[name]
