"""How loose SVHN's hand-drawn digit boxes are about the ink, on the svhn-sample photos.

    python -m benchmarks.scripts.box_margins [--sample-dir DIR]

Inside each annotated box the ink is told from the background by Otsu's threshold (the ink is the
class less present on the box's border); a row or column holds ink when at least 8% of it does.
Each side's margin (box edge to the ink's edge, negative when the box clips the ink) is reported
in digit heights, with the share of the box width the ink fills. What ``Realism.annotation`` draws
is set from these figures. Writes ``benchmarks/results/box_margins.json``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from benchmarks.record import save_result
from svhnx.data.download import default_root
from svhnx.data.svhn_digit_struct import read_digit_struct

INK_SHARE = 0.08  # a row or column holds ink when this share of it is ink


def ink_margins(gray: np.ndarray, box: np.ndarray) -> tuple[np.ndarray, float] | None:
    """``([left, top, right, bottom] margins in box heights, ink width / box width)`` of one box, or
    ``None`` when the box holds no ink or lies off the image."""
    left, top, width, height = (int(round(v)) for v in box)
    patch = gray[max(top, 0) : top + height, max(left, 0) : left + width]
    if patch.size == 0:
        return None
    _, binary = cv2.threshold(patch, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    binary = binary > 0
    border = np.concatenate([binary[0], binary[-1], binary[:, 0], binary[:, -1]])
    ink = ~binary if border.mean() > 0.5 else binary
    cols, rows = np.flatnonzero(ink.mean(0) > INK_SHARE), np.flatnonzero(ink.mean(1) > INK_SHARE)
    if len(cols) == 0 or len(rows) == 0:
        return None
    sides = np.array([cols[0], rows[0], patch.shape[1] - 1 - cols[-1], patch.shape[0] - 1 - rows[-1]], float)
    return sides / height, (cols[-1] - cols[0] + 1) / width


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scripts.box_margins", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sample-dir", type=Path, default=default_root() / "svhn-sample",
                        help="folders with digitStruct.mat and their images (default: $SVHNX_DATA/svhn-sample)")
    args = parser.parse_args(argv)
    margins, fills = [], []
    for struct in sorted(args.sample_dir.glob("*/digitStruct.mat")):
        for entry in read_digit_struct(struct):
            image = struct.parent / entry.name
            if not image.is_file():
                continue  # an annotated image the sample leaves out
            gray = cv2.imread(str(image), cv2.IMREAD_GRAYSCALE)
            for box in entry.boxes:
                measured = ink_margins(gray, box)
                if measured is not None:
                    margins.append(measured[0])
                    fills.append(measured[1])
    margins = np.array(margins)
    results = {
        "boxes": len(margins),
        "side_margin_in_heights": {"median": round(float(np.median(margins)), 3), "min": round(float(margins.min()), 3),
                                   "max": round(float(margins.max()), 3)},
        "median_by_side": dict(zip(("left", "top", "right", "bottom"), np.round(np.median(margins, 0), 3).tolist())),
        "ink_width_share_median": round(float(np.median(fills)), 3),
        "method": f"Otsu threshold inside each box; rows/columns with at least {INK_SHARE:.0%} ink",
    }
    print(results)
    print(save_result("box_margins", results, command=["python", "-m", "benchmarks.scripts.box_margins"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
