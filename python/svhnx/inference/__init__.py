"""Reading photos and exporting models: everything a deployment needs, and nothing of training.

:mod:`~svhnx.inference.localize` finds number boxes, :mod:`~svhnx.inference.reader` reads them,
:mod:`~svhnx.inference.backends` runs a model on torch or onnxruntime,
:mod:`~svhnx.inference.export` writes ONNX files and :mod:`~svhnx.inference.predict` is the command
line. No module here imports :mod:`svhnx.train`, :mod:`svhnx.evaluate` or the tasks (a test checks).
"""

from svhnx.inference.backends import load_backend, load_model
from svhnx.inference.reader import Reader, Reading, read

__all__ = ["Reader", "Reading", "load_backend", "load_model", "read"]
