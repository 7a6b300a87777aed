"""Large synthetic photos of house fronts: the number small in the frame, other text around it.

SVHN-like scenes (:class:`svhnx.synth.SceneGenerator`) show the number filling much of the image.
A photo someone takes of a house is different: 600-2000 pixels on a side, a wall with a door,
windows, signs, an awning, words and letters near the number, and the number plate small in the
frame, seen at an angle. :class:`PhotoGenerator` draws such photos, each one a function of
``(seed, index)`` alone, with the boxes of the number's digits (the only thing a localizer should
find) and the boxes of the other text and plaques (distractors: words, letters beside the digits,
blank signs), so that training views can be cut around both.

Digits come from the glyph atlas (:mod:`svhnx.synth.atlas`, the recognizer's typefaces and MNIST
handwriting); words are set in matplotlib's bundled TrueType faces. Some photos have no number at
all (``number_fraction``): text and plaques only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import cv2
import matplotlib
import numpy as np
from matplotlib.ft2font import FT2Font

from svhnx.data.download import default_root
from svhnx.synth.atlas import DIGIT_HEIGHT, FIELD_SCALE, GlyphAtlas, load_atlas, read_atlas
from svhnx.synth.glyphs import CLUTTER_LABEL, TTF_FACES

SIDES = (600, 2000)  # long side of a photo, pixels
WORDS = (
    "OPEN", "CLOSED", "CAFE", "BAKERY", "PHARMACY", "HOTEL", "BAR", "PIZZA", "SALE", "WELCOME", "NO PARKING",
    "EXIT", "PRIVATE", "POST", "DELIVERIES", "BEWARE OF DOG", "KEEP OUT", "FOR RENT", "FOR SALE", "SHOP", "BOOKS",
    "FLOWERS", "LAUNDRY", "DENTIST", "SALON", "MARKET", "DELI", "TAXI", "BANK", "STREET", "AVENUE", "ROAD", "LANE",
    "Main St", "Oak Ave", "Park Rd", "Hill Lane", "Smith", "Johnson", "The Millers", "Welcome", "Open", "Office",
    "Reception", "Entrance", "Garage", "Mail", "Push", "Pull", "Quiet please", "Coffee", "Books & Gifts", "Apt",
    "Suite", "Unit", "Floor", "Rear", "Studio", "Gallery", "Tailor", "Bakery", "Florist", "Hair", "Nails",
)  # fmt: skip
LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZabcdefghkmnprstuvwxyz"


@dataclass(frozen=True)
class Photo:
    """One photo: ``image`` ``uint8 H x W x 3`` RGB; ``boxes`` ``float32 K x 4`` the number's
    digit boxes ``[left, top, width, height]`` in photo pixels, left to right (``K = 0``: no number);
    ``digits`` ``int64 K`` their values; ``distractors`` ``float32 M x 4`` boxes of other text and
    of plaques without a number (never part of the number)."""

    image: np.ndarray
    boxes: np.ndarray
    digits: np.ndarray
    distractors: np.ndarray

    @property
    def number(self) -> str:
        """The number as a string, ``""`` when the photo has none."""
        return "".join(str(int(d)) for d in self.digits)


class _Canvas:
    """A photo being drawn, and the boxes of what has been drawn on it."""

    def __init__(self, image: np.ndarray) -> None:
        self.image = image
        self.taken: list[tuple[float, float, float, float]] = []

    def free(self, box: tuple[float, float, float, float], pad: float) -> bool:
        """Whether ``box`` grown by ``pad`` lies inside the photo and clear of everything taken."""
        left, top, width, height = box
        h, w = self.image.shape[:2]
        if left < 0 or top < 0 or left + width > w or top + height > h:
            return False
        for l2, t2, w2, h2 in self.taken:
            if left - pad < l2 + w2 and l2 < left + width + pad and top - pad < t2 + h2 and t2 < top + height + pad:
                return False
        return True

    def paint(self, alpha: np.ndarray, colour: np.ndarray, left: int, top: int) -> None:
        """Blend ``colour`` into the photo through ``alpha`` (``float32 h x w`` in [0, 1]) at ``(left, top)``, clipped."""
        h, w = self.image.shape[:2]
        x0, y0 = max(left, 0), max(top, 0)
        x1, y1 = min(left + alpha.shape[1], w), min(top + alpha.shape[0], h)
        if x1 <= x0 or y1 <= y0:
            return
        a = alpha[y0 - top : y1 - top, x0 - left : x1 - left, None]
        region = self.image[y0:y1, x0:x1].astype(np.float32)
        self.image[y0:y1, x0:x1] = (region + a * (colour.astype(np.float32) - region)).astype(np.uint8)

    def mean_colour(self, box: tuple[float, float, float, float]) -> np.ndarray:
        left, top, width, height = (int(round(v)) for v in box)
        region = self.image[max(top, 0) : max(top + height, 1), max(left, 0) : max(left + width, 1)]
        return region.reshape(-1, 3).mean(axis=0) if region.size else np.full(3, 128.0)


class PhotoGenerator:
    """Draws :class:`Photo` s from a glyph atlas (digits) and matplotlib's TrueType faces (words).

    ``number_fraction`` of the photos have a number (the rest only other text); ``sides`` bounds
    the long side in pixels. ``photo(seed, index)`` depends only on its arguments.
    """

    def __init__(self, atlas: GlyphAtlas, *, number_fraction: float = 0.8, sides: tuple[int, int] = SIDES) -> None:
        if not 0.0 <= number_fraction <= 1.0:
            raise ValueError(f"number_fraction: expected a fraction in [0, 1], got {number_fraction}")
        if not 64 <= sides[0] <= sides[1]:
            raise ValueError(f"sides: expected 64 <= smallest <= largest, got {sides}")
        self.atlas = atlas
        self.number_fraction = number_fraction
        self.sides = (int(sides[0]), int(sides[1]))
        digits = atlas.labels >= 0
        complete = [s for s in np.unique(atlas.styles) if len(np.unique(atlas.labels[digits & (atlas.styles == s)])) == 10]
        if not complete:
            raise ValueError("atlas: no style has all ten digits")
        self._styles = np.array(complete)
        weights = atlas.style_weights[self._styles]
        self._style_weights = weights / weights.sum()

    def __reduce__(self) -> tuple:
        return (_rebuild, (self.atlas, self.number_fraction, self.sides))

    @classmethod
    def from_data(cls, root: str | os.PathLike[str] | None = None, *, atlas: str | os.PathLike[str] | None = None,
                  **options: Any) -> PhotoGenerator:
        """A generator with the default atlas (MNIST handwriting too when ``root/mnist`` has it), or
        the saved one ``atlas`` (:func:`svhnx.synth.atlas.read_atlas`)."""
        if atlas is not None:
            return cls(read_atlas(atlas), **options)
        mnist = (Path(root) if root is not None else default_root()) / "mnist"
        has_mnist = mnist.is_dir() and any(mnist.glob("train*-images-idx3-ubyte.gz"))
        return cls(load_atlas(mnist if has_mnist else None), **options)

    @cached_property
    def _fonts(self) -> list[FT2Font]:
        folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
        return [FT2Font(str(folder / f"{face}.ttf")) for face in TTF_FACES]

    def photos(self, count: int, *, seed: int, first: int = 0, with_number: bool | None = None) -> list[Photo]:
        """Photos ``first .. first + count - 1`` of the stream ``seed``."""
        return [self.photo(seed, first + i, with_number=with_number) for i in range(count)]

    def photo(self, seed: int, index: int, *, with_number: bool | None = None) -> Photo:
        """Photo ``index`` of the stream ``seed``; ``with_number`` forces a number in or out
        (``None``: drawn, with probability ``number_fraction``)."""
        rng = np.random.default_rng([seed, index, 0x9A07])
        has_number = rng.random() < self.number_fraction if with_number is None else with_number
        long_side = np.exp(rng.uniform(np.log(self.sides[0]), np.log(self.sides[1])))
        aspect = np.exp(rng.uniform(np.log(0.6), np.log(1.6)))  # height / width
        height, width = (round(long_side), round(long_side / aspect)) if aspect >= 1 else (round(long_side * aspect), round(long_side))
        canvas = _Canvas(_facade(rng, height, width))
        _structures(canvas, rng)
        short = min(height, width)
        boxes, digits = np.zeros((0, 4), np.float32), np.zeros(0, np.int64)
        distractors: list[tuple[float, float, float, float]] = []
        if has_number:
            boxes, digits, extra = self._number(canvas, rng, short)
            distractors += extra
        for _ in range(rng.integers(2, 8)):
            box = self._text_item(canvas, rng, short)
            if box is not None:
                distractors.append(box)
        image, (boxes, distractor_boxes) = _perspective(canvas.image, [boxes, np.array(distractors, np.float32).reshape(-1, 4)], rng)
        return Photo(_degrade(image, rng), boxes, digits, distractor_boxes)

    # -- the number ---------------------------------------------------------------------------
    def _glyph(self, index: int, height: float, weight: float) -> tuple[np.ndarray, np.ndarray]:
        """Atlas glyph ``index`` as ``(alpha float32, ink box [left, top, width, height] in alpha
        pixels)`` for a style whose median digit is ``height`` pixels tall; ``weight`` (cell
        pixels) thickens (> 0) or thins the strokes."""
        atlas = self.atlas
        k = height / DIGIT_HEIGHT / float(atlas.scales[index])
        left, top, w, h = atlas.ink[index]
        margin = 2 + max(weight, 0)
        x0, y0 = int(max(left - margin, 0)), int(max(top - margin, 0))
        x1 = int(min(np.ceil(left + w + margin), atlas.fields.shape[2]))
        y1 = int(min(np.ceil(top + h + margin), atlas.fields.shape[1]))
        cell = atlas.fields[index, y0:y1, x0:x1].astype(np.float32)
        size = (max(1, round((x1 - x0) * k)), max(1, round((y1 - y0) * k)))
        field = cv2.resize(cell, size, interpolation=cv2.INTER_LINEAR)
        alpha = np.clip(((field - 128.0) / FIELD_SCALE + weight) * k + 0.5, 0.0, 1.0)
        ink = np.array([left - x0 - weight, top - y0 - weight, w + 2 * weight, h + 2 * weight], np.float32) * k
        return alpha, ink

    def _number(
        self, canvas: _Canvas, rng: np.random.Generator, short: int
    ) -> tuple[np.ndarray, np.ndarray, list[tuple[float, float, float, float]]]:
        """Draw the number (on a plate or on the wall, maybe with a letter after it and a word
        above or below): its digit boxes, digits, and the boxes of the text drawn beside it."""
        atlas = self.atlas
        style = self._styles[rng.choice(len(self._styles), p=self._style_weights)]
        length = int(rng.choice([1, 2, 3, 4, 5], p=[0.1, 0.33, 0.35, 0.16, 0.06]))
        digits = rng.integers(0, 10, size=length)
        digits[0] = rng.integers(1, 10) if length > 1 else digits[0]
        height = short * np.exp(rng.uniform(np.log(0.025), np.log(0.12)))
        weight = rng.uniform(-0.8, 1.5)
        in_style = atlas.styles == style
        glyphs = [self._glyph(int(rng.choice(np.flatnonzero(in_style & (atlas.labels == d)))), height, weight) for d in digits]
        clutter = np.flatnonzero(in_style & (atlas.labels == CLUTTER_LABEL))
        suffix = self._glyph(int(rng.choice(clutter)), height, weight) if len(clutter) and rng.random() < 0.2 else None
        gap = height * rng.uniform(0.05, 0.35)
        # lay the glyphs out on a baseline at x = 0 (ink bottoms aligned)
        placed, x = [], 0.0
        for alpha, ink in glyphs + ([suffix] if suffix is not None else []):
            placed.append((alpha, ink, x - ink[0], -ink[1] - ink[3]))
            x += ink[2] + gap
        text_w = x - gap
        word = self._word_alpha(rng, height * rng.uniform(0.35, 0.8)) if rng.random() < 0.25 else None
        pad = height * rng.uniform(0.15, 0.6)
        if word is not None and word.shape[1] + 2 * pad > 0.9 * canvas.image.shape[1]:
            word = None  # too wide for the photo
        word_h = 0.0 if word is None else word.shape[0] + pad * 0.5
        plate_w = max(text_w, 0 if word is None else word.shape[1]) + 2 * pad
        plate_h = height + word_h + 2 * pad
        on_plate = rng.random() < 0.7
        for _ in range(40):
            left = rng.uniform(0.05, 0.95) * canvas.image.shape[1] - plate_w / 2
            top = rng.uniform(0.08, 0.85) * canvas.image.shape[0]
            if canvas.free((left, top, plate_w, plate_h), height * 0.3):
                break
        else:
            left, top = (canvas.image.shape[1] - plate_w) / 2, (canvas.image.shape[0] - plate_h) / 2
        canvas.taken.append((left, top, plate_w, plate_h))
        background = canvas.mean_colour((left, top, plate_w, plate_h))
        if on_plate:
            background = _colour(rng)
            _plate(canvas, rng, (left, top, plate_w, plate_h), background)
        ink_colour = _contrasting(rng, background)
        word_above = rng.random() < 0.5
        text_top = top + pad + (word_h if word_above else 0.0)
        text_left = left + (plate_w - text_w) / 2
        boxes: list[tuple[float, float, float, float]] = []
        extra: list[tuple[float, float, float, float]] = []
        for i, (alpha, ink, dx, dy) in enumerate(placed):
            x0, y0 = round(text_left + dx), round(text_top + height + dy)
            canvas.paint(alpha, ink_colour, x0, y0)
            box = (x0 + float(ink[0]), y0 + float(ink[1]), float(ink[2]), float(ink[3]))
            (boxes if i < length else extra).append(box)
        if word is not None:
            wx = round(left + (plate_w - word.shape[1]) / 2)
            wy = round(top + pad if word_above else top + pad + height + pad * 0.5)
            canvas.paint(word, ink_colour, wx, wy)
            extra.append((float(wx), float(wy), float(word.shape[1]), float(word.shape[0])))
        return np.array(boxes, np.float32), digits.astype(np.int64), extra

    # -- other text ---------------------------------------------------------------------------
    def _word_alpha(self, rng: np.random.Generator, height: float) -> np.ndarray:
        """A word or a few letters, ink cropped, about ``height`` pixels tall (capitals), as alpha."""
        text = str(rng.choice(WORDS)) if rng.random() < 0.75 else "".join(rng.choice(list(LETTERS), size=rng.integers(1, 4)))
        font = self._fonts[rng.integers(len(self._fonts))]
        font.set_size(max(height, 4.0) * 1.4, 72)
        font.set_text(text)
        font.draw_glyphs_to_bitmap(antialiased=True)
        ink = np.asarray(font.get_image()).astype(np.float32) / 255.0
        rows, cols = np.flatnonzero(ink.max(axis=1) > 0.3), np.flatnonzero(ink.max(axis=0) > 0.3)
        if not len(rows):
            return np.zeros((1, 1), np.float32)
        return np.ascontiguousarray(ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1])

    def _text_item(self, canvas: _Canvas, rng: np.random.Generator, short: int) -> tuple[float, float, float, float] | None:
        """Draw a word on the wall or on a sign (or a blank plaque); its box, or ``None`` if it did not fit."""
        height = short * np.exp(rng.uniform(np.log(0.02), np.log(0.12)))
        blank = rng.random() < 0.15
        word = np.zeros((round(height), round(height * rng.uniform(1, 4))), np.float32) if blank else self._word_alpha(rng, height)
        sign = blank or rng.random() < 0.5
        pad = height * rng.uniform(0.2, 0.6) if sign else 0.0
        box = (0.0, 0.0, word.shape[1] + 2 * pad, word.shape[0] + 2 * pad)
        if box[2] >= canvas.image.shape[1] or box[3] >= canvas.image.shape[0]:
            return None
        for _ in range(20):
            box = (rng.uniform(0, canvas.image.shape[1] - box[2]), rng.uniform(0, canvas.image.shape[0] - box[3]), box[2], box[3])
            if canvas.free(box, height * 0.3):
                break
        else:
            return None
        canvas.taken.append(box)
        background = canvas.mean_colour(box)
        if sign:
            background = _colour(rng)
            _plate(canvas, rng, box, background)
        if not blank:
            canvas.paint(word, _contrasting(rng, background), round(box[0] + pad), round(box[1] + pad))
        return box


def _rebuild(atlas: GlyphAtlas, number_fraction: float, sides: tuple[int, int]) -> PhotoGenerator:
    return PhotoGenerator(atlas, number_fraction=number_fraction, sides=sides)


# -- drawing helpers ---------------------------------------------------------------------------
def _colour(rng: np.random.Generator) -> np.ndarray:
    """A random paint colour (RGB floats), from dark to light, often muted."""
    base = rng.uniform(0, 255, size=3)
    grey = base.mean()
    return grey + (base - grey) * rng.uniform(0.1, 1.0)


def _contrasting(rng: np.random.Generator, background: np.ndarray) -> np.ndarray:
    """A colour whose brightness differs from ``background`` by at least 70 grey levels."""
    level = float(np.mean(background))
    target = rng.uniform(0, max(level - 70, 0)) if level > 127 else rng.uniform(min(level + 70, 255), 255)
    tint = rng.normal(0, 25, size=3)
    return np.clip(target + tint, 0, 255)


def _facade(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A wall: a paint colour with low-frequency shading and plaster grain, and maybe siding or bricks."""
    colour = _colour(rng).astype(np.float32)
    small = (height // 4 + 1, width // 4 + 1)  # shading and grain are drawn at a quarter of the size
    shade = rng.normal(1.0, 0.08, size=(4, 4)).astype(np.float32)
    light = cv2.resize(shade, small[::-1], interpolation=cv2.INTER_CUBIC).astype(np.float32, copy=False)  # float32 already: no copy
    light += rng.normal(0, rng.uniform(2, 8), size=small).astype(np.float32) / max(float(colour.mean()), 16.0)
    image = np.clip(light[..., None] * colour, 0, 255).astype(np.uint8)
    image = cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)
    kind = rng.integers(3)
    line_colour = tuple(float(c) for c in np.clip(colour * rng.uniform(0.6, 0.9), 0, 255))
    spacing = max(6, int(min(height, width) * rng.uniform(0.01, 0.04)))
    if kind == 0:  # horizontal siding
        for y in range(int(rng.integers(spacing)), height, spacing):
            cv2.line(image, (0, y), (width, y), line_colour, max(1, spacing // 8))
    elif kind == 1:  # bricks
        brick = 2 * spacing
        for row, y in enumerate(range(0, height, spacing)):
            cv2.line(image, (0, y), (width, y), line_colour, max(1, spacing // 6))
            for x in range((row % 2) * brick // 2, width, brick):
                cv2.line(image, (x, y), (x, y + spacing), line_colour, max(1, spacing // 6))
    return image


def _plate(canvas: _Canvas, rng: np.random.Generator, box: tuple[float, float, float, float], colour: np.ndarray) -> None:
    """A plaque or sign: a filled rectangle, often with a border."""
    left, top, width, height = box
    p0, p1 = (round(left), round(top)), (round(left + width), round(top + height))
    cv2.rectangle(canvas.image, p0, p1, tuple(float(c) for c in colour), -1)
    if rng.random() < 0.6:
        border = max(1, round(min(width, height) * rng.uniform(0.02, 0.08)))
        cv2.rectangle(canvas.image, p0, p1, tuple(float(c) for c in _colour(rng)), border)


def _structures(canvas: _Canvas, rng: np.random.Generator) -> None:
    """A door, windows and maybe an awning: large shapes, not text (nothing is reserved for them)."""
    image = canvas.image
    height, width = image.shape[:2]
    for _ in range(rng.integers(0, 5)):  # windows: dark panes in a frame, with glazing bars
        w, h = width * rng.uniform(0.1, 0.3), height * rng.uniform(0.12, 0.35)
        x, y = rng.uniform(0, width - w), rng.uniform(0, height - h)
        frame = max(2, round(min(w, h) * 0.06))
        cv2.rectangle(image, (round(x), round(y)), (round(x + w), round(y + h)), tuple(float(c) for c in _colour(rng)), -1)
        pane = tuple(float(c) for c in rng.uniform(10, 90, size=3))
        cv2.rectangle(image, (round(x) + frame, round(y) + frame), (round(x + w) - frame, round(y + h) - frame), pane, -1)
        cv2.line(image, (round(x + w / 2), round(y)), (round(x + w / 2), round(y + h)), (200.0, 200.0, 200.0), max(1, frame // 2))
    if rng.random() < 0.8:  # a door reaching the bottom, with panels
        w, h = width * rng.uniform(0.12, 0.3), height * rng.uniform(0.35, 0.75)
        x = rng.uniform(0, width - w)
        colour = _colour(rng)
        cv2.rectangle(image, (round(x), round(height - h)), (round(x + w), height), tuple(float(c) for c in colour), -1)
        dark = tuple(float(c) for c in colour * 0.7)
        for k in range(2):
            py = height - h + h * (0.1 + 0.45 * k)
            cv2.rectangle(image, (round(x + w * 0.15), round(py)), (round(x + w * 0.85), round(py + h * 0.35)), dark, max(1, round(w * 0.02)))
        cv2.circle(image, (round(x + w * 0.85), round(height - h * 0.5)), max(2, round(w * 0.04)), (200.0, 180.0, 90.0), -1)
    if rng.random() < 0.3:  # a striped awning across the top
        h = height * rng.uniform(0.06, 0.15)
        stripe = max(4, round(width * rng.uniform(0.02, 0.06)))
        a, b = (tuple(float(c) for c in _colour(rng)) for _ in range(2))
        for i, x in enumerate(range(0, width, stripe)):
            cv2.rectangle(image, (x, 0), (x + stripe, round(h)), a if i % 2 else b, -1)


def _perspective(image: np.ndarray, box_sets: list[np.ndarray], rng: np.random.Generator) -> tuple[np.ndarray, list[np.ndarray]]:
    """Look at the wall from an angle: a random homography (corners moved by up to 12% of the
    side), edges replicated; each set of boxes is mapped to the axis-aligned boxes of its
    corners' images, clipped to the photo."""
    height, width = image.shape[:2]
    src = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    strength = rng.uniform(0.0, 0.12)
    dst = src + (rng.uniform(-1, 1, size=(4, 2)) * strength * np.array([width, height])).astype(np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(image, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    mapped = []
    for boxes in box_sets:
        if not len(boxes):
            mapped.append(np.zeros((0, 4), np.float32))
            continue
        x, y, w, h = boxes.astype(np.float64).T
        corners = np.stack([np.stack([x, y], 1), np.stack([x + w, y], 1), np.stack([x + w, y + h], 1), np.stack([x, y + h], 1)], 1)
        points = cv2.perspectiveTransform(corners.reshape(-1, 1, 2), matrix).reshape(-1, 4, 2)
        lo = np.clip(points.min(axis=1), 0, [width, height])
        hi = np.clip(points.max(axis=1), 0, [width, height])
        mapped.append(np.concatenate([lo, hi - lo], axis=1).astype(np.float32))
    return warped, mapped


def _degrade(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Light falling across the photo, sensor noise, camera blur and JPEG compression."""
    height, width = image.shape[:2]
    light = rng.uniform(0.7, 1.15) * (1.0 + rng.uniform(-0.15, 0.15, size=(2, 2))).astype(np.float32)
    gain = cv2.resize(light, (width, height), interpolation=cv2.INTER_LINEAR)
    noise = rng.standard_normal((height // 2 + 1, width // 2 + 1), dtype=np.float32) * rng.uniform(0.5, 6)
    offset = cv2.resize(noise, (width, height), interpolation=cv2.INTER_LINEAR)
    out = image.astype(np.float32)
    out *= gain[..., None]
    out += offset[..., None]
    degraded: np.ndarray = np.clip(out, 0, 255, out=out).astype(np.uint8)
    sigma = rng.uniform(0.0, 1.5) * max(height, width) / 1000
    if sigma > 0.3:
        degraded = cv2.GaussianBlur(degraded, (0, 0), sigma)
    if rng.random() < 0.5:
        ok, encoded = cv2.imencode(".jpg", degraded, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(40, 95))])
        decoded = cv2.imdecode(encoded, cv2.IMREAD_UNCHANGED) if ok else None
        if decoded is not None:
            degraded = decoded
    return degraded
