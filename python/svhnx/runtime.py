"""Alias of :mod:`svhnx.inference.backends`, kept for one release: import from there instead."""

import sys

from svhnx.inference import backends as _target

sys.modules[__name__] = _target
