"""The ``svhnx`` command: ``svhnx COMMAND [ARGS]`` runs ``python -m svhnx.COMMAND [ARGS]``."""

from __future__ import annotations

import argparse
import runpy
import sys
from collections.abc import Sequence

import svhnx

#: Command -> (the module ``python -m`` runs, one line for ``svhnx --help``).
COMMANDS: dict[str, tuple[str, str]] = {
    "train": ("svhnx.train", "train a model into a run directory"),
    "evaluate": ("svhnx.evaluate", "score a trained run on fresh data and draw its mistakes"),
    "predict": ("svhnx.inference.predict", "read the house number in photos"),
    "synth": ("svhnx.synth", "look at or export synthetic street-number scenes"),
    "export": ("svhnx.inference.export", "export a trained model to ONNX"),
    "transfer": ("svhnx.transfer", "read real SVHN numbers with an MNIST-sequence model"),
    "doctor": ("svhnx.doctor", "versions, native kernels, device, folders and shipped weights"),
    "info": ("svhnx.doctor", "the same as doctor"),
}


def build_parser() -> argparse.ArgumentParser:
    """``svhnx [--version] COMMAND ...``; everything after COMMAND goes to that command."""
    listing = "\n".join(f"  {name:10s}{what}" for name, (_, what) in COMMANDS.items())
    parser = argparse.ArgumentParser(
        prog="svhnx", description="Read multi-digit house numbers from images.",
        epilog=f"commands:\n{listing}\n\n'svhnx COMMAND --help' describes a command's arguments; "
               "'svhnx train ...' is the same as 'python -m svhnx.train ...'.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"svhnx {svhnx.__version__}")
    parser.add_argument("command", choices=COMMANDS, metavar="COMMAND", help="one of: " + ", ".join(COMMANDS))
    parser.add_argument("args", nargs=argparse.REMAINDER, help="the command's own arguments")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command's ``python -m`` main with the remaining arguments; returns its exit status."""
    args = build_parser().parse_args(sys.argv[1:] if argv is None else list(argv))
    module = COMMANDS[args.command][0]
    saved = sys.argv
    sys.argv = [f"svhnx {args.command}", *args.args]
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as exit_:
        if exit_.code is None or isinstance(exit_.code, int):
            return exit_.code or 0
        print(exit_.code, file=sys.stderr)
        return 1
    finally:
        sys.argv = saved
    return 0
