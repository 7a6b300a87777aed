"""Sessions: ``nox -s tests``, ``nox -s benchmarks``, ``nox -s lint`` and ``nox -s sanitize`` (each in its own virtualenv).

Locally a session reuses its virtualenv in ``.nox/`` (PyTorch is not downloaded again; svhnx is still
rebuilt and reinstalled), and ``nox -s tests -R`` also skips the installs when only Python files changed.
With ``CI`` set (``.ci/run`` sets it) every session starts from a fresh virtualenv.
"""

import os
import subprocess
from pathlib import Path

import nox

nox.options.sessions = ["tests"]
nox.options.reuse_existing_virtualenvs = not os.environ.get("CI")

ROOT = Path(__file__).parent
TORCH = "torch==2.13.0"  # PyPI's Linux wheel is the CUDA build; see the README for the CPU-only one
SANITIZERS = "-fsanitize=address,undefined"
#: The tests of the native ops and the scene renderer (none imports torch, which ASan slows badly).
NATIVE_TESTS = ["ops/test_boxes.py", "ops/test_composite.py", "ops/test_crop_resize.py", "ops/test_crop_resize_simd.py", "ops/test_crops.py",
                "ops/test_masks.py", "synth/test_synth.py", "synth/test_synth_export.py"]


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
    """Build and install svhnx, then run the whole test suite, the slow tests included
    (``nox -s tests -- -m "not slow"`` for the quick part alone)."""
    _install(session, "test")
    session.run("pytest", "-m", "slow or not slow", *session.posargs, env={"SVHNX_DATA": _shared_data()})


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


@nox.session
def sanitize(session: nox.Session) -> None:
    """Build the extension with AddressSanitizer and UndefinedBehaviorSanitizer (any report fails)
    in its own build folder, and run the native ops' and scene renderer's tests under them."""
    flags = f"{SANITIZERS} -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g"
    build = {
        "SKBUILD_BUILD_DIR": str(ROOT / "build" / "sanitize"),
        "SKBUILD_CMAKE_BUILD_TYPE": "RelWithDebInfo",
        "SKBUILD_CMAKE_ARGS": f"-DCMAKE_CXX_FLAGS={flags};-DCMAKE_SHARED_LINKER_FLAGS={SANITIZERS}",
    }
    session.install(TORCH)
    session.install(".[test]", env=build)
    # The ASan runtime must be loaded first (Python itself is not instrumented), and libstdc++ with
    # it, or ASan's interceptor of C++ exceptions finds no __cxa_throw to forward to.
    preload = [_gcc_library("libasan.so"), _gcc_library("libstdc++.so")]
    session.run(
        "pytest", *(f"tests/{name}" for name in NATIVE_TESTS), *session.posargs,
        env={
            "SVHNX_DATA": _shared_data(),
            "LD_PRELOAD": " ".join(preload),
            "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1",
            "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
        },
    )


def _gcc_library(name: str) -> str:
    """The path of one of gcc's runtime libraries (``gcc -print-file-name``)."""
    return subprocess.run(["gcc", f"-print-file-name={name}"], capture_output=True, text=True, check=True).stdout.strip()
