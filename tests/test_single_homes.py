"""The crop rule, the label conventions, the checkpoint format and the image-file reader each have exactly one home."""

import ast
from pathlib import Path

import svhnx
from svhnx import _core
from svhnx.models.svhn import INPUT_SHAPE
from svhnx.ops import center_crop, crop_resize, crop_rule, expand_boxes, random_crop

ROOT = Path(svhnx.__file__).parent
#: Module-level names that only their home may assign.
HOMES = {
    "svhnx.labels": {"BLANK", "BLANK_CHAR", "MAX_DIGITS", "NUM_DIGIT_CLASSES", "NUM_LENGTH_CLASSES", "LENGTH_OVERFLOW"},
    "svhnx.ops.crop_rule": {"GROWTH", "EXPAND", "CROP_SIZE", "CROP_SIDE", "INPUT_SIZE", "INPUT_SIDE", "VIEW_SHIFTS", "VIEW_COUNTS"},
}
#: Files svhnx writes with torch.save and reads with torch.load: checkpoints, and the shipped
#: weights (their own, smaller format, "svhnx-weights/1").
TORCH_FILES = {"svhnx.checkpoint", "svhnx.pretrained"}


def modules() -> dict[str, ast.Module]:
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = ast.parse(path.read_text())
    return found


def assigned_names(tree: ast.Module) -> set[str]:
    names = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def test_the_crop_rule_is_the_native_extensions() -> None:
    assert (crop_rule.GROWTH, crop_rule.CROP_SIDE, crop_rule.INPUT_SIDE) == (_core.CROP_GROWTH, _core.CROP_SIZE, _core.INPUT_SIZE) == (0.3, 64, 54)
    assert crop_rule.CROP_SIZE == (64, 64) and crop_rule.INPUT_SIZE == (54, 54) and INPUT_SHAPE == (54, 54, 3)
    defaults = [expand_boxes.__defaults__[0], crop_resize.__defaults__[0], random_crop.__defaults__[0], center_crop.__defaults__[0]]
    assert defaults == [crop_rule.GROWTH, crop_rule.CROP_SIZE, crop_rule.INPUT_SIZE, crop_rule.INPUT_SIZE]


def test_conventions_are_assigned_only_in_their_home() -> None:
    for module, tree in modules().items():
        for home, names in HOMES.items():
            if module != home:
                assert not assigned_names(tree) & names, f"{module} redefines {sorted(assigned_names(tree) & names)} of {home}"


def test_only_the_checkpoint_and_weights_modules_save_and_load_torch_files() -> None:
    for module, tree in modules().items():
        calls = {f"torch.{node.func.attr}" for node in ast.walk(tree) if isinstance(node, ast.Call)
                 and isinstance(node.func, ast.Attribute) and node.func.attr in ("save", "load")
                 and isinstance(node.func.value, ast.Name) and node.func.value.id == "torch"}
        assert module in TORCH_FILES or not calls, f"{module} calls {sorted(calls)}: checkpoints are svhnx.checkpoint's"
        if module != "svhnx.checkpoint" and "FORMAT" in assigned_names(tree):
            assert module in ("svhnx.pretrained", "svhnx.data.svhn_preprocess"), f"{module} defines a FORMAT of its own"


def test_image_files_are_decoded_only_by_the_image_file_module() -> None:
    from svhnx.data.svhn import read_image
    from svhnx.image_file import load_image

    assert read_image is load_image  # the alias of one release
    for module, tree in modules().items():
        calls = {node.func.attr for node in ast.walk(tree) if isinstance(node, ast.Call)
                 and isinstance(node.func, ast.Attribute) and node.func.attr in ("imread", "imdecode")}
        allowed = {"svhnx.image_file": {"imdecode"}, "svhnx.synth.photos": {"imdecode"}}  # photos: a JPEG round trip in memory
        assert calls <= allowed.get(module, set()), f"{module} decodes image files itself ({sorted(calls)}): use svhnx.image_file.load_image"
