"""Sessions: ``nox -s tests``, ``nox -s benchmarks`` and ``nox -s lint`` (each in its own virtualenv).

Locally a session reuses its virtualenv in ``.nox/`` (PyTorch is not downloaded again; svhnx is still
rebuilt and reinstalled), and ``nox -s tests -R`` also skips the installs when only Python files changed.
With ``CI`` set (``.ci/run`` sets it) every session starts from a fresh virtualenv.
"""

import os
from pathlib import Path

import nox

nox.options.sessions = ["tests"]
nox.options.reuse_existing_virtualenvs = not os.environ.get("CI")

ROOT = Path(__file__).parent
TORCH = "torch==2.13.0"  # PyPI's Linux wheel is the CUDA build; see the README for the CPU-only one


def _shared_data() -> str:
    """``$SVHNX_DATA`` if set, else ``../shared/data`` beside the checkout when it exists."""
    if "SVHNX_DATA" in os.environ:
        return os.environ["SVHNX_DATA"]
    shared = ROOT.parent / "shared" / "data"
    return str(shared) if shared.is_dir() else ""


def _install(session: nox.Session, extra: str) -> None:
    session.install(TORCH)
    session.install(f".[{extra}]")


@nox.session
def tests(session: nox.Session) -> None:
    """Build and install svhnx, then run the test suite."""
    _install(session, "test")
    session.run("pytest", *session.posargs, env={"SVHNX_DATA": _shared_data()})


@nox.session
def benchmarks(session: nox.Session) -> None:
    """Measure the native data path against the plain Python/NumPy/OpenCV ways."""
    _install(session, "test")
    session.run("python", "-m", "benchmarks", *session.posargs, env={"SVHNX_DATA": _shared_data()})


@nox.session
def lint(session: nox.Session) -> None:
    """Check the Python sources with ruff (rules in pyproject.toml)."""
    session.install("ruff>=0.5")
    session.run("ruff", "check", ".")
