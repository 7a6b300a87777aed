"""svhnx: read multi-digit house numbers from images."""

from importlib.metadata import version

from svhnx.labels import BLANK, MAX_DIGITS, format_label, parse_label

__version__ = version("svhnx")  # pyproject.toml's, the one place it is written

__all__ = ["BLANK", "MAX_DIGITS", "Reading", "format_label", "parse_label", "read", "read_digits", "__version__"]

_LAZY = {"read": "svhnx.inference.reader", "Reading": "svhnx.inference.reader", "read_digits": "svhnx.inference.digits"}  # torch-heavy: imported on first use


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'svhnx' has no attribute {name!r}")
