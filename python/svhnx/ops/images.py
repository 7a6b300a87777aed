"""Image operations: crop a box out of each image and resize it; random and centre crops.

Images are ``uint8`` ``H x W x C`` (C-contiguous); batches ``N x H x W x C``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, overload

import numpy as np

from svhnx import _core
from svhnx.ops._args import seed_value, size_pair, thread_count


def pixel_windows(boxes: np.ndarray, image_sizes: np.ndarray) -> np.ndarray:
    """The pixels ``crop_resize`` cuts out for each box: the rule from a float box to a crop
    (computed by the native ``pixel_window`` of ``csrc/include/svhnx/crop_rule.hpp``, its one home).

    Columns ``x0 = clip(floor(left), 0, W - 1)`` to ``x1 = clip(ceil(left + width), x0 + 1, W)``
    (exclusive), rows alike with ``top``/``height`` and ``H``: every pixel the box touches, clipped
    to the image, and never less than one pixel. The crop is ``image[y0:y1, x0:x1]``.

    Args:
        boxes: ``[N, 4]`` ``[left, top, width, height]`` boxes (``float32``; finite, no negative
            width or height, else ``ValueError``).
        image_sizes: ``int [N, 2]`` (or one row for all) positive ``(height, width)`` of each box's image.

    Returns:
        ``int64 [N, 4]`` ``(x0, y0, x1, y1)`` windows.
    """
    boxes = np.ascontiguousarray(np.asarray(boxes, dtype=np.float32).reshape(-1, 4))
    sizes = np.ascontiguousarray(np.broadcast_to(np.asarray(image_sizes, dtype=np.int64).reshape(-1, 2), (len(boxes), 2)))
    return _core.pixel_windows(boxes, sizes)


def simd_kernels() -> str:
    """The kernels :func:`crop_resize` runs here: ``"avx2"``, ``"sse2"`` or ``"plain"`` (the best
    the CPU and build offer, or those ``$SVHNX_SIMD`` forces; a bad ``$SVHNX_SIMD`` raises ValueError)."""
    return _core.simd_kernels()


@overload
def crop_resize(
    images: np.ndarray | Sequence[np.ndarray], boxes: np.ndarray, size: tuple[int, int] = ..., threads: int | None = None, *,
    crop: tuple[int, int] | None = None, seed: int | None = None, return_offsets: Literal[False] = False,
) -> np.ndarray: ...
@overload
def crop_resize(
    images: np.ndarray | Sequence[np.ndarray], boxes: np.ndarray, size: tuple[int, int] = ..., threads: int | None = None, *,
    crop: tuple[int, int] | None = None, seed: int | None = None, return_offsets: Literal[True],
) -> tuple[np.ndarray, np.ndarray]: ...
def crop_resize(
    images: np.ndarray | Sequence[np.ndarray],
    boxes: np.ndarray,
    size: tuple[int, int] = (_core.CROP_SIZE, _core.CROP_SIZE),
    threads: int | None = None,
    *,
    crop: tuple[int, int] | None = None,
    seed: int | None = None,
    return_offsets: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Crop ``boxes[i]`` out of ``images[i]`` and resize it bilinearly to ``size``.

    The crop is the window of ``pixel_windows``; the resize follows OpenCV's ``INTER_LINEAR``
    (half-pixel centres, edges clamped) and agrees with ``cv2.resize(crop, (w, h),
    interpolation=cv2.INTER_LINEAR)`` to within one grey level (both round fixed-point weights).
    It runs AVX2 kernels when the CPU has them, else SSE2 or plain C++, all giving identical
    pixels; the environment variable ``SVHNX_SIMD`` (``plain``, ``sse2`` or ``avx2``) forces one
    (a kernel set the CPU lacks, or another name, raises ValueError).

    With ``crop``, only a ``crop``-sized part of each resized image is made and returned: with a
    ``seed`` the part ``random_crop(resized, crop, seed=seed)`` would take, without one the part
    ``center_crop(resized, crop)`` would take, pixel for pixel the same, but without making (or
    reading the source rows of) the rest of the full-size images. This is the SVHN training input
    in one pass: ``crop_resize(images, boxes, (64, 64), crop=(54, 54), seed=step)``.

    Args:
        images: a ``uint8 N x H x W x C`` batch, or a sequence of ``N`` ``uint8`` images of any
            sizes, each ``H x W x C`` (the same ``C`` for all) or ``H x W``.
        boxes: ``float32 [N, 4]`` boxes with a positive width and height, each overlapping its image.
        size: ``(height, width)`` of the resized images.
        threads: worker threads; ``None`` uses every core.
        crop: ``(height, width)`` of the part of each resized image to return, at most ``size``.
        seed: with ``crop``, draw each part's offset at random as :func:`random_crop` does;
            ``None`` centres it.
        return_offsets: also return the ``(top, left)`` of each part in its resized image.

    Returns:
        ``uint8 [N, height, width, C]`` (``C = 1`` for ``H x W`` images; ``crop``'s height and width
        when given), and with ``return_offsets`` an ``int64 [N, 2]`` array of ``(top, left)``.
    """
    height, width = size_pair(size, "size")
    if crop is None:
        if seed is not None:
            raise ValueError("seed: only used with crop; pass crop=(height, width) too")
        crop_h, crop_w = height, width
    else:
        crop_h, crop_w = size_pair(crop, "crop")
    seed = None if seed is None else seed_value(seed)
    resized, offsets = _core.crop_resize(images, boxes, height, width, crop_h, crop_w, seed, thread_count(threads))
    return (resized, offsets) if return_offsets else resized


