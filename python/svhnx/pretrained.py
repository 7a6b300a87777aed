"""The trained models that ship inside the package (``svhnx/weights/``), and how to make one.

Each shipped file holds plain data only: ``{"format", "model": {"name", "kwargs"}, "state_dict"
(float16 tensors), "meta" (how it was trained and scored)}``. It is read with
``torch.load(..., weights_only=True)`` after its SHA-256 is checked against :data:`SHIPPED`, so a
changed or damaged file is refused before a byte of it is unpickled::

    from svhnx import pretrained
    recognizer = pretrained.load("recognizer")      # nn.Module in eval mode, on the CPU
    pretrained.available()                          # {"recognizer": Path(...), ...}

``python -m benchmarks.scripts.ship_weights RUN NAME`` writes a run's weights in this format, with the
facts of the run as ``meta`` (the maintainers' step before recording the hash in :data:`SHIPPED`).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from svhnx.atomic import atomic_path
from svhnx.checkpoint import CheckpointError, build_model, load_checkpoint
from svhnx.models import model_kwargs
from svhnx.models.heads import ensemble_of

FORMAT = "svhnx-weights/1"
WEIGHTS_DIR = Path(__file__).parent / "weights"
MAX_BYTES = 15 * 2**20  # the largest file this package ships (and the largest it will read)


@dataclass(frozen=True)
class ShippedModel:
    """One shipped model: its file in ``svhnx/weights/``, the file's SHA-256, the models it may be
    (the registry names allowed) and what it is for."""

    file: str
    sha256: str
    models: tuple[str, ...]
    purpose: str


#: Name -> the shipped file and the hash it must have (updated when new weights are shipped, by
#: ``python -m benchmarks.scripts.ship_weights``; the model cards (README, docs/shipped-models.md) say how each was trained).
SHIPPED: dict[str, ShippedModel] = {
    "recognizer": ShippedModel("recognizer.pt", "c48b05fbc99250a8ae1c3db1cb9ff5c934baec34b98319590d803738f166e2b3",
                               ("svhn-resnet", "svhn-goodfellow"), "reads the number in a 54 x 54 crop"),
    "recognizer-2": ShippedModel("recognizer-2.pt", "6eae4ff62ae9866a55d3567807af6cff9d20ceaec89882d4b813c6662515a3d0",
                                 ("svhn-resnet", "svhn-goodfellow"), "reads the number in a 54 x 54 crop: the second recognizer, averaged with the first"),
    "recognizer-3": ShippedModel("recognizer-3.pt", "6c1c6dfc4361cd0825cfba24510ad1eab26f02bf6e20483e59a37204d3ad9de7",
                                 ("svhn-resnet", "svhn-goodfellow"), "reads the number in a 54 x 54 crop: the third recognizer, averaged with the first two"),
    "localizer": ShippedModel("localizer.pt", "e7b5cbdf0982b73adaf0af8da70a7676cfbf0d2c2554cfc1f2f957738c7ccc79",
                              ("unet",), "finds the number in a photo"),
    "digits": ShippedModel("digits.pt", "919e4efac679b9eb16668bab071f18178775e56479f07334dbbc67600978a076",
                           ("digit-resnet",), "classifies a 32 x 32 digit (SVHN format 2)"),
    "digits-2": ShippedModel("digits-2.pt", "3d4355433e56da684b3508c53592529d04a6b1e307b245f2651e2601819a0856",
                             ("digit-resnet",), "classifies a 32 x 32 digit: the digit reader's second classifier"),
    "digits-3": ShippedModel("digits-3.pt", "80efb583b83731594d9babc30c8a6cd8f085f7ad6b914500ec52bde8fd397ef1",
                             ("digit-resnet",), "classifies a 32 x 32 digit: the digit reader's third classifier"),
}

#: The shipped recognizers that read whole numbers together (:func:`load_as_one`): wherever svhnx
#: reads a number crop with "the shipped recognizer" (the reader, ``predict``, ``evaluate --numbers``,
#: ``benchmarks real``), it averages their class probabilities. The digit reader's recognizer half is
#: the first alone (:mod:`svhnx.inference.digits`).
RECOGNIZERS = ("recognizer", "recognizer-2", "recognizer-3")

#: What a weights file's ``meta["operating_point"]`` may set (see :func:`operating_point`).
OPERATING_POINT_KEYS = ("min_confidence",)


class WeightsError(ValueError):
    """A weights file is missing, damaged, not what its name says, or not in :data:`FORMAT`."""


def path(name: str) -> Path:
    """Where the shipped model ``name`` lives (whether or not the file is there)."""
    return WEIGHTS_DIR / _entry(name).file


def shipped_name(source: str | os.PathLike[str]) -> str | None:
    """``source`` as a shipped model's name, when it is one and no file or folder of that name exists; else ``None``."""
    return str(source) if str(source) in SHIPPED and not Path(source).exists() else None


