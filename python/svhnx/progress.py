"""Progress bars (tqdm, on stderr) for the steps of a command that take more than a few seconds."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")


def with_progress(items: Iterable[T], description: str, *, enabled: bool = True, unit: str = "batch") -> Iterable[T]:
    """``items`` with a progress bar when ``enabled`` and stderr is a terminal; the items are listed
    first (batches of an in-memory validation set: cheap) so that the bar shows a total and an ETA."""
    if not enabled:
        return items
    items = list(items)
    return tqdm(items, desc=description, unit=unit, leave=False, disable=None, dynamic_ncols=True)
