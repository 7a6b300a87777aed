"""Batch operations of the data path, backed by the native extension ``svhnx._core``.

Every op works on whole batches, releases the GIL, takes ``threads`` (``None`` = all cores)
and, where it is random, a ``seed``: the same seed gives the same output whatever the thread
count. Inputs are what every svhnx module passes around (``uint8`` ``N x H x W x C`` images, ``float32``
``[left, top, width, height]`` boxes in pixels); anything else raises ``TypeError``/``ValueError``.
"""

from svhnx.ops.boxes import box_masks, expand_boxes, union_boxes
from svhnx.ops.images import center_crop, crop_resize, pixel_windows, random_crop, simd_kernels
from svhnx.ops.sequences import composite_sequences

__all__ = [
    "box_masks",
    "center_crop",
    "composite_sequences",
    "crop_resize",
    "expand_boxes",
    "pixel_windows",
    "random_crop",
    "simd_kernels",
    "union_boxes",
]
