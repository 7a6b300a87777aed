"""Glyph sources: high-resolution binary masks of digits (and a few clutter characters) in many styles.

Four sources, all local: the TrueType fonts that ship inside matplotlib (DejaVu, STIX and Computer
Modern, in their weights and italics), the fonts installed on the system when there are any (for
example Debian's ``fonts-*`` packages), OpenCV's fonts (Hershey strokes, or the embedded fonts of
OpenCV 5), and MNIST handwriting when its files are available. Each yields :class:`GlyphSet`s, one per typeface (or, for MNIST, one per writer
pool), whose masks :mod:`svhnx.synth.atlas` turns into the generator's distance-field atlas.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import matplotlib
import numpy as np
from matplotlib.ft2font import FT2Font

DIGITS = "0123456789"
# Characters that appear next to house numbers (suffix letters, separators); drawn as clutter only.
CLUTTER = "ABCDEabcd-/#"
CLUTTER_LABEL = -1

# matplotlib's bundled TrueType faces whose digits are ordinary lining figures.
TTF_FACES = (
    "DejaVuSans", "DejaVuSans-Bold", "DejaVuSans-Oblique", "DejaVuSans-BoldOblique",
    "DejaVuSansMono", "DejaVuSansMono-Bold", "DejaVuSansMono-Oblique", "DejaVuSansMono-BoldOblique",
    "DejaVuSerif", "DejaVuSerif-Bold", "DejaVuSerif-Italic", "DejaVuSerif-BoldItalic",
    "STIXGeneral", "STIXGeneralBol", "STIXGeneralItalic", "STIXGeneralBolIta",
    "cmr10", "cmb10", "cmss10", "cmtt10", "cmti10",
)  # fmt: skip

# OpenCV's own fonts. OpenCV 4 draws the Hershey stroke fonts; OpenCV 5 replaced them with embedded
# outline fonts ("sans" and "italic" with a variable weight axis, and "uni").
HERSHEY_FACES = {
    "simplex": cv2.FONT_HERSHEY_SIMPLEX,
    "plain": cv2.FONT_HERSHEY_PLAIN,
    "duplex": cv2.FONT_HERSHEY_DUPLEX,
    "complex": cv2.FONT_HERSHEY_COMPLEX,
    "triplex": cv2.FONT_HERSHEY_TRIPLEX,
    "complex-small": cv2.FONT_HERSHEY_COMPLEX_SMALL,
    "script-simplex": cv2.FONT_HERSHEY_SCRIPT_SIMPLEX,
    "script-complex": cv2.FONT_HERSHEY_SCRIPT_COMPLEX,
}
EMBEDDED_FACES = {"sans": (300, 500, 700, 900), "italic": (300, 500, 700, 900), "uni": (400,)}

RENDER_HEIGHT = 200  # approximate digit height, in pixels, of the high-resolution masks
# Where installed fonts live on Linux; Debian's fonts-* packages put theirs under /usr/share/fonts.
SYSTEM_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts")
MAX_SYSTEM_FONTS = 400
MIN_STROKE = 0.07  # thinnest stroke kept, per digit height (matplotlib's and OpenCV's faces are 0.12 or more)
DIGIT_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
FT_FACE_FLAG_GLYPH_NAMES = 1 << 9  # FreeType: the face names its glyphs (else the names are made up from indices)


@dataclass(frozen=True)
class GlyphSet:
    """The glyphs of one style: binary ``uint8`` masks (ink = 1) with their labels (0-9, or -1 clutter)."""

    name: str
    family: str  # "ttf", "opencv" or "mnist": the generator weighs families, then styles within
    masks: list[np.ndarray]
    labels: list[int]


def _ttf_mask(font: FT2Font, char: str) -> np.ndarray:
    font.set_text(char)
    font.draw_glyphs_to_bitmap(antialiased=True)
    return (np.asarray(font.get_image()) >= 128).astype(np.uint8)


def ttf_glyph_sets(faces: tuple[str, ...] = TTF_FACES) -> Iterator[GlyphSet]:
    """Digits and clutter characters of matplotlib's bundled TrueType faces."""
    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    for face in faces:
        path = folder / f"{face}.ttf"
        if not path.is_file():
            raise FileNotFoundError(f"font {face!r} not found at {path} (matplotlib's bundled fonts)")
        font = FT2Font(str(path))
        font.set_size(RENDER_HEIGHT * 1.4, 72)  # digits are about 0.72 em tall
        chars = DIGITS + CLUTTER
        yield GlyphSet(f"ttf:{face}", "ttf", [_ttf_mask(font, c) for c in chars],
                       [int(c) if c.isdigit() else CLUTTER_LABEL for c in chars])


def system_font_files(folders: tuple[str, ...] = SYSTEM_FONT_DIRS, limit: int = MAX_SYSTEM_FONTS) -> list[Path]:
    """TrueType/OpenType files installed on the system (e.g. Debian's ``fonts-*`` packages), sorted,
    without the faces matplotlib already ships; at most ``limit``. Empty when there are none."""
    bundled = {face.lower() for face in TTF_FACES}
    files = {p for folder in folders for p in Path(os.path.expanduser(folder)).rglob("*")
             if p.suffix.lower() in (".ttf", ".otf") and p.stem.lower() not in bundled and p.is_file()}
    return sorted(files)[:limit]


def stroke_width(masks: list[np.ndarray]) -> float:
    """The median over ``masks`` of the widest stroke (twice the largest inscribed radius) per digit height."""
    widths = [2 * cv2.distanceTransform(m, cv2.DIST_L2, 5).max() / (np.ptp(np.nonzero(m)[0]) + 1) for m in masks]
    return float(np.median(widths))


