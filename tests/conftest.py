"""Shared fixtures: the real data under ``$SVHNX_DATA`` (``../shared/data`` in CI), and a cache
folder of the test session's own, so that tests write only under pytest's temporary folder."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

LARGE_FILE = 2**20  # checkpoints above this size are deleted when the session ends


@pytest.fixture(scope="session", autouse=True)
def session_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """``$SVHNX_CACHE`` (glyph atlases, preprocessed SVHN crops) in the session's temporary folder,
    for the tests and the processes they start. At the end, large checkpoints are deleted (pytest
    removes the whole folder after a passing session; a failing one keeps the rest to look at)."""
    cache = tmp_path_factory.getbasetemp() / "synth-cache"  # the cache_dir of the synth tests: one atlas build
    cache.mkdir(exist_ok=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SVHNX_CACHE", str(cache))
        patch.setenv("SVHNX_SYSTEM_FONTS", "0")  # the glyph atlas from bundled fonts only: fast, the same on every machine
        yield cache
    for checkpoint in tmp_path_factory.getbasetemp().rglob("*.pt"):
        if checkpoint.is_file() and checkpoint.stat().st_size > LARGE_FILE:
            checkpoint.unlink()


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The folder holding ``mnist/``, ``svhn-sample/`` and ``svhn-annotations/``.

    Tests that need it are skipped when ``$SVHNX_DATA`` is unset, except in CI (``CI`` set),
    where a missing data folder is an error rather than a silent skip.
    """
    root = os.environ.get("SVHNX_DATA", "")
    if root and Path(root, "mnist").is_dir():
        return Path(root)
    message = f"real data not found: set SVHNX_DATA to the shared data folder (got {root!r})"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def ttf_atlas(data_root: Path, session_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A saved glyph atlas (``--atlas``) of matplotlib's faces alone, the first styles the default
    atlas builds: one a generator can only have drawn from that file."""
    from svhnx.synth import SceneGenerator
    from svhnx.synth.atlas import GlyphAtlas, save_atlas
    from svhnx.synth.glyphs import TTF_FACES

    atlas = SceneGenerator.from_data(data_root, handwriting=False, cache_dir=session_cache).atlas
    ttf = len(TTF_FACES)
    assert atlas.style_names[:ttf] == tuple(f"ttf:{face}" for face in TTF_FACES) and len(atlas.style_names) > ttf
    kept = atlas.styles < ttf
    path = tmp_path_factory.mktemp("atlas") / "ttf-atlas.npz"
    save_atlas(GlyphAtlas(fields=atlas.fields[kept], labels=atlas.labels[kept], styles=atlas.styles[kept], ink=atlas.ink[kept],
                          scales=atlas.scales[kept], style_names=atlas.style_names[:ttf], style_weights=atlas.style_weights[:ttf]),
               path)
    return path
