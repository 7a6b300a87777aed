"""The measured MNIST-sequence ensemble: several ``mnist-seq`` runs of the CPU recipe (seeds 0, 1, ...)
read as one model, scored on 10,000 validation sequences from the test digits.

    OMP_WAIT_POLICY=PASSIVE python -m benchmarks.scripts.mnist_seq_ensemble runs/ens-seed0 runs/ens-seed1 ...

Each RUN is a finished run of :data:`benchmarks.scripts.mnist_seq_cpu.RECIPE` with its own ``--seed``
(train them side by side, one thread each); the file records the training command the runs were
given. Each member is its run's ``best.pt`` (``--checkpoint``), chosen on the runs' validation set (seed 1234), so only the five fresh sets, which no choice was
made on, measure the ensemble without bias. Scores each member, the ensemble
(:class:`svhnx.evaluate.views.Ensemble`: mean class probabilities), and the ensemble with
test-time augmentation (:class:`~svhnx.evaluate.views.ShiftedViews`: the image and copies shifted
one pixel up, down, left and right) on the runs' validation set and on the fresh sets. Each
member's probabilities on each set and view are computed once and averaged here, as those two
classes average them. Writes ``benchmarks/results/mnist_seq_ensemble.json``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from benchmarks.record import save_result
from benchmarks.scripts.mnist_seq_cpu import FRESH_SETS, VALIDATION
from svhnx.evaluate import LoadedRun, fresh_seed, load_run
from svhnx.evaluate.views import ShiftedViews, mean_probabilities, shift_images
from svhnx.train.run_dir import RunDirectory

SHIFT = 1  # pixels, for the test-time views


@torch.inference_mode()
def view_outputs(run: LoadedRun, batches: list[dict], shift: tuple[int, int]) -> list[dict]:
    """The member's output on each batch, its images shifted by ``shift``."""
    run.model.eval()
    return [run.model(shift_images(batch["images"], *shift)) for batch in batches]


def sequence_accuracy(run: LoadedRun, batches: list[dict], outputs: list[dict]) -> float:
    """The task's sequence accuracy of per-batch ``outputs`` (the evaluator's own metric code)."""
    metrics = run.task.new_metrics()
    for output, batch in zip(outputs, batches):
        metrics.update(output, batch)
    return round(metrics.compute()["sequence_accuracy"], 5)


def combine(per_source: list[list[dict]]) -> list[dict]:
    """Batch by batch, the mean class probabilities of several sources' outputs."""
    return [mean_probabilities(list(outputs)) for outputs in zip(*per_source)]


def summary(accuracy: list[float], members: int) -> dict:
    fresh = np.array(accuracy[1:])
    return {"members": members, "validation_set": accuracy[0], "fresh_sets": accuracy[1:],
            "fresh_mean": round(float(fresh.mean()), 5), "fresh_sd": round(float(fresh.std(ddof=1)), 5)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scripts.mnist_seq_ensemble", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", type=Path, nargs="+", help="finished runs of the CPU recipe, one per seed")
    parser.add_argument("--checkpoint", choices=("best", "last"), default="best", help="each run's member (default: best)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads while scoring")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    members = [load_run(r, which=args.checkpoint, device="cpu") for r in args.runs]
    task = members[0].task
    val_seed = int(task.config.val_seed)
    seeds = [val_seed] + [fresh_seed(members[0]) + i for i in range(FRESH_SETS)]
    views = ShiftedViews(members[0].model, SHIFT).shifts
    sets = [list(task.validation_batches(size=VALIDATION, seed=s)) for s in seeds]
    # outputs[m][s][v]: member m on set s, view v (per-batch output dicts)
    outputs = [[[view_outputs(run, batches, view) for view in views] for batches in sets] for run in members]

    rows = []
    for path, run, per_set in zip(args.runs, members, outputs):
        config = RunDirectory(path).read_config()["args"]
        metrics = RunDirectory(path).metrics()
        accuracy = [sequence_accuracy(run, batches, per_view[0]) for batches, per_view in zip(sets, per_set)]
        rows.append({"run": str(path), "seed": config["seed"], "threads": config["threads"],
                     "checkpoint_step": int(run.checkpoint["progress"]["step"]), "steps": int(metrics[-1]["step"]),
                     "train_wall_time_s": metrics[-1]["wall_time_s"], **summary(accuracy, 1)})
        print(f"{path}: validation {accuracy[0]:.4f}, fresh {rows[-1]['fresh_mean']:.4f}", flush=True)
    scores = {}
    ensemble = [sequence_accuracy(members[0], batches, combine([outputs[m][s][0] for m in range(len(members))]))
                for s, batches in enumerate(sets)]
    scores["ensemble"] = summary(ensemble, len(members))
    with_views = [sequence_accuracy(members[0], batches, combine([outputs[m][s][v] for m in range(len(members))
                                                                 for v in range(len(views))]))
                  for s, batches in enumerate(sets)]
    scores["ensemble_with_shifted_views"] = summary(with_views, len(members))
    for name, score in scores.items():
        print(f"{name} of {len(members)}: validation {score['validation_set']:.4f}, "
              f"fresh {score['fresh_mean']:.4f} +- {score['fresh_sd']:.4f}", flush=True)
    results = {
        "task": "mnist-seq",
        "recipe": RunDirectory(args.runs[0]).read_config()["command"],
        "members": rows,
        **scores,
        "views": f"{len(views)}: the image and copies shifted {SHIFT} px up, down, left and right",
        "validation": f"{VALIDATION:,} sequences from the MNIST test digits: the runs' set (seed {val_seed}) and "
                      f"{FRESH_SETS} fresh sets (seeds {seeds[1]}-{seeds[-1]})",
        "checkpoints": f"{args.checkpoint}.pt of each run"
                       + (", chosen on the validation set (seed 1234): only the fresh sets are unbiased" if args.checkpoint == "best" else ""),
        "training_digits": "10,000 (train10k-* of the shared MNIST folder)",
        "member_training": "the recipe with --seed 0..N-1; seed 0 is the recorded single run (2 threads, "
                           "--eval-every 200), the others ran with --threads 1 --eval-every 500, two at a time on the 2 cores",
        "member_train_wall_time_min_total": round(sum(r["train_wall_time_s"] for r in rows) / 60, 1),
        "target_sequence_accuracy": 0.99,
    }
    path = save_result("mnist_seq_ensemble", results,
                       command=["python", "-m", "benchmarks.scripts.mnist_seq_ensemble", *map(str, args.runs),
                                "--checkpoint", args.checkpoint])
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
