"""Grow a shipped (or saved) model wider, computing exactly what it computed, as a run's starting point.

    python -m benchmarks.scripts.widen_weights localizer wide-localizer.pt --widths 24,36,48,72,96
    python -m benchmarks.scripts.widen_weights localizer refined-localizer.pt --refine 8
    python -m benchmarks.scripts.widen_weights recognizer wide-recognizer.pt --width 1.5
    python -m svhnx.train unet --init wide-localizer.pt --widths 24,36,48,72,96 ...

The new channels start with random weights that nothing reads yet, and a new refinement head
with a last layer at zero (:mod:`svhnx.models.grow`); the grown model's outputs are checked
against the source's before the file is written.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import torch

from benchmarks.record import provenance
from svhnx import pretrained
from svhnx.argtypes import positive_int
from svhnx.models import create_model, model_kwargs
from svhnx.models.grow import widen
from svhnx.models.unet import skip_input_parts
from svhnx.tasks.localizer import parse_widths


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="a shipped model's name (recognizer, localizer, digits) or a weights file")
    parser.add_argument("out", type=Path, help="the wider model's weights file")
    parser.add_argument("--width", type=float, help="svhn-resnet / digit-resnet: the new channel multiplier")
    parser.add_argument("--widths", type=parse_widths, help="unet: the new level widths, comma-separated")
    parser.add_argument("--refine", type=positive_int, help="unet: add a refinement head of this many channels")
    parser.add_argument("--seed", type=int, default=0, help="seed of the new channels' weights (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.width is not None and (args.widths is not None or args.refine is not None):
        parser.error("give --width (recognizers), or --widths and/or --refine (unet)")
    if args.width is None and args.widths is None and args.refine is None:
        parser.error("give one of --width (recognizers), --widths or --refine (unet)")

    shipped = args.source in pretrained.SHIPPED
    source = pretrained.path(args.source) if shipped else Path(args.source)
    try:
        narrow = pretrained.load(args.source) if shipped else None  # the shipped file's hash is checked
        contents = pretrained.read_weights(source.read_bytes(), source)
        name, kwargs = contents["model"]["name"], dict(contents["model"]["kwargs"])
        narrow = narrow or pretrained.model_from_weights(contents, allowed=[name], source=source)
    except (OSError, pretrained.WeightsError) as error:
        parser.error(str(error))
    change = {"width": args.width} if args.width is not None else {}
    change.update({"widths": list(args.widths)} if args.widths is not None else {})
    change.update({"refine": args.refine} if args.refine is not None else {})
    if set(change) - set(model_kwargs(name, kwargs)):
        parser.error(f"{source} holds a {name!r} model, which has no {sorted(set(change) - set(model_kwargs(name, kwargs)))} setting")
    if model_kwargs(name, kwargs).get("refine") and "refine" in change:
        parser.error(f"{source} has a refinement head already")
    wide_kwargs = {**kwargs, **change}
    torch.manual_seed(args.seed)
    size = [64 if s is None else s for s in narrow.input_shape]  # a U-Net takes any multiple of 32
    example = torch.randint(0, 256, (4, *size), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    try:
        parts = skip_input_parts(model_kwargs(name, kwargs)["widths"], args.widths) if args.widths is not None else None
        wider = widen(narrow, create_model(name, **wide_kwargs), example, input_parts=parts,
                      new_layers=["refine"] if args.refine is not None else [])
    except ValueError as error:
        parser.error(str(error))
    meta = {"widened_from": str(source), "from_kwargs": kwargs, **provenance(), "source_meta": contents.get("meta", {})}
    digest = pretrained.save_weights(wider, name, wide_kwargs, args.out, meta)
    params = (sum(p.numel() for p in narrow.parameters()), sum(p.numel() for p in wider.parameters()))
    print(f"{args.out}: {name} {kwargs} -> {wide_kwargs}, {params[0]:,} -> {params[1]:,} parameters, sha256 {digest}")


if __name__ == "__main__":
    main()
