"""From a photo to candidate number boxes: run the U-Net localizer (at several scales for large
photos), fuse the probability maps, and turn the mask into scored boxes by connected components;
then, optionally, look at each candidate again up close (:func:`refine`): a 64 x 64 view around it
at the photo's full resolution gives a tighter box, the length head's answer, and a second opinion
that drops candidates the close look does not confirm.

Boxes are ``[left, top, width, height]`` in pixels of the photo, as everywhere in svhnx (:mod:`svhnx.ops`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import torch
from torch import nn

from svhnx.hardware import autocast_for, resolve_precision
from svhnx.ops.boxes import square_windows
from svhnx.ops.crop_rule import CROP_SIDE

#: Long side, in pixels, of the resized photo at each scale :func:`localize` looks at. The localizer
#: is trained on 64 x 64 images; larger scales find numbers that are small in a large photo. 448
#: since rule scales448 (docs/localizer-experiments.md; 320 since rule scales320, 256 before): 4.2
#: points more house fronts read right than at 320, within the 0.10 s a photo of issue #15 in float32.
DEFAULT_SCALES = (64, 128, 448)
#: The whole-photo reader's first pass (:class:`svhnx.inference.reader.Reader`, ``scales``) and its
#: retry, a second first pass made only when the first reads no number (``retry_scales``): since
#: rule early448 the finest scale is the retry. Alone it reads more small numbers than beside the
#: coarse looks' candidates, and a photo whose number the coarse looks read skips it, the costliest
#: look of a read.
READER_SCALES = DEFAULT_SCALES[:-1]
DEFAULT_RETRY_SCALES: tuple[int, ...] = DEFAULT_SCALES[-1:]
MULTIPLE = 16
#: :func:`mask_to_boxes` drops components smaller than a fraction of a map of at most this long
#: side; a larger map (a first pass with a scale above it) keeps that floor in pixels, so that a
#: larger scale finds smaller numbers instead of raising the floor with it.
MIN_AREA_SIDE = 256
#: Photos are padded to a multiple of the localizer's ``multiple`` attribute, or of this for a model
#: without one (an ONNX backend): 32 serves every U-Net of :mod:`svhnx.models.unet` (16 or 32).
UNKNOWN_MULTIPLE = 32
#: :func:`refine` looks at a candidate through a square window this many times its larger side.
REFINE_CONTEXT = 2.0
#: A close look joins the mask components about as tall as its best one, within this factor: the
#: digits of one number share a height, the letters and edges beside them mostly do not.
SAME_HEIGHT = 1.5
#: Side of the close-up views, pixels: that of the localizer's training views, which are SVHN-sized
#: crops (:data:`svhnx.data.localizer_views.VIEW_SIZE`, the crop rule's side).
REFINE_SIZE = CROP_SIDE
#: A photo looked at once (smaller than the second scale) is padded to at least this many pixels a
#: side: the localizer trained on 64 x 64 views, a small photo placed in them with its edges repeated,
#: and finds nothing in a smaller input (a 31 x 101 photo, shrunk to 20 x 64 and padded only to
#: 32 x 64, gave no candidate). With several scales the finer ones find what the 64 px one misses,
#: and padding that one cost right readings on large photos (docs/whole-photo-reader.md, *Small photos*).
MIN_INPUT_SIDE = REFINE_SIZE
#: Close looks per candidate: each looks through a window around the box the one before found, so a
#: loose first-pass box, seen small in its first window, is seen larger and tightened again in the
#: second (docs/whole-photo-reader.md, *Two close looks*).
REFINE_PASSES = 2
#: :class:`CloseLooks` reads each candidate of a mask through a square window this many times its
#: larger side, and takes this many looks (rule closer, docs/localizer-experiments.md).
MASK_CONTEXT = 1.25
MASK_PASSES = 2
#: ... and looks again at no more than this many candidates of a view.
MASK_CANDIDATES = 3


@dataclass(frozen=True)
class Candidate:
    """A place that likely holds a number: its box in photo pixels and a score in [0, 1] (the
    mean mask probability over the component)."""

    box: tuple[float, float, float, float]
    score: float


@dataclass(frozen=True)
class Refined:
    """A candidate after the close look: the tighter box and its score, and the number of digits
    the localizer's length head sees there (``None`` without a length head)."""

    candidate: Candidate
    length: int | None


