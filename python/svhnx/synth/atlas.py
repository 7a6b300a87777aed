"""The glyph atlas the native generator draws from: signed distance fields of every glyph.

Each glyph is stored as a ``CELL x CELL`` ``uint8`` signed distance field (``128 + 16 * d``, ``d``
the distance in cell pixels to the glyph's outline, positive inside the ink), so the generator can
draw it at any size with clean edges and make its strokes thinner, bolder or outlined by moving the
threshold. Within a style, digits keep their relative sizes: the style's median digit height maps to
:data:`DIGIT_HEIGHT` cell pixels. Building takes a few seconds; :func:`load_atlas` caches the result.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from svhnx.atomic import atomic_path
from svhnx.data.npz import read_npz
from svhnx.synth.glyphs import GlyphSet, mnist_glyph_sets, opencv_glyph_sets, system_font_files, system_glyph_sets, ttf_glyph_sets

CELL = 64  # side of an atlas cell, pixels
DIGIT_HEIGHT = 40  # a style's median digit height in the cell, pixels
MAX_INK = CELL - 12  # glyphs larger than this (either side) are shrunk to fit, keeping a margin
FIELD_SCALE = 16.0  # field units per cell pixel of distance
SUPERSAMPLE = 4  # distance fields are computed at this multiple of the cell resolution
ATLAS_VERSION = 4  # bump when the glyph sources, their filters or the field encoding change
#: The arrays of a saved atlas: (dtype kinds, rank), as :func:`svhnx.data.npz.read_npz` checks them.
ATLAS_ARRAYS = {"fields": ("u", 3), "labels": ("i", 1), "styles": ("i", 1), "ink": ("f", 2), "scales": ("f", 1),
                "style_names": ("U", 1), "style_weights": ("f", 1)}

SYSTEM_FONTS_ENV = "SVHNX_SYSTEM_FONTS"
#: How often each glyph family is drawn (renormalised over the families present: a machine without
#: system fonts or MNIST draws from the others; without system fonts the mix is 0.5 / 0.3 / 0.2).
FAMILY_WEIGHTS = {"ttf": 0.3, "system": 0.4, "opencv": 0.18, "mnist": 0.12}


@dataclass(frozen=True)
class GlyphAtlas:
    """Glyph distance fields and what each one is.

    ``fields``: uint8 ``[N, CELL, CELL]``; ``labels``: int64 ``[N]`` (0-9, -1 for clutter);
    ``styles``: int64 ``[N]`` index into ``style_names``; ``ink``: float32 ``[N, 4]`` the ink box
    (left, top, width, height) in cell pixels; ``scales``: float32 ``[N]``, cell pixels per style
    unit (1 unless the glyph was shrunk to fit); ``style_weights``: float64 ``[S]``, how often the
    generator picks each style.
    """

    fields: np.ndarray
    labels: np.ndarray
    styles: np.ndarray
    ink: np.ndarray
    scales: np.ndarray
    style_names: tuple[str, ...]
    style_weights: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


def _distance_field(mask: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Distance field cell of a high-res binary mask whose style height maps to DIGIT_HEIGHT at ``scale``."""
    ys, xs = np.nonzero(mask)
    if len(ys) == 0:
        raise ValueError("glyph mask has no ink")
    crop = mask[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    hi = CELL * SUPERSAMPLE
    h, w = crop.shape
    fit = min(1.0, MAX_INK * SUPERSAMPLE / (max(h, w) * scale))
    k = scale * fit
    new_w, new_h = max(1, round(w * k)), max(1, round(h * k))
    resized = cv2.resize(crop * np.uint8(255), (new_w, new_h), interpolation=cv2.INTER_AREA) >= 128
    canvas = np.zeros((hi, hi), np.uint8)
    x0, y0 = (hi - new_w) // 2, (hi - new_h) // 2
    canvas[y0 : y0 + new_h, x0 : x0 + new_w] = resized
    inside = cv2.distanceTransform(canvas, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    outside = cv2.distanceTransform(1 - canvas, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    signed = np.where(canvas > 0, inside - 0.5, 0.5 - outside) / SUPERSAMPLE
    cell = cv2.resize(signed, (CELL, CELL), interpolation=cv2.INTER_AREA)
    field = np.clip(np.rint(128 + FIELD_SCALE * cell), 0, 255).astype(np.uint8)
    ink = np.array([x0, y0, new_w, new_h], np.float32) / SUPERSAMPLE
    return field, np.r_[ink, fit].astype(np.float32)


def build_atlas(glyph_sets: Iterable[GlyphSet], family_weights: dict[str, float] | None = None) -> GlyphAtlas:
    """Distance-field atlas of ``glyph_sets``; styles are weighted so each family gets its share."""
    family_weights = FAMILY_WEIGHTS if family_weights is None else family_weights
    fields, labels, styles, ink, scales, names, families = [], [], [], [], [], [], []
    for s, glyph_set in enumerate(glyph_sets):
        digit_heights = [np.ptp(np.nonzero(m)[0]) + 1 for m, lab in zip(glyph_set.masks, glyph_set.labels) if lab >= 0]
        if not digit_heights:
            raise ValueError(f"glyph set {glyph_set.name!r} has no digits")
        scale = DIGIT_HEIGHT * SUPERSAMPLE / float(np.median(digit_heights))
        for mask, label in zip(glyph_set.masks, glyph_set.labels):
            field, info = _distance_field(mask, scale)
            fields.append(field)
            ink.append(info[:4])
            scales.append(info[4])
            labels.append(label)
            styles.append(s)
        names.append(glyph_set.name)
        families.append(glyph_set.family)
    unknown = sorted(set(families) - set(family_weights))
    if unknown:
        raise ValueError(f"family_weights: no weight for glyph families {unknown}")
    present = {f: families.count(f) for f in set(families)}
    weights = np.array([family_weights[f] / present[f] for f in families], np.float64)
    return GlyphAtlas(
        fields=np.stack(fields),
        labels=np.asarray(labels, np.int64),
        styles=np.asarray(styles, np.int64),
        ink=np.stack(ink).astype(np.float32),
        scales=np.asarray(scales, np.float32),
        style_names=tuple(names),
        style_weights=weights / weights.sum(),
    )


def default_cache_dir() -> Path:
    """Where built atlases and tables are cached: ``$SVHNX_CACHE``, else ``~/.cache/svhnx/synth``."""
    env = os.environ.get("SVHNX_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "svhnx" / "synth"


def save_atlas(atlas: GlyphAtlas, path: str | os.PathLike[str], *, compress: bool = False) -> None:
    """Write ``atlas`` (atomically) as :func:`read_atlas` reads it; ``compress`` makes a file about a
    third the size, slower to read: one to carry to another machine."""
    write = np.savez_compressed if compress else np.savez
    with atomic_path(Path(path)) as tmp:
        with open(tmp, "wb") as f:
            write(f, fields=atlas.fields, labels=atlas.labels, styles=atlas.styles, ink=atlas.ink,
                  scales=atlas.scales, style_names=np.asarray(atlas.style_names), style_weights=atlas.style_weights)


def read_atlas(path: str | os.PathLike[str]) -> GlyphAtlas:
    """A saved atlas: one of :func:`load_atlas`'s cache files (``atlas-*.npz``) or :func:`save_atlas`'s,
    e.g. built on another machine with its fonts, so that a run draws the same glyphs wherever it trains.

    The file is untrusted (:func:`svhnx.data.npz.read_npz`: bounded, no pickles, each array's kind
    and rank); a file that is not an atlas raises ValueError, and the generator checks the values.
    """
    arrays = read_npz(path, ATLAS_ARRAYS)
    return GlyphAtlas(fields=arrays["fields"], labels=arrays["labels"], styles=arrays["styles"], ink=arrays["ink"],
                      scales=arrays["scales"], style_names=tuple(str(name) for name in arrays["style_names"].tolist()),
                      style_weights=arrays["style_weights"])


def load_atlas(mnist_root: str | os.PathLike[str] | None = None, *, cache_dir: str | os.PathLike[str] | None = None,
               mnist_per_class: int = 200, system_fonts: bool | None = None) -> GlyphAtlas:
    """The default atlas: matplotlib's TrueType faces, the system's fonts (``system_fonts``, when
    any are installed; by default unless ``$SVHNX_SYSTEM_FONTS`` is ``0``), OpenCV's fonts, and
    MNIST if ``mnist_root`` is given.

    ``mnist_root`` is a folder with MNIST training files (e.g. ``$SVHNX_DATA/mnist``); a folder without
    them raises FileNotFoundError. The atlas is cached in ``cache_dir`` (default
    :func:`default_cache_dir`), keyed by its sources, and rebuilt when they change.
    """
    if system_fonts is None:
        system_fonts = os.environ.get(SYSTEM_FONTS_ENV, "1") != "0"
    fonts = system_font_files() if system_fonts else []
    sources = f"v{ATLAS_VERSION}|{CELL}|{DIGIT_HEIGHT}|{FAMILY_WEIGHTS}|{cv2.__version__}|" + ",".join(
        f"{p}:{p.stat().st_size}" for p in fonts)
    if mnist_root is not None:
        mnist_root = Path(mnist_root).resolve()
        sources += f"|mnist:{mnist_root}:{mnist_per_class}"
    key = hashlib.sha1(sources.encode()).hexdigest()[:16]
    path = Path(cache_dir if cache_dir is not None else default_cache_dir()) / f"atlas-{key}.npz"
    if path.is_file():
        try:
            return read_atlas(path)
        except ValueError:
            pass  # a corrupt cache entry is rebuilt below
    sets = [*ttf_glyph_sets(), *system_glyph_sets(fonts), *opencv_glyph_sets()]
    if mnist_root is not None:
        sets += list(mnist_glyph_sets(mnist_root, per_class=mnist_per_class))
    atlas = build_atlas(sets)
    save_atlas(atlas, path)
    return atlas
