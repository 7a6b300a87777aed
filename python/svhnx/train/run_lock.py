"""One training process per run directory: an exclusive ``fcntl.flock`` on ``RUN_DIR/.lock``.

The lock is held for the whole run and released by the operating system when the process ends,
however it ends (a SIGKILL included), so a lock file left by a killed run never blocks a later one::

    with lock_run_directory(Path("runs/mnist")):
        ...  # train; a second process gets RunDirectoryLocked naming this one's pid
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from svhnx.train.run_dir import RunDirectoryError

LOCK = ".lock"


class RunDirectoryLocked(RunDirectoryError):
    """Another process is training in the run directory."""


@contextmanager
def lock_run_directory(path: Path) -> Iterator[None]:
    """Create ``path`` if needed and hold its lock inside the block; :class:`RunDirectoryLocked` at
    once if another process holds it, :class:`RunDirectoryError` if the folder cannot be made or written.

    The lock file is removed when the block ends; a process that locked a file just removed
    tries again on the new one, so two processes never both hold the folder.
    """
    lock = path / LOCK
    try:
        path.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
            _lock(fd, path)
            if _same_file(fd, lock):
                break
            os.close(fd)
    except OSError as exc:
        raise RunDirectoryError(f"{path}: cannot use it as a run directory ({exc.strerror or exc})") from None
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        lock.unlink(missing_ok=True)
        os.close(fd)  # releases the lock


def _lock(fd: int, path: Path) -> None:
    """Lock ``fd``; :class:`RunDirectoryLocked` naming the holder if another process has it."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise RunDirectoryLocked(
            f"{path} is in use by another training run (pid {holder}); wait for it to end, or choose another --out"
        ) from None


def _same_file(fd: int, lock: Path) -> bool:
    """Whether ``lock`` still names the file open as ``fd`` (its holder may have removed it meanwhile)."""
    try:
        return os.path.samestat(os.fstat(fd), os.stat(lock))
    except FileNotFoundError:
        return False
