"""TensorBoard logging of a training run (optional: ``pip install 'svhnx[tensorboard]'``).

With ``--tensorboard`` every ``metrics.csv`` row is also written as TensorBoard scalars (one
``events.out.tfevents.*`` file per session, in the run directory beside ``metrics.csv``), so
``tensorboard --logdir runs`` shows every run by its directory name.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from svhnx.train.run_dir import RunDirectory

INSTALL_HINT = "--tensorboard needs the tensorboard package: pip install 'svhnx[tensorboard]' (or pip install tensorboard)"
#: Row columns that are bookkeeping, not curves.
NOT_SCALARS = ("step",)


def tensorboard_available() -> bool:
    """Whether the ``tensorboard`` package (which ``torch.utils.tensorboard`` writes with) is installed."""
    return importlib.util.find_spec("tensorboard") is not None


class TensorBoardLog:
    """Scalars of the metrics rows of a run, written with ``torch.utils.tensorboard``.

    ``start_step`` is the step the (possibly resumed) run starts at: events a crashed session
    logged after it are purged, so resumed curves have no doubled points.
    """

    def __init__(self, run_dir: RunDirectory, start_step: int = 0) -> None:
        if not tensorboard_available():
            raise ModuleNotFoundError(INSTALL_HINT)
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=str(run_dir.path), purge_step=start_step + 1 if start_step else None)

    def add_row(self, row: dict[str, Any]) -> None:
        """Log one evaluation's row (``metrics.csv`` columns) at its ``step``."""
        step = int(row["step"])
        for key, value in row.items():
            if key not in NOT_SCALARS and isinstance(value, (int, float)):
                self.writer.add_scalar(key, value, global_step=step)
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()
