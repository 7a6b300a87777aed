"""The official SVHN format-1 archives: known by URL, size and md5, fetched only when asked, and
extracted so that nothing lands outside the target folder.

``root/svhn/train.tar.gz`` extracts to ``root/svhn/train/`` (``1.png``, ..., ``digitStruct.mat``).
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

from svhnx.data.download import RemoteFile, default_root, ensure_file

URL = "http://ufldl.stanford.edu/housenumbers/"
ARCHIVES = {
    "train": RemoteFile("train.tar.gz", (URL + "train.tar.gz",), 404_141_560, "a649f4cb15c35520e8a8c342d4c0005a"),
    "test": RemoteFile("test.tar.gz", (URL + "test.tar.gz",), 276_555_967, "790d9c8d42f1fcbd219b59956c853a81"),
    "extra": RemoteFile("extra.tar.gz", (URL + "extra.tar.gz",), 1_955_489_752, "606f41243d71ca4d5fe66dbaf1f02bee"),
}
FOLDER = "svhn"
#: Limits of :func:`safe_extract`: members, and bytes extracted per byte of archive (PNGs barely
#: compress, so an official archive extracts to about its own size).
MAX_MEMBERS = 1_000_000
MAX_EXPANSION = 20


class UnsafeArchiveError(ValueError):
    """An archive member would be written outside the target folder or is not a plain file or
    folder, or the archive holds more members or bytes than allowed."""


def split_folder(split: str, root: str | os.PathLike[str] | None = None, *, download: bool = False) -> Path:
    """The extracted folder of an official split (``root/svhn/<split>/``), ready to read.

    Extracts ``root/svhn/<split>.tar.gz`` on first use; the archive must be there already, verified
    by size and md5, unless ``download=True`` fetches it. Missing or corrupt archives raise
    :class:`svhnx.data.download.DatasetNotFoundError` saying where to put which file.
    """
    if split not in ARCHIVES:
        raise ValueError(f"split: expected one of {', '.join(ARCHIVES)}, got {split!r}")
    folder = Path(root if root is not None else default_root()) / FOLDER
    target = folder / split
    if (target / "digitStruct.mat").is_file():
        return target
    archive = ensure_file(ARCHIVES[split], folder, download_missing=download)
    with tempfile.TemporaryDirectory(prefix=f".{split}.", dir=folder) as tmp:
        safe_extract(archive, Path(tmp))
        extracted = Path(tmp) / split
        if not (extracted / "digitStruct.mat").is_file():
            raise ValueError(f"{archive}: has no {split}/digitStruct.mat; not an SVHN format-1 archive")
        if target.exists():  # a partial folder from an interrupted copy by hand
            shutil.rmtree(target)
        os.replace(extracted, target)
    return target


def safe_extract(
    archive: str | os.PathLike[str],
    target: str | os.PathLike[str],
    *,
    max_members: int = MAX_MEMBERS,
    max_bytes: int | None = None,
) -> list[str]:
    """Extract a tar archive into ``target`` after checking every member; returns the member names.

    Refused, before anything is written (:class:`UnsafeArchiveError` naming the member): absolute
    paths, ``..`` components, members that are not plain files or folders (symbolic and hard
    links, devices, FIFOs), more than ``max_members`` members, and more than ``max_bytes`` bytes
    in all (default: :data:`MAX_EXPANSION` times the archive's size).
    """
    target = Path(target)
    limit = MAX_EXPANSION * os.path.getsize(archive) if max_bytes is None else max_bytes
    members: list[tarfile.TarInfo] = []
    total = 0
    with tarfile.open(archive, "r:*") as tar:
        for member in tar:  # one header at a time: a bomb of members is refused before it is all read
            members.append(member)
            total += member.size
            if len(members) > max_members:
                raise UnsafeArchiveError(f"{archive}: more than {max_members:,} members")
            if total > limit:
                raise UnsafeArchiveError(f"{archive}: its members hold more than {limit:,} bytes (at {member.name!r})")
            problem = _unsafe(member, target)
            if problem:
                raise UnsafeArchiveError(f"{archive}: refusing member {member.name!r}: {problem}")
        target.mkdir(parents=True, exist_ok=True)
        # The checks above suffice; tarfile's "data" filter (Python >= 3.10.12) also drops unsafe modes.
        if hasattr(tarfile, "data_filter"):
            tar.extractall(target, members=members, filter="data")
        else:
            tar.extractall(target, members=members)
    return [m.name for m in members]


def _unsafe(member: tarfile.TarInfo, target: Path) -> str | None:
    """Why ``member`` may not be extracted into ``target``, or ``None``."""
    if not (member.isfile() or member.isdir()):
        return "links, devices and other special members are not extracted"
    path = PurePosixPath(member.name)
    if path.is_absolute():
        return "absolute path"
    if ".." in path.parts:
        return "path leaves the target folder"
    resolved = (target / path).resolve()
    if not resolved.is_relative_to(target.resolve()):
        return "path leaves the target folder"
    return None
