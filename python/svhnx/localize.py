"""Alias of :mod:`svhnx.inference.localize`, kept for one release: import from there instead."""

import sys

from svhnx.inference import localize as _target

sys.modules[__name__] = _target
