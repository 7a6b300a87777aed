"""``python -m svhnx.evaluate RUN_OR_CHECKPOINT [RUN_OR_CHECKPOINT ...]``: metrics on fresh validation
data and a PNG grid of sample predictions (mistakes first). A weights file or a shipped model's name
(``digits``) is scored as a run of the task it was trained with. Several runs of one recognizer task are
scored as one ensemble (their class probabilities averaged) on the first run's validation data.

``--numbers FILE.npz`` scores a recognizer on real number crops and ``--digits32 FILE.npz`` a digit
classifier on real 32 x 32 digits (files in the layout of svhn-real); without a checkpoint, the
shipped models (for digits: the digit classifiers and the recognizer averaged, :mod:`svhnx.inference.digits`)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from torch import nn

from svhnx import pretrained
from svhnx.argtypes import non_negative_int, positive_int
from svhnx.atomic import atomic_path
from svhnx.data.download import DatasetNotFoundError
from svhnx.evaluate import checkpoint_path, evaluate_run, fresh_seed, load_ensemble, with_close_looks, with_shifted_views, with_warped_views
from svhnx.evaluate.real import load_digits32, load_numbers, score_digits32, score_numbers
from svhnx.evaluate.views import ShiftedViews
from svhnx.hardware import PRECISIONS, resolve_precision
from svhnx.helptext import plain
from svhnx.inference.backends import load_model
from svhnx.inference.digits import shipped_digit_reader
from svhnx.inference.reader import RECOGNIZER_PRECISION
from svhnx.inference.recognize import DEFAULT_VIEWS
from svhnx.models.heads import ensemble_of
from svhnx.ops.crop_rule import VIEW_COUNTS, VIEW_SHIFTS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m svhnx.evaluate", description=plain(__doc__), allow_abbrev=False)
    parser.add_argument("runs", type=Path, nargs="*", metavar="RUN_OR_CHECKPOINT",
                        help="a run directory, a .pt checkpoint or weights file, or a shipped model's name (digits, "
                             "localizer, recognizer: scored as a run of the task it was trained with); several: their ensemble "
                             "(with --numbers or --digits32 and none given: the shipped model)")
    real = parser.add_argument_group("real pixels (files in the layout of svhn-real)")
    real.add_argument("--numbers", type=Path, default=None, metavar="FILE.npz",
                      help="score a recognizer on these 64 x 64 number crops (their centre 54 x 54, and shifted views: --views)")
    real.add_argument("--views", type=int, choices=VIEW_COUNTS, default=DEFAULT_VIEWS, metavar="N",
                      help=f"with --numbers: views of each crop read and averaged, 1-{len(VIEW_SHIFTS)}, as the "
                           "whole-photo reader does (default: %(default)s)")
    real.add_argument("--precision", choices=PRECISIONS, default=RECOGNIZER_PRECISION,
                      help="with --numbers: how the recognizer computes, auto being bfloat16 on CPUs with AMX or AVX-512 BF16; the default is "
                           "the reader's (default: %(default)s)")
    real.add_argument("--digits32", type=Path, default=None, metavar="FILE.npz",
                      help="score a digit classifier (task synth-digits) on these 32 x 32 digits "
                           "(none given: the shipped digit classifiers and recognizer, averaged)")
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
    tta.add_argument("--close-looks", type=non_negative_int, default=0, metavar="N",
                     help="sharpen the mask by N close looks at its candidates, 2 as svhnx reports it "
                          "(localizers, svhnx.inference.localize.CloseLooks; default: 0, off)")
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
    if args.numbers is not None or args.digits32 is not None:
        return score_real(args, parser)
    if not args.runs:
        parser.error("give a run directory or checkpoint (or --numbers/--digits32 for the shipped models)")
    try:
        run = load_ensemble(args.runs, which=args.checkpoint, device=args.device, data_root=args.data_root)
        if args.tta_shift:
            run = with_shifted_views(run, args.tta_shift)
        if args.tta_warp:
            run = with_warped_views(run, args.tta_warp)
        if args.close_looks:
            run = with_close_looks(run, args.close_looks)
    except (OSError, ValueError) as exc:
        parser.error(str(exc))
    figure = None
    if run.task.has_prediction_figure:
        figure = args.figure or run.path.parent / ("evaluation-ensemble.png" if run.members else "evaluation.png")
    elif args.figure is not None:
        parser.error(f"--figure: task {run.task.name!r} has no prediction figure")
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
    if args.close_looks:
        print(f"  (the mask sharpened by {args.close_looks} close looks at its candidates)")
    for name, value in metrics.items():
        print(f"  {name:24s} {value:.4f}")
    if figure is not None:
        print(f"predictions: {figure}")
    if args.json is not None:
        with atomic_path(args.json) as tmp:
            which = {"checkpoints": list(map(str, run.members))} if run.members else {"checkpoint": str(run.path), "step": step}
            tmp.write_text(json.dumps({**which, "seed": seed, "tta_shift": args.tta_shift, "tta_warp": args.tta_warp,
                                       "close_looks": args.close_looks, **metrics}, indent=2) + "\n")
    return 0


def score_real(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """``--numbers`` / ``--digits32``: a model (checkpoints: their ensemble; none: the shipped one) on real pixels."""
    if args.numbers is not None and args.digits32 is not None and args.runs:
        parser.error("--numbers and --digits32 need different models: give one of them with a checkpoint")
    if args.tta_warp:
        parser.error("--tta-warp warps MNIST digit slots; for real crops use --tta-shift")
    if args.digits32 is not None and (len(args.runs) > 1 or args.tta_shift):
        parser.error("--digits32 scores one digit classifier as it is (no ensembles or --tta-shift)")
    scores: dict[str, Any] = {}
    try:
        for kind, file in (("numbers", args.numbers), ("digits32", args.digits32)):
            if file is None:
                continue
            source, model, folder = _real_model(args, "recognizer" if kind == "numbers" else "digits")
            if kind == "numbers":
                figure = args.figure or folder / "numbers-mistakes.png"
                if args.tta_shift:
                    model, source = ShiftedViews(model, args.tta_shift).eval(), f"{source}, 5 views shifted {args.tta_shift} px"
                scores[kind] = {"file": str(file), "model": source, "views": args.views, "precision": resolve_precision(args.precision),
                                **score_numbers(model, load_numbers(file), views=args.views, figure=figure, precision=args.precision)}
                print(f"{file} read by {source}; mistakes: {figure}")
            else:
                images, labels = load_digits32(file)
                scores[kind] = {"file": str(file), "model": source, **score_digits32(model, images, labels)}
                print(f"{file} classified by {source}")
            print(json.dumps(scores[kind], indent=2))
    except (OSError, ValueError) as exc:
        parser.error(str(exc))
    if args.json is not None:
        with atomic_path(args.json) as tmp:
            tmp.write_text(json.dumps(scores, indent=2) + "\n")
    return 0


def _real_model(args: argparse.Namespace, shipped: str) -> tuple[str, nn.Module, Path]:
    """``(where it came from, model, folder for its figures)``: the models given (checkpoints, weights files or
    shipped models' names; several: their ensemble; figures beside the first, or in the working folder for a
    shipped one), else the shipped model ``shipped`` (for ``"digits"``: the shipped digit classifiers and
    recognizer averaged; figures in the working folder)."""
    if not args.runs and shipped == "digits":
        return "shipped digit classifiers (five shifted views each) and recognizer, averaged", shipped_digit_reader(), Path()
    if not args.runs:
        files = " + ".join(pretrained.path(name).name for name in pretrained.members(shipped))
        return f"shipped {shipped} ({files})", pretrained.load_as_one(shipped), Path()
    sources, models = zip(*(_model_for(run, args.checkpoint, shipped) for run in args.runs))
    folder = Path() if pretrained.WEIGHTS_DIR in sources[0].resolve().parents else sources[0].parent  # not into the package
    source = str(sources[0]) if len(sources) == 1 else f"ensemble of {', '.join(map(str, sources))}"
    return source, ensemble_of(list(models)), folder


def _model_for(run: Path, which: str, role: str) -> tuple[Path, nn.Module]:
    """``(its file, model)`` of a shipped model's name (its SHA-256 checked; ``ValueError`` if it is not a
    ``role``), a run directory (its ``which`` checkpoint), a checkpoint or a weights file."""
    if (name := pretrained.shipped_name(run)) is not None:
        if not set(pretrained.SHIPPED[name].models) & set(pretrained.SHIPPED[role].models):
            raise ValueError(f"{name} is a shipped {' or '.join(pretrained.SHIPPED[name].models)}, not a {role}")
        return pretrained.path(name), pretrained.load(name)
    path = checkpoint_path(run, which)
    return path, load_model(path, role=role)


if __name__ == "__main__":
    raise SystemExit(main())