def digits_named_otherwise(font: FT2Font) -> bool:
    """True when ``font`` names its glyphs and a digit's glyph is not named as that digit
    (``zero``, ``oneoldstyle``, ``two.lf``, ``uni0033``): a symbol font that puts ornaments at the
    digits' code points, as URW's Dingbats (``D050000L``) puts check marks and crosses there."""
    face_flags: Any = font.face_flags  # a FaceFlags since matplotlib 3.10, an int before
    flags = int(getattr(face_flags, "value", face_flags))
    if not flags & FT_FACE_FLAG_GLYPH_NAMES:
        return False
    for digit, word in zip(DIGITS, DIGIT_NAMES):
        name = font.get_glyph_name(font.get_char_index(ord(digit)))
        if not name.startswith(word) and name.split(".")[0] not in (f"uni{ord(digit):04X}", f"u{ord(digit):04X}"):
            return True
    return False


def system_glyph_sets(files: list[Path] | None = None) -> Iterator[GlyphSet]:
    """Digits and clutter characters of the system's fonts (:func:`system_font_files`); a font
    without all ten digits, that FreeType cannot read, whose digits are named as something else
    (:func:`digits_named_otherwise`), or with hairline strokes (thinner than :data:`MIN_STROKE` of
    the digit height, which vanish at house-number resolution) is skipped."""
    chars = DIGITS + CLUTTER
    for path in system_font_files() if files is None else files:
        try:
            font = FT2Font(str(path))
            if any(font.get_char_index(ord(c)) == 0 for c in DIGITS) or digits_named_otherwise(font):
                continue
            font.set_size(RENDER_HEIGHT * 1.4, 72)
            masks = [_ttf_mask(font, c) if font.get_char_index(ord(c)) else None for c in chars]
        except (RuntimeError, OSError, ValueError):
            continue
        digit_masks = [m for m in masks[: len(DIGITS)] if m is not None and m.any()]
        if len(digit_masks) < len(DIGITS) or stroke_width(digit_masks) < MIN_STROKE:
            continue
        kept = [(m, int(c) if c.isdigit() else CLUTTER_LABEL) for m, c in zip(masks, chars) if m is not None and m.any()]
        yield GlyphSet(f"system:{path.stem}", "system", [m for m, _ in kept], [label for _, label in kept])


def _hershey_mask(char: str, face: int, thickness: int) -> np.ndarray:
    scale = cv2.getFontScaleFromHeight(face, RENDER_HEIGHT, thickness)
    (w, h), base = cv2.getTextSize(char, face, scale, thickness)
    pad = 2 * thickness + 8
    canvas = np.zeros((h + base + 2 * pad, w + 2 * pad), np.uint8)
    cv2.putText(canvas, char, (pad, pad + h), face, scale, 1, thickness, cv2.LINE_8)
    return canvas


def _embedded_mask(char: str, face: cv2.FontFace, weight: int) -> np.ndarray:
    size = RENDER_HEIGHT * 3 // 2
    canvas = np.zeros((2 * size, 2 * size), np.uint8)
    cv2.putText(canvas, char, (size // 2, 3 * size // 2), 255, face, size, weight)
    return (canvas >= 128).astype(np.uint8)


def opencv_glyph_sets() -> Iterator[GlyphSet]:
    """Digits and clutter characters of OpenCV's fonts: Hershey (OpenCV 4) or embedded (OpenCV 5)."""
    chars = DIGITS + CLUTTER
    labels = [int(c) if c.isdigit() else CLUTTER_LABEL for c in chars]
    if hasattr(cv2, "FontFace"):
        for name, weights in EMBEDDED_FACES.items():
            face = cv2.FontFace(name)
            for weight in weights:
                yield GlyphSet(f"opencv:{name}-{weight}", "opencv", [_embedded_mask(c, face, weight) for c in chars], labels)
        return
    thickness = max(2, RENDER_HEIGHT // 25)  # strokes about 5% of the digit height
    for name, code in HERSHEY_FACES.items():
        for italic in (False, True):
            flags = code | (cv2.FONT_ITALIC if italic else 0)
            yield GlyphSet(f"opencv:hershey-{name}{'-italic' if italic else ''}", "opencv",
                           [_hershey_mask(c, flags, thickness) for c in chars], labels)


def _read_idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(shape)


def mnist_glyph_sets(folder: str | os.PathLike[str], per_class: int = 200, seed: int = 0) -> Iterator[GlyphSet]:
    """Handwritten digits from the MNIST training files in ``folder`` (``per_class`` of each digit).

    Reads ``train10k-*`` (the shared sample) or the official ``train-*`` files, whichever is there.
    """
    folder = Path(folder)
    for prefix in ("train10k", "train"):
        images, labels = folder / f"{prefix}-images-idx3-ubyte.gz", folder / f"{prefix}-labels-idx1-ubyte.gz"
        if images.is_file() and labels.is_file():
            break
    else:
        raise FileNotFoundError(f"MNIST training files not found in {folder}")
    pixels, classes = _read_idx(images), _read_idx(labels)
    rng = np.random.default_rng(seed)
    picked = np.concatenate([rng.permutation(np.flatnonzero(classes == d))[:per_class] for d in range(10)])
    scale = RENDER_HEIGHT / 20  # MNIST digits are about 20 pixels tall
    masks = []
    for i in picked:
        big = cv2.resize(pixels[i], None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        masks.append((big >= 128).astype(np.uint8))
    yield GlyphSet("mnist", "mnist", masks, classes[picked].astype(int).tolist())
