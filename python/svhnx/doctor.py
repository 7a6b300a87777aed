"""``python -m svhnx.doctor`` (or ``svhnx doctor``): what this installation runs with.

Prints the versions of svhnx and the libraries it uses, the native kernels the data path runs
(AVX2, SSE2 or plain C++), the device and threads torch uses, the precision the reader's models
compute in by default (bfloat16 where the CPU has AMX tiles or AVX-512 BF16), where the data and cache folders are,
and which shipped weights are present; ``--json`` prints the same as one JSON object.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

import svhnx
from svhnx.data.download import default_root
from svhnx.hardware import bfloat16_units
from svhnx.helptext import plain
from svhnx.ops import simd_kernels
from svhnx.synth.atlas import default_cache_dir
from svhnx.tasks.svhn import default_crops_dir

LIBRARIES = ("torch", "numpy", "opencv-python-headless", "h5py", "matplotlib", "tqdm", "onnx", "onnxruntime", "tensorboard")
WEIGHTS_DIR = Path(svhnx.__file__).parent / "weights"


def versions() -> dict[str, str]:
    """svhnx, Python and each library's installed version (``not installed`` for the optional ones)."""
    out = {"svhnx": svhnx.__version__, "python": platform.python_version()}
    for name in LIBRARIES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def native_kernels() -> str:
    """``avx2``, ``sse2`` or ``plain``, or why ``$SVHNX_SIMD`` was refused."""
    try:
        return simd_kernels()
    except ValueError as error:
        return f"error: {error}"


def device() -> str:
    """What ``--device auto`` picks, in words."""
    if torch.cuda.is_available():
        return f"cuda ({torch.cuda.get_device_name(0)}, {torch.cuda.device_count()} device(s))"
    return "cpu (no CUDA device)" if torch.version.cuda else "cpu (this torch build has no CUDA)"


def reader_precision() -> str:
    """The precision ``auto`` picks for the reader's models on this CPU, and why."""
    units = bfloat16_units()
    return f"bfloat16 (this CPU has {units})" if units else "float32 (neither AMX tiles nor AVX-512 BF16: bfloat16 would be emulated)"


def folder(path: Path) -> str:
    """``path`` and whether it exists."""
    return f"{path} ({'exists' if path.is_dir() else 'not created yet'})"


def shipped_weights() -> list[str]:
    """The files in ``svhnx/weights/`` with their sizes; empty when the folder is absent."""
    if not WEIGHTS_DIR.is_dir():
        return []
    return [f"{p.name} ({p.stat().st_size / 2**20:.1f} MiB)" for p in sorted(WEIGHTS_DIR.iterdir()) if p.is_file()]


def report() -> dict[str, Any]:
    """Everything the doctor prints, by key."""
    return {
        "versions": versions(),
        "platform": platform.platform(),
        "native_kernels": native_kernels(),
        "device": device(),
        "torch_threads": torch.get_num_threads(),
        "cpu_cores": os.cpu_count(),
        "reader_precision": reader_precision(),
        "data_folder": folder(default_root()),
        "synth_cache": folder(default_cache_dir()),
        "svhn_crops_cache": folder(default_crops_dir()),
        "shipped_weights": shipped_weights() or [f"none (no files in {WEIGHTS_DIR})"],
    }


def format_report(info: dict[str, Any]) -> str:
    """The report as aligned ``key  value`` lines (nested and list values indented below their key)."""
    lines = []
    for key, value in info.items():
        if isinstance(value, dict):
            lines.append(f"{key}:")
            lines.extend(f"  {k:24s}{v}" for k, v in value.items())
        elif isinstance(value, list):
            lines.append(f"{key}:")
            lines.extend(f"  {v}" for v in value)
        else:
            lines.append(f"{key:26s}{value}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m svhnx.doctor", description=plain(__doc__))
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of lines")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    info = report()
    print(json.dumps(info, indent=2) if args.json else format_report(info))
    return 0


if __name__ == "__main__":
    sys.exit(main())
