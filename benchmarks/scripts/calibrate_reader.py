"""Give a recognizer's weights file its own reader threshold, chosen on held-out synthetic photos.

    python -m benchmarks.scripts.calibrate_reader WEIGHTS [WEIGHTS ...] RESULT [--max-wrong 0.025] [--max-number-free 0.02]

``RESULT`` is a ``benchmarks/results/*.json`` written by :mod:`benchmarks.scripts.reader_synthetic`
for this very file (its SHA-256 is checked), or these files read as one ensemble (their SHA-256s, in
order), on photo seeds kept for calibration. A threshold qualifies when the reader's wrong readings
on photos with a number, pooled over the result's seeds, are at most ``--max-wrong`` and it reports a
number on at most ``--max-number-free`` of the number-free photos of each seed. The threshold is the
smallest of ``--thresholds`` (default: every one the sweep measures) such that it and every larger one
qualify; the largest when none does. (Until 2026-12-05 the choice was among 0.9, 0.95 and 0.98 on the
wrong share alone: an averaged ensemble, less confident, could not be given its operating point.) It is
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
from benchmarks.scripts.reader_synthetic import THRESHOLDS
from svhnx import pretrained


def pooled_sweep(result: Mapping[str, Any], thresholds: Sequence[float]) -> dict[float, dict[str, float]]:
    """Threshold -> right and wrong shares on photos with a number, pooled over the result's seeds
    (each seed has as many photos), and the worst seed's share of number-free photos given a number;
    ``ValueError`` for a threshold the sweep did not try."""
    by_seed = result["min_confidence_sweep"]["by_seed"]
    pooled = {}
    for threshold in thresholds:
        rows = [next((row for row in rows if row["min_confidence"] == threshold), None) for rows in by_seed.values()]
        if not rows or None in rows:
            raise ValueError(f"threshold {threshold}: not in the result's sweep")
        pooled[threshold] = {key: round(sum(row[key] for row in rows) / len(rows), 4) for key in ("with_number_right", "with_number_wrong")}
        pooled[threshold]["number_free_wrong_worst_seed"] = max(row["number_free_wrong"] for row in rows)
    return pooled


def choose_threshold(pooled: Mapping[float, Mapping[str, float]], max_wrong: float, max_number_free: float = 1.0) -> float:
    """The smallest threshold that, with every larger one, keeps the pooled wrong share within
    ``max_wrong`` and the worst seed's number-free share within ``max_number_free``; the largest if none does."""
    chosen = max(pooled)
    for threshold in sorted(pooled, reverse=True):
        shares = pooled[threshold]
        if shares["with_number_wrong"] > max_wrong or shares["number_free_wrong_worst_seed"] > max_number_free:
            break
        chosen = threshold
    return chosen


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("weights", type=Path, nargs="+", help="the recognizer's weights file (shipped format); several: an ensemble's")
    parser.add_argument("result", type=Path, help="reader_synthetic's result for this file, on calibration seeds")
    parser.add_argument("--max-wrong", type=float, default=0.025, help="the largest pooled wrong share allowed (default: %(default)s)")
    parser.add_argument("--max-number-free", type=float, default=0.02, help="the largest share of number-free photos given a number, on each seed (default: %(default)s)")
    parser.add_argument("--thresholds", type=float, nargs="+", default=THRESHOLDS, help="the thresholds to choose from (default: %(default)s)")
    args = parser.parse_args(argv)
    for flag, share in (("--max-wrong", args.max_wrong), ("--max-number-free", args.max_number_free)):
        if not 0.0 <= share <= 1.0:
            parser.error(f"{flag}: expected a share in [0, 1], got {share}")
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
    threshold = choose_threshold(pooled, args.max_wrong, args.max_number_free)
    calibration = {
        "result": record.get("name"),
        "ensemble_of": [path.name for path in args.weights] if len(args.weights) > 1 else None,
        "seeds": [int(seed) for seed in result["min_confidence_sweep"]["by_seed"]],
        "photos_with_number_per_seed": result["photos"]["with_number"],
        "max_wrong": args.max_wrong,
        "max_number_free": args.max_number_free,
        "thresholds": sorted(pooled),
        "pooled": {str(t): shares for t, shares in pooled.items()},
        **provenance(),
    }
    for path, content in zip(args.weights, contents):
        meta = {**(content.get("meta") or {}), "operating_point": {"min_confidence": threshold}, "operating_point_calibration": calibration}
        digest = pretrained.write_weights({**content, "meta": meta}, path)
        print(f"{path}: min_confidence {threshold} (pooled {pooled[threshold]}), sha256 {digest}")


if __name__ == "__main__":
    main()
