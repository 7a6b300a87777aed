"""Finding, verifying and downloading dataset files.

Files live under a data root (``$SVHNX_DATA``, else ``~/.cache/svhnx``). They are downloaded only
when asked, verified by size and md5, written to a temporary name and renamed when complete.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

CHUNK = 1 << 20


class DatasetNotFoundError(FileNotFoundError):
    """A dataset file is missing or corrupt and could not (or may not) be downloaded."""


@dataclass(frozen=True)
class RemoteFile:
    """A published file: its name, where to get it, and what it must look like."""

    name: str
    urls: tuple[str, ...]
    size: int
    md5: str


def default_root() -> Path:
    """The data root: ``$SVHNX_DATA`` if set, else ``~/.cache/svhnx``."""
    env = os.environ.get("SVHNX_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "svhnx"


def md5sum(path: Path) -> str:
    """The md5 of a file, read in chunks."""
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(path: Path, remote: RemoteFile) -> str | None:
    """``None`` if ``path`` has the remote file's size and md5, else what is wrong with it."""
    size = path.stat().st_size
    if size != remote.size:
        return f"{path} has {size:,} bytes, expected {remote.size:,} (truncated or a different file)"
    digest = md5sum(path)
    if digest != remote.md5:
        return f"{path} has md5 {digest}, expected {remote.md5}"
    return None


def manual_steps(files: Sequence[RemoteFile], directory: Path) -> str:
    """The message telling a user which files to fetch by hand and where to put them."""
    lines = [f"Put these files in {directory} (or pass download=True / --download when online):"]
    for remote in files:
        lines.append(f"  {remote.name}  ({remote.size:,} bytes, md5 {remote.md5})")
        lines.extend(f"      {url}" for url in remote.urls)
    return "\n".join(lines)


def download(remote: RemoteFile, directory: Path, *, progress: bool = True) -> Path:
    """Download ``remote`` into ``directory`` from its first reachable URL, verified, atomically."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / remote.name
    errors = []
    for url in remote.urls:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{remote.name}.", suffix=".part", dir=directory)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
                bar = tqdm(total=remote.size, unit="B", unit_scale=True, desc=remote.name, disable=not progress)
                with bar:
                    for block in iter(lambda: response.read(CHUNK), b""):
                        out.write(block)
                        bar.update(len(block))
            problem = verify(tmp, remote)
            if problem is None:
                os.replace(tmp, target)
                return target
            errors.append(f"{url}: {problem}")
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            errors.append(f"{url}: {exc}")
        finally:
            tmp.unlink(missing_ok=True)
    raise DatasetNotFoundError(
        f"could not download {remote.name}:\n  " + "\n  ".join(errors) + "\n" + manual_steps([remote], directory)
    )


def ensure_file(remote: RemoteFile, directory: Path, *, download_missing: bool = False) -> Path:
    """The verified local copy of ``remote`` in ``directory``, downloading it if allowed.

    A file that is present but fails verification is never silently used: it raises
    :class:`DatasetNotFoundError` (or is downloaded afresh when ``download_missing``).
    """
    path = directory / remote.name
    if path.exists():
        problem = verify(path, remote)
        if problem is None:
            return path
        if not download_missing:
            raise DatasetNotFoundError(f"{problem}\n" + manual_steps([remote], directory))
    elif not download_missing:
        raise DatasetNotFoundError(f"{path} is missing.\n" + manual_steps([remote], directory))
    return download(remote, directory)
