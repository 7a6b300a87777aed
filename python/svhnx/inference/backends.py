"""Run a trained model on PyTorch or on onnxruntime behind one interface.

A backend maps a ``uint8 N x H x W x C`` NumPy batch (the data path's layout) to the model's dict of
``float32`` NumPy arrays (``{"digits": N x 5 x 11, "length": N x 7}`` for a recognizer,
``{"mask": N x 1 x H x W, ...}`` for the localizer), whichever engine runs it::

    recognizer = load_backend("runs/svhn/best.pt", backend="onnx")  # runs/svhn/best.onnx
    logits = recognizer(crops)["digits"]

The ONNX file of a checkpoint is written by ``python -m svhnx.export RUN --format onnx`` beside
it, with the same name and the ``.onnx`` suffix. onnxruntime is optional:
``pip install 'svhnx[onnx]'``.
"""

from __future__ import annotations

import copy
import json
import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from svhnx import pretrained
from svhnx.checkpoint import ROLES, InputShape, check_role, checkpoint_path, load_checkpoint, model_from_checkpoint, run_file
from svhnx.models.fold import fold_batch_norms
from svhnx.models.heads import ensemble_of

BACKENDS = ("torch", "onnx")
ONNX_INSTALL_HINT = "the onnx backend needs onnxruntime: pip install 'svhnx[onnx]' (or pip install onnxruntime)"
#: The input name of every exported model.
INPUT_NAME = "images"
#: Where an export records what it came from (``custom_metadata_map`` of the ONNX file).
METADATA_KEY = "svhnx"


class Backend(ABC):
    """A model ready for inference: ``backend(images) -> {name: float32 array}``.

    Attributes:
        name: ``"torch"`` or ``"onnx"``.
        input_shape: ``(H, W, C)`` the model takes; ``None`` for a size it accepts at any value.
    """

    name: str
    input_shape: InputShape

    def __call__(self, images: np.ndarray) -> dict[str, np.ndarray]:
        """The model's outputs for ``images`` (``uint8 N x H x W x C``, C-contiguous or not)."""
        return self._run(self._checked(images))

    @abstractmethod
    def _run(self, images: np.ndarray) -> dict[str, np.ndarray]: ...

    def as_module(self) -> nn.Module:
        """An :class:`torch.nn.Module` face of this backend (uint8 tensors in, a dict of tensors out),
        for code written against torch models."""
        return BackendModule(self)

    def _checked(self, images: np.ndarray) -> np.ndarray:
        if not isinstance(images, np.ndarray):
            raise TypeError(f"images: expected a numpy array, got {type(images).__name__}")
        if images.dtype != np.uint8 or images.ndim != 4:
            raise ValueError(f"images: expected uint8 N x H x W x C, got {images.dtype} with shape {images.shape}")
        for axis, (want, got) in enumerate(zip(self.input_shape, images.shape[1:]), start=1):
            if want is not None and want != got:
                expected = " x ".join("any" if d is None else str(d) for d in self.input_shape)
                raise ValueError(f"images: expected N x {expected}, got shape {images.shape} (axis {axis} differs)")
        return np.ascontiguousarray(images)


class TorchBackend(Backend):
    """A torch model on the CPU, in eval mode and without autograd."""

    name = "torch"

    def __init__(self, model: nn.Module) -> None:
        self.model = model.eval()
        self.input_shape = model_input_shape(model)

    @torch.inference_mode()
    def _run(self, images: np.ndarray) -> dict[str, np.ndarray]:
        return {k: v.float().numpy() for k, v in self.model(torch.from_numpy(images)).items()}

    def as_module(self) -> nn.Module:
        return self.model


class OnnxBackend(Backend):
    """An ONNX model exported by :mod:`svhnx.inference.export`, run by onnxruntime on the CPU.

    ``threads`` sets onnxruntime's intra-op threads (default: its choice, one per core).
    """

    name = "onnx"

    def __init__(self, path: str | os.PathLike[str], *, threads: int | None = None) -> None:
        try:
            import onnxruntime as ort
        except ModuleNotFoundError:
            raise ModuleNotFoundError(ONNX_INSTALL_HINT) from None
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such ONNX file (python -m svhnx.export RUN --format onnx writes one)")
        options = ort.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = threads
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as error:  # onnxruntime raises its own exception types for bad files
            raise ValueError(f"{path}: onnxruntime cannot load it ({error})") from None
        inputs = self.session.get_inputs()
        if len(inputs) != 1 or inputs[0].type != "tensor(uint8)" or len(inputs[0].shape) != 4:
            raise ValueError(f"{path}: not an svhnx export (expected one uint8 N x H x W x C input)")
        self.path = path
        self.input_shape = tuple(d if isinstance(d, int) else None for d in inputs[0].shape[1:])  # type: ignore[assignment]
        self.output_names = [o.name for o in self.session.get_outputs()]
        meta = self.session.get_modelmeta().custom_metadata_map.get(METADATA_KEY)
        self.metadata = json.loads(meta) if meta else {}

    def _run(self, images: np.ndarray) -> dict[str, np.ndarray]:
        return dict(zip(self.output_names, self.session.run(self.output_names, {INPUT_NAME: images})))


