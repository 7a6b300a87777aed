"""The package type-checks: mypy, configured in ``pyproject.toml``, finds no error in ``python/svhnx``
(the type hints are checked, not only written; ``py.typed`` offers them to users' checkers)."""

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_package_type_checks(tmp_path: Path) -> None:
    api = pytest.importorskip("mypy.api", reason="mypy is in the test extra: pip install '.[test]'")
    stdout, stderr, status = api.run(["--config-file", str(REPO / "pyproject.toml"), "--cache-dir", str(tmp_path),
                                      str(REPO / "python" / "svhnx")])
    assert status == 0, stdout + stderr


def test_the_package_says_it_is_typed() -> None:
    import svhnx

    assert (Path(svhnx.__file__).parent / "py.typed").is_file()
