"""Train within a wall-clock budget: measure the run's own speed first, then size its steps to fit.

    python -m benchmarks.scripts.train_in_budget SECONDS --out RUN [--probe-steps 400] [--evals 8] -- TASK [train flags]

A one-cycle schedule anneals to zero at its last step, so a run must know its length in steps
before it starts; on a machine whose speed is not known in advance (a lent GPU, 16 loader
workers) the length is measured, not guessed:

1. a probe run of the same task and flags, ``--probe-steps`` long, in ``RUN-probe``; its last
   ``metrics.csv`` row gives the steady training speed (images/s between its last two
   evaluations, start-up excluded);
2. ``steps = speed x (SECONDS left - --margin) / batch size``, evaluated ``--evals`` times, in ``RUN``.

Writes ``RUN/budget.json``: the probe's speed, the steps chosen, and the main run's wall time.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from svhnx.train.cli import parse_config
from svhnx.train.run_dir import read_metrics


def steady_speed(run: Path) -> float:
    """Images/s between a run's last two evaluations (its last ``metrics.csv`` row)."""
    rows = read_metrics(run / "metrics.csv")
    if not rows:
        raise SystemExit(f"{run}/metrics.csv: no evaluation row")
    return rows[-1]["images_per_s"]


def train(task_args: list[str], out: Path, steps: int, eval_every: int, extra: list[str] = ()) -> float:
    """Run ``python -m svhnx.train`` to ``steps``; returns its wall time in seconds."""
    command = [sys.executable, "-m", "svhnx.train", *task_args, "--steps", str(steps), "--eval-every", str(eval_every),
               "--no-progress", "--out", str(out), *extra]
    print("$", " ".join(command), flush=True)
    start = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    start = time.perf_counter()
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scripts.train_in_budget", description=__doc__.split("\n\n")[0],
                                     epilog="after them: -- TASK [train flags], without --steps, --eval-every, --out or --resume")
    parser.add_argument("seconds", type=float, help="wall-clock budget for probe and run together")
    parser.add_argument("--out", type=Path, required=True, help="the run folder (the probe's is RUN-probe)")
    parser.add_argument("--probe-steps", type=int, default=400, help="length of the probe run (default: %(default)s)")
    parser.add_argument("--evals", type=int, default=8, help="evaluations of the main run (default: %(default)s)")
    parser.add_argument("--margin", type=float, default=45.0, help="seconds kept for start-up, evaluations and saving (default: %(default)s)")
    argv = sys.argv[1:] if argv is None else argv
    split = argv.index("--") if "--" in argv else len(argv)
    args, task_args = parser.parse_args(argv[:split]), argv[split + 1 :]
    if not task_args or any(flag in task_args for flag in ("--steps", "--eval-every", "--out", "--resume")):
        parser.error("give the task and its flags after --, without --steps, --eval-every, --out or --resume")
    batch_size = parse_config(task_args)[1].batch_size  # the task's own default when not given

    probe_dir = args.out.with_name(args.out.name + "-probe")
    probe_wall = train(task_args, probe_dir, args.probe_steps, args.probe_steps // 2, ["--val-size", "256"])
    speed = steady_speed(probe_dir)
    left = args.seconds - (time.perf_counter() - start) - args.margin
    steps = int(speed * left / batch_size) // args.evals * args.evals
    if steps < args.evals:
        raise SystemExit(f"{left:.0f} s left at {speed:.0f} images/s: too little for a run")
    print(f"probe: {speed:.0f} images/s at batch {batch_size}; {left:.0f} s left -> {steps} steps", flush=True)
    wall = train(task_args, args.out, steps, steps // args.evals)
    record = {"budget_s": args.seconds, "probe_steps": args.probe_steps, "probe_wall_s": round(probe_wall, 1),
              "probe_images_per_s": round(speed, 1), "batch_size": batch_size, "steps": steps, "run_wall_s": round(wall, 1),
              "total_wall_s": round(time.perf_counter() - start, 1), "train_args": task_args}
    (args.out / "budget.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
