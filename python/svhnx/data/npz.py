"""Reading ``.npz`` array files that came from elsewhere: bounded in size, no pickles, each
required array checked for its kind of dtype and its rank."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

MAX_FILE_BYTES = 2 * 2**30


def read_npz(path: str | os.PathLike[str], required: dict[str, tuple[str, int]]) -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` file at ``path``; ``required`` maps a name that must be there to
    ``(dtype kinds, rank)``, e.g. ``{"images": ("u", 4)}``. Raises ``FileNotFoundError`` or
    ``ValueError`` with the reason."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ValueError(f"{path}: larger than {MAX_FILE_BYTES // 2**30} GB")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays: dict[str, Any] = {key: npz[key] for key in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise ValueError(f"{path}: not a readable .npz file ({error})") from None
    for key, (kind, ndim) in required.items():
        if key not in arrays:
            raise ValueError(f"{path}: no {key!r} array (has {', '.join(sorted(arrays)) or 'none'})")
        if arrays[key].dtype.kind not in kind or arrays[key].ndim != ndim:
            raise ValueError(f"{path}: {key!r} is {arrays[key].dtype} with {arrays[key].ndim} dimensions, expected {ndim}")
    return arrays
