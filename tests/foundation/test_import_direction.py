"""Layers import one way only: speech_api <- drivers <- actors <- runtime.

Every import in every module of the four packages counts, wherever it stands: at the top,
inside a function (where a cycle likes to hide), under ``TYPE_CHECKING`` (a type is a
dependency too), relative, or by name through ``importlib.import_module("...")``. A module
may import its own layer and the layers below it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("speech_api", "drivers", "actors", "runtime")  # each may import those before it


@dataclass(frozen=True)
class Import:
    path: Path  # relative to the repository
    line: int
    module: str  # the imported module, absolute

    @property
    def importer_layer(self) -> str:
        return self.path.parts[0]

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: imports {self.module}"


def package_of(path: Path) -> list[str]:
    """The dotted package a module file belongs to, as parts (for relative imports)."""
    parts = list(path.with_suffix("").parts)
    return parts if path.name == "__init__.py" and parts.pop() else parts[:-1]


def imported_by_name(node: ast.Call) -> str | None:
    """The module of ``importlib.import_module("x")`` / ``__import__("x")``, else None."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name not in ("import_module", "__import__") or not node.args:
        return None
    first = node.args[0]
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    if isinstance(first, ast.JoinedStr) and first.values:  # f"runtime.commands.{name}"
        head = first.values[0]
        if isinstance(head, ast.Constant) and isinstance(head.value, str):
            return head.value
    return None


def imports_in(path: Path, root: Path = ROOT) -> Iterator[Import]:
    rel = path.relative_to(root)
    tree = ast.parse(path.read_text(), filename=str(rel))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and (named := imported_by_name(node)) is not None:
            yield Import(rel, node.lineno, named)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(rel, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's own package
                base = package_of(rel)[: len(package_of(rel)) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            yield Import(rel, node.lineno, module)


def all_imports() -> Iterator[Import]:
    for layer in LAYERS:
        for path in sorted((ROOT / layer).rglob("*.py")):
            yield from imports_in(path)


def upward(imp: Import) -> bool:
    """True when ``imp`` reaches a layer above the importing module's own."""
    target = imp.module.split(".")[0]
    return target in LAYERS and LAYERS.index(target) > LAYERS.index(imp.importer_layer)


def test_every_layer_is_scanned() -> None:
    scanned = {imp.importer_layer for imp in all_imports()}
    assert scanned == set(LAYERS)


def test_the_scan_finds_hidden_upward_imports(tmp_path: Path) -> None:
    module = tmp_path / "drivers" / "sub" / "hidden.py"
    module.parent.mkdir(parents=True)
    module.write_text(
        "from __future__ import annotations\n"
        "from typing import TYPE_CHECKING\n"
        "import importlib\n"
        "from drivers.backoff import Backoff\n"  # its own layer: fine
        "if TYPE_CHECKING:\n"
        "    from actors.wiring import Wiring\n"
        "def build(name: str) -> object:\n"
        "    from runtime.hub import Hub\n"
        "    from ...runtime import cli\n"
        "    return importlib.import_module(f'runtime.commands.{name}')\n"
    )
    found = [(imp.line, imp.module) for imp in imports_in(module, tmp_path) if upward(imp)]
    assert sorted(found) == [(6, "actors.wiring"), (8, "runtime.hub"), (9, "runtime"),
                             (10, "runtime.commands.")]
    assert package_of(Path("actors/engines/local.py")) == ["actors", "engines"]
    assert package_of(Path("actors/engines/__init__.py")) == ["actors", "engines"]


def test_no_layer_imports_a_layer_above_it() -> None:
    violations = [str(imp) for imp in all_imports() if upward(imp)]
    assert violations == [], "imports against the layer order:\n" + "\n".join(violations)
