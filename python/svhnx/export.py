"""Alias of :mod:`svhnx.inference.export`, kept for one release: import from there instead."""

import sys

from svhnx.inference import export as _target

if __name__ == "__main__":  # python -m svhnx.export
    sys.exit(_target.main())
sys.modules[__name__] = _target
