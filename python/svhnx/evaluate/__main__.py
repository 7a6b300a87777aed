"""``python -m svhnx.evaluate RUN_OR_CHECKPOINT [RUN_OR_CHECKPOINT ...]``: metrics on fresh validation
data and a PNG grid of sample predictions (mistakes first). Several runs of one recognizer task are
scored as one ensemble (their class probabilities averaged) on the first run's validation data."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from svhnx.atomic import atomic_path
from svhnx.data.download import DatasetNotFoundError
from svhnx.evaluate import evaluate_run, fresh_seed, load_ensemble, with_shifted_views, with_warped_views
from svhnx.helptext import plain
from svhnx.train.arguments import non_negative_int, positive_int


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m svhnx.evaluate", description=plain(__doc__), allow_abbrev=False)
    parser.add_argument("runs", type=Path, nargs="+", metavar="RUN_OR_CHECKPOINT",
                        help="a run directory or a .pt checkpoint; several: their ensemble")
    parser.add_argument("--checkpoint", choices=("best", "last"), default="best", help="which checkpoint of a run directory (default: best)")
    parser.add_argument("--val-size", type=positive_int, default=None, help="validation samples (default: the run's)")
    parser.add_argument("--seed", type=non_negative_int, default=None, help="validation seed (default: one the run never used)")
    tta = parser.add_mutually_exclusive_group()
    tta.add_argument("--tta-shift", type=non_negative_int, default=0, metavar="PIXELS",
                     help="average over the image and copies shifted PIXELS up, down, left and right "
                          "(test-time augmentation, recognizers; default: 0, off)")
    tta.add_argument("--tta-warp", type=non_negative_int, default=0, metavar="VIEWS",
                     help="average over the image and VIEWS copies with every digit slot mildly warped "
                          "(test-time augmentation, recognizers; default: 0, off)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="auto picks CUDA when present (default: auto)")
    parser.add_argument("--data-root", type=Path, default=None, help="data folder (default: the run's)")
    parser.add_argument("--figure", type=Path, default=None, help="PNG of sample predictions (default: <run>/evaluation.png)")
    parser.add_argument("--json", type=Path, default=None, help="also write the metrics here as JSON")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True,
                        help="progress bars on a terminal (default: on)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        run = load_ensemble(args.runs, which=args.checkpoint, device=args.device, data_root=args.data_root)
        if args.tta_shift:
            run = with_shifted_views(run, args.tta_shift)
        if args.tta_warp:
            run = with_warped_views(run, args.tta_warp)
    except (FileNotFoundError, ValueError) as exc:
        parser.error(str(exc))
    figure = args.figure or run.path.parent / ("evaluation-ensemble.png" if run.members else "evaluation.png")
    seed = fresh_seed(run) if args.seed is None else args.seed
    try:
        metrics = evaluate_run(run, size=args.val_size, seed=seed, figure=figure, progress=args.progress)
    except DatasetNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    step = run.checkpoint.get("progress", {}).get("step")
    if run.members:
        print(f"ensemble of {len(run.members)} (task {run.task.name}): {', '.join(map(str, run.members))}; {run.task.describe_evaluation_data(seed)}:")
    else:
        print(f"{run.path} (task {run.task.name}, model {run.checkpoint['model']['name']}, step {step}), {run.task.describe_evaluation_data(seed)}:")
    if args.tta_shift:
        print(f"  (test-time augmentation: 5 views, shifts of {args.tta_shift} px)")
    if args.tta_warp:
        print(f"  (test-time augmentation: {1 + args.tta_warp} views, the image and {args.tta_warp} with warped slots)")
    for name, value in metrics.items():
        print(f"  {name:24s} {value:.4f}")
    print(f"predictions: {figure}")
    if args.json is not None:
        with atomic_path(args.json) as tmp:
            which = {"checkpoints": list(map(str, run.members))} if run.members else {"checkpoint": str(run.path), "step": step}
            tmp.write_text(json.dumps({**which, "seed": seed, "tta_shift": args.tta_shift, "tta_warp": args.tta_warp, **metrics}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
