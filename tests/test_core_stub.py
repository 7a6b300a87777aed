"""``python/svhnx/_core.pyi`` describes the built extension: the same names, the same parameters."""

import ast
import re
from pathlib import Path

import svhnx
from svhnx import _core

STUB = ast.parse((Path(svhnx.__file__).parent / "_core.pyi").read_text())


def runtime_parameters(function: object) -> list[str]:
    """The parameter names of pybind11's signature line (``name(a: T, b: U) -> R``)."""
    signature = function.__doc__.strip().splitlines()[0]
    inside = signature[signature.index("(") + 1 : signature.rindex(") ->")]
    return re.findall(r"(\w+):", re.sub(r"\[[^\]]*\]", "", inside))


def stub_parameters(node: ast.FunctionDef) -> list[str]:
    return [a.arg for a in node.args.args]


def stub_names(body: list[ast.stmt]) -> dict[str, ast.stmt]:
    names = {}
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names[node.name] = node
        elif isinstance(node, ast.AnnAssign):
            names[node.target.id] = node
    return names


def test_the_stub_names_every_public_attribute() -> None:
    assert set(stub_names(STUB.body)) == {n for n in dir(_core) if not n.startswith("_")}


def test_functions_take_the_parameters_of_the_stub() -> None:
    for name, node in stub_names(STUB.body).items():
        if isinstance(node, ast.FunctionDef):
            assert stub_parameters(node) == runtime_parameters(getattr(_core, name)), name


def test_the_scene_generator_matches_its_stub() -> None:
    members = stub_names(stub_names(STUB.body)["SceneGenerator"].body)
    assert set(members) == {n for n in vars(_core.SceneGenerator) if not n.startswith("_")} | {"__init__"}
    for name, node in members.items():
        attribute = getattr(_core.SceneGenerator, name)
        if isinstance(attribute, property):
            assert any(isinstance(d, ast.Name) and d.id == "property" for d in node.decorator_list), name
        else:
            assert stub_parameters(node) == runtime_parameters(attribute), name
