"""Training speed of the SVHN recognizers on the CPU: Goodfellow et al.'s against ``svhn-resnet``.

Full optimiser steps (forward, the svhn loss, backward, AdamW) on one batch of synthetic number
crops, one thread (images/s per core), float32 and, where the CPU computes bfloat16 natively (AMX
tiles or AVX-512 BF16), bfloat16 autocast; forward FLOPs per image from ``torch.utils.flop_counter``. Also the slim
Goodfellow recipe of the first synthetic runs (``--width 0.35 --dense 512``). Both models are timed
in one run, so the ratio holds even when other jobs share the machine (the load average is recorded).
Writes ``benchmarks/results/recognizers.json``.
"""

from __future__ import annotations

import os

import torch

from benchmarks.record import best_seconds, forward_flops, print_table, save_result
from svhnx.data.download import default_root
from svhnx.hardware import amx_available, bfloat16_units
from svhnx.models import create_model
from svhnx.synth import SceneGenerator
from svhnx.synth.dataset import SynthCropStream
from svhnx.tasks.svhn import SvhnTask

MODELS = {
    "svhn-goodfellow": {},
    "svhn-goodfellow slim": {"width": 0.35, "dense": 512},
    "svhn-resnet": {},
}
BATCH = 64
REPEATS = 3


def images_per_second(model: torch.nn.Module, batch: dict[str, torch.Tensor], steps: int, dtype: torch.dtype | None) -> float:
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    task = SvhnTask(SvhnTask.Config())

    def step() -> None:
        with torch.autocast("cpu", dtype=dtype or torch.float32, enabled=dtype is not None):
            loss = task.loss(model(batch["images"]), batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    model.train()
    return steps * len(batch["images"]) / best_seconds(step, steps, REPEATS)


def main() -> None:
    torch.set_num_threads(1)
    generator = SceneGenerator.from_data(default_root())
    batch = SynthCropStream(generator, BATCH, seed=0).batch(0)
    units = bfloat16_units()
    precisions = [("float32", None)] + ([("bfloat16", torch.bfloat16)] if units else [])
    rows, results = [], {"batch_size": BATCH, "threads": 1, "amx": amx_available(), "models": {}}
    for label, kwargs in MODELS.items():
        name = label.split()[0]
        torch.manual_seed(0)
        model = create_model(name, **kwargs)
        flops = forward_flops(model.eval(), batch["images"][:8])
        entry = {"kwargs": kwargs, "parameters": sum(p.numel() for p in model.parameters()), "forward_mflops_per_image": round(flops / 1e6, 1)}
        for precision, dtype in precisions:
            steps = 1 if name == "svhn-goodfellow" and not kwargs else 4
            entry[f"train_images_per_s_{precision}"] = round(images_per_second(model, batch, steps, dtype), 1)
        results["models"][label] = entry
        rows.append({"model": label, "parameters": entry["parameters"], "forward MFLOP/image": entry["forward_mflops_per_image"],
                     **{f"images/s {p}": entry[f"train_images_per_s_{p}"] for p, _ in precisions}})
    base = results["models"]["svhn-goodfellow"]["train_images_per_s_float32"]
    results["resnet_speedup"] = round(results["models"]["svhn-resnet"]["train_images_per_s_float32"] / base, 1)
    results["load_average_1min"] = round(os.getloadavg()[0], 2)
    print_table(f"SVHN recognizers, training steps on one CPU thread (batch {BATCH})", rows, list(rows[0]))
    print(f"svhn-resnet trains {results['resnet_speedup']}x more images per second per core than svhn-goodfellow")
    print(f"\nwrote {save_result('recognizers', results)}")


if __name__ == "__main__":
    main()
