"""The strongest form of each peer of svhnx's SVHN crop path, for ``python -m benchmarks ops``.

Every peer turns the same photos and digit boxes into a batch of 54 x 54 crops: union of the digit
boxes, grown by 30% about its centre, cut out and resized to 64 x 64, and a random 54 x 54 part of
that (the SVHN recognizer's training input). The box maths is vectorised NumPy for the whole batch
(:func:`crop_windows`); only what each library must do image by image is in a loop:

- OpenCV: ``cv2.resize`` of each crop to 64 x 64, then a slice.
- OpenCV ``warpAffine``: one affine warp per photo straight to the 54 x 54 part (no 64 x 64 image;
  it samples the photo, not the clamped crop, at the crop's border).
- albumentations: one reused ``Compose([Resize(64, 64), RandomCrop(54, 54)])`` on each crop.
- torchvision v2: ``resized_crop`` of each photo's tensor, then a slice.
- kornia: ``crop_and_resize`` of each crop (the photos' sizes differ) straight to the 54 x 54 part.

albumentations, torchvision and kornia are benchmark-only extras: :func:`peers` leaves out those
that do not import and says why.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import cv2
import numpy as np

#: (method name, function of (images, boxes, counts, rng) -> uint8 [N, 54, 54, 3])
Peer = tuple[str, Callable[[Sequence[np.ndarray], np.ndarray, np.ndarray, np.random.Generator], np.ndarray]]
SIZE, CROP, GROW = 64, 54, 0.3


def crop_windows(images: Sequence[np.ndarray], boxes: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``int64 [N, 4]`` ``(x0, y0, x1, y1)`` of each photo's grown digit union, clipped to the photo
    (the rule of the per-image OpenCV loop, for the whole batch at once)."""
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    left, top = np.minimum.reduceat(boxes[:, 0], starts), np.minimum.reduceat(boxes[:, 1], starts)
    right = np.maximum.reduceat(boxes[:, 0] + boxes[:, 2], starts)
    bottom = np.maximum.reduceat(boxes[:, 1] + boxes[:, 3], starts)
    cx, cy = (left + right) / 2, (top + bottom) / 2
    half_w, half_h = (0.5 + GROW / 2) * (right - left), (0.5 + GROW / 2) * (bottom - top)
    sizes = np.array([image.shape[:2] for image in images])
    h, w = sizes[:, 0], sizes[:, 1]
    x0 = np.clip(np.floor(cx - half_w), 0, w - 1)
    y0 = np.clip(np.floor(cy - half_h), 0, h - 1)
    x1 = np.clip(np.ceil(cx + half_w), x0 + 1, w)
    y1 = np.clip(np.ceil(cy + half_h), y0 + 1, h)
    return np.stack([x0, y0, x1, y1], axis=1).astype(np.int64)


def random_offsets(count: int, rng: np.random.Generator) -> np.ndarray:
    """``(top, left)`` of each 54 x 54 part in its 64 x 64 resize."""
    return rng.integers(0, SIZE - CROP + 1, (count, 2))


def opencv_vectorised(images, boxes, counts, rng) -> np.ndarray:
    """Vectorised box maths, then ``cv2.resize`` of each crop to 64 x 64 and a slice."""
    windows, offsets = crop_windows(images, boxes, counts).tolist(), random_offsets(len(images), rng).tolist()
    out = np.empty((len(images), CROP, CROP, 3), np.uint8)
    for i, (image, (x0, y0, x1, y1), (top, left)) in enumerate(zip(images, windows, offsets)):
        out[i] = cv2.resize(image[y0:y1, x0:x1], (SIZE, SIZE), interpolation=cv2.INTER_LINEAR)[top : top + CROP, left : left + CROP]
    return out


