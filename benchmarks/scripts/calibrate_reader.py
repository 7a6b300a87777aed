"""Give a recognizer's weights file its own reader threshold, chosen on held-out synthetic photos.

    python -m benchmarks.scripts.calibrate_reader WEIGHTS [WEIGHTS ...] RESULT [--max-wrong 0.025] [--thresholds 0.9 0.95 0.98]

``RESULT`` is a ``benchmarks/results/*.json`` written by :mod:`benchmarks.scripts.reader_synthetic`
for this very file (its SHA-256 is checked), or these files read as one ensemble (their SHA-256s, in
order), on photo seeds kept for calibration. The threshold
is the smallest of ``--thresholds`` at which the reader's wrong readings on photos with a number,
pooled over the result's seeds, are at most ``--max-wrong``; the largest when none is. It is
written into each file's ``meta["operating_point"]`` (with how it was chosen), which
:class:`svhnx.inference.reader.Reader` uses as its default ``min_confidence``
(:func:`svhnx.pretrained.operating_point`; an ensemble's, where its members agree). Each file is
rewritten in place, atomically.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from benchmarks.record import provenance
from svhnx import pretrained

DEFAULT_THRESHOLDS = (0.9, 0.95, 0.98)


def pooled_sweep(result: Mapping[str, Any], thresholds: Sequence[float]) -> dict[float, dict[str, float]]:
    """Threshold -> right and wrong shares on photos with a number, pooled over the result's seeds
    (each seed has as many photos); ``ValueError`` for a threshold the sweep did not try."""
    by_seed = result["min_confidence_sweep"]["by_seed"]
    pooled = {}
    for threshold in thresholds:
        rows = [next((row for row in rows if row["min_confidence"] == threshold), None) for rows in by_seed.values()]
        if not rows or None in rows:
            raise ValueError(f"threshold {threshold}: not in the result's sweep")
        pooled[threshold] = {key: round(sum(row[key] for row in rows) / len(rows), 4) for key in ("with_number_right", "with_number_wrong")}
    return pooled


def choose_threshold(pooled: Mapping[float, Mapping[str, float]], max_wrong: float) -> float:
    """The smallest threshold whose pooled wrong share is at most ``max_wrong``; the largest if none is."""
    passing = [t for t, shares in sorted(pooled.items()) if shares["with_number_wrong"] <= max_wrong]
    return passing[0] if passing else max(pooled)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("weights", type=Path, nargs="+", help="the recognizer's weights file (shipped format); several: an ensemble's")
    parser.add_argument("result", type=Path, help="reader_synthetic's result for this file, on calibration seeds")
    parser.add_argument("--max-wrong", type=float, default=0.025, help="the largest pooled wrong share allowed (default: %(default)s)")
    parser.add_argument("--thresholds", type=float, nargs="+", default=DEFAULT_THRESHOLDS, help="the thresholds to choose from (default: %(default)s)")
    args = parser.parse_args(argv)
    if not 0.0 <= args.max_wrong <= 1.0:
        parser.error(f"--max-wrong: expected a share in [0, 1], got {args.max_wrong}")
    try:
        contents = [pretrained.read_weights_file(path) for path in args.weights]
        record = json.loads(args.result.read_text())
        result = record["results"]
        digests = [hashlib.sha256(path.read_bytes()).hexdigest() for path in args.weights]
        if result.get("recognizer_sha256") != (digests[0] if len(digests) == 1 else digests):
            parser.error(f"{args.result} was not made with {' + '.join(map(str, args.weights))} (its recognizer_sha256 differs)")
        pooled = pooled_sweep(result, args.thresholds)
    except (pretrained.WeightsError, OSError, ValueError, KeyError, TypeError) as error:
        parser.error(f"{type(error).__name__}: {error}")
    threshold = choose_threshold(pooled, args.max_wrong)
    calibration = {
        "result": record.get("name"),
        "ensemble_of": [path.name for path in args.weights] if len(args.weights) > 1 else None,
        "seeds": [int(seed) for seed in result["min_confidence_sweep"]["by_seed"]],
        "photos_with_number_per_seed": result["photos"]["with_number"],
        "max_wrong": args.max_wrong,
        "pooled": {str(t): shares for t, shares in pooled.items()},
        **provenance(),
    }
    for path, content in zip(args.weights, contents):
        meta = {**(content.get("meta") or {}), "operating_point": {"min_confidence": threshold}, "operating_point_calibration": calibration}
        digest = pretrained.write_weights({**content, "meta": meta}, path)
        print(f"{path}: min_confidence {threshold} (pooled {pooled[threshold]}), sha256 {digest}")


if __name__ == "__main__":
    main()
