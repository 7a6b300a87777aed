"""Run the benchmarks: every ``benchmarks/bench_*.py`` module's ``main()``, or those named.

Options after a single benchmark's name go to it: ``python -m benchmarks real --peers``."""

from __future__ import annotations

import argparse
import importlib
import inspect
import pkgutil
import sys
from pathlib import Path


def available() -> list[str]:
    """Names of the benchmark modules, without the ``bench_`` prefix."""
    here = Path(__file__).parent
    return sorted(m.name[len("bench_") :] for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))


def main(argv: list[str] | None = None) -> int:
    names = available()
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"benchmarks to run (default: all of {', '.join(names)})")
    args, options = parser.parse_known_args(argv)
    unknown = sorted(set(args.names) - set(names))
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(names)}")
    if options and len(args.names) != 1:
        parser.error(f"options {' '.join(options)} need exactly one benchmark named (they are its own)")
    for name in args.names or names:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        if inspect.signature(module.main).parameters:  # it parses its own options: never this command line's
            module.main(options)
        elif options:
            parser.error(f"benchmark {name} takes no options")
        else:
            module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
