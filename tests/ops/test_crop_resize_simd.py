"""crop_resize's plain, SSE2 and AVX2 kernels ($SVHNX_SIMD forces one) give identical pixels."""

import numpy as np
import pytest

from svhnx.ops import crop_resize


def random_batch(rng, count, channels, low, high):
    """Images of random sizes and boxes from a sliver to beyond the image, crossing its border."""
    images = [rng.integers(0, 256, (*rng.integers(low, high, 2), channels), dtype=np.uint8) for _ in range(count)]
    boxes = []
    for image in images:
        h, w = image.shape[:2]
        bw, bh = rng.uniform(0.02, 1.3) * w, rng.uniform(0.02, 1.3) * h
        boxes.append([rng.uniform(-0.5 * bw, w - 0.5 * bw), rng.uniform(-0.5 * bh, h - 0.5 * bh), bw, bh])
    return images, np.array(boxes, np.float32)


def supported_kernels(monkeypatch, images, boxes):
    """The kernels this CPU and build run (plain and, on x86-64, SSE2 always; AVX2 if the CPU has it)."""
    kernels = []
    for name in ("plain", "sse2", "avx2"):
        monkeypatch.setenv("SVHNX_SIMD", name)
        try:
            crop_resize(images[:1], boxes[:1])
        except ValueError as error:
            assert "not supported" in str(error)
            continue
        kernels.append(name)
    return kernels


@pytest.mark.parametrize("channels", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("low, high", [(1, 10), (10, 90), (200, 900)])  # up-, mixed and strong downscaling
@pytest.mark.parametrize("size", [(64, 64), (7, 13), (54, 100)])  # rows of 192, 39 ... values: SIMD tails
def test_kernels_agree_exactly(monkeypatch, channels, low, high, size):
    rng = np.random.default_rng(channels * 100 + low + size[1])
    images, boxes = random_batch(rng, 25, channels, low, high)
    kernels = supported_kernels(monkeypatch, images, boxes)
    assert "plain" in kernels
    results = {}
    for name in kernels:
        monkeypatch.setenv("SVHNX_SIMD", name)
        results[name] = crop_resize(images, boxes, size, threads=1)
        results[name + ", random part"] = crop_resize(images, boxes, size, crop=(size[0] - 3, size[1] // 2), seed=5)
    for name, result in results.items():
        plain = results["plain, random part" if name.endswith("part") else "plain"]
        np.testing.assert_array_equal(result, plain, err_msg=f"{name} differs from plain")


def test_rows_at_the_very_end_of_an_image_buffer(monkeypatch):
    # A box on the last rows and columns: the kernels read past the crop and must use padded copies.
    rng = np.random.default_rng(7)
    images = [np.ascontiguousarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)) for h, w in [(30, 20), (5, 500)]]
    boxes = np.array([[15, 25, 5, 5], [400, 3, 100, 2]], np.float32)
    kernels = supported_kernels(monkeypatch, images, boxes)
    results = []
    for name in kernels:
        monkeypatch.setenv("SVHNX_SIMD", name)
        results.append(crop_resize(images, boxes))
    for result in results[1:]:
        np.testing.assert_array_equal(result, results[0])


def test_unknown_kernel_name_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("SVHNX_SIMD", "avx9")
    with pytest.raises(ValueError, match="SVHNX_SIMD: expected plain, sse2 or avx2"):
        crop_resize([np.zeros((4, 4, 3), np.uint8)], np.array([[0, 0, 2, 2]], np.float32))
