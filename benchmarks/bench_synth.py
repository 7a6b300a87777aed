"""Throughput of the street-number scene generator, against what training consumes.

(a) Whole scenes at SVHN-like sizes (layouts drawn from the real train split) and 64 x 64 number
    crops, native generator on one thread and on all.
(b) The obvious way, for scale: a per-image Python loop with OpenCV and NumPy doing a subset of the
    work (gradient background, ``cv2.putText`` digits, a rotation, Gaussian blur, noise, a JPEG
    round trip) at the same image sizes. It draws far plainer scenes; the ratio is a floor.
(c) What a model needs per image: full training steps (forward, loss, backward, AdamW) of the SVHN
    recognizer (``svhn-goodfellow``, 54 x 54 crops) and of the U-Net localizer (64 x 64 views).

Rates are the best of a few timed runs after a warm-up: one-thread rows by the calling thread's CPU
time (which other processes on a shared machine do not inflate), multi-thread rows by the wall
clock. The load average at the start is recorded. Writes ``benchmarks/results/synth.json``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from benchmarks.record import print_table, save_result
from svhnx.data.download import default_root
from svhnx.models import create_model
from svhnx.synth import SceneGenerator
from svhnx.tasks.svhn import SvhnTask

SCENES = 600
CROPS = 2000
LOOP_IMAGES = 300
REPEATS = 3
CORES = os.cpu_count() or 1


def best_rate(fn: Callable[[int], object], count: int, threads: int, repeats: int = REPEATS) -> float:
    """Items per second of ``fn(i)`` (``count`` items per call), best of ``repeats`` after a warm-up;
    timed by thread CPU time when ``threads`` is 1, else by the wall clock."""
    clock = time.thread_time if threads == 1 else time.perf_counter
    fn(0)
    best = float("inf")
    for r in range(repeats):
        start = clock()
        fn(r + 1)
        best = min(best, clock() - start)
    return count / best


def opencv_scene(rng: np.random.Generator, height: int, width: int, digits: str) -> np.ndarray:
    """One plain synthetic scene the obvious way (see the module docstring, (b))."""
    c0, c1 = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    ramp = np.linspace(0, 1, width, dtype=np.float32)[None, :, None]
    image = (c0 + (c1 - c0) * ramp).astype(np.float32) * np.ones((height, 1, 1), np.float32)
    image = np.ascontiguousarray(image.astype(np.uint8))
    scale = cv2.getFontScaleFromHeight(cv2.FONT_HERSHEY_SIMPLEX, max(4, int(0.6 * height)), 2)
    (tw, th), _ = cv2.getTextSize(digits, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
    color = tuple(float(v) for v in 255 - c0)
    cv2.putText(image, digits, ((width - tw) // 2, (height + th) // 2), cv2.FONT_HERSHEY_SIMPLEX, scale, color, 2)
    rotation = cv2.getRotationMatrix2D((width / 2, height / 2), float(rng.normal(0, 5)), 1.0)
    image = cv2.warpAffine(image, rotation, (width, height), borderMode=cv2.BORDER_REFLECT)
    image = cv2.GaussianBlur(image, (0, 0), float(rng.uniform(0.3, 1.5)))
    noisy = image.astype(np.float32) + rng.normal(0, 4, image.shape).astype(np.float32)
    image = np.clip(noisy, 0, 255).astype(np.uint8)
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(30, 90))])
    return cv2.imdecode(encoded, cv2.IMREAD_COLOR)


def training_rate(model_name: str, shape: tuple[int, int], batch_size: int, threads: int, steps: int = 2) -> float:
    """Images per second of full CPU training steps of ``model_name`` on ``shape`` images, ``threads`` torch threads."""
    torch.set_num_threads(threads)
    model = create_model(model_name)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (batch_size, *shape, 3), dtype=torch.uint8, generator=g)
    if model_name == "svhn-goodfellow":
        task = SvhnTask(SvhnTask.Config())
        batch = {"images": images, "digits": torch.randint(0, 11, (batch_size, 5), generator=g),
                 "lengths": torch.randint(1, 6, (batch_size,), generator=g)}

        def loss() -> torch.Tensor:
            return task.loss(model(images), batch)
    else:
        masks = torch.randint(0, 2, (batch_size, 1, *shape), generator=g).float()

        def loss() -> torch.Tensor:
            out = model(images)
            logits = out["mask"] if isinstance(out, dict) else out
            return F.binary_cross_entropy_with_logits(logits.float(), masks.expand_as(logits))

    def step(_: int) -> None:
        for _ in range(steps):
            value = loss()
            optimizer.zero_grad(set_to_none=True)
            value.backward()
            optimizer.step()

    return best_rate(step, steps * batch_size, threads, repeats=2)


def main() -> None:
    results: dict = {"load_average_1min_at_start": round(os.getloadavg()[0], 2), "cores": CORES}
    generator = SceneGenerator.from_data(default_root())
    sizes = generator.tables.layouts[:, :2]
    results["mean_scene_pixels_real_train"] = round(float((sizes[:, 0] * sizes[:, 1]).mean()), 1)
    rows = []
    for threads in sorted({1, CORES}):
        rate = best_rate(lambda r: generator.scenes(SCENES, seed=r, threads=threads), SCENES, threads)
        rows.append({"what": "svhnx.synth scenes (SVHN sizes)", "threads": threads, "images/s": rate})
        results[f"scenes_per_s_{threads}_threads"] = round(rate, 1)
        rate = best_rate(lambda r: generator.crops(CROPS, seed=r, threads=threads), CROPS, threads)
        rows.append({"what": "svhnx.synth crops 64 x 64", "threads": threads, "images/s": rate})
        results[f"crops_per_s_{threads}_threads"] = round(rate, 1)

    cv2.setNumThreads(1)
    rng = np.random.default_rng(0)
    picks = sizes[rng.integers(0, len(sizes), LOOP_IMAGES)].astype(int)
    numbers = [str(n) for n in rng.integers(1, 1000, LOOP_IMAGES)]
    rate = best_rate(lambda r: [opencv_scene(np.random.default_rng(r), h, w, d) for (w, h), d in zip(picks, numbers)],
                     LOOP_IMAGES, 1)
    rows.append({"what": "per-image OpenCV loop, plain scenes (SVHN sizes)", "threads": 1, "images/s": rate})
    results["opencv_loop_scenes_per_s"] = round(rate, 1)
    results["scenes_speedup_vs_opencv_loop_1_thread"] = round(results["scenes_per_s_1_threads"] / rate, 2)

    for name, shape, key in [("svhn-goodfellow", (54, 54), "recognizer"), ("unet", (64, 64), "localizer")]:
        for threads in sorted({1, CORES}):
            rate = training_rate(name, shape, batch_size=32, threads=threads)
            rows.append({"what": f"{name} training steps, {shape[0]} x {shape[1]} (CPU, batch 32)", "threads": threads,
                         "images/s": rate})
            results[f"{key}_train_images_per_s_{threads}_threads"] = round(rate, 2)
    # Per core, how many times faster the generator makes images than a training step uses them.
    results["crops_per_recognizer_image_1_thread"] = round(
        results["crops_per_s_1_threads"] / results["recognizer_train_images_per_s_1_threads"], 1)
    results["scenes_per_localizer_image_1_thread"] = round(
        results["scenes_per_s_1_threads"] / results["localizer_train_images_per_s_1_threads"], 1)
    print_table("Street-number scene generator throughput", rows, ["what", "threads", "images/s"])
    print(f"\nwrote {save_result('synth', results)}")


if __name__ == "__main__":
    main()