def available() -> dict[str, Path]:
    """The shipped models whose files are present, name -> path."""
    return {name: WEIGHTS_DIR / entry.file for name, entry in SHIPPED.items() if (WEIGHTS_DIR / entry.file).is_file()}


def load(name: str, *, file: str | Path | None = None) -> nn.Module:
    """The shipped model ``name`` (``"recognizer"``, ...) on the CPU in eval mode, float32.

    ``file`` reads another file in the same format instead; the SHA-256 check then applies only
    when ``file`` is the shipped one. Raises :class:`WeightsError` with the reason.
    """
    entry = _entry(name)
    source = Path(file) if file is not None else WEIGHTS_DIR / entry.file
    data = _read_bounded(source, name)
    if file is None:
        _check_sha256(data, source, name)
    return model_from_weights(read_weights(data, source), allowed=entry.models, source=source)


def members(role: str) -> tuple[str, ...]:
    """The shipped models read as one where svhnx needs its ``role``: :data:`RECOGNIZERS` for
    ``"recognizer"``, else the model of that name."""
    return RECOGNIZERS if role == "recognizer" else (role,)


def load_as_one(role: str) -> nn.Module:
    """The shipped models of ``role`` (:func:`members`) read as one: their
    :class:`~svhnx.models.heads.Ensemble`, in eval mode (with one, that model)."""
    return ensemble_of([load(name) for name in members(role)])


def read_weights_file(source: str | Path) -> dict[str, Any]:
    """The contents of a weights file (at most :data:`MAX_BYTES`), as :func:`read_weights` checks them."""
    source = Path(source)
    return read_weights(_read_bounded(source), source)


def read_weights(data: bytes, source: str | Path = "weights") -> dict[str, Any]:
    """The contents of a weights file's bytes, read with ``weights_only=True`` and checked for :data:`FORMAT`."""
    try:
        contents = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for a file that is not a checkpoint
        raise WeightsError(f"{source}: not a readable weights file ({type(error).__name__}: {str(error).splitlines()[0]})") from None
    return check_weights(contents, source)


def check_weights(contents: Any, source: str | Path = "weights") -> dict[str, Any]:
    """``contents`` (a loaded file), checked to be in :data:`FORMAT`; :class:`WeightsError` if not."""
    if not isinstance(contents, dict) or contents.get("format") != FORMAT:
        raise WeightsError(f"{source}: not an svhnx weights file (expected format {FORMAT!r})")
    model = contents.get("model")
    if not (isinstance(model, dict) and isinstance(model.get("name"), str) and isinstance(model.get("kwargs"), dict)):
        raise WeightsError(f"{source}: its 'model' entry is not {{'name': str, 'kwargs': dict}}")
    if not isinstance(contents.get("state_dict"), dict):
        raise WeightsError(f"{source}: no 'state_dict'")
    return contents