class BackendModule(nn.Module):
    """A backend as an ``nn.Module``: ``forward(uint8 tensor) -> {name: float32 tensor}`` (no autograd)."""

    def __init__(self, backend: Backend) -> None:
        super().__init__()
        self.backend = backend

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        return {k: torch.from_numpy(v) for k, v in self.backend(images.numpy()).items()}


def model_input_shape(model: nn.Module) -> InputShape:
    """The ``(H, W, C)`` input a model declares in its ``input_shape`` attribute (``None`` where any
    size works); ``ValueError`` if it declares none."""
    shape = getattr(model, "input_shape", None)
    if shape is None or len(shape) != 3:
        raise ValueError(f"{type(model).__name__} does not declare its input_shape (H, W, C), which export and runtime need")
    return tuple(None if d is None else int(d) for d in shape)  # type: ignore[return-value]


def load_model(path: str | os.PathLike[str], *, role: str | None = None) -> nn.Module:
    """The model of a training checkpoint (``best.pt``/``last.pt``, or a run directory for its
    ``best.pt``) or, given its ``role``, of a weights file in the shipped format
    (:mod:`svhnx.pretrained`), on the CPU in eval mode; ``ValueError`` if the file is neither, or
    its model does not fit ``role`` (a shipped model's name; the input and outputs of those that
    are keys of :data:`svhnx.checkpoint.ROLES` are checked too)."""
    path = checkpoint_path(path)
    contents = read_checkpoint(path)
    if contents.get("format") == pretrained.FORMAT and role in pretrained.SHIPPED:  # each role ships under its own name
        allowed = pretrained.SHIPPED[role].models
        return pretrained.model_from_weights(pretrained.check_weights(contents, path), allowed=allowed, source=path)
    return model_from_checkpoint(contents, path, role=role if role in ROLES else None)


def load_models(paths: Sequence[str | os.PathLike[str]], *, role: str | None = None) -> nn.Module:
    """The models at ``paths`` (each as :func:`load_model` reads it) as one: their
    :class:`~svhnx.models.heads.Ensemble`, in eval mode; one path: its model."""
    return ensemble_of([load_model(path, role=role) for path in paths])


def load_models_or_shipped(paths: Sequence[str | os.PathLike[str]] | None, *, role: str) -> nn.Module:
    """The models at ``paths`` read as one (:func:`load_models`); none given: the shipped models of
    ``role`` read as one (:func:`svhnx.pretrained.load_as_one`)."""
    return load_models(paths, role=role) if paths else pretrained.load_as_one(role)


def in_precision(model: nn.Module, precision: str) -> nn.Module:
    """The model to run for inference in ``precision`` (``"float32"`` or ``"bfloat16"``): a copy with
    its batch norms folded into their convolutions (:func:`~svhnx.models.fold.fold_batch_norms`,
    same outputs up to rounding), in bfloat16 with bfloat16 weights, cast once here rather than by
    autocast at every call. The model itself where there is nothing to fold or cast (a bfloat16 copy
    already, an ONNX backend)."""
    folded = fold_batch_norms(model)
    if precision == "bfloat16" and any(p.dtype == torch.float32 for p in folded.parameters()):
        return (copy.deepcopy(model) if folded is model else folded).to(torch.bfloat16)
    return folded


def read_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A checkpoint file's contents; ``FileNotFoundError``/``ValueError`` for a missing or foreign file."""
    return load_checkpoint(Path(path))


def onnx_path(checkpoint: str | os.PathLike[str]) -> Path:
    """Where the export of a checkpoint lives: beside it, ``.onnx`` instead of ``.pt``
    (a run directory means its ``best.pt``)."""
    return run_file(checkpoint).with_suffix(".onnx")


def load_backend(
    path: str | os.PathLike[str], backend: str = "torch", *, threads: int | None = None, role: str | None = None
) -> Backend:
    """A model ready for inference on ``backend`` (``"torch"`` or ``"onnx"``).

    ``path`` is a training checkpoint (or its run directory), or an ``.onnx`` export. For the onnx
    backend a checkpoint means its export beside it (:func:`onnx_path`). ``threads`` sets the
    engine's intra-op threads for onnxruntime; torch uses ``torch.set_num_threads``, which is global.
    With ``role`` (``"recognizer"`` or ``"localizer"``) a model of another kind is a ``ValueError``.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend: expected one of {', '.join(BACKENDS)}, got {backend!r}")
    path = Path(path)
    if backend == "onnx":
        onnx = OnnxBackend(path if path.suffix == ".onnx" else onnx_path(path), threads=threads)
        if role is not None:
            check_role(role, onnx.input_shape, onnx.output_names, f"{onnx.path}: holds a model")
        return onnx
    if path.suffix == ".onnx":
        raise ValueError(f"{path}: the torch backend runs training checkpoints (.pt), not ONNX files; use backend='onnx'")
    return TorchBackend(load_model(path, role=role))
