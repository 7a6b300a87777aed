"""Alias of :mod:`svhnx.inference.reader`, kept for one release: import from there instead."""

import sys

from svhnx.inference import reader as _target

sys.modules[__name__] = _target
