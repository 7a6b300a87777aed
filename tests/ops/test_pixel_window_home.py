"""The rule from a float box to a pixel window has one home: the native pixel_window of csrc/include/svhnx/crop_rule.hpp."""

import ast
import inspect
import textwrap

from svhnx.ops import images


def test_pixel_windows_calls_the_native_rule_rather_than_repeating_it():
    tree = ast.parse(textwrap.dedent(inspect.getsource(images.pixel_windows)))
    called = {ast.unparse(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    assert "_core.pixel_windows" in called
    assert not {name for name in called if name.rpartition(".")[2] in ("floor", "ceil", "clip")}, called
