"""The checkpoint file: written atomically, read without running code, and checked before use.

A checkpoint is a ``dict`` of tensors and plain data (``dict``, ``list``, ``tuple``, ``str``,
``int``, ``float``, ``bool``, ``None``), saved with ``torch.save`` and loaded with
``torch.load(..., weights_only=True)``, so a crafted file cannot run code. A training checkpoint
(:data:`FORMAT` 2) holds::

    format, svhnx, task, config (the run's flags, JSON-able), config_paths (the flags that are paths),
    model {name, kwargs}, model_state, optimizer, scheduler, scaler, progress, rng, metrics
    (+ train_model_state, ema_updates with --ema)

The model a file asks for is checked before any memory is spent on it (:func:`check_model`): a
registered name, small keyword arguments, a bounded parameter count, the weights' shapes, and the
inputs and outputs its ``role`` needs. Format-1 files (pickled ``Path`` and NumPy objects) are
refused; ``python -m svhnx.checkpoint upgrade OLD NEW`` rewrites one you trust.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import pickle
import re
import sys
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from svhnx.atomic import atomic_path
from svhnx.models import create_model, list_models
from svhnx.ops.crop_rule import INPUT_SIZE

FORMAT = 2
#: The checkpoints of a run directory: the best validation score so far, and the latest step.
BEST = "best.pt"
LAST = "last.pt"
#: Most parameters (and buffer elements) a stored model may have: 4x the largest model svhnx trains.
MAX_PARAMETERS = 100_000_000
#: Most characters of a stored model's keyword arguments as JSON, and the largest integer among them.
MAX_KWARGS_CHARS = 2_000
MAX_KWARG_INT = 1 << 16
#: Zip flag bits ``torch.save`` sets: sizes in a data descriptor (bit 3) and UTF-8 names (bit 11).
TORCH_ZIP_FLAGS = 0x0808
UPGRADE_HINT = "if you trust the file, rewrite it in today's format with: python -m svhnx.checkpoint upgrade OLD.pt NEW.pt"

#: ``(H, W, C)`` a model takes; ``None`` for a size it accepts at any value.
InputShape = tuple[int | None, int | None, int]
_PLAIN = (str, int, float, bool, type(None), torch.Tensor, torch.Size)


class CheckpointError(ValueError):
    """A file is not a checkpoint svhnx can use safely (unreadable, foreign, old or of the wrong kind)."""


@dataclass(frozen=True)
class Role:
    """What a model loaded for one job must take and give."""

    description: str
    inputs: tuple[InputShape, ...]
    outputs: frozenset[str]


#: The side of the square digits a digit classifier takes (SVHN format 2: 32 x 32 x 3).
DIGIT_SIDE = 32
#: The name :data:`ROLES` give the output of a model that returns one tensor, not a dict.
TENSOR_OUTPUT = "logits"
ROLES = {
    "recognizer": Role("an SVHN recognizer (54 x 54 x 3 input; 'digits' and 'length' outputs)", ((*INPUT_SIZE, 3),),
                       frozenset({"digits", "length"})),
    "localizer": Role("a U-Net localizer (any H x W x 3 input; a 'mask' output)", ((None, None, 3),), frozenset({"mask"})),
    "digits": Role("a digit classifier (32 x 32 x 3 input; one tensor of logits out)", ((DIGIT_SIDE, DIGIT_SIDE, 3),),
                   frozenset({TENSOR_OUTPUT})),
}


def run_file(path: str | os.PathLike[str], which: str = "best") -> Path:
    """``path`` itself, or for a run directory its ``best.pt`` (``which="last"``: ``last.pt``);
    the one place that says what "a run directory or a checkpoint" means."""
    path = Path(path)
    return path / (BEST if which == "best" else LAST) if path.is_dir() else path


def checkpoint_path(path: str | os.PathLike[str], which: str = "best") -> Path:
    """:func:`run_file`, checked to exist (``FileNotFoundError`` otherwise)."""
    file = run_file(path, which)
    if not os.path.lexists(file):
        raise FileNotFoundError(f"no checkpoint at {file} (give a run directory or a .pt file)")
    return file  # anything else that is wrong with it (a symlink loop, no permission) is reported on reading


def save_checkpoint(path: str | os.PathLike[str], state: Mapping[str, Any]) -> None:
    """``torch.save`` to ``path`` atomically; ``TypeError`` if ``state`` holds anything but tensors and
    plain data (it could not be loaded back with ``weights_only=True``)."""
    _check_plain(state, "state")
    with atomic_path(path) as tmp:
        torch.save(dict(state), tmp)


def load_checkpoint(path: str | os.PathLike[str], map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """A checkpoint's contents, read with ``weights_only=True``; a training checkpoint's ``config``
    gets its paths back as :class:`~pathlib.Path`, and the model it names is checked against its
    weights (:func:`check_model`), so no caller builds an oversized or mismatched model.

    ``FileNotFoundError`` for a missing file, ``OSError`` for other file errors (a symlink loop, no
    permission), :class:`CheckpointError` for anything that is not a safe svhnx checkpoint.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"no checkpoint at {path}") from None
    except IsADirectoryError:
        raise CheckpointError(f"{path}: is a folder, not a checkpoint file") from None
    except OSError as exc:
        raise OSError(exc.errno, f"{path}: {exc.strerror}") from None
    _check_archive(data, path)
    try:
        checkpoint = torch.load(io.BytesIO(data), map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        found = re.search(r"unsupported (?:global: )?GLOBAL (\S+)", str(exc), re.IGNORECASE)
        if found:
            raise CheckpointError(
                f"{path}: holds Python objects besides tensors and plain data ({found.group(1)}), and loading those could "
                f"run code (an svhnx checkpoint from before format {FORMAT}, or a foreign file); refused. {UPGRADE_HINT}"
            ) from None
        raise CheckpointError(f"{path} is not a readable checkpoint ({_last_line(exc)})") from None
    except Exception as exc:  # torch.load raises many kinds of errors on damaged files
        raise CheckpointError(f"{path} is not a readable checkpoint ({type(exc).__name__}: {_last_line(exc)})") from None
    if not isinstance(checkpoint, dict):
        raise CheckpointError(f"{path} is not an svhnx checkpoint (holds a {type(checkpoint).__name__})")
    if isinstance(checkpoint.get("model"), dict) and "model_state" in checkpoint:  # whoever builds it next
        check_model(checkpoint["model"].get("name"), checkpoint["model"].get("kwargs"), checkpoint["model_state"], source=path)
    if isinstance(checkpoint.get("config"), dict):
        checkpoint["config"] = restore_config(checkpoint["config"], checkpoint.get("config_paths", ()))
    return checkpoint


def plain_config(config: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A run's flags as JSON-able values, and the names of those that were paths (stored as text)."""
    plain, paths = {}, []
    for key, value in config.items():
        if isinstance(value, os.PathLike):
            value = os.fspath(value)
            paths.append(key)
        plain[key] = value
    json.dumps(plain)  # TypeError for anything else that is not plain data
    return plain, paths


def restore_config(config: Mapping[str, Any], paths: Sequence[str]) -> dict[str, Any]:
    """The inverse of :func:`plain_config`."""
    return {key: Path(value) if key in paths and isinstance(value, str) else value for key, value in config.items()}


def plain_rng_state(state: dict[str, Any]) -> dict[str, Any]:
    """``state`` with NumPy's legacy state tuple ``(name, uint32 keys, pos, has_gauss, gauss)`` as a
    dict whose keys are an ``int64`` tensor (checkpoints hold no NumPy arrays)."""
    numpy_state = state["numpy"]
    if isinstance(numpy_state, tuple):
        name, keys, pos, has_gauss, gauss = numpy_state
        numpy_state = {"name": name, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                       "has_gauss": int(has_gauss), "gauss": float(gauss)}
    return {**state, "numpy": numpy_state}


def check_model(
    name: Any, kwargs: Any, state_dict: Any, *, role: str | None = None, source: str | os.PathLike[str] = "checkpoint"
) -> None:
    """Raise :class:`CheckpointError` unless ``create_model(name, **kwargs)`` is a registered model of
    bounded size whose parameters and buffers have exactly the shapes in ``state_dict``, and (with
    ``role``, a key of :data:`ROLES`) takes the input and gives the outputs of that role.

    Nothing is allocated: the model is built on PyTorch's ``meta`` device.
    """
    skeleton = _skeleton(name, kwargs, source)
    count = sum(t.numel() for t in skeleton.state_dict().values())
    if count > MAX_PARAMETERS:
        raise CheckpointError(f"{source}: its {name!r} model would have {count:,} parameters, more than the {MAX_PARAMETERS:,} allowed")
    if role is not None:
        shape = getattr(skeleton, "input_shape", None)
        outputs = _meta_outputs(skeleton, shape)
        check_role(role, shape, outputs, f"{source}: holds a {name!r} model")
    _check_weights(skeleton, state_dict, name, source)


def build_model(
    name: Any, kwargs: Any, state_dict: Any, *, role: str | None = None, source: str | os.PathLike[str] = "checkpoint"
) -> nn.Module:
    """The model ``name`` built with ``kwargs`` and loaded with ``state_dict``, on the CPU in eval mode,
    after :func:`check_model` (same arguments)."""
    check_model(name, kwargs, state_dict, role=role, source=source)
    model = create_model(name, **kwargs)
    model.load_state_dict(state_dict)
    return model.eval()


def model_from_checkpoint(checkpoint: Any, source: str | os.PathLike[str] = "checkpoint", *, role: str | None = None) -> nn.Module:
    """The model a loaded checkpoint describes (``model: {name, kwargs}`` and ``model_state``), in eval mode."""
    if not isinstance(checkpoint, dict) or not {"model", "model_state"} <= checkpoint.keys() or not isinstance(checkpoint["model"], dict):
        raise CheckpointError(f"{source}: not an svhnx training checkpoint (no 'model' and 'model_state')")
    spec = checkpoint["model"]
    return build_model(spec.get("name"), spec.get("kwargs"), checkpoint["model_state"], role=role, source=source)


def check_role(role: str, input_shape: Sequence[int | None] | None, outputs: Sequence[str], what: str) -> None:
    """:class:`CheckpointError` unless a model with ``input_shape`` (H, W, C) and ``outputs`` fits ``role``."""
    wanted = ROLES[role]
    shape = None if input_shape is None else tuple(input_shape)
    if shape not in wanted.inputs or not wanted.outputs <= set(outputs):
        got = "unknown" if shape is None else " x ".join("any" if d is None else str(d) for d in shape)
        raise CheckpointError(f"{what} ({got} input; outputs {', '.join(sorted(outputs)) or 'none'}), not {wanted.description}")


def upgrade_checkpoint(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> dict[str, Any]:
    """Rewrite a format-1 training checkpoint (pickled) in today's format; returns the new contents.

    This *unpickles* ``source``, which runs any code it holds: use it only on files you made.
    """
    old = torch.load(source, map_location="cpu", weights_only=False)
    if not isinstance(old, dict) or not {"model", "model_state"} <= old.keys():
        raise CheckpointError(f"{source}: not an svhnx checkpoint (no 'model' and 'model_state')")
    new = dict(old, format=FORMAT)
    if "config" in old:
        new["config"], new["config_paths"] = plain_config(old["config"])
    if "rng" in old:
        new["rng"] = plain_rng_state(old["rng"])
    save_checkpoint(target, new)
    return new


def _check_archive(data: bytes, path: Path) -> None:
    """:class:`CheckpointError` unless ``data`` is a zip archive laid out as ``torch.save`` writes it
    (uncompressed records with plain attributes, unique names) whose records all pass their CRC-32
    check: a damaged file is refused, not loaded with changed or uninitialised weights."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        records = archive.infolist()
        damaged = archive.testzip()
    except Exception as exc:  # zipfile raises many kinds of errors on damaged archives
        raise CheckpointError(f"{path} is not a readable checkpoint (not a zip archive as torch.save writes: {exc})") from None
    names = [r.filename for r in records]
    plain = all(r.compress_type == zipfile.ZIP_STORED and r.flag_bits & ~TORCH_ZIP_FLAGS == 0 and r.external_attr == 0
                and r.internal_attr == 0 and not r.comment and r.file_size == r.compress_size for r in records)
    if damaged is not None or not plain or len(set(names)) != len(names):
        raise CheckpointError(f"{path} is damaged: " + (f"its record {damaged!r} fails its checksum" if damaged else
                                                        "its zip records are not laid out as torch.save writes them"))


def _skeleton(name: Any, kwargs: Any, source: str | os.PathLike[str]) -> nn.Module:
    """The model on the ``meta`` device, after checks on the name and the size of the arguments."""
    if not isinstance(name, str) or name not in list_models():
        raise CheckpointError(f"{source}: unknown model {name!r} (svhnx has {', '.join(list_models())})")
    if not isinstance(kwargs, dict) or not all(isinstance(k, str) for k in kwargs):
        raise CheckpointError(f"{source}: the model's keyword arguments are not a dict of names")
    try:
        text = json.dumps(kwargs)
    except (TypeError, ValueError):
        raise CheckpointError(f"{source}: the model's keyword arguments are not plain data") from None
    if len(text) > MAX_KWARGS_CHARS or any(abs(v) > MAX_KWARG_INT for v in _integers(kwargs)):
        raise CheckpointError(f"{source}: the model's keyword arguments ask for sizes beyond svhnx's bounds ({text[:200]})")
    try:
        with torch.device("meta"):
            return create_model(name, **kwargs)
    except (TypeError, ValueError, RuntimeError, OverflowError) as exc:
        raise CheckpointError(f"{source}: its {name!r} model cannot be built from {text} ({exc})") from None


def _meta_outputs(skeleton: nn.Module, shape: Sequence[int | None] | None) -> list[str]:
    """The output names of a ``meta`` model on one image of its input shape (64 where any size works);
    :data:`TENSOR_OUTPUT` for a model that returns one tensor."""
    if shape is None or len(shape) != 3:
        return []
    height, width, channels = (64 if d is None else int(d) for d in shape)
    try:
        output = skeleton.eval()(torch.zeros((1, height, width, channels), dtype=torch.uint8, device="meta"))
    except (RuntimeError, ValueError, TypeError, NotImplementedError):
        return []
    if isinstance(output, torch.Tensor):
        return [TENSOR_OUTPUT]
    return sorted(output) if isinstance(output, dict) else []


def _check_weights(skeleton: nn.Module, state_dict: Any, name: str, source: str | os.PathLike[str]) -> None:
    if not isinstance(state_dict, Mapping) or not all(isinstance(v, torch.Tensor) for v in state_dict.values()):
        raise CheckpointError(f"{source}: its model weights are not a dict of tensors")
    expected = {k: tuple(v.shape) for k, v in skeleton.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in state_dict.items()}
    if got != expected:
        missing, unexpected = sorted(expected.keys() - got.keys()), sorted(got.keys() - expected.keys())
        shapes = sorted(k for k in expected.keys() & got.keys() if expected[k] != got[k])
        problem = (f"missing {missing[:3]}" if missing else f"unexpected {unexpected[:3]}" if unexpected
                   else f"{shapes[0]} is {list(got[shapes[0]])}, the model has {list(expected[shapes[0]])}")
        raise CheckpointError(f"{source}: its weights do not fit today's {name!r} model ({problem})")


def _integers(value: Any) -> list[int]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return [i for v in value for i in _integers(v)]
    return []


def _check_plain(value: Any, where: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, (str, int)):
                raise TypeError(f"{where}: key {key!r} is not a str or int")
            _check_plain(item, f"{where}[{key!r}]")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_plain(item, f"{where}[{i}]")
    elif not isinstance(value, _PLAIN):
        raise TypeError(f"{where}: a {type(value).__name__} cannot be stored in a checkpoint (tensors and plain data only)")


def _last_line(exc: BaseException) -> str:
    """The gist of an error message: torch puts advice first and the cause in the last lines."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip() and not line.startswith("Check the documentation")]
    return (lines or [""])[-1][:200]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m svhnx.checkpoint", description="Checkpoint files.")
    sub = parser.add_subparsers(dest="command", required=True)
    upgrade = sub.add_parser("upgrade", help="rewrite a format-1 (pickled) checkpoint that you trust in today's format")
    upgrade.add_argument("old", type=Path)
    upgrade.add_argument("new", type=Path)
    args = parser.parse_args(argv)
    try:
        upgrade_checkpoint(args.old, args.new)
    except (OSError, CheckpointError) as exc:
        parser.exit(2, f"{parser.prog}: error: {exc}\n")
    print(f"wrote {args.new} (format {FORMAT})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