def opencv_warp_affine(images, boxes, counts, rng) -> np.ndarray:
    """One ``cv2.warpAffine`` per photo straight to the 54 x 54 part of the 64 x 64 resize (the
    affine maps of the whole batch computed at once)."""
    x0, y0, x1, y1 = crop_windows(images, boxes, counts).T.astype(np.float64)
    top, left = random_offsets(len(images), rng).T
    sx, sy = SIZE / (x1 - x0), SIZE / (y1 - y0)
    maps = np.zeros((len(images), 2, 3))  # half-pixel centres, as cv2.resize
    maps[:, 0, 0], maps[:, 0, 2] = sx, (0.5 - x0) * sx - 0.5 - left
    maps[:, 1, 1], maps[:, 1, 2] = sy, (0.5 - y0) * sy - 0.5 - top
    out = np.empty((len(images), CROP, CROP, 3), np.uint8)
    for i, image in enumerate(images):
        cv2.warpAffine(image, maps[i], (CROP, CROP), dst=out[i], flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out


def albumentations_peer() -> Peer:
    import albumentations as A

    transform = A.Compose([A.Resize(SIZE, SIZE), A.RandomCrop(CROP, CROP)], seed=0)  # built once, reused

    def run(images, boxes, counts, rng) -> np.ndarray:
        windows = crop_windows(images, boxes, counts).tolist()
        out = np.empty((len(images), CROP, CROP, 3), np.uint8)
        for i, (image, (x0, y0, x1, y1)) in enumerate(zip(images, windows)):
            out[i] = transform(image=image[y0:y1, x0:x1])["image"]
        return out

    return "albumentations Compose, reused", run


def torchvision_peer() -> Peer:
    import torch
    from torchvision.transforms.v2 import functional as TF

    def run(images, boxes, counts, rng) -> np.ndarray:
        windows, offsets = crop_windows(images, boxes, counts).tolist(), random_offsets(len(images), rng).tolist()
        out = torch.empty((len(images), 3, CROP, CROP), dtype=torch.uint8)
        for i, (image, (x0, y0, x1, y1), (top, left)) in enumerate(zip(images, windows, offsets)):
            resized = TF.resized_crop(torch.from_numpy(image).permute(2, 0, 1), y0, x0, y1 - y0, x1 - x0, [SIZE, SIZE], antialias=False)
            out[i] = resized[:, top : top + CROP, left : left + CROP]
        return out.permute(0, 2, 3, 1).numpy()

    return "torchvision v2 resized_crop", run


def kornia_peer() -> Peer:
    import torch
    from kornia.geometry.transform import crop_and_resize

    def run(images, boxes, counts, rng) -> np.ndarray:
        windows = crop_windows(images, boxes, counts)
        x0, y0, x1, y1 = windows.T.astype(np.float64)
        top, left = random_offsets(len(images), rng).T
        step_x, step_y = (x1 - x0) / SIZE, (y1 - y0) / SIZE  # crop pixels per resized pixel
        ax, ay = (left + 0.5) * step_x - 0.5, (top + 0.5) * step_y - 0.5  # the part's first pixel, in the crop
        bx, by = ax + (CROP - 1) * step_x, ay + (CROP - 1) * step_y
        corners = np.stack([np.stack([ax, ay], 1), np.stack([bx, ay], 1), np.stack([bx, by], 1), np.stack([ax, by], 1)], 1)
        corners = torch.from_numpy(corners).float()
        out = torch.empty((len(images), 3, CROP, CROP), dtype=torch.uint8)
        for i, (image, (x0, y0, x1, y1)) in enumerate(zip(images, windows.tolist())):
            crop = torch.from_numpy(image[y0:y1, x0:x1]).permute(2, 0, 1)[None].float()  # only the crop becomes float
            out[i] = crop_and_resize(crop, corners[i : i + 1], (CROP, CROP)).round_().clamp_(0, 255)[0].to(torch.uint8)
        return out.permute(0, 2, 3, 1).numpy()

    return "kornia crop_and_resize", run


def peers() -> tuple[list[Peer], list[dict[str, str]]]:
    """The peers that run here, and a note for each extra that does not import."""
    available: list[Peer] = [("OpenCV loop, vectorised box maths", opencv_vectorised), ("OpenCV warpAffine to 54 x 54", opencv_warp_affine)]
    skipped = []
    for name, make in (("albumentations", albumentations_peer), ("torchvision", torchvision_peer), ("kornia", kornia_peer)):
        try:
            available.append(make())
        except Exception as error:  # an extra may fail to import in many ways (missing, built for another torch)
            skipped.append({"peer": name, "skipped": f"{type(error).__name__}: {error}".splitlines()[0][:160]})
    return available, skipped
