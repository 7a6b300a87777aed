"""Models, selectable by name.

A module adds its models with the :func:`register_model` decorator on a class or factory and is
imported at the bottom of this file; ``create_model(name, **kwargs)`` builds one and
``list_models()`` names them all::

    @register_model("mnist-lean")
    class LeanSequenceNet(nn.Module): ...

    model = create_model("mnist-lean", length_head=True)

A checkpoint stores the name and keyword arguments, so ``create_model`` rebuilds the same model.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from torch import nn

__all__ = ["create_model", "list_models", "register_model"]

_REGISTRY: dict[str, Callable[..., nn.Module]] = {}
F = TypeVar("F", bound=Callable[..., nn.Module])


def register_model(name: str) -> Callable[[F], F]:
    """Decorator: make the decorated class or factory available as ``create_model(name)``."""

    def decorate(factory: F) -> F:
        if name in _REGISTRY and _REGISTRY[name] is not factory:
            raise ValueError(f"model name {name!r} is already registered (by {_REGISTRY[name]!r})")
        _REGISTRY[name] = factory
        return factory

    return decorate


def create_model(name: str, **kwargs: Any) -> nn.Module:
    """A new model registered as ``name``, built with ``kwargs``."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(list_models())}")
    return _REGISTRY[name](**kwargs)


def model_kwargs(name: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """``kwargs`` with the defaults of model ``name``'s factory filled in (what it would be built with)."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(list_models())}")
    bound = inspect.signature(_REGISTRY[name]).bind_partial(**kwargs)
    bound.apply_defaults()
    return dict(bound.arguments)


def list_models() -> list[str]:
    """The registered model names, sorted."""
    return sorted(_REGISTRY)


# Modules that register models (import order does not matter).
from svhnx.models import box_regressor, digits, mnist, svhn, svhn_resnet, unet  # noqa: E402,F401