def model_from_weights(contents: Mapping[str, Any], *, allowed: Sequence[str], source: str | Path = "weights") -> nn.Module:
    """Build the model a weights file names (only one of ``allowed``) and load its weights; the
    file's operating point (:func:`operating_point`), if any, becomes the model's ``pretrained_cfg``."""
    name, kwargs = contents["model"]["name"], contents["model"]["kwargs"]
    if name not in allowed:
        raise WeightsError(f"{source}: holds a {name!r} model, expected one of {', '.join(allowed)}")
    settings = operating_point(contents, source)
    state = {k: v.float() if isinstance(v, torch.Tensor) and v.is_floating_point() else v for k, v in contents["state_dict"].items()}
    try:
        model = build_model(name, kwargs, state, source=source)
    except CheckpointError as error:
        raise WeightsError(str(error)) from None
    model.pretrained_cfg = settings  # type: ignore[assignment]  # a plain attribute, as timm's models carry theirs
    return model


def operating_point(contents: Mapping[str, Any], source: str | Path = "weights") -> dict[str, float]:
    """The settings a weights file asks its users to run it with (``meta["operating_point"]``, e.g.
    ``{"min_confidence": 0.95}``: the reader's threshold calibrated for this model), checked;
    ``{}`` when it has none. :class:`WeightsError` for a malformed one."""
    meta = contents.get("meta")
    point = meta.get("operating_point") if isinstance(meta, dict) else None
    if point is None:
        return {}
    if not isinstance(point, dict) or set(point) - set(OPERATING_POINT_KEYS):
        raise WeightsError(f"{source}: its operating point is not a dict of {', '.join(OPERATING_POINT_KEYS)}")
    settings = {}
    for key, value in point.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
            raise WeightsError(f"{source}: operating point {key}={value!r} is not a probability in [0, 1]")
        settings[key] = float(value)
    return settings


def save_weights(model: nn.Module, name: str, kwargs: Mapping[str, Any], target: Path, meta: Mapping[str, Any]) -> str:
    """Write ``model``'s weights as float16 in :data:`FORMAT` at ``target`` (atomically); returns the SHA-256.

    ``meta`` must be JSON-able: the model card's facts.
    """
    state = {k: v.detach().cpu().half() if v.is_floating_point() else v.detach().cpu() for k, v in model.state_dict().items()}
    return write_weights({"format": FORMAT, "model": {"name": name, "kwargs": dict(kwargs)}, "state_dict": state, "meta": meta}, target)


def write_weights(contents: Mapping[str, Any], target: Path) -> str:
    """Write a weights file's ``contents`` (in :data:`FORMAT`; its JSON-able ``meta`` is checked by a
    round trip) at ``target``, atomically; returns the SHA-256. :class:`WeightsError`, and ``target``
    left as it was, when the file would be over :data:`MAX_BYTES`."""
    contents = {**check_weights(dict(contents), target), "meta": json.loads(json.dumps(contents.get("meta", {})))}
    operating_point(contents, target)
    with atomic_path(target) as tmp:
        torch.save(contents, tmp)
        size = tmp.stat().st_size
        if size > MAX_BYTES:
            raise WeightsError(f"{target}: {size / 2**20:.1f} MB is over the {MAX_BYTES // 2**20} MB limit for shipped weights")
    return hashlib.sha256(target.read_bytes()).hexdigest()


