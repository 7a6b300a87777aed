"""matplotlib figures as PNG files, through svhnx's one PNG writer."""

from __future__ import annotations

import os
from typing import cast

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from svhnx.image_file import write_png


def save_png(fig: Figure, path: str | os.PathLike[str], *, dpi: int = 100) -> None:
    """Lay out ``fig`` at ``dpi``, write it to ``path`` with :func:`svhnx.image_file.write_png`, and close it."""
    fig.set_dpi(dpi)
    fig.tight_layout()
    fig.canvas.draw()
    canvas = cast(FigureCanvasAgg, fig.canvas)  # svhnx draws with Agg (or a backend built on it)
    write_png(path, np.ascontiguousarray(np.asarray(canvas.buffer_rgba())[:, :, :3]))
    plt.close(fig)
