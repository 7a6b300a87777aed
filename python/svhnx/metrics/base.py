"""The interface every task's validation metrics share."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from svhnx.data.streams import Batch


class MetricAccumulator(ABC):
    """Collects a task's metrics over the validation batches, then reports them."""

    @abstractmethod
    def update(self, output: Any, batch: Batch) -> None:
        """Add one batch (model output and the batch on the model's device)."""

    @abstractmethod
    def compute(self) -> dict[str, float]:
        """The metrics over every batch added so far."""
