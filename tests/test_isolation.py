"""Tests write only under pytest's temporary folder: the cache is the session's own, and the
run directories of passing tests are removed."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from svhnx.synth.atlas import default_cache_dir
from svhnx.tasks.svhn import default_crops_dir


def test_the_cache_is_the_sessions_own(tmp_path_factory: pytest.TempPathFactory) -> None:
    base = tmp_path_factory.getbasetemp()
    assert Path(os.environ["SVHNX_CACHE"]).is_relative_to(base)
    assert default_cache_dir().is_relative_to(base)
    assert default_crops_dir().is_relative_to(base)


def test_passing_tests_leave_no_temporary_files(pytestconfig: pytest.Config) -> None:
    assert pytestconfig.getini("tmp_path_retention_policy") == "failed"


def test_nox_reuses_its_environments_locally_but_not_in_ci() -> None:
    pytest.importorskip("nox")
    noxfile = Path(__file__).parent.parent / "noxfile.py"
    read = f"import runpy, nox; runpy.run_path({str(noxfile)!r}); print(nox.options.reuse_existing_virtualenvs)"
    for ci, reuse in (("", "True"), ("true", "False")):
        env = {**os.environ, "CI": ci}
        assert subprocess.run([sys.executable, "-c", read], env=env, capture_output=True, text=True, check=True).stdout.strip() == reuse
