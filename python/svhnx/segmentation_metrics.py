"""Alias of :mod:`svhnx.metrics.segmentation`, kept for one release: import from there instead."""

import sys

from svhnx.metrics import segmentation as _target

sys.modules[__name__] = _target
