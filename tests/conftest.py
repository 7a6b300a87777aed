"""Shared fixtures: the real data under ``$SVHNX_DATA`` (``../shared/data`` in CI)."""

import os
from pathlib import Path

import pytest


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
