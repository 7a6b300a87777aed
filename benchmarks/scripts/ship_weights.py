"""Write a training run's weights as a shipped model, with the facts of its run as the file's ``meta``.

    python -m benchmarks.scripts.ship_weights RUN NAME [--checkpoint last|best] [--to FILE.pt]

Writes ``python/svhnx/weights/<NAME>.pt`` (or ``--to``: e.g. on a lent machine, to bring back) (float16 state dict and model config, read back with
``weights_only=True``) and prints the SHA-256 to record in :data:`svhnx.pretrained.SHIPPED`. The meta
holds the task, the run's flags, the step, images seen, training and wall time, the last metrics
row and where it was trained: what the model cards quote.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks.record import provenance
from svhnx import pretrained
from svhnx.checkpoint import load_checkpoint, model_from_checkpoint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="the run directory")
    parser.add_argument("name", help="the shipped model's name (recognizer, localizer, digits)")
    parser.add_argument("--checkpoint", choices=("last", "best"), default="last", help="(default: last, the averaged weights at the last step)")
    parser.add_argument("--to", type=Path, default=None, help="write here instead of the package's weights folder")
    args = parser.parse_args()
    path = args.run / f"{args.checkpoint}.pt"
    checkpoint = load_checkpoint(path)
    model = model_from_checkpoint(checkpoint, path)
    meta = {**pretrained.training_facts(checkpoint), **provenance(), "data": "synthetic only (svhnx.synth); no real SVHN pixels"}
    target = args.to if args.to is not None else pretrained.WEIGHTS_DIR / f"{args.name}.pt"
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = pretrained.save_weights(model, checkpoint["model"]["name"], checkpoint["model"]["kwargs"], target, meta)
    print(f"{target}: {target.stat().st_size / 2**20:.2f} MB, step {meta['step']}, sha256 {digest}")


if __name__ == "__main__":
    main()
