"""Per-step training speed of the MNIST sequence recognizers: the study's model against the lean one.

Full optimiser steps (forward, the mnist-seq loss, backward, AdamW) on one batch of real synthetic
sequences, on the CPU with torch's default threads, each rate the best of a few timed runs after
warm-up; forward FLOPs per image counted with ``torch.utils.flop_counter``. Writes
``benchmarks/results/mnist_models.json``.
"""

from __future__ import annotations

import os

import torch

from benchmarks.record import best_seconds, forward_flops, print_table, save_result
from svhnx.data.download import default_root
from svhnx.data.mnist import load_mnist
from svhnx.data.sequences import SequenceStream
from svhnx.models import create_model
from svhnx.tasks.mnist_seq import MnistSequenceTask

MODELS = ("mnist-study", "mnist-lean")
BATCH = 64
REPEATS = 3



def steps_per_second(name: str, batch: dict[str, torch.Tensor], steps: int) -> float:
    torch.manual_seed(0)
    model = create_model(name)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    task = MnistSequenceTask(MnistSequenceTask.Config())

    def step() -> None:
        loss = task.loss(model(batch["images"]), batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return steps / best_seconds(step, steps, REPEATS)


def main() -> None:
    digits, labels = load_mnist("train", default_root())
    batch = SequenceStream(digits, labels, BATCH, seed=0).batch(0)
    rows, results = [], {"batch_size": BATCH, "threads": torch.get_num_threads(), "models": {}}
    for name, steps in zip(MODELS, (2, 10)):
        model = create_model(name).eval()
        flops = forward_flops(model, batch["images"][:8])
        params = sum(p.numel() for p in model.parameters())
        rate = steps_per_second(name, batch, steps) * BATCH
        rows.append({"model": name, "parameters": params, "forward MFLOP/image": flops / 1e6, "train images/s": rate})
        results["models"][name] = {"parameters": params, "forward_mflops_per_image": round(flops / 1e6, 1),
                                   "train_images_per_s": round(rate, 1)}
    speedup = results["models"]["mnist-lean"]["train_images_per_s"] / results["models"]["mnist-study"]["train_images_per_s"]
    results["lean_speedup"] = round(speedup, 1)
    results["load_average_1min"] = round(os.getloadavg()[0], 2)  # the CPU is shared: other jobs slow both models
    print_table(f"MNIST recognizers, training steps on the CPU (batch {BATCH}, {torch.get_num_threads()} threads)", rows,
                ["model", "parameters", "forward MFLOP/image", "train images/s"])
    print(f"mnist-lean trains {speedup:.1f}x more images per second")
    print(f"\nwrote {save_result('mnist_models', results)}")


if __name__ == "__main__":
    main()
