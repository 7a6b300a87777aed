"""A training run's directory: ``config.json``, ``metrics.csv`` (one row per evaluation),
``last.pt`` and ``best.pt`` (atomic), and PNG figures."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

from svhnx.atomic import atomic_path
from svhnx.checkpoint import BEST, LAST, load_checkpoint, save_checkpoint

__all__ = ["RunDirectory", "RunDirectoryError", "load_checkpoint", "read_metrics", "save_checkpoint", "write_json"]

CONFIG = "config.json"
METRICS = "metrics.csv"
CURVES = "curves.png"


class RunDirectoryError(RuntimeError):
    """A run directory cannot be used as asked (not writable, in use, or holding a model to keep)."""


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")


def read_metrics(path: Path) -> list[dict[str, float]]:
    """The rows of a ``metrics.csv``, numbers as floats (empty cells as NaN)."""
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return [{k: float(v) if v != "" else math.nan for k, v in row.items()} for row in csv.DictReader(f)]


class RunDirectory:
    """One training run's folder."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    @property
    def has_checkpoint(self) -> bool:
        return (self.path / LAST).is_file()

    def write_config(self, config: dict[str, Any]) -> None:
        write_json(self.path / CONFIG, config)

    def read_config(self) -> dict[str, Any]:
        return json.loads((self.path / CONFIG).read_text())

    def append_metrics(self, row: dict[str, Any]) -> None:
        """Add one evaluation's row; the first row fixes the columns."""
        path = self.path / METRICS
        rows = read_metrics(path)
        columns = list(rows[0]) if rows else list(row)
        missing = set(row) - set(columns)
        if missing:
            raise ValueError(f"metrics row has columns {sorted(missing)} that {path} does not")
        self._write_metrics([*rows, row], columns)

    def truncate_metrics(self, step: int) -> None:
        """Drop rows after ``step`` (evaluations a resumed run will redo)."""
        path = self.path / METRICS
        rows = read_metrics(path)
        kept = [r for r in rows if r["step"] <= step]
        if rows and len(kept) != len(rows):
            self._write_metrics(kept, list(rows[0]))

    def remove_partial_files(self) -> list[Path]:
        """Delete the temporary files of atomic writes that a killed run left half-written
        (``.NAME.*.tmp``, see :func:`svhnx.atomic.atomic_path`); returns what was removed."""
        partial = sorted(self.path.glob(".*.tmp"))
        for path in partial:
            path.unlink(missing_ok=True)
        return partial

    def clear_unfinished(self) -> list[Path]:
        """Remove what a run that ended before its first ``last.pt`` left (``config.json``,
        ``metrics.csv``, ``curves.png``, half-written temporary files), so that a new run starts
        clean; returns what was removed. :class:`RunDirectoryError` if a ``best.pt`` is there
        without ``last.pt``: a model this does not delete."""
        if (self.path / BEST).exists() and not self.has_checkpoint:
            raise RunDirectoryError(f"{self.path} holds {BEST} but no {LAST} to resume from; move {BEST} away or choose another --out")
        leftovers = [self.path / name for name in (CONFIG, METRICS, CURVES) if (self.path / name).exists()]
        for path in leftovers:
            path.unlink()
        return leftovers + self.remove_partial_files()

    def _write_metrics(self, rows: list[dict[str, Any]], columns: list[str]) -> None:
        with atomic_path(self.path / METRICS) as tmp:
            with open(tmp, "w", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=columns)
                writer.writeheader()
                for row in rows:
                    writer.writerow({k: _cell(row.get(k)) for k in columns})

    def metrics(self) -> list[dict[str, float]]:
        return read_metrics(self.path / METRICS)


def _cell(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return value