def as_rgb(image: np.ndarray, name: str = "image") -> np.ndarray:
    """A ``uint8`` ``H x W x 3`` RGB image from an ``H x W`` or ``H x W x C`` one (C = 1, 3 or 4;
    grey is repeated, alpha is dropped)."""
    if not isinstance(image, np.ndarray):
        raise TypeError(f"{name}: expected a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise TypeError(f"{name}: expected dtype uint8, got {image.dtype}")
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in (1, 3, 4):
        raise ValueError(f"{name}: expected H x W or H x W x C with C = 1, 3 or 4, got shape {image.shape}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"{name}: image is empty, shape {image.shape}")
    if image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    return np.ascontiguousarray(image[:, :, :3])


def pad_to_multiple(image: np.ndarray, multiple: int = MULTIPLE, min_side: int = 0) -> np.ndarray:
    """Pad an ``H x W x C`` image at the bottom and right, repeating the edge pixels, so both
    sides are multiples of ``multiple`` (what a fully convolutional U-Net needs) and at least
    ``min_side`` pixels."""
    if multiple <= 0:
        raise ValueError(f"multiple: expected a positive size, got {multiple}")
    if min_side < 0:
        raise ValueError(f"min_side: expected a size of at least 0, got {min_side}")
    height, width = image.shape[:2]
    bottom = max(height, min_side) - height
    right = max(width, min_side) - width
    bottom += -(height + bottom) % multiple
    right += -(width + right) % multiple
    if not bottom and not right:
        return image
    padded = cv2.copyMakeBorder(image, 0, bottom, 0, right, cv2.BORDER_REPLICATE)
    return padded.reshape(height + bottom, width + right, *image.shape[2:])


def check_scales(scales: Sequence[int]) -> tuple[int, ...]:
    """``scales`` (long sides in pixels) sorted and without repeats; :class:`ValueError` when there
    are none or one is under :data:`MULTIPLE` pixels."""
    if not scales or any(int(s) < MULTIPLE for s in scales):
        raise ValueError(f"scales: expected long sides of at least {MULTIPLE} pixels, got {tuple(scales)}")
    return tuple(sorted({int(s) for s in scales}))


def fitting_scales(scales: Sequence[int], long_side: int) -> tuple[int, ...]:
    """Those of ``scales`` no longer than ``long_side``: the looks that do not enlarge a photo."""
    return tuple(s for s in scales if s <= long_side)


def scale_sizes(height: int, width: int, scales: Sequence[int] = DEFAULT_SCALES) -> list[tuple[int, int]]:
    """``(height, width)`` of the photo resized to each long side in ``scales``, aspect kept.

    Scales larger than the photo are dropped (never upsample beyond the smallest scale), so a
    small photo or crop is looked at once, at the smallest scale.
    """
    ordered = check_scales(scales)
    long_side = max(height, width)
    kept = fitting_scales(ordered, long_side) or ordered[:1]
    return [(max(1, round(height * s / long_side)), max(1, round(width * s / long_side))) for s in kept]


@torch.inference_mode()
def run_localizer(model: nn.Module, images: torch.Tensor, precision: str = "auto") -> dict[str, Any]:
    """The localizer's outputs for ``uint8 N x H x W x 3`` images as ``float32`` tensors, computed
    in ``precision`` (bfloat16 by CPU autocast, about 3x faster than float32 where the CPU has
    AMX and 1.2x with AVX-512 BF16, probabilities within 0.06; a model that is not torch, such as an ONNX backend, ignores
    it; a model with bfloat16 weights always runs in bfloat16)."""
    with autocast_for(model, precision):
        out = model(images)
    return {key: value.float() for key, value in out.items()}


@torch.inference_mode()
def probability_map(
    model: nn.Module, image: np.ndarray, scales: Sequence[int] = DEFAULT_SCALES, *, precision: str = "auto"
) -> np.ndarray:
    """The localizer's number probability for the photo, fused over ``scales`` by the per-pixel
    maximum, at the resolution of the largest scale used (``float32``, aspect of the photo),
    computed in ``precision`` (one of :data:`svhnx.hardware.PRECISIONS`). The photo is shrunk once, to the
    largest scale; the smaller scales are shrunk from that (cheaper than from a large photo). A photo
    looked at once is padded to at least :data:`MIN_INPUT_SIDE` a side, as the training views were."""
    image = as_rgb(image)
    height, width = image.shape[:2]
    sizes = scale_sizes(height, width, scales)
    precision = resolve_precision(precision)
    multiple = int(getattr(model, "multiple", UNKNOWN_MULTIPLE))
    work_h, work_w = sizes[-1]
    largest = cv2.resize(image, (work_w, work_h), interpolation=cv2.INTER_AREA)
    min_side = MIN_INPUT_SIDE if len(sizes) == 1 else 0
    fused = np.zeros((work_h, work_w), dtype=np.float32)
    for h, w in sizes:
        resized = largest if (h, w) == (work_h, work_w) else cv2.resize(largest, (w, h), interpolation=cv2.INTER_AREA)
        batch = torch.from_numpy(np.ascontiguousarray(pad_to_multiple(resized, multiple, min_side)[None]))
        prob = torch.sigmoid(run_localizer(model, batch, precision)["mask"])[0, 0, :h, :w].numpy()
        if (h, w) != (work_h, work_w):
            prob = cv2.resize(prob, (work_w, work_h), interpolation=cv2.INTER_LINEAR)
        np.maximum(fused, prob, out=fused)
    return fused


def _merge_neighbours(boxes: list[list[float]], scores: list[float], areas: list[int]) -> tuple[list[list[float]], list[float]]:
    """Merge components side by side on one line (digits of one number whose masks do not touch):
    vertical overlap at least half the smaller height, horizontal gap at most half the taller one."""
    merged = True
    while merged:
        merged = False
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                (l1, t1, w1, h1), (l2, t2, w2, h2) = boxes[i], boxes[j]
                overlap = min(t1 + h1, t2 + h2) - max(t1, t2)
                gap = max(l1, l2) - min(l1 + w1, l2 + w2)
                if overlap >= 0.5 * min(h1, h2) and gap <= 0.5 * max(h1, h2):
                    left, top = min(l1, l2), min(t1, t2)
                    right, bottom = max(l1 + w1, l2 + w2), max(t1 + h1, t2 + h2)
                    total = areas[i] + areas[j]
                    scores[i] = (scores[i] * areas[i] + scores[j] * areas[j]) / total
                    boxes[i], areas[i] = [left, top, right - left, bottom - top], total
                    del boxes[j], scores[j], areas[j]
                    merged = True
                    break
            if merged:
                break
    return boxes, scores


def mask_to_boxes(
    probability: np.ndarray,
    *,
    threshold: float = 0.5,
    min_area: float = 0.001,
    max_candidates: int = 5,
    merge: bool = True,
) -> list[Candidate]:
    """Candidate boxes of a probability map (``H x W`` floats in [0, 1]), best first.

    Pixels above ``threshold`` are grouped into 8-connected components; components smaller than
    ``min_area`` (a fraction of the map, or of the map shrunk to a long side of
    :data:`MIN_AREA_SIDE` when it is larger, and never under 4 pixels) are noise and dropped; with
    ``merge``, components side by side on one line are joined (a number whose digit masks do not
    touch). Each candidate is scored by its mean probability. Boxes are in pixels of the map.
    """
    probability = np.asarray(probability, dtype=np.float32)
    if probability.ndim != 2:
        raise ValueError(f"probability: expected an H x W map, got shape {probability.shape}")
    if not 0 < threshold < 1:
        raise ValueError(f"threshold: expected a value in (0, 1), got {threshold}")
    count, labels, stats, _ = cv2.connectedComponentsWithStats((probability > threshold).astype(np.uint8), connectivity=8)
    shrink = min(1.0, MIN_AREA_SIDE / max(probability.shape)) ** 2
    smallest = max(4.0, min_area * probability.size * shrink)
    sums = np.bincount(labels.ravel(), weights=probability.ravel(), minlength=count)
    boxes, scores, areas = [], [], []
    for k in range(1, count):
        left, top, width, height, area = (int(v) for v in stats[k])
        if area < smallest:
            continue
        boxes.append([float(left), float(top), float(width), float(height)])
        scores.append(float(sums[k] / area))
        areas.append(area)
    if merge:
        boxes, scores = _merge_neighbours(boxes, scores, areas)
    order = np.argsort(scores, kind="stable")[::-1][:max_candidates]
    return [Candidate(tuple(boxes[i]), scores[i]) for i in order]


def localize(
    model: nn.Module,
    image: np.ndarray,
    *,
    scales: Sequence[int] = DEFAULT_SCALES,
    threshold: float = 0.5,
    max_candidates: int = 5,
    precision: str = "auto",
) -> list[Candidate]:
    """Candidate number boxes in ``image`` (``uint8`` ``H x W``, or ``H x W x C`` with C = 1, 3 or
    4), best first, in pixels of ``image``. ``model`` is a localizer in eval mode that takes
    ``uint8 N x H x W x 3`` images and returns ``{"mask": logits}`` (:class:`svhnx.models.unet.UNet`);
    ``precision`` is one of :data:`svhnx.hardware.PRECISIONS`."""
    image = as_rgb(image)
    probability = probability_map(model, image, scales, precision=precision)
    sy = image.shape[0] / probability.shape[0]
    sx = image.shape[1] / probability.shape[1]
    out = []
    for c in mask_to_boxes(probability, threshold=threshold, max_candidates=max_candidates):
        left, top, width, height = c.box
        out.append(Candidate((left * sx, top * sy, width * sx, height * sy), c.score))
    return out


def clip_box(box: Sequence[float], height: int, width: int) -> tuple[float, float, float, float] | None:
    """The part of ``box`` (``left, top, width, height``) inside a ``height x width`` photo, or
    ``None`` when nothing of it is."""
    left, top = max(box[0], 0.0), max(box[1], 0.0)
    right, bottom = min(box[0] + box[2], float(width)), min(box[1] + box[3], float(height))
    if right <= left or bottom <= top:
        return None
    return (left, top, right - left, bottom - top)


def window_pixels(window: np.ndarray, height: int, width: int) -> tuple[int, int, int, int, int, int, int]:
    """The pixels a square ``window`` (``left, top, side, side``) takes of a ``height`` x ``width``
    photo: ``(x0, y0, n, cx0, cy0, cx1, cy1)``, the whole-pixel window ``n`` wide at ``(x0, y0)`` and
    its part inside the photo, columns ``cx0:cx1`` and rows ``cy0:cy1`` (empty when it misses)."""
    left, top, side = (float(v) for v in window[:3])
    x0, y0, n = int(np.floor(left)), int(np.floor(top)), max(1, int(round(side)))
    return x0, y0, n, max(x0, 0), max(y0, 0), min(x0 + n, width), min(y0 + n, height)


def window_views(image: np.ndarray, windows: np.ndarray, size: int = REFINE_SIZE) -> np.ndarray:
    """The square ``windows`` (``N x 4``, whole pixels taken, each overlapping the photo) of an RGB
    photo as ``uint8 N x size x size x 3``: shrunk by pixel-area averaging (enlarged bilinearly),
    the parts outside the photo filled by repeating its edge pixels."""
    height, width = image.shape[:2]
    views = np.empty((len(windows), size, size, 3), np.uint8)
    for i, window in enumerate(np.asarray(windows, np.float64)):
        x0, y0, n, cx0, cy0, cx1, cy1 = window_pixels(window, height, width)
        if cx1 <= cx0 or cy1 <= cy0:
            raise ValueError(f"windows[{i}]: {tuple(float(v) for v in window)} is outside the {width} x {height} photo")
        scale = size / n
        pad_left, pad_top = min(round((cx0 - x0) * scale), size - 1), min(round((cy0 - y0) * scale), size - 1)
        w = min(max(1, round((cx1 - cx0) * scale)), size - pad_left)
        h = min(max(1, round((cy1 - cy0) * scale)), size - pad_top)
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        resized = cv2.resize(image[cy0:cy1, cx0:cx1], (w, h), interpolation=interpolation).reshape(h, w, 3)
        views[i] = cv2.copyMakeBorder(resized, pad_top, size - h - pad_top, pad_left, size - w - pad_left,
                                      cv2.BORDER_REPLICATE).reshape(size, size, 3)
    return views


@torch.inference_mode()
def refine(
    model: nn.Module,
    image: np.ndarray,
    candidates: Sequence[Candidate],
    *,
    threshold: float = 0.5,
    precision: str = "auto",
    context: float = REFINE_CONTEXT,
    passes: int = REFINE_PASSES,
) -> list[Refined]:
    """Look at each candidate again through a :func:`square_windows` view at the photo's full
    resolution (one batch of 64 x 64 views): the components of the close-up mask there that overlap
    the candidate's box and are about as tall as the best of them (within :data:`SAME_HEIGHT`), joined,
    are the refined box (the best component alone when none does: a number whose digits stand apart,
    stacked or on a diagonal shows as several components up close).
    ``passes`` close looks are taken, each around the boxes of the one before.
    Candidates a close look finds nothing in are dropped; the rest come best first, with the
    length head's answer in the last look."""
    if passes < 1:
        raise ValueError(f"passes: expected at least 1, got {passes}")
    image = as_rgb(image)
    refined: list[Refined] = []
    for _ in range(passes):
        refined = _look_closely(model, image, candidates, threshold, precision, context)
        candidates = [r.candidate for r in refined]
    return refined


def _overlap(a: Sequence[float], b: Sequence[float]) -> bool:
    """Whether two ``[left, top, width, height]`` boxes share some area."""
    return min(a[0] + a[2], b[0] + b[2]) > max(a[0], b[0]) and min(a[1] + a[3], b[1] + b[3]) > max(a[1], b[1])


def _look_closely(
    model: nn.Module, image: np.ndarray, candidates: Sequence[Candidate], threshold: float, precision: str, context: float
) -> list[Refined]:
    """One close look of :func:`refine`."""
    if not candidates:
        return []
    height, width = image.shape[:2]
    windows = square_windows(np.array([c.box for c in candidates]), height, width, context)
    out = run_localizer(model, torch.from_numpy(window_views(image, windows)), precision)
    probability = torch.sigmoid(out["mask"])[:, 0].numpy()
    lengths = out["length"].argmax(dim=1).tolist() if "length" in out else [None] * len(candidates)
    refined = []
    for candidate, window, p, length in zip(candidates, windows, probability, lengths):
        found = mask_to_boxes(p, threshold=threshold, max_candidates=p.size)
        if not found:
            continue
        scale = window[2] / p.shape[1]
        left, top, width, height = candidate.box
        seen = ((left - window[0]) / scale, (top - window[1]) / scale, width / scale, height / scale)  # in the view's pixels
        parts = [f for f in found if _overlap(f.box, seen)] or found[:1]
        best_height = parts[0].box[3]  # the digits of one number share a height
        parts = [f for f in parts if best_height / SAME_HEIGHT <= f.box[3] <= best_height * SAME_HEIGHT]
        x0, y0 = min(f.box[0] for f in parts), min(f.box[1] for f in parts)
        x1, y1 = max(f.box[0] + f.box[2] for f in parts), max(f.box[1] + f.box[3] for f in parts)
        box = clip_box((window[0] + x0 * scale, window[1] + y0 * scale, (x1 - x0) * scale, (y1 - y0) * scale), *image.shape[:2])
        if box is not None:  # a window larger than the photo shows its edges repeated, where the mask may fire
            refined.append(Refined(Candidate(box, max(f.score for f in parts)), length))
    return sorted(refined, key=lambda r: -r.candidate.score)


class CloseLooks(nn.Module):
    """A localizer whose mask is sharpened by close looks, for inference (rule closer).

    Each look cuts a square window about each of the mask's candidates (:func:`mask_to_boxes` at
    ``threshold``, at most ``max_candidates``), ``context`` times the box's larger side, reads it
    enlarged to a :data:`REFINE_SIZE` view, shrinks the probabilities back onto the window and
    averages them with the mask's there. Windows that would not enlarge are skipped, so a number
    that already fills the view keeps its one look. ``passes`` looks are taken, each about the
    candidates of the one before. Takes and returns what ``localizer`` does (``uint8 N x H x W x 3``
    views, ``{"mask": logits, ...}``); everything but the mask is the first look's.
    """

    def __init__(
        self,
        localizer: nn.Module,
        *,
        context: float = MASK_CONTEXT,
        passes: int = MASK_PASSES,
        threshold: float = 0.5,
        max_candidates: int = MASK_CANDIDATES,
    ) -> None:
        super().__init__()
        if context <= 0:
            raise ValueError(f"context: expected a positive factor, got {context}")
        if passes < 1 or max_candidates < 1:
            raise ValueError(f"passes and max_candidates: expected at least 1, got {passes} and {max_candidates}")
        self.localizer, self.context, self.passes = localizer, float(context), int(passes)
        self.threshold, self.max_candidates = float(threshold), int(max_candidates)
        self.multiple = getattr(localizer, "multiple", UNKNOWN_MULTIPLE)

    @torch.inference_mode()
    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        out = dict(self.localizer(images))
        probability = torch.sigmoid(out["mask"].float())[:, 0].cpu().numpy()
        pixels = images.cpu().numpy()
        if pixels.shape[1:3] != probability.shape[1:]:
            raise ValueError(f"CloseLooks: the mask ({probability.shape[1:]}) must have the views' size ({pixels.shape[1:3]})")
        for _ in range(self.passes):
            probability = self._look(pixels, probability, images.device)
        mask = torch.logit(torch.from_numpy(probability)[:, None], eps=1e-6)
        out["mask"] = mask.to(device=out["mask"].device, dtype=out["mask"].dtype)
        return out

    def _look(self, images: np.ndarray, probability: np.ndarray, device: torch.device) -> np.ndarray:
        """One look at every view's candidates, in one batch on ``device``; the averaged maps."""
        owners: list[int] = []
        window_parts: list[np.ndarray] = []
        view_parts: list[np.ndarray] = []
        for i, p in enumerate(probability):
            boxes = [c.box for c in mask_to_boxes(p, threshold=self.threshold, max_candidates=self.max_candidates)]
            if boxes:
                found = square_windows(np.array(boxes), p.shape[0], p.shape[1], self.context)
                found = found[found[:, 2] < REFINE_SIZE]  # only windows the view enlarges
                if len(found):
                    owners += [i] * len(found)
                    window_parts.append(found)
                    view_parts.append(window_views(as_rgb(images[i]), found))
        if not owners:
            return probability
        windows, views = np.concatenate(window_parts), np.concatenate(view_parts)
        close = torch.sigmoid(self.localizer(torch.from_numpy(views).to(device))["mask"].float())[:, 0].cpu().numpy()
        looked = np.zeros_like(probability)
        count = np.zeros_like(probability)
        height, width = probability.shape[1:]
        for i, window, q in zip(owners, windows, close):
            x0, y0, n, cx0, cy0, cx1, cy1 = window_pixels(window, height, width)
            back = cv2.resize(q, (n, n), interpolation=cv2.INTER_AREA)
            looked[i, cy0:cy1, cx0:cx1] += back[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0]
            count[i, cy0:cy1, cx0:cx1] += 1
        seen = count > 0
        out = probability.copy()
        out[seen] = (probability[seen] + looked[seen] / count[seen]) / 2
        return out
