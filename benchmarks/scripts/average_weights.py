"""Average the weights of recognizers (or localizers) fine-tuned from one starting point: a model soup.

    python -m benchmarks.scripts.average_weights soup.pt recognizer run12/last.pt run13/last.pt ...

Each source is a shipped model's name, a weights file or a training checkpoint (its averaged
weights); all must hold the same model with the same settings. The mean is written as a weights
file in the shipped format (:func:`svhnx.pretrained.save_weights`), with its sources and what each was
(its own meta, or a checkpoint's training facts) in ``meta``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from benchmarks.record import provenance
from svhnx import pretrained
from svhnx.models import create_model, model_kwargs
from svhnx.models.average import average_states


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the averaged weights file")
    parser.add_argument("sources", nargs="+", help="shipped model names, weights files or checkpoints (at least two)")
    args = parser.parse_args(argv)
    if len(args.sources) < 2:
        parser.error("give at least two sources to average")
    try:
        specs_and_states = [pretrained.spec_and_state(source) for source in args.sources]
    except pretrained.WeightsError as error:
        parser.error(str(error))
    settings = [(spec["name"], model_kwargs(spec["name"], spec["kwargs"])) for spec, _ in specs_and_states]
    name, kwargs = settings[0]
    for source, (other, other_kwargs) in zip(args.sources, settings):
        if (other, other_kwargs) != (name, kwargs):
            parser.error(f"{source} holds {other!r} {other_kwargs}, the first source {name!r} {kwargs}")
    try:
        state = average_states([state for _, state in specs_and_states])
    except ValueError as error:
        parser.error(str(error))
    model = create_model(name, **kwargs)
    model.load_state_dict(state)
    meta = {"averaged_from": list(args.sources), "members": [spec["meta"] for spec, _ in specs_and_states], **provenance(),
            "data": "synthetic only (svhnx.synth); no real SVHN pixels"}
    digest = pretrained.save_weights(model, name, kwargs, args.out, meta)
    print(f"{args.out}: {name} {kwargs}, the mean of {len(args.sources)}, {args.out.stat().st_size / 2**20:.2f} MB, sha256 {digest}")


if __name__ == "__main__":
    main()
