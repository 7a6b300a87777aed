"""Recording measured results: JSON in ``benchmarks/results/`` with the command, the git commit,
the machine, the library versions and the date."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

from svhnx.hardware import bfloat16_units

RESULTS = Path(__file__).parent / "results"
LIBRARIES = ("svhnx", "numpy", "torch", "opencv-python-headless", "h5py", "onnxruntime", "onnx",
             "albumentations", "torchvision", "kornia")  # the last three: peers in the ops benchmark


def cpu_model() -> str:
    """The CPU's model name as the OS reports it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    info: dict[str, Any] = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "bfloat16_units": bfloat16_units(),  # what `auto` precision follows: AMX tiles, AVX-512 BF16 or none
        "gpu": None,
    }
    try:
        import torch

        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    return info


def versions() -> dict[str, str]:
    """Installed versions of the libraries that matter to the numbers."""
    out = {}
    for name in LIBRARIES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


def git_commit() -> str | None:
    """The commit of the checkout the benchmark ran from (``+dirty`` if it had local changes)."""
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit + ("+dirty" if dirty else "")


def provenance() -> dict[str, Any]:
    """Where and when a result or a weights file was made: ``commit``, ``machine`` and ``date`` (UTC)."""
    return {"commit": git_commit(), "machine": machine(), "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}


def save_result(name: str, results: dict[str, Any], command: Sequence[str] | None = None) -> Path:
    """Write ``benchmarks/results/<name>.json`` with ``results`` and where they come from."""
    made = provenance()
    record = {
        "name": name,
        "command": " ".join(command if command is not None else [Path(sys.executable).name, *sys.argv]),
        "commit": made["commit"],
        "machine": made["machine"],
        "versions": versions(),
        "date": made["date"],
        "results": results,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path


def forward_flops(model: torch.nn.Module, images: torch.Tensor) -> float:
    """Forward FLOPs per image of ``model`` on ``images`` (multiply-adds count two)."""
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(images)
    return counter.get_total_flops() / len(images)


def best_seconds(step: Callable[[], object], steps: int, repeats: int) -> float:
    """The fastest of ``repeats`` timings of ``steps`` calls of ``step``, after one untimed warm-up call."""
    step()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        best = min(best, time.perf_counter() - start)
    return best


def print_table(title: str, rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    """Print ``rows`` as a plain text table under ``title``."""
    cells = [[_fmt(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) if cells else len(c) for i, c in enumerate(columns)]
    print(f"\n{title}")
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    print("  ".join("-" * w for w in widths))
    for r in cells:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths)))


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 100 else f"{value:,.0f}"
    return "" if value is None else str(value)


