"""Writing synthetic scenes to disk: an SVHN-format split folder, and a sample grid image."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from svhnx.data.svhn import ANNOTATIONS, write_digit_struct
from svhnx.image_file import write_png
from svhnx.synth.generator import SceneGenerator

CHUNK = 1000  # scenes generated and written at a time


def export_scenes(
    generator: SceneGenerator,
    folder: str | os.PathLike[str],
    count: int,
    *,
    seed: int,
    threads: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> Path:
    """Write ``count`` scenes as an SVHN format-1 split folder: ``1.png ... N.png`` and ``digitStruct.mat``.

    The folder reads back with :func:`svhnx.data.svhn.split_entries` like a real SVHN split (labels
    0-9, boxes in image pixels), so every SVHN tool works on it. The annotation file is written last
    and atomically: a folder that has it is complete. Returns its path.
    """
    if count <= 0:
        raise ValueError(f"count: expected a positive number of scenes, got {count}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:  # PNG encoding releases the GIL
        for first in range(0, count, CHUNK):
            batch = generator.scenes(min(CHUNK, count - first), seed=seed, first=first, threads=threads)
            names = [f"{first + i + 1}.png" for i in range(len(batch))]
            list(pool.map(write_png, [folder / n for n in names], batch.images))
            entries += batch.entries(names)
            if progress is not None:
                progress(len(batch))
    return write_digit_struct(folder / ANNOTATIONS, entries)


def sample_grid(images: list[np.ndarray] | np.ndarray, columns: int, cell: int = 96) -> np.ndarray:
    """Images tiled ``columns`` wide, each scaled to fit a ``cell x cell`` tile (aspect kept, centred, black margins)."""
    if columns <= 0:
        raise ValueError(f"columns: expected a positive count, got {columns}")
    rows = -(-len(images) // columns)
    grid = np.zeros((rows * cell, columns * cell, 3), np.uint8)
    for i, image in enumerate(images):
        h, w = image.shape[:2]
        scale = cell / max(h, w)
        nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
        tile = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        r, c = divmod(i, columns)
        y, x = r * cell + (cell - nh) // 2, c * cell + (cell - nw) // 2
        grid[y : y + nh, x : x + nw] = tile
    return grid


def draw_boxes(image: np.ndarray, boxes: np.ndarray, color: tuple[int, int, int] = (255, 0, 0)) -> np.ndarray:
    """A copy of ``image`` with each ``[left, top, width, height]`` box outlined, one pixel wide."""
    out = image.copy()
    for left, top, width, height in boxes:
        cv2.rectangle(out, (int(np.floor(left)), int(np.floor(top))),
                      (int(np.ceil(left + width)) - 1, int(np.ceil(top + height)) - 1), color, 1)
    return out
