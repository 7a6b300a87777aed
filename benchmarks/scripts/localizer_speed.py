"""Training speed of the U-Net localizers per CPU core: the study's widths against the CPU-sized one.

    OMP_WAIT_POLICY=PASSIVE python -m benchmarks.scripts.localizer_speed

One thread. Each model trains on the same random 64 x 64 views (batch 32: forward, Dice + BCE and
length losses, backward, AdamW step) in float32 and under bfloat16 CPU autocast; the models take
turns, round after round, so that a busy machine slows them alike, and the median round is kept.
The data pipeline is not timed (it is the same for both). Writes ``benchmarks/results/localizer_speed.json``
with the load average before and after.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

from benchmarks.record import print_table, save_result
from svhnx.hardware import amx_available
from svhnx.metrics.segmentation import dice_loss
from svhnx.models.unet import CPU_STEM, CPU_WIDTHS, DEFAULT_WIDTHS, UNet

MODELS = {
    "study (32-512, stem 1)": {"widths": DEFAULT_WIDTHS, "stem": 1},
    "cpu (16-64, stem 2)": {"widths": CPU_WIDTHS, "stem": CPU_STEM},
}
BATCH = 32
SIZE = 64


def train_steps(model: UNet, optimizer: torch.optim.Optimizer, batch: dict[str, torch.Tensor], steps: int, bfloat16: bool) -> float:
    """Seconds per step over ``steps`` training steps."""
    model.train()
    start = time.perf_counter()
    for _ in range(steps):
        autocast = torch.autocast("cpu", dtype=torch.bfloat16) if bfloat16 else contextlib.nullcontext()
        with autocast:
            out = model(batch["images"])
        loss = dice_loss(out["mask"].float(), batch["masks"], bce_weight=1.0) + 0.2 * F.cross_entropy(out["length"].float(), batch["lengths"])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return (time.perf_counter() - start) / steps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scripts.localizer_speed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="turns each model and precision takes (default: %(default)s)")
    parser.add_argument("--seconds", type=float, default=4.0, help="about how long one turn trains (default: %(default)s)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    batch = {
        "images": torch.randint(0, 256, (BATCH, SIZE, SIZE, 3), dtype=torch.uint8),
        "masks": (torch.rand(BATCH, 1, SIZE, SIZE) > 0.8).float(),
        "lengths": torch.randint(0, 7, (BATCH,)),
    }
    setups = {}
    for name, kwargs in MODELS.items():
        model = UNet(length_head=True, **kwargs).to(memory_format=torch.channels_last)
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
        step = train_steps(model, optimizer, batch, 1, False)  # warm-up, and the size of a turn
        setups[name] = (model, optimizer, max(1, round(args.seconds / step)))
    load_before = os.getloadavg()
    times: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.rounds):
        for name, (model, optimizer, steps) in setups.items():
            for precision in ("float32", "bfloat16"):
                times.setdefault((name, precision), []).append(train_steps(model, optimizer, batch, steps, precision == "bfloat16"))
    load_after = os.getloadavg()
    rows = []
    for (name, precision), seconds in times.items():
        model = setups[name][0]
        rows.append({
            "model": name,
            "precision": precision,
            "parameters": sum(p.numel() for p in model.parameters()),
            "views_per_s": round(BATCH / statistics.median(seconds), 1),
            "views_per_s_rounds": [round(BATCH / s, 1) for s in seconds],
        })
    base = {r["precision"]: r["views_per_s"] for r in rows if r["model"] == next(iter(MODELS))}
    for row in rows:
        row["speedup_vs_study_same_precision"] = round(row["views_per_s"] / base[row["precision"]], 1)
    results = {
        "setup": f"1 thread, batch {BATCH} of {SIZE} x {SIZE} random views, forward + Dice/BCE + length loss + backward + AdamW, "
                 "channels-last; models interleaved round by round, median round",
        "amx": amx_available(),
        "rows": rows,
        "load_average_1_5_15_min": {"start": [round(x, 2) for x in load_before], "end": [round(x, 2) for x in load_after]},
    }
    path = save_result("localizer_speed", results, command=["python", "-m", "benchmarks.scripts.localizer_speed", *(sys.argv[1:] if argv is None else argv)])
    print_table("U-Net training speed, one thread", rows, ["model", "precision", "parameters", "views_per_s", "speedup_vs_study_same_precision"])
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
