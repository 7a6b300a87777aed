"""Alias of :mod:`svhnx.viz.png`, kept for one release: import from there instead."""

import sys

from svhnx.viz import png as _target

sys.modules[__name__] = _target