def starting_weights(source: str, name: str, kwargs: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """The float32 state dict of ``source`` for a model ``create_model(name, **kwargs)``: a shipped
    model's name, a weights file, or a training checkpoint (its evaluated weights). What ``train
    --init`` starts from; :class:`WeightsError` when the file holds another model or other sizes."""
    spec, state = spec_and_state(source)
    if spec["name"] != name or _filled(name, spec["kwargs"]) != _filled(name, kwargs):
        raise WeightsError(f"{source}: holds a {spec['name']!r} model with {spec['kwargs']}, not the {name!r} model with {dict(kwargs)} this run trains")
    build_model(name, dict(kwargs), state, source=source)  # checks every weight's shape
    return state


def _filled(name: str, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Model ``name``'s kwargs with its defaults, as JSON would store them."""
    try:
        return json.loads(json.dumps(model_kwargs(name, dict(kwargs))))
    except (TypeError, ValueError) as exc:
        raise WeightsError(f"model {name!r}: {exc}") from None


def spec_and_state(source: str | Path) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """``({"name", "kwargs", "meta"}, float32 state dict)`` of a shipped model's name, a weights file
    or a training checkpoint (its evaluated weights); ``meta`` is a weights file's own, or a
    checkpoint's :func:`training_facts`. :class:`WeightsError` when it is none of these."""
    if str(source) in SHIPPED:  # a shipped model is read only after its SHA-256 check, as by load()
        path = WEIGHTS_DIR / SHIPPED[str(source)].file
        data = _read_bounded(path, str(source))
        _check_sha256(data, path, str(source))
        contents = read_weights(data, path)
        return _float_state(contents["model"], contents["state_dict"], contents.get("meta"))
    path = Path(source)
    if not path.is_file():
        raise WeightsError(f"{path}: no such file")
    try:  # a file larger than any weights file is not read whole here: it can only be a checkpoint
        weights = read_weights(path.read_bytes(), path) if path.stat().st_size <= MAX_BYTES else None
    except WeightsError:
        weights = None
    if weights is not None:
        return _float_state(weights["model"], weights["state_dict"], weights.get("meta"))
    checkpoint = load_checkpoint(path)
    if not isinstance(checkpoint.get("model"), dict) or "model_state" not in checkpoint:
        raise WeightsError(f"{path}: neither a weights file nor a training checkpoint")
    return _float_state(checkpoint["model"], checkpoint["model_state"], training_facts(checkpoint))


def training_facts(checkpoint: Mapping[str, Any]) -> dict[str, Any]:
    """What a weights file made from a training checkpoint keeps of its run (its ``meta``): the task,
    the run's flags (paths as text), the step, images seen, training and wall time, the last metrics row."""
    progress = checkpoint.get("progress", {})
    config = {k: str(v) if isinstance(v, Path) else v for k, v in checkpoint.get("config", {}).items()}
    return {"task": checkpoint.get("task"), "config": config, "step": progress.get("step"), "images": progress.get("images"),
            "train_time_s": round(progress.get("train_time_s", 0.0), 1), "wall_time_s": round(progress.get("wall_time_s", 0.0), 1),
            "metrics": checkpoint.get("metrics", {})}


def _float_state(spec: Mapping[str, Any], state: Mapping[str, Any], meta: Any) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """``({"name", "kwargs", "meta"}, state)`` with the floating-point tensors of ``state`` in float32."""
    state = {k: v.float() if isinstance(v, torch.Tensor) and v.is_floating_point() else v for k, v in state.items()}
    return {"name": spec.get("name"), "kwargs": spec.get("kwargs"), "meta": meta if isinstance(meta, dict) else {}}, state


def _read_bounded(source: Path, name: str | None = None) -> bytes:
    """The bytes of the weights file ``source`` (of the shipped model ``name``, if one), refused when missing or too large."""
    if not source.is_file():
        hint = f" (the shipped {name!r} model is missing: reinstall svhnx)" if name is not None else ""
        raise WeightsError(f"{source}: no such weights file{hint}")
    if source.stat().st_size > MAX_BYTES:
        raise WeightsError(f"{source}: larger than {MAX_BYTES // 2**20} MB, not an svhnx weights file")
    return source.read_bytes()


def _check_sha256(data: bytes, source: Path, name: str) -> None:
    """:class:`WeightsError` unless ``data`` has the SHA-256 recorded for the shipped model ``name``."""
    if hashlib.sha256(data).hexdigest() != SHIPPED[name].sha256:
        raise WeightsError(f"{source}: SHA-256 differs from the one recorded for {name!r}; the file is damaged or replaced")


def _entry(name: str) -> ShippedModel:
    if name not in SHIPPED:
        raise WeightsError(f"no shipped model called {name!r}; shipped: {', '.join(sorted(SHIPPED)) or 'none'}")
    return SHIPPED[name]
