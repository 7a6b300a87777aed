"""The official SVHN archives: known checksums, no download unless asked, safe extraction."""

import hashlib
import io
import tarfile
from pathlib import Path

import pytest

from svhnx.data.download import DatasetNotFoundError, RemoteFile
from svhnx.data.svhn_archives import ARCHIVES, UnsafeArchiveError, safe_extract, split_folder
from svhnx.data.svhn_digit_struct import read_digit_struct


def add_file(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def make_archive(path: Path, build) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        build(tar)
    return path


def test_official_archives_are_known():
    assert {name: (a.size, a.md5) for name, a in ARCHIVES.items()} == {
        "train": (404_141_560, "a649f4cb15c35520e8a8c342d4c0005a"),
        "test": (276_555_967, "790d9c8d42f1fcbd219b59956c853a81"),
        "extra": (1_955_489_752, "606f41243d71ca4d5fe66dbaf1f02bee"),
    }
    assert all(a.urls == (f"http://ufldl.stanford.edu/housenumbers/{name}.tar.gz",) for name, a in ARCHIVES.items())


def test_missing_archive_is_not_downloaded_without_asking(tmp_path, monkeypatch):
    monkeypatch.setattr("urllib.request.urlopen", lambda *a, **k: pytest.fail("tried to download"))
    with pytest.raises(DatasetNotFoundError, match=r"train\.tar\.gz .*404,141,560 bytes, md5 a649f4cb"):
        split_folder("train", tmp_path)
    with pytest.raises(ValueError, match="split: expected one of train, test, extra"):
        split_folder("valid", tmp_path)


def test_split_folder_extracts_a_verified_archive_once(tmp_path, data_root, monkeypatch):
    sample = data_root / "svhn-sample" / "test"

    def build(tar):
        for name in ("1.png", "digitStruct.mat"):
            add_file(tar, f"test/{name}", (sample / name).read_bytes())

    (tmp_path / "svhn").mkdir()
    archive = make_archive(tmp_path / "svhn" / "test.tar.gz", build)
    data = archive.read_bytes()
    monkeypatch.setitem(ARCHIVES, "test", RemoteFile("test.tar.gz", (), len(data), hashlib.md5(data).hexdigest()))
    folder = split_folder("test", tmp_path)
    assert folder == tmp_path / "svhn" / "test"
    assert (folder / "1.png").read_bytes() == (sample / "1.png").read_bytes()
    assert len(read_digit_struct(folder / "digitStruct.mat")) == 40
    archive.unlink()  # extracted already: the archive is not needed again
    assert split_folder("test", tmp_path) == folder


def test_corrupt_archive_is_refused(tmp_path, monkeypatch):
    (tmp_path / "svhn").mkdir()
    (tmp_path / "svhn" / "test.tar.gz").write_bytes(b"x" * 10)
    monkeypatch.setitem(ARCHIVES, "test", RemoteFile("test.tar.gz", (), 10, "0" * 32))
    with pytest.raises(DatasetNotFoundError, match="has md5"):
        split_folder("test", tmp_path)


@pytest.mark.parametrize(
    "member, why",
    [
        ("../escape.txt", "leaves the target folder"),
        ("test/../../escape.txt", "leaves the target folder"),
        ("/tmp/escape.txt", "absolute path"),
    ],
)
def test_path_traversal_is_refused_before_anything_is_written(tmp_path, member, why):
    def build(tar):
        add_file(tar, "test/1.png", b"fine")
        add_file(tar, member, b"evil")

    archive = make_archive(tmp_path / "evil.tar.gz", build)
    target = tmp_path / "out"
    with pytest.raises(UnsafeArchiveError, match=why):
        safe_extract(archive, target)
    assert not target.exists()
    assert not (tmp_path / "escape.txt").exists()


@pytest.mark.parametrize("kind", [tarfile.SYMTYPE, tarfile.LNKTYPE])
def test_links_are_refused(tmp_path, kind):
    def build(tar):
        link = tarfile.TarInfo("test/link")
        link.type, link.linkname = kind, "/etc/passwd"
        tar.addfile(link)

    with pytest.raises(UnsafeArchiveError, match="links"):
        safe_extract(make_archive(tmp_path / "links.tar.gz", build), tmp_path / "out")


def test_safe_extract_writes_plain_members(tmp_path):
    archive = make_archive(tmp_path / "ok.tar.gz", lambda tar: add_file(tar, "test/a/1.png", b"png"))
    assert safe_extract(archive, tmp_path / "out") == ["test/a/1.png"]
    assert (tmp_path / "out" / "test" / "a" / "1.png").read_bytes() == b"png"

