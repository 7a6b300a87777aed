"""Training speed of Goodfellow et al.'s SVHN recognizer (``svhn-goodfellow``, 23M parameters).

(a) The data path alone: training batches (random 54 x 54 crops of 64 x 64 SVHN-sized crops,
    native :func:`svhnx.ops.random_crop`) from :class:`svhnx.data.svhn_dataset.SvhnTrainStream`.
(b) Optimiser steps of the full model (forward, the task's loss, backward, AdamW) on random
    images: on the CPU, and on CUDA (bf16 autocast, channels-last, as the trainer runs) when a GPU
    is present.

Each rate is the best of a few timed runs after warm-up. Writes ``benchmarks/results/svhn_train.json``.
"""

from __future__ import annotations

import os
import time

import numpy as np
import torch

from benchmarks.record import print_table, save_result
from svhnx.data.svhn_dataset import SvhnTrainStream
from svhnx.data.svhn_preprocess import SvhnCrops
from svhnx.models import create_model
from svhnx.tasks.svhn import SvhnTask

CROPS = 4096
STREAM_BATCHES = 50
REPEATS = 3


def data_rate(batch_size: int) -> float:
    """Training images per second the batch stream assembles (one thread)."""
    rng = np.random.default_rng(0)
    crops = SvhnCrops(rng.integers(0, 256, (CROPS, 64, 64, 3), dtype=np.uint8), rng.integers(0, 11, (CROPS, 5)),
                      rng.integers(1, 6, CROPS), [""] * CROPS)
    stream = SvhnTrainStream(crops, batch_size, seed=0)
    stream.batch(0)
    best = float("inf")
    for r in range(REPEATS):
        start = time.perf_counter()
        for i in range(STREAM_BATCHES):
            stream.batch(1 + r * STREAM_BATCHES + i)
        best = min(best, time.perf_counter() - start)
    return STREAM_BATCHES * batch_size / best


def training_rate(device: torch.device, batch_size: int, steps: int) -> float:
    """Images per second of full optimiser steps of ``svhn-goodfellow`` on ``device``."""
    cuda = device.type == "cuda"
    model = create_model("svhn-goodfellow").to(device)
    if cuda:
        model = model.to(memory_format=torch.channels_last)
        torch.backends.cudnn.benchmark = True
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    task = SvhnTask(SvhnTask.Config())
    generator = torch.Generator().manual_seed(0)
    batch = {
        "images": torch.randint(0, 256, (batch_size, 54, 54, 3), dtype=torch.uint8, generator=generator),
        "digits": torch.randint(0, 11, (batch_size, 5), generator=generator),
        "lengths": torch.randint(1, 6, (batch_size,), generator=generator),
    }
    batch = {k: v.to(device) for k, v in batch.items()}

    def step() -> None:
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cuda):
            loss = task.loss(model(batch["images"]), batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    def timed() -> float:
        if cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(steps):
            step()
        if cuda:
            torch.cuda.synchronize()
        return time.perf_counter() - start

    for _ in range(2):
        step()
    return steps * batch_size / min(timed() for _ in range(REPEATS))


def main() -> None:
    rows, results = [], {"load_average_1min_at_start": round(os.getloadavg()[0], 2)}  # other work slows every rate
    rate = data_rate(128)
    rows.append({"what": "batch stream (random 54 x 54 crops, 1 thread)", "device": "cpu", "batch": 128, "images/s": rate})
    results["data_images_per_s"] = round(rate, 1)
    cpu_batch = 32
    rate = training_rate(torch.device("cpu"), cpu_batch, steps=2)
    rows.append({"what": "svhn-goodfellow training steps", "device": f"cpu ({torch.get_num_threads()} threads)", "batch": cpu_batch, "images/s": rate})
    results["cpu_train_images_per_s"] = round(rate, 2)
    results["cpu_batch_size"] = cpu_batch
    results["cpu_threads"] = torch.get_num_threads()
    if torch.cuda.is_available():
        gpu_batch = 128
        rate = training_rate(torch.device("cuda"), gpu_batch, steps=50)
        rows.append({"what": "svhn-goodfellow training steps (bf16)", "device": torch.cuda.get_device_name(0), "batch": gpu_batch, "images/s": rate})
        results["gpu_train_images_per_s"] = round(rate, 1)
        results["gpu_batch_size"] = gpu_batch
    print_table("Training speed of the SVHN recognizer", rows, ["what", "device", "batch", "images/s"])
    print(f"\nwrote {save_result('svhn_train', results)}")


if __name__ == "__main__":
    main()
