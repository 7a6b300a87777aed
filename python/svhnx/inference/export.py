"""Export a trained model for deployment: ``python -m svhnx.export RUN --format onnx [--out PATH]``.

``RUN`` is a run directory (its ``best.pt``, or ``last.pt`` with ``--checkpoint last``) or a
checkpoint file. The ONNX model takes the data path's ``uint8 N x H x W x C`` images (the
normalisation is inside the graph) and returns the model's outputs by name (``digits``/``length``
logits for a recognizer, ``mask``/``length`` logits for the localizer). The batch size is dynamic;
so are the height and width for a fully convolutional model (the U-Net localizer; they must stay
multiples of its ``multiple``, 16 by default).

The file is written to a temporary name, run by onnxruntime on random images and compared with
torch, and only then renamed into place (default: beside the checkpoint, ``best.onnx``); the
maximum absolute difference of every output is printed, and a difference above ``--tolerance``
(default 1e-4 on logits) fails the export.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

import svhnx
from svhnx.atomic import atomic_path
from svhnx.checkpoint import InputShape, checkpoint_path, load_checkpoint, model_from_checkpoint
from svhnx.inference.backends import INPUT_NAME, METADATA_KEY, OnnxBackend, TorchBackend, model_input_shape

FORMATS = ("onnx",)
DEFAULT_OPSET = 17
DEFAULT_TOLERANCE = 1e-4
#: Spatial size used to trace a fully convolutional model (rounded up to its ``multiple``).
TRACE_SIZE = 64
CHECK_BATCH = 3


class _NamedOutputs(nn.Module):
    """The model with its dict output as a tuple in a fixed order (ONNX outputs are positional)."""

    def __init__(self, model: nn.Module, names: Sequence[str]) -> None:
        super().__init__()
        self.model, self.names = model, tuple(names)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.model(images)
        return tuple(out[name] for name in self.names)


@dataclass
class ExportReport:
    """What :func:`export_onnx` wrote and how closely onnxruntime matches torch."""

    path: Path
    model: str
    input_shape: InputShape
    checked_shapes: list[tuple[int, ...]]
    max_abs_diff: dict[str, float] = field(default_factory=dict)
    tolerance: float = DEFAULT_TOLERANCE

    @property
    def ok(self) -> bool:
        return all(d <= self.tolerance for d in self.max_abs_diff.values())

    def summary(self) -> str:
        shapes = ", ".join(" x ".join(map(str, s)) for s in self.checked_shapes)
        diffs = ", ".join(f"{k} {v:.2g}" for k, v in self.max_abs_diff.items())
        verdict = "ok" if self.ok else "ABOVE TOLERANCE"
        return (f"{self.path}: {self.model}, input uint8 N x {' x '.join('?' if d is None else str(d) for d in self.input_shape)}; "
                f"onnxruntime vs torch on random uint8 {shapes}: max abs difference {diffs} "
                f"(tolerance {self.tolerance:g}, {verdict})")


@contextmanager
def silenced_stdout() -> Iterator[None]:
    """Discard what is written to standard output, by Python and by native code (the TorchScript
    exporter prints its whole graph there when it fails)."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null, redirect_stdout(null):
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def trace_shape(model: nn.Module, input_shape: InputShape) -> tuple[int, int, int]:
    """A concrete ``(H, W, C)`` to trace with: the declared size, or :data:`TRACE_SIZE` rounded
    up to the model's ``multiple`` where any size works."""
    multiple = int(getattr(model, "multiple", 1))
    size = -(-TRACE_SIZE // multiple) * multiple
    h, w, c = input_shape
    return (size if h is None else h, size if w is None else w, c)


def check_shapes(model: nn.Module, input_shape: InputShape, batch: int = CHECK_BATCH) -> list[tuple[int, ...]]:
    """Input shapes to compare the engines on: the traced one, and for a dynamic size a second,
    non-square one (so a graph that froze the traced size fails)."""
    h, w, c = trace_shape(model, input_shape)
    shapes: list[tuple[int, ...]] = [(batch, h, w, c)]
    multiple = int(getattr(model, "multiple", 1))
    if input_shape[0] is None or input_shape[1] is None:
        shapes.append((batch + 2, h + (2 * multiple if input_shape[0] is None else 0), w + (4 * multiple if input_shape[1] is None else 0), c))
    return shapes


def max_abs_differences(model: nn.Module, path: Path, shapes: Sequence[tuple[int, ...]], *, seed: int = 0) -> dict[str, float]:
    """The largest ``|onnxruntime - torch|`` of every output over random ``uint8`` batches of ``shapes``."""
    rng = np.random.default_rng(seed)
    reference, exported = TorchBackend(model), OnnxBackend(path)
    worst: dict[str, float] = {}
    for shape in shapes:
        images = rng.integers(0, 256, size=shape, dtype=np.uint8)
        expected, got = reference(images), exported(images)
        if set(expected) != set(got):
            raise ValueError(f"{path}: outputs {sorted(got)} differ from the torch model's {sorted(expected)}")
        for name in expected:
            if got[name].shape != expected[name].shape:
                raise ValueError(f"{path}: output {name!r} has shape {got[name].shape}, torch gives {expected[name].shape}")
            worst[name] = max(worst.get(name, 0.0), float(np.abs(got[name] - expected[name]).max()))
    return worst


def export_onnx(
    model: nn.Module,
    out: str | Path,
    *,
    opset: int = DEFAULT_OPSET,
    input_shape: InputShape | None = None,
    metadata: dict | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
) -> ExportReport:
    """Write ``model`` (taking ``uint8 N x H x W x C``, returning a dict of tensors) as ONNX at
    ``out`` and compare onnxruntime with torch on random input.

    ``input_shape`` defaults to the model's declared ``input_shape``; ``None`` dimensions become
    dynamic axes. ``out`` is only replaced when the comparison is within ``tolerance``;
    otherwise ``ValueError`` says by how much it is not.
    """
    model = model.eval()
    input_shape = model_input_shape(model) if input_shape is None else input_shape
    h, w, c = trace_shape(model, input_shape)
    example = torch.zeros((2, h, w, c), dtype=torch.uint8)
    with torch.inference_mode():
        names = list(model(example).keys())
    image_axes = {0: "batch"}
    if input_shape[0] is None:
        image_axes[1] = "height"
    if input_shape[1] is None:
        image_axes[2] = "width"
    dynamic_axes = {INPUT_NAME: image_axes, **{name: {0: "batch"} for name in names}}
    if "mask" in names:  # the localizer's mask has the input's size: N x 1 x H x W
        dynamic_axes["mask"].update({axis + 1: name for axis, name in image_axes.items() if axis})
    out = Path(out)
    report = ExportReport(out, (metadata or {}).get("model", type(model).__name__), input_shape, [], tolerance=tolerance)
    with atomic_path(out) as tmp:
        wrapper = _NamedOutputs(model, names).eval()
        try:
            with warnings.catch_warnings(), silenced_stdout():
                warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes
                torch.onnx.export(
                    wrapper, (example,), str(tmp), input_names=[INPUT_NAME], output_names=names,
                    dynamic_axes=dynamic_axes, opset_version=opset, dynamo=False,
                )
        except Exception as error:  # the exporter raises many types; say what failed and what helps
            hint = " (a model that is not fully convolutional needs a fixed size: --input-size H W)" if len(image_axes) > 1 else ""
            reason = str(error).splitlines()[0].split(" [Caused by")[0]
            raise ValueError(f"torch.onnx.export failed for {report.model}: {reason}{hint}") from error
        finally:
            model.eval()  # export restores the wrapper's (train) mode on the way out
        _add_metadata(tmp, {"svhnx": svhnx.__version__, "input": "uint8 N x H x W x C", **(metadata or {})})
        report.checked_shapes = check_shapes(model, input_shape)
        report.max_abs_diff = max_abs_differences(model, tmp, report.checked_shapes)
        if not report.ok:
            raise ValueError(report.summary())
    return report


def _add_metadata(path: Path, values: dict) -> None:
    import onnx

    proto = onnx.load(str(path))
    entry = proto.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, json.dumps(values, default=str)
    onnx.save(proto, str(path))


def export_checkpoint(
    run: str | Path,
    out: str | Path | None = None,
    *,
    which: str = "best",
    opset: int = DEFAULT_OPSET,
    input_size: tuple[int, int] | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
) -> ExportReport:
    """Export the model of a run's checkpoint to ONNX (default: beside it, ``.onnx`` suffix)."""
    file = checkpoint_path(run, which)
    checkpoint = load_checkpoint(file)
    model = model_from_checkpoint(checkpoint, file)
    shape = model_input_shape(model) if input_size is None else (*input_size, model_input_shape(model)[2])
    metadata = {
        "model": checkpoint["model"]["name"],
        "kwargs": checkpoint["model"]["kwargs"],
        "task": checkpoint.get("task"),
        "step": checkpoint.get("progress", {}).get("step"),
        "checkpoint": str(file),
    }
    return export_onnx(model, file.with_suffix(".onnx") if out is None else out, opset=opset,
                       input_shape=shape, metadata=metadata, tolerance=tolerance)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m svhnx.export", description=__doc__.split("\n\n")[0].split(": ", 1)[0])
    parser.add_argument("run", metavar="RUN", type=Path, help="run directory or checkpoint (.pt)")
    parser.add_argument("--format", choices=FORMATS, default="onnx", help="file format to write (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=None, help="output file (default: beside the checkpoint, .onnx)")
    parser.add_argument("--checkpoint", choices=("best", "last"), default="best", help="which checkpoint of a run directory (default: best)")
    parser.add_argument("--opset", type=int, default=DEFAULT_OPSET, help="ONNX opset (default: %(default)s)")
    parser.add_argument("--input-size", type=int, nargs=2, metavar=("H", "W"), default=None,
                        help="fix the height and width (default: the model's own; dynamic for a fully convolutional model)")
    parser.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE,
                        help="largest accepted |onnxruntime - torch| on the outputs (default: %(default)g)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.input_size is not None and min(args.input_size) <= 0:
        parser.error(f"--input-size: expected two positive sizes, got {args.input_size}")
    try:
        report = export_checkpoint(args.run, args.out, which=args.checkpoint, opset=args.opset,
                                   input_size=args.input_size, tolerance=args.tolerance)
    except (OSError, ValueError, ModuleNotFoundError) as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2
    print(report.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
