"""svhnx: read multi-digit house numbers from images."""

from svhnx.labels import BLANK, MAX_DIGITS, format_label, parse_label

__version__ = "0.1.0"

__all__ = ["BLANK", "MAX_DIGITS", "format_label", "parse_label", "__version__"]
