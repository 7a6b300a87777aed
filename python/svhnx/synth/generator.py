"""The street-number scene generator: whole SVHN-like scenes or number crops, with per-digit boxes.

The drawing happens in the native extension (``svhnx._core.SceneGenerator``): batches, the GIL
released, one random stream per (seed, sample index), so a sample is the same whatever the thread
count and whichever batch it is drawn in.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from svhnx import _core
from svhnx.atomic import atomic_path
from svhnx.data.download import default_root
from svhnx.data.svhn_digit_struct import DigitStructEntry
from svhnx.ops._args import seed_value, thread_count
from svhnx.synth.atlas import GlyphAtlas, default_cache_dir, load_atlas, read_atlas
from svhnx.synth.layouts import LayoutTables, annotations_path, load_layout_tables

REALISM_FIELDS = ("background", "style", "distortion", "degradation", "annotation", "arrangement", "suffix")


@dataclass(frozen=True)
class Realism:
    """How much of each kind of variation to draw, each in [0, 1] (1: all of it).

    ``background``: textures, plates, edges, clutter characters and lighting; ``style``: stroke
    weight, outlines and drop shadows; ``distortion``: rotation, shear, perspective and baseline
    jitter; ``degradation``: low resolution, blur, noise and JPEG artefacts; ``annotation``: digit
    boxes drawn as SVHN's annotators drew them, with loose, uneven margins about the ink (0: each box
    is its digit's ink box); ``arrangement``: now and then (5% of 2-3 digit numbers at 1) the digits
    stacked one under the other or set on a diagonal, each upright; ``suffix``: in number crops only, now
    and then (10% at 1) a letter or sign of the number's typeface right after it, on its baseline, not
    part of the number (``12a``, ``7B``), as house numbers often have; half of those crops are framed
    about the number and the letter, as a reader frames what its localizer finds. ``Realism.clean()`` draws
    flat-coloured upright digits in a row on a flat background, with boxes that are easy to check.
    """

    background: float = 1.0
    style: float = 1.0
    distortion: float = 1.0
    degradation: float = 1.0
    annotation: float = 1.0
    arrangement: float = 1.0
    suffix: float = 1.0

    @classmethod
    def clean(cls) -> Realism:
        return cls(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)

    def __post_init__(self) -> None:
        for name in REALISM_FIELDS:
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise ValueError(f"realism.{name}: expected a number in [0, 1], got {value!r}")

    def args(self) -> tuple[float, float, float, float, float, float, float]:
        """The fields as floats, in the native generator's order (:data:`REALISM_FIELDS`)."""
        return (float(self.background), float(self.style), float(self.distortion), float(self.degradation),
                float(self.annotation), float(self.arrangement), float(self.suffix))


@dataclass(frozen=True)
class SceneBatch:
    """Whole scenes. ``images[i]`` is ``uint8 H_i x W_i x 3``; ``boxes`` float32 ``[B, 5, 4]``
    (``[left, top, width, height]`` in image pixels, zero past each number's length); ``digits``
    int64 ``[B, 5]`` left-aligned targets (10 = blank); ``lengths`` int64 ``[B]``."""

    images: list[np.ndarray]
    boxes: np.ndarray
    digits: np.ndarray
    lengths: np.ndarray

    def __len__(self) -> int:
        return len(self.images)

    def entries(self, names: list[str] | None = None) -> list[DigitStructEntry]:
        """The scenes' annotations as SVHN records (``name``, labels 0-9, float32 boxes), named ``1.png``, ... by default."""
        names = names if names is not None else [f"{i + 1}.png" for i in range(len(self))]
        if len(names) != len(self):
            raise ValueError(f"names: expected {len(self)} names, got {len(names)}")
        return [DigitStructEntry(name=n, labels=self.digits[i, :k].copy(), boxes=self.boxes[i, :k].copy())
                for i, (n, k) in enumerate(zip(names, self.lengths.tolist()))]


@dataclass(frozen=True)
class CropBatch:
    """Number crops (the expanded number box resized to ``size x size``): ``images`` uint8
    ``[B, size, size, 3]``, and ``boxes`` (in crop pixels), ``digits`` and ``lengths`` as in :class:`SceneBatch`."""

    images: np.ndarray
    boxes: np.ndarray
    digits: np.ndarray
    lengths: np.ndarray

    def __len__(self) -> int:
        return len(self.images)


def _count(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}: expected an integer, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name}: expected a non-negative integer, got {value}")
    return int(value)


