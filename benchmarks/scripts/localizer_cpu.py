"""The measured localizer runs: train the U-Net (``unet``) and the box-regression baseline
(``boxreg``) on synthetic street scenes on the CPU, then score both on fresh held-out scenes.

    OMP_WAIT_POLICY=PASSIVE nice -n 10 python -m benchmarks.scripts.localizer_cpu --out runs/localizer-cpu

Trains each task with its recipe (unless ``--record-only`` names finished runs in ``--out``), then
evaluates each ``best.pt`` on ``--val-size`` scenes of a stream neither run trained nor validated on,
side by side with the trivial localizer that calls the whole view the number (what an untrained
U-Net scores, and the floor both must clear: in SVHN-like scenes the number fills much of the
view), overall and for each kind of view (windows around the number, whole scenes). Writes ``benchmarks/results/localizer_cpu.json``; the machine's load average is recorded.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

from benchmarks.record import save_result
from svhnx.data.download import default_root
from svhnx.evaluate import evaluate_run, fresh_seed, load_run
from svhnx.metrics.segmentation import box_iou, dice_coefficient
from svhnx.train.run_dir import RunDirectory

COMMON = ["--batch-size", "16", "--eval-every", "80", "--val-size", "256", "--seed", "0", "--threads", "1", "--no-progress"]
RECIPES = {
    "unet": ["--steps", "160", "--lr", "2e-3", *COMMON],
    "boxreg": ["--steps", "400", "--lr", "2e-3", *COMMON],
}


def by_kind(run, size: int, seed: int) -> dict[str, dict[str, float]]:
    """The run's metrics on windows around the number only and on whole scenes only."""
    out = {}
    mix = run.task.config.whole_fraction
    for kind, fraction in (("windows", 0.0), ("whole_scenes", 1.0)):
        run.task.config.whole_fraction = fraction
        run.task.__dict__.pop("_validation", None)
        out[kind] = {k: round(v, 4) for k, v in evaluate_run(run, size=size, seed=seed).items()}
        out[kind]["whole_view_baseline"] = whole_view_baseline(run, size, seed)
    run.task.config.whole_fraction = mix
    run.task.__dict__.pop("_validation", None)
    return out


def whole_view_baseline(run, size: int, seed: int) -> dict[str, float]:
    """Dice and box IoU of predicting the whole 64 x 64 view as the number."""
    dice, iou = [], []
    for batch in run.task.validation_batches(size=size, seed=seed):
        masks = batch["masks"]
        dice.append(dice_coefficient(torch.ones_like(masks), masks).numpy())
        iou.append(box_iou(np.array([0, 0, 64, 64], np.float32), batch["boxes"].numpy()))
    return {"dice": float(np.concatenate(dice).mean()), "box_iou": float(np.concatenate(iou).mean())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scripts.localizer_cpu", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("runs/localizer-cpu"), help="folder of the two run directories")
    parser.add_argument("--data-root", type=Path, default=default_root())
    parser.add_argument("--val-size", type=int, default=1024, help="fresh held-out scenes scored (default: %(default)s)")
    parser.add_argument("--record-only", action="store_true", help="do not train; record the finished runs in --out")
    args = parser.parse_args(argv)

    load_before = os.getloadavg()
    if not args.record_only:
        for task, recipe in RECIPES.items():
            subprocess.run([sys.executable, "-m", "svhnx.train", task, *recipe, "--data-root", str(args.data_root),
                            "--out", str(args.out / task)], check=True)
    load_after = os.getloadavg()

    results: dict = {"val_size": args.val_size, "recipes": RECIPES, "runs": {}}
    for task in RECIPES:
        run_dir = RunDirectory(args.out / task)
        rows = run_dir.metrics()
        run = load_run(args.out / task, which="best", device="cpu", data_root=args.data_root)
        seed = fresh_seed(run)
        fresh = evaluate_run(run, size=args.val_size, seed=seed, figure=args.out / task / "evaluation.png")
        results["runs"][task] = {
            "model": run.checkpoint["model"],
            "parameters": sum(p.numel() for p in run.model.parameters()),
            "steps": int(rows[-1]["step"]),
            "views_seen": int(rows[-1]["images"]),
            "train_time_s": rows[-1]["train_time_s"],
            "wall_time_s": rows[-1]["wall_time_s"],
            "fresh_held_out": {"seed": seed, **{k: round(v, 4) for k, v in fresh.items()}},
            "fresh_held_out_by_view": by_kind(run, args.val_size // 2, seed),
            "curve": [{k: round(r[k], 4) for k in ("step", "wall_time_s", "dice", "box_iou") if k in r} for r in rows],
        }
        results["whole_view_baseline"] = {"seed": seed, **whole_view_baseline(run, args.val_size, seed)}
    results["data"] = ("synthetic street scenes (svhnx.synth) as 64 x 64 views, half windows around the number, half the "
                       "whole scene shown small and edge-padded; held-out stream seed above")
    results["load_average_1_5_15_min"] = {"start": [round(x, 2) for x in load_before], "end": [round(x, 2) for x in load_after]}
    results["note"] = "2-core CPU shared with other engineers' builds, tests and training runs while measured"
    command = ["python", "-m", "benchmarks.scripts.localizer_cpu", "--out", str(args.out)] + (["--record-only"] if args.record_only else [])
    path = save_result("localizer_cpu", results, command=command)
    for task, run in results["runs"].items():
        print(f"{task}: fresh held-out dice {run['fresh_held_out']['dice']:.4f}, box IoU {run['fresh_held_out']['box_iou']:.4f}")
    print(f"whole view: dice {results['whole_view_baseline']['dice']:.4f}, box IoU {results['whole_view_baseline']['box_iou']:.4f}")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
