"""Saving matplotlib figures the way every svhnx output is written: atomically."""

from __future__ import annotations

import os

from matplotlib.figure import Figure

from svhnx.atomic import atomic_path


def save_png(fig: Figure, path: str | os.PathLike[str], *, dpi: int = 100) -> None:
    """Lay out ``fig``, write it to ``path`` as PNG in one rename, and close it."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    plt.close(fig)
