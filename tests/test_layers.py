"""The package's layers: reading photos loads no training code."""

import subprocess
import sys

import pytest

TRAINING = ("svhnx.train", "svhnx.tasks", "svhnx.evaluate")


@pytest.mark.parametrize("statement", [
    "import svhnx.inference",
    "import svhnx; svhnx.read",
    "import svhnx.predict, svhnx.export, svhnx.reader, svhnx.runtime, svhnx.localize",
    "from svhnx.inference import export, predict",
])
def test_inference_imports_no_training_code(statement: str) -> None:
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert "svhnx.inference.reader" in loaded
    assert [m for m in loaded if m.startswith(TRAINING)] == []
