"""Localizers side by side on a held-out synthetic stream: Dice and box IoU on SVHN-like scenes and
on views of house-front photos.

    python -m benchmarks.scripts.localizer_heldout [MODEL ...] [--annotation 1] [--seed 1235] [--scenes 1024] [--photos 128] [--precision float32]
        [--close-looks N [--close-context 1.25]] [--name NAME]

``MODEL``: ``shipped`` (the localizer inside the package, the default), a training checkpoint or run
directory, or a weights file in the shipped format. Every model is scored on the same views: the
``unet`` task's validation data of ``--seed`` (1,024 SVHN-like scenes, windows about the number and
whole scenes, and 4 views of each of 128 house-front photos). Seed 1235 is a stream no training run
draws from and none validated on (``unet`` runs validate on 1234 and pick ``best.pt`` there). One
thread. ``--annotation`` 1 draws the scenes' digit boxes loose, as SVHN's annotators drew them (the
``unet`` task's default since the recognizer's run 2), 0 as the ink's own boxes (what the localizer
shipped first was trained and scored on). Writes ``benchmarks/results/<NAME>_annotation<A>.json`` (default
NAME ``localizer_heldout``). ``--precision bfloat16`` runs each model as the reader does there: a
copy with bfloat16 weights under bfloat16 autocast. ``--close-looks N`` scores each model also with
its mask sharpened by ``N`` close looks (:class:`svhnx.inference.localize.CloseLooks`), a row of its own.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

import torch

from benchmarks.record import print_table, save_result
from svhnx import pretrained
from svhnx.inference.backends import in_precision, load_model
from svhnx.inference.localize import MASK_CONTEXT, CloseLooks
from svhnx.tasks.localizer import UnetTask
from svhnx.train.loop import evaluate_model

KEYS = ("scene_dice", "scene_box_iou", "photo_dice", "photo_box_iou", "photo_false_alarms", "dice", "box_iou", "length_accuracy")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scripts.localizer_heldout", description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="*", default=["shipped"], help="shipped, or checkpoints, run directories or weights files")
    parser.add_argument("--seed", type=int, default=1235, help="validation stream (default: %(default)s)")
    parser.add_argument("--scenes", type=int, default=1024, help="SVHN-like scenes (default: %(default)s)")
    parser.add_argument("--photos", type=int, default=128, help="house-front photos, 4 views each (default: %(default)s)")
    parser.add_argument("--annotation", type=float, default=1.0,
                        help="the scenes' digit boxes: 1 drawn loose as SVHN's annotators drew them, 0 the ink's own (default: %(default)s)")
    parser.add_argument("--precision", choices=("float32", "bfloat16"), default="float32",
                        help="how the models compute (default: %(default)s)")
    parser.add_argument("--close-looks", type=int, default=0,
                        help="also score each model with its mask sharpened by this many close looks (default: %(default)s, none)")
    parser.add_argument("--close-context", type=float, default=MASK_CONTEXT,
                        help="the close looks' window, times the candidate's larger side (default: %(default)s)")
    parser.add_argument("--name", default="localizer_heldout",
                        help="the result file, benchmarks/results/NAME_annotationA.json (default: %(default)s)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    task = UnetTask(UnetTask.Config(val_size=args.scenes, val_photos=args.photos, annotation=args.annotation))
    rows: list[dict[str, Any]] = []
    amp_dtype = torch.bfloat16 if args.precision == "bfloat16" else None
    for name in args.models:
        model = in_precision(pretrained.load("localizer") if name == "shipped" else load_model(name, role="localizer"), args.precision)
        looks = [(name, model)]
        if args.close_looks:
            looks.append((f"{name} + {args.close_looks} close looks", CloseLooks(model, context=args.close_context, passes=args.close_looks)))
        for label, scored in looks:
            metrics = evaluate_model(task, scored, task.validation_batches(seed=args.seed), torch.device("cpu"), amp_dtype=amp_dtype)
            rows.append({"model": label, **{k: round(float(metrics[k]), 4) for k in KEYS if k in metrics}})
            print(rows[-1], flush=True)
    results = {"seed": args.seed, "annotation": args.annotation, "precision": args.precision, "scenes": args.scenes, "photos": args.photos, "threads": 1,
               "close_looks": args.close_looks, "close_context": args.close_context if args.close_looks else None,
               "load_average_1min": round(os.getloadavg()[0], 2), "rows": rows}
    path = save_result(f"{args.name}_annotation{args.annotation:g}", results)
    print_table(f"localizers on held-out stream {args.seed}", rows, ["model", *KEYS])
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
