"""The measured MNIST-sequence ensemble: several ``mnist-seq`` runs of the CPU recipe (seeds 0, 1, ...)
read as one model, scored on 10,000 validation sequences from the test digits.

    OMP_WAIT_POLICY=PASSIVE python -m benchmarks.scripts.mnist_seq_ensemble runs/ens-seed0 runs/ens-seed1 ...

Each RUN is a finished run of :data:`benchmarks.scripts.mnist_seq_cpu.RECIPE` with its own ``--seed``
(train them side by side, one thread each). Each member is its run's ``best.pt`` (``--checkpoint``),
chosen on the runs' validation set (seed 1234), so only the five fresh sets, which no choice was
made on, measure the ensemble without bias. Scores each member,
the ensemble, and the ensemble with test-time augmentation (five views: the image and copies shifted
by one pixel up, down, left and right) on the runs' validation set (seed 1234) and on five fresh
sets, and writes ``benchmarks/results/mnist_seq_ensemble.json``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from benchmarks.record import save_result
from benchmarks.scripts.mnist_seq_cpu import FRESH_SETS, RECIPE, VALIDATION
from svhnx.evaluate import evaluate_run, fresh_seed, load_ensemble, load_run, with_shifted_views
from svhnx.train.run_dir import RunDirectory


def sequence_accuracy(run, seeds: list[int]) -> list[float]:
    return [round(evaluate_run(run, size=VALIDATION, seed=s)["sequence_accuracy"], 5) for s in seeds]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scripts.mnist_seq_ensemble", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", type=Path, nargs="+", help="finished runs of the CPU recipe, one per seed")
    parser.add_argument("--checkpoint", choices=("best", "last"), default="best", help="each run's member (default: best)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads while scoring")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    members = [load_run(r, which=args.checkpoint, device="cpu") for r in args.runs]
    configs = [RunDirectory(r).read_config() for r in args.runs]
    val_seed = int(members[0].task.args.val_seed)
    seeds = [val_seed] + [fresh_seed(members[0]) + i for i in range(FRESH_SETS)]
    rows = []
    for path, run, config in zip(args.runs, members, configs):
        metrics = RunDirectory(path).metrics()
        accuracy = sequence_accuracy(run, seeds)
        rows.append({"run": str(path), "seed": config["seed"], "threads": config.get("threads"),
                     "checkpoint_step": int(run.checkpoint["progress"]["step"]), "steps": int(metrics[-1]["step"]),
                     "train_wall_time_s": metrics[-1]["wall_time_s"], "validation_set": accuracy[0],
                     "fresh_sets": accuracy[1:], "fresh_mean": round(float(np.mean(accuracy[1:])), 5)})
        print(f"{path}: validation {accuracy[0]:.4f}, fresh {np.mean(accuracy[1:]):.4f}", flush=True)
    ensemble = load_ensemble(args.runs, which=args.checkpoint, device="cpu")
    scores = {}
    for name, model in (("ensemble", ensemble), ("ensemble_with_shifted_views", with_shifted_views(ensemble, 1))):
        accuracy = sequence_accuracy(model, seeds)
        fresh = np.array(accuracy[1:])
        scores[name] = {"members": len(members), "validation_set": accuracy[0], "fresh_sets": accuracy[1:],
                        "fresh_mean": round(float(fresh.mean()), 5), "fresh_sd": round(float(fresh.std(ddof=1)), 5)}
        print(f"{name} of {len(members)}: validation {accuracy[0]:.4f}, fresh {fresh.mean():.4f} +- {fresh.std(ddof=1):.4f}",
              flush=True)
    results = {
        "task": "mnist-seq",
        "recipe": RECIPE,
        "members": rows,
        **scores,
        "validation": f"{VALIDATION:,} sequences from the MNIST test digits: the runs' set (seed {val_seed}) and "
                      f"{FRESH_SETS} fresh sets (seeds {seeds[1]}-{seeds[-1]})",
        "checkpoints": f"{args.checkpoint}.pt of each run"
                       + (", chosen on the validation set (seed 1234): only the fresh sets are unbiased" if args.checkpoint == "best" else ""),
        "training_digits": "10,000 (train10k-* of the shared MNIST folder)",
        "member_training": "the recipe with --seed 0..N-1; seed 0 is the recorded single run (2 threads, "
                           "--eval-every 200), the others ran with --threads 1 --eval-every 500, two at a time on the 2 cores",
        "target_sequence_accuracy": 0.99,
    }
    path = save_result("mnist_seq_ensemble", results,
                       command=["python", "-m", "benchmarks.scripts.mnist_seq_ensemble", *map(str, args.runs),
                                "--checkpoint", args.checkpoint])
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
