"""Alias of :mod:`svhnx.inference.predict`, kept for one release: import from there instead."""

import sys

from svhnx.inference import predict as _target

if __name__ == "__main__":  # python -m svhnx.predict
    sys.exit(_target.main())
sys.modules[__name__] = _target
