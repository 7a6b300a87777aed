"""``python -m svhnx.synth {grid,export,atlas}``: look at synthetic street-number scenes, or write a dataset.

grid    a PNG of sample scenes, number crops or large photos of house fronts (``--boxes`` outlines
        the digit boxes, and on photos the distractors in red)
export  N scenes as an SVHN format-1 split folder (1.png ... N.png and digitStruct.mat)
atlas   this machine's glyph atlas (its fonts and handwriting), compressed, for ``train synth --atlas``
        on a machine without them
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
from tqdm.auto import tqdm

from svhnx.argtypes import positive_int
from svhnx.helptext import plain
from svhnx.image_file import write_png
from svhnx.synth.arguments import add_realism_arguments, realism_from_args
from svhnx.synth.atlas import save_atlas
from svhnx.synth.export import draw_boxes, export_scenes, sample_grid
from svhnx.synth.generator import CropBatch, SceneBatch, SceneGenerator
from svhnx.synth.photos import PhotoGenerator


def photo_with_boxes(photo) -> np.ndarray:
    """A photo with its digit boxes in green and its distractors in red, lines thick enough to see in a grid."""
    image = photo.image.copy()
    thickness = max(1, round(max(image.shape[:2]) / 250))
    for boxes, colour in ((photo.distractors, (255, 0, 0)), (photo.boxes, (0, 255, 0))):
        for left, top, width, height in boxes:
            cv2.rectangle(image, (round(left), round(top)), (round(left + width), round(top + height)), colour, thickness)
    return image


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--seed", type=int, default=0, help="stream seed (default: %(default)s)")
    common.add_argument("--data-root", type=Path, default=None,
                        help="folder with svhn-annotations/ (and mnist/ for handwriting); default $SVHNX_DATA or ~/.cache/svhnx")
    common.add_argument("--no-handwriting", action="store_true", help="leave MNIST handwriting out of the typefaces")
    common.add_argument("--threads", type=positive_int, default=None, help="worker threads (default: all cores)")
    add_realism_arguments(common)

    p = argparse.ArgumentParser(prog="python -m svhnx.synth", description=plain(__doc__),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True, help="grid, export or atlas")
    grid = sub.add_parser("grid", parents=[common], help="write a PNG of samples")
    grid.add_argument("out", type=Path, help="PNG to write")
    grid.add_argument("--mode", choices=["scenes", "crops", "photos"], default="scenes",
                      help="whole SVHN-like scenes, 64 x 64 number crops, or large photos of house fronts (svhnx.synth.photos)")
    grid.add_argument("--rows", type=positive_int, default=6, help="rows of samples (default: %(default)s)")
    grid.add_argument("--columns", type=positive_int, default=8, help="samples per row (default: %(default)s)")
    grid.add_argument("--cell", type=positive_int, default=128, help="tile side in pixels (default: %(default)s)")
    grid.add_argument("--boxes", action="store_true", help="outline the digit boxes")
    export = sub.add_parser("export", parents=[common], help="write scenes as an SVHN split folder")
    export.add_argument("out", type=Path, help="folder to write (created if missing)")
    export.add_argument("--count", type=positive_int, required=True, help="number of scenes")
    atlas = sub.add_parser("atlas", parents=[common], help="write the glyph atlas, for train synth --atlas elsewhere")
    atlas.add_argument("out", type=Path, help=".npz file to write")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    realism = realism_from_args(args)
    try:
        generator = SceneGenerator.from_data(args.data_root, realism=realism, handwriting=not args.no_handwriting)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.command == "atlas":
        save_atlas(generator.atlas, args.out, compress=True)
        print(f"{args.out}: {generator.num_styles} styles, {len(generator.atlas)} glyphs")
    elif args.command == "grid":
        count = args.rows * args.columns
        if args.mode == "photos":
            photos = PhotoGenerator.from_data(args.data_root).photos(count, seed=args.seed)
            images = [photo_with_boxes(p) if args.boxes else p.image for p in photos]
            print(write_png(args.out, sample_grid(images, args.columns, args.cell)))
            return 0
        batch: CropBatch | SceneBatch
        if args.mode == "crops":
            batch = generator.crops(count, seed=args.seed, threads=args.threads)
            images = list(batch.images)
        else:
            batch = generator.scenes(count, seed=args.seed, threads=args.threads)
            images = batch.images
        if args.boxes:
            images = [draw_boxes(im, batch.boxes[i, : batch.lengths[i]]) for i, im in enumerate(images)]
        print(write_png(args.out, sample_grid(images, args.columns, args.cell)))
    else:
        with tqdm(total=args.count, unit="scene", disable=None) as bar:
            path = export_scenes(generator, args.out, args.count, seed=args.seed, threads=args.threads, progress=bar.update)
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