class SceneGenerator:
    """Draws street-number scenes from a glyph atlas and real SVHN layout statistics.

    >>> gen = SceneGenerator.from_data()               # doctest: +SKIP
    >>> crops = gen.crops(256, seed=0)                 # doctest: +SKIP
    >>> crops.images.shape, crops.digits[0]            # doctest: +SKIP
    ((256, 64, 64, 3), array([ 1,  9, 10, 10, 10]))
    """

    def __init__(self, atlas: GlyphAtlas, tables: LayoutTables, realism: Realism | None = None) -> None:
        self.atlas = atlas
        self.tables = tables
        self.realism = realism if realism is not None else Realism()
        if not isinstance(self.realism, Realism):
            raise TypeError(f"realism: expected a Realism, got {type(self.realism).__name__}")
        self._native = _core.SceneGenerator(
            atlas.fields, atlas.labels, atlas.styles, atlas.ink, atlas.scales, atlas.style_weights,
            np.ascontiguousarray(tables.layouts, np.float32), np.ascontiguousarray(tables.digit_probs, np.float64),
            np.ascontiguousarray(tables.digit_aspects, np.float64),
        )

    def __reduce__(self) -> tuple:
        """Pickle by the atlas, tables and realism (the native generator is rebuilt from them),
        so a generator travels to DataLoader worker processes."""
        return (SceneGenerator, (self.atlas, self.tables, self.realism))

    @classmethod
    def from_data(
        cls,
        root: str | os.PathLike[str] | None = None,
        *,
        realism: Realism | None = None,
        handwriting: bool = True,
        system_fonts: bool | None = None,
        split: str = "train",
        cache_dir: str | os.PathLike[str] | None = None,
        atlas: str | os.PathLike[str] | None = None,
    ) -> SceneGenerator:
        """A generator from the data root (default ``$SVHNX_DATA`` or ``~/.cache/svhnx``).

        Needs ``root/svhn-annotations/boxes.csv.gz`` (layout statistics of ``split``); adds MNIST
        handwriting to the typefaces when ``handwriting`` and ``root/mnist`` has the training files, and
        the fonts installed on the system with ``system_fonts`` (:func:`svhnx.synth.glyphs.system_font_files`;
        ``None``: unless ``$SVHNX_SYSTEM_FONTS`` is ``0``). With ``atlas``, a saved atlas file
        (:func:`svhnx.synth.atlas.read_atlas`), the glyphs are that file's instead, whatever this
        machine's fonts, and ``handwriting`` and ``system_fonts`` have no effect.
        Atlas and tables are cached in ``cache_dir`` (default ``$SVHNX_CACHE`` or ``~/.cache/svhnx/synth``).
        """
        root = Path(root) if root is not None else default_root()
        cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        mnist = root / "mnist"
        has_mnist = any(mnist.glob("train*-images-idx3-ubyte.gz")) if mnist.is_dir() else False
        glyphs = (read_atlas(atlas) if atlas is not None
                  else load_atlas(mnist if handwriting and has_mnist else None, cache_dir=cache, system_fonts=system_fonts))
        return cls(glyphs, cached_layout_tables(root, split, cache), realism)

    @property
    def num_styles(self) -> int:
        return self._native.num_styles

    def scenes(self, count: int, *, seed: int, first: int = 0, threads: int | None = None) -> SceneBatch:
        """Whole scenes ``first .. first + count - 1`` of the stream ``seed``, at SVHN-like image sizes."""
        images, boxes, digits, lengths = self._native.scenes(
            _count(count, "count"), seed_value(seed), _count(first, "first"), *self.realism.args(), thread_count(threads)
        )
        return SceneBatch(images, boxes, digits, lengths)

    def crops(self, count: int, *, seed: int, first: int = 0, size: int = 64, threads: int | None = None) -> CropBatch:
        """Number crops of the same scenes as :meth:`scenes` (same seed and index: same number and layout).

        Each is the scene's number box grown by 30% about its centre and clipped to the image (the
        SVHN crop rule), drawn at ``size x size``.
        """
        images, boxes, digits, lengths = self._native.crops(
            _count(count, "count"), seed_value(seed), _count(first, "first"), _count(size, "size"),
            *self.realism.args(), thread_count(threads),
        )
        return CropBatch(images, boxes, digits, lengths)


def cached_layout_tables(root: str | os.PathLike[str], split: str, cache_dir: str | os.PathLike[str]) -> LayoutTables:
    """:func:`load_layout_tables`, cached in ``cache_dir`` by the annotation file's path, size and date."""
    path = annotations_path(root)
    stat = path.stat()
    key = hashlib.sha1(f"v2|{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{split}".encode()).hexdigest()[:16]
    cached = Path(cache_dir) / f"layouts-{key}.npz"
    if cached.is_file():
        try:
            with np.load(cached) as z:
                return LayoutTables(layouts=z["layouts"], digit_probs=z["digit_probs"], digit_aspects=z["digit_aspects"])
        except (OSError, ValueError, KeyError):
            pass  # rebuilt below
    tables = load_layout_tables(root, split)
    with atomic_path(cached) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, layouts=tables.layouts, digit_probs=tables.digit_probs, digit_aspects=tables.digit_aspects)
    return tables
