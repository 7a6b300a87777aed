"""Two whole-photo readers on the same photos, compared photo by photo.

    python -m benchmarks.scripts.compare_readers A.json B.json [--outcomes 2] [--name NAME]

``A.json`` and ``B.json`` are results of :mod:`benchmarks.scripts.reader_scenes`,
:mod:`benchmarks.scripts.reader_synthetic` or :mod:`benchmarks.scripts.reader_crops` on the same
photos (their description is checked), each with its photos' ``outcomes``; ``--outcomes`` picks
which: a close-look count for the scenes and the crops (``2``), ``SEED/with_number`` or
``SEED/number_free`` for the house fronts, or several of them comma-separated, pooled
(``8651/with_number,9762/with_number``: both seeds' fronts, as the rules pool them). For "read
right" and for "read wrong" in turn, the photos where exactly one reader has it are counted
(``a_only``, ``b_only``), and McNemar's exact test gives the two-sided p-value of so uneven a split
if the two readers were alike: a difference of a few photos in a thousand is told from noise by the
photos the readers disagree on, not by the two shares alone. Prints the table; with ``--name``,
writes ``benchmarks/results/NAME.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from benchmarks.record import print_table, save_result

OUTCOMES = {"right": "R", "wrong": "W"}


def mcnemar_exact(a_only: int, b_only: int) -> float:
    """Two-sided p-value of McNemar's exact test: the chance, with ``a_only + b_only`` discordant
    photos each falling to either reader with probability 1/2, of a split at least this uneven."""
    n, k = a_only + b_only, min(a_only, b_only)
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


def compare(a: str, b: str) -> list[dict[str, Any]]:
    """Rows for "right" and "wrong": each reader's share, the photos only one of them has, and the
    exact McNemar p-value, from two outcome strings of one stream (``R``, ``W`` or ``-`` a photo)."""
    if len(a) != len(b) or not a:
        raise ValueError(f"outcomes: expected two equally long, non-empty strings, got {len(a)} and {len(b)} photos")
    rows = []
    for name, letter in OUTCOMES.items():
        a_only = sum(x == letter != y for x, y in zip(a, b))
        b_only = sum(y == letter != x for x, y in zip(a, b))
        rows.append({
            "outcome": name,
            "a": round(a.count(letter) / len(a), 4),
            "b": round(b.count(letter) / len(b), 4),
            "a_only": a_only,
            "b_only": b_only,
            "p_value": round(mcnemar_exact(a_only, b_only), 4),
        })
    return rows


def load_outcomes(path: Path, keys: str) -> tuple[dict[str, Any], str]:
    """A result's photo stream (``scenes`` or ``photos``) and its outcomes at ``keys``: a path into
    ``outcomes`` such as ``2`` or ``8646/with_number``, or several comma-separated, joined in order."""
    results = json.loads(path.read_text())["results"]
    pooled = []
    for key in keys.split(","):
        letters: Any = results.get("outcomes", {})
        for part in key.split("/"):
            letters = letters.get(part) if isinstance(letters, dict) else None
        if not isinstance(letters, str):
            raise ValueError(f"{path}: no outcomes at {key!r} (reader_scenes and reader_synthetic record them since 2026-12-06)")
        pooled.append(letters)
    stream = results.get("scenes", results.get("photos"))
    if stream is None:
        raise ValueError(f"{path}: no 'scenes' or 'photos' saying which stream it read, so it cannot be paired")
    return stream, "".join(pooled)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scripts.compare_readers", description=__doc__.split("\n\n")[0])
    parser.add_argument("a", type=Path, help="reader_scenes, reader_synthetic or reader_crops result of the first reader")
    parser.add_argument("b", type=Path, help="the same for the second reader, on the same photos")
    parser.add_argument("--outcomes", default="2",
                        help="which outcomes: a close-look count (scenes), SEED/with_number or SEED/number_free (house fronts); "
                             "several comma-separated are pooled (default: %(default)s)")
    parser.add_argument("--name", default=None, help="also write benchmarks/results/NAME.json")
    args = parser.parse_args(argv)
    try:
        (stream_a, a), (stream_b, b) = load_outcomes(args.a, args.outcomes), load_outcomes(args.b, args.outcomes)
    except (OSError, ValueError, KeyError) as error:  # a missing or unreadable file, JSON that is not such a result
        parser.error(f"{type(error).__name__}: {error}")
    if stream_a != stream_b:
        parser.error(f"the two results read different photos: {stream_a} and {stream_b}")
    rows = compare(a, b)
    print_table(f"A = {args.a.name}, B = {args.b.name}: {len(a)} photos, outcomes {args.outcomes}", rows,
                ["outcome", "a", "b", "a_only", "b_only", "p_value"])
    if args.name:
        results = {"a": str(args.a), "b": str(args.b), "photos": stream_a, "outcomes": args.outcomes, "rows": rows}
        command = ["python", "-m", "benchmarks.scripts.compare_readers", *(argv if argv is not None else sys.argv[1:])]
        print(f"wrote {save_result(args.name, results, command=command)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
