"""Number-free 64 x 64 crops for training the recognizer to read "no digits" (hard negatives).

    OMP_WAIT_POLICY=PASSIVE python -m benchmarks.scripts.mine_negatives OUT.npz [--photos N] [--seed S] [--localizer RUN]
        [--only candidate|distractor]

From ``--photos`` synthetic house fronts without a number (:class:`svhnx.synth.photos.PhotoGenerator`,
stream ``--seed``, which the reader's benchmarks never draw), two kinds of crop, each cut by the
crop rule (box grown by 30%, 64 x 64: :func:`svhnx.ops.crop_rule.number_crops`):

- ``candidate``: every box the whole-photo reader would hand its recognizer (the localizer's first
  pass and close look, :meth:`svhnx.inference.reader.Reader.close_look`), which on these photos
  are all false alarms: the crops a wrong reading comes from;
- ``distractor``: the box of every word, letter and empty plaque the generator drew.

``svhnx.train synth --negatives OUT.npz`` mixes them into training with the target "no digits"
(length 0, five blanks). Writes ``images uint8 [M, 64, 64, 3]`` and ``source uint8 [M]``
(0 = candidate, 1 = distractor); ``--only`` keeps one kind.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from benchmarks.reader_models import add_localizer_argument, load_localizer
from svhnx.atomic import atomic_path
from svhnx.inference.reader import Reader
from svhnx.ops.crop_rule import number_crops
from svhnx.synth.photos import PhotoGenerator

SEED = 5150  # a photo stream of its own: not the reader benchmarks' (8642, 9753)
SOURCES = ("candidate", "distractor")


@torch.inference_mode()
def mine(reader: Reader, generator: PhotoGenerator, photos: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(crops uint8 [M, 64, 64, 3], source uint8 [M])`` from photos ``0 .. photos - 1`` of stream ``seed``."""
    crops, sources = [], []
    for index in range(photos):
        photo = generator.photo(seed, index, with_number=False)  # one at a time: a photo is up to 12 MB
        candidates, _ = reader.close_look(photo.image, reader.first_pass(photo.image))
        for source, boxes in enumerate(([c.box for c in candidates], photo.distractors)):
            boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
            boxes = boxes[(boxes[:, 2] >= 1) & (boxes[:, 3] >= 1)]
            if len(boxes):
                crops.append(number_crops([photo.image] * len(boxes), boxes))
                sources.append(np.full(len(boxes), source, np.uint8))
    return np.concatenate(crops), np.concatenate(sources)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scripts.mine_negatives", description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the .npz file to write")
    parser.add_argument("--photos", type=int, default=2000, help="number-free photos to mine (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=SEED, help="the photos' stream (default: %(default)s)")
    add_localizer_argument(parser)
    parser.add_argument("--only", choices=SOURCES, default=None, help="keep only this kind of crop (default: both)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    reader = Reader(load_localizer(args.localizer), torch.nn.Identity(), precision="float32")  # its first pass and close look only
    start = time.perf_counter()
    crops, sources = mine(reader, PhotoGenerator.from_data(), args.photos, args.seed)
    if args.only is not None:
        kept = sources == SOURCES.index(args.only)
        crops, sources = crops[kept], sources[kept]
    with atomic_path(args.out) as tmp, open(tmp, "wb") as f:
        np.savez(f, images=crops, source=sources)
    counts = ", ".join(f"{np.sum(sources == i)} {name}" for i, name in enumerate(SOURCES))
    print(f"{args.out}: {len(crops)} crops ({counts}) from {args.photos} photos in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
