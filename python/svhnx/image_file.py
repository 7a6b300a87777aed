"""Image files: the one reader of svhnx (photos to read, SVHN's images), decoding a file only after
its size is known to be reasonable, and the one PNG writer (:func:`write_png`: annotated photos, scene exports, sample grids and figures).

The width and height are read from the file's header with Pillow (which parses headers without
decoding pixels) and checked against a pixel limit before OpenCV decodes the file, so a small file
that claims 40000 x 40000 pixels is refused instead of allocating gigabytes (Pillow also refuses
headers beyond its own limit, ``2 * PIL.Image.MAX_IMAGE_PIXELS``, about 179 MP)::

    image = load_image("door.jpg")                        # limit: $SVHNX_MAX_PIXELS, else 50 MP
    image = load_image("scan.tif", max_pixels=200_000_000)
"""

from __future__ import annotations

import os
import struct
import warnings
from io import BytesIO
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from svhnx.atomic import atomic_path

MAX_PIXELS_ENV = "SVHNX_MAX_PIXELS"
DEFAULT_MAX_PIXELS = 50_000_000
#: Most file bytes per allowed pixel (16-bit RGBA, uncompressed), plus room for headers and metadata.
BYTES_PER_PIXEL = 8
HEADER_BYTES = 1 << 20


def pixel_count(text: str) -> int:
    """A positive number of pixels, written as an integer or like ``5e7``; ``ValueError`` otherwise."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 1 <= value < 2**63:
        raise ValueError(f"expected a positive number of pixels, got {text!r}")
    return int(value)


def default_max_pixels() -> int:
    """``$SVHNX_MAX_PIXELS`` if set (a positive number, ``ValueError`` otherwise), else :data:`DEFAULT_MAX_PIXELS`."""
    text = os.environ.get(MAX_PIXELS_ENV, "").strip()
    if not text:
        return DEFAULT_MAX_PIXELS
    try:
        return pixel_count(text)
    except ValueError as exc:
        raise ValueError(f"${MAX_PIXELS_ENV}: {exc}") from None


def load_image(path: str | os.PathLike[str], *, max_pixels: int | None = None) -> np.ndarray:
    """A photo file as ``uint8 H x W x 3`` RGB (grey is expanded, alpha dropped, 16-bit reduced,
    EXIF orientation applied).

    Raises ``OSError`` (``FileNotFoundError``, a symlink loop, no permission) when the file cannot be
    read, and ``ValueError`` when it is not an image, or has more than ``max_pixels`` pixels
    (default: :func:`default_max_pixels`).
    """
    path = Path(path)
    limit = default_max_pixels() if max_pixels is None else max_pixels
    if limit <= 0:
        raise ValueError(f"max_pixels: expected a positive number, got {limit}")
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > BYTES_PER_PIXEL * limit + HEADER_BYTES:
                raise ValueError(f"{path}: {size:,} bytes is too large for an image of at most {limit:,} pixels")
            data = f.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ValueError(f"{path}: not a file") from None
    except OSError as exc:
        raise OSError(exc.errno, f"{path}: {exc.strerror}") from None
    width, height = _header_size(path, data)
    if width * height > limit:
        raise ValueError(f"{path}: {width} x {height} pixels is more than the limit of {limit:,} (--max-pixels, ${MAX_PIXELS_ENV})")
    try:
        image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    except cv2.error as exc:
        raise ValueError(f"{path}: OpenCV cannot decode it ({str(exc).strip().splitlines()[-1]})") from None
    if image is None:
        raise ValueError(f"{path}: not an image OpenCV can decode (PNG, JPEG, BMP, TIFF, WebP, ...)")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _header_size(path: Path, data: bytes) -> tuple[int, int]:
    """``(width, height)`` from the image header, without decoding; ``ValueError`` if there is none."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the caller applies its own limit
            with Image.open(BytesIO(data)) as image:
                return image.size
    except Image.DecompressionBombError:  # Pillow's own limit, whatever the caller's
        raise ValueError(f"{path}: more than {2 * (Image.MAX_IMAGE_PIXELS or 0):,} pixels, Pillow's decompression-bomb limit") from None
    except UnidentifiedImageError:
        raise ValueError(f"{path}: not an image (PNG, JPEG, BMP, TIFF, WebP, ...)") from None
    except (OSError, ValueError, SyntaxError, EOFError, IndexError, TypeError, struct.error) as exc:  # Pillow's errors for damaged headers
        raise ValueError(f"{path}: damaged image header ({exc})") from None


def write_png(path: str | os.PathLike[str], image: np.ndarray) -> Path:
    """Write a ``uint8`` RGB (``H x W x 3``) or grey (``H x W``) image as PNG, atomically; returns the path."""
    path = Path(path)
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 else image)
    if not ok:
        raise ValueError(f"{path}: OpenCV could not encode the image as PNG")
    with atomic_path(path) as tmp:
        tmp.write_bytes(encoded.tobytes())
    return path
