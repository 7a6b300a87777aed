"""Tests write only under pytest's temporary folder: the cache is the session's own, and the
run directories of passing tests are removed."""

import os
from pathlib import Path

import pytest

from svhnx.synth.atlas import default_cache_dir
from svhnx.train.svhn import default_crops_dir


def test_the_cache_is_the_sessions_own(tmp_path_factory: pytest.TempPathFactory) -> None:
    base = tmp_path_factory.getbasetemp()
    assert Path(os.environ["SVHNX_CACHE"]).is_relative_to(base)
    assert default_cache_dir().is_relative_to(base)
    assert default_crops_dir().is_relative_to(base)


def test_passing_tests_leave_no_temporary_files(pytestconfig: pytest.Config) -> None:
    assert pytestconfig.getini("tmp_path_retention_policy") == "failed"