@overload
def random_crop(
    images: np.ndarray, size: tuple[int, int] = ..., *, seed: int, threads: int | None = None,
    return_offsets: Literal[False] = False,
) -> np.ndarray: ...
@overload
def random_crop(
    images: np.ndarray, size: tuple[int, int] = ..., *, seed: int, threads: int | None = None, return_offsets: Literal[True],
) -> tuple[np.ndarray, np.ndarray]: ...
def random_crop(
    images: np.ndarray,
    size: tuple[int, int] = (_core.INPUT_SIZE, _core.INPUT_SIZE),
    *,
    seed: int,
    threads: int | None = None,
    return_offsets: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """A random ``size`` crop of each image of a batch (training augmentation).

    Image ``i``'s offset is drawn uniformly among the positions where the crop fits, from a
    stream of its own seeded by ``(seed, i)``: the output does not depend on ``threads``.

    Args:
        images: ``uint8 N x H x W x C`` batch.
        size: ``(height, width)`` of the crops, at most the images' size.
        seed: the offsets are a function of ``seed``, the batch size and the image size alone.
        threads: worker threads; ``None`` uses every core.
        return_offsets: also return the ``(top, left)`` of each crop.

    Returns:
        ``uint8 [N, height, width, C]`` crops, and with ``return_offsets`` an ``int64 [N, 2]``
        array of ``(top, left)``.
    """
    height, width = size_pair(size, "size")
    crops, offsets = _core.random_crop(images, height, width, seed_value(seed), thread_count(threads))
    return (crops, offsets) if return_offsets else crops


def center_crop(images: np.ndarray, size: tuple[int, int] = (_core.INPUT_SIZE, _core.INPUT_SIZE), threads: int | None = None) -> np.ndarray:
    """The centred ``size`` crop of each image (offset ``((H - height) // 2, (W - width) // 2)``).

    Args:
        images: ``uint8 N x H x W x C`` batch.
        size: ``(height, width)`` of the crops, at most the images' size.
        threads: worker threads; ``None`` uses every core.

    Returns:
        ``uint8 [N, height, width, C]``.
    """
    height, width = size_pair(size, "size")
    return _core.center_crop(images, height, width, thread_count(threads))
