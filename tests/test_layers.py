"""The package's layers: no module imports from a higher layer, and reading photos loads no training code."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import svhnx

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


ROOT = Path(svhnx.__file__).parent
#: The layers, lowest first: a module may import from its own layer and the ones before it, never
#: from a later one. A module belongs to the layer of the longest prefix of its name listed here.
LAYERS: list[tuple[str, ...]] = [
    ("svhnx", "svhnx._core", "svhnx.labels", "svhnx.atomic", "svhnx.argtypes", "svhnx.helptext", "svhnx.progress", "svhnx.image_file", "svhnx.hardware"),
    ("svhnx.ops",),
    ("svhnx.data",),
    ("svhnx.synth",),
    ("svhnx.models",),
    ("svhnx.checkpoint", "svhnx.pretrained"),
    ("svhnx.metrics", "svhnx.segmentation_metrics"),
    ("svhnx.viz", "svhnx.plotting"),
    ("svhnx.inference", "svhnx.localize", "svhnx.reader", "svhnx.runtime", "svhnx.export", "svhnx.predict"),
    ("svhnx.tasks", "svhnx.svhn_metrics"),  # svhn_metrics: the alias of metrics.coverage, viz.readings and tasks.svhn.collect_readings
    ("svhnx.train",),
    ("svhnx.evaluate", "svhnx.transfer", "svhnx.models.ensemble"),  # models.ensemble: the alias of evaluate.views
    ("svhnx.cli", "svhnx.doctor"),
]


def layer_of(module: str) -> int:
    prefixes = [(len(p), i) for i, layer in enumerate(LAYERS) for p in layer if module == p or module.startswith(p + ".") and p != "svhnx"]
    assert prefixes, f"{module} is in no layer: add it to LAYERS"
    return max(prefixes)[1]


def module_names() -> dict[str, Path]:
    names = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def imported_modules(module: str, path: Path) -> set[str]:
    """Every svhnx module ``path`` imports, at the top or inside a function (``from A import b``
    counts as ``A.b`` when that is a module, else ``A``)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            found |= {f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names}
    return {name for name in found if name == "svhnx" or name.startswith("svhnx.")}


MODULES = module_names()


def test_every_module_has_a_layer() -> None:
    for module in MODULES:
        layer_of(module)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_import_goes_up_a_layer(module: str) -> None:
    own = layer_of(module)
    upward = sorted(name for name in imported_modules(module, MODULES[module]) if layer_of(name) > own)
    assert upward == [], f"{module} (layer {own}) imports from a higher layer: {upward}"
