"""Faded crops: the blur, low contrast and noise of the real crops the recognizer misreads most.

The generator draws crops far sharper than SVHN's (the variance of the Laplacian has median 129
on synthetic crops against 29 on real ones), and the real crops read worst are blurred and low
in contrast at once. :func:`fade` gives a crop that look: a Gaussian blur, its colours pulled
toward their mean, and sensor noise on top; :class:`svhnx.synth.dataset.SynthCropStream` applies
it to a share of its training crops (``train synth --fade SHARE``), and
:class:`svhnx.synth.digits.SynthDigitStream` to a share of the crops it cuts its digits from
(``train synth-digits --fade SHARE``).
"""

from __future__ import annotations

import cv2
import numpy as np

BLUR_SIGMA = (0.6, 2.0)  # Gaussian blur, pixels of the 64 x 64 crop
CONTRAST = (0.5, 1.0)  # kept share of each pixel's distance from the crop's mean colour
NOISE_SIGMA = (0.0, 1.5)  # Gaussian sensor noise, grey levels


def fade(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``image`` (``uint8 H x W x 3``) blurred, lowered in contrast and noised, each by an amount
    drawn from ``rng`` within :data:`BLUR_SIGMA`, :data:`CONTRAST` and :data:`NOISE_SIGMA`."""
    sigma, contrast, noise = (rng.uniform(*bounds) for bounds in (BLUR_SIGMA, CONTRAST, NOISE_SIGMA))
    x = cv2.GaussianBlur(image.astype(np.float32), (0, 0), sigmaX=sigma, borderType=cv2.BORDER_REPLICATE)
    mean = x.mean(axis=(0, 1), keepdims=True)
    x = mean + contrast * (x - mean) + rng.normal(0.0, noise, x.shape[:2] + (1,)).astype(np.float32)
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def check_fade_share(share: float) -> None:
    """Raise ``ValueError`` unless ``share`` (of the crops to fade) is in [0, 1]."""
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"fade share: expected a share in [0, 1], got {share}")


def fade_some(images: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """``images`` (``uint8 N x H x W x 3``) with each faded with probability ``share``, drawn from
    ``rng`` (a copy when any is; the same array when ``share`` is 0)."""
    check_fade_share(share)
    if share == 0:
        return images
    images = images.copy()
    for i in np.flatnonzero(rng.random(len(images)) < share):
        images[i] = fade(images[i], rng)
    return images
