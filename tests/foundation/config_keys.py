"""Every config key, where the code reads it, and which tests set it.

Run ``python -m tests.foundation.config_keys`` for a Markdown table (what the closing note of
issue 16 asks for); ``tests/foundation/test_config_keys.py`` uses :func:`key_reads` to check
that every key is read somewhere outside ``runtime/config*.py``.

How a read is found (AST, no imports of the scanned code): an attribute chain that ends in a
key, starting from a config object: a name with "config"/"cfg" in it (``self.config.audio``),
a parameter annotated with a section class (``cap: CaptureConfig``), or a local name bound to a
section (``cap = config.audio.capture``; ``v, c = config.vad, config.conversation``). How a test
is found: a string in a test that sets the key (``"audio.capture.device"``, or YAML text with
``device:`` and its parent ``capture``), or a call with the key as a keyword argument
(``replace(config.audio.capture, device=...)``, ``CaptureConfig(device=...)``). Both are
leads for a reviewer, not proofs: a key can be read and still do nothing (an event emitted
and then dropped), and a test that sets a key need not check its effect.
"""

from __future__ import annotations

import ast
import dataclasses
import re
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from runtime.config import HubConfig

ROOT = Path(__file__).resolve().parents[2]
CODE_DIRS = ("speech_api", "drivers", "actors", "runtime")
SCHEMA_FILES = ("runtime/config.py", "runtime/config_schema.py")  # define, validate: not reads
Path_ = tuple[str, ...]


@dataclass(frozen=True)
class Key:
    path: Path_
    default: object
    help: str

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


def walk_schema(obj: object = None, prefix: Path_ = ()) -> Iterator[Key]:
    """Every leaf key of :class:`HubConfig`, in schema order."""
    obj = HubConfig() if obj is None else obj
    for f in dataclasses.fields(obj):  # type: ignore[arg-type]
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value) and f.metadata.get("help") is None:
            yield from walk_schema(value, (*prefix, f.name))
        else:
            yield Key((*prefix, f.name), value, str(f.metadata.get("help") or ""))


def section_classes(obj: object = None, prefix: Path_ = ()) -> dict[str, Path_]:
    """Section class name -> its path (``CaptureConfig`` -> ``("audio", "capture")``)."""
    obj = HubConfig() if obj is None else obj
    found = {type(obj).__name__: prefix}
    for f in dataclasses.fields(obj):  # type: ignore[arg-type]
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value) and f.metadata.get("help") is None:
            found |= section_classes(value, (*prefix, f.name))
    return found


@dataclass
class Scan:
    """What the scan of one tree found: reads in the code, settings in the tests."""

    reads: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    tests: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))


class _Resolver:
    """Resolves attribute chains to config paths inside one module."""

    def __init__(self, keys: set[Path_], sections: dict[str, Path_]) -> None:
        self.keys = keys
        self.sections = sections
        self.section_paths = set(sections.values())
        self.valid = keys | self.section_paths

    @staticmethod
    def chain(node: ast.AST) -> list[str] | None:
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        parts.append(node.id)
        return parts[::-1]

    def resolve_all(self, node: ast.AST, aliases: dict[str, list[Path_]]) -> list[Path_]:
        """Every config path an attribute chain can name (a parameter typed as a union of
        sections names each of them)."""
        parts = self.chain(node)
        if parts is None:
            return []
        if parts[0] in aliases:
            paths = [(*base, *parts[1:]) for base in aliases[parts[0]]]
            return [path for path in paths if path in self.valid]
        # from a config object: the part before the path names it (config, self._config, cfg)
        for start in range(1, len(parts)):
            path = tuple(parts[start:])
            if path in self.valid and re.search(r"config|cfg", parts[start - 1], re.I):
                return [path]
        return []

    def resolve(self, node: ast.AST, aliases: dict[str, list[Path_]]) -> Path_ | None:
        found = self.resolve_all(node, aliases)
        return found[0] if len(found) == 1 else None

    def aliases_of(self, func: ast.AST, outer: dict[str, list[Path_]],
                   unions: dict[str, set[str]] | None = None) -> dict[str, list[Path_]]:
        aliases = dict(outer)
        unions = unions or {}
        if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for arg in [*func.args.args, *func.args.kwonlyargs, *func.args.posonlyargs]:
                if arg.annotation is not None:
                    names = set(re.findall(r"\w+", ast.unparse(arg.annotation)))
                    for alias in names & unions.keys():
                        names |= unions[alias]
                    paths = [self.sections[name] for name in sorted(names & self.sections.keys())]
                    if paths:
                        aliases[arg.arg] = paths
        for node in ast.walk(func):
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
                pairs = (list(zip(target.elts, value.elts, strict=False))
                         if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple)
                         else [(target, value)])
                for name, expr in pairs:
                    path = self.resolve(expr, aliases)
                    if isinstance(name, ast.Name) and path in self.section_paths:
                        aliases[name.id] = [path]
        return aliases

    def type_unions(self, tree: ast.Module) -> dict[str, set[str]]:
        """Module-level aliases of section unions (``Stage = SttConfig | TtsConfig``)."""
        unions: dict[str, set[str]] = {}
        for node in tree.body:
            if (isinstance(node, ast.Assign) and len(node.targets) == 1
                    and isinstance(node.targets[0], ast.Name)
                    and isinstance(node.value, ast.BinOp)):
                names = set(re.findall(r"\w+", ast.unparse(node.value))) & self.sections.keys()
                if names:
                    unions[node.targets[0].id] = names
        return unions


def _functions(tree: ast.Module) -> Iterator[tuple[str, ast.AST]]:
    yield "", tree
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node.name, node


def key_reads(root: Path = ROOT) -> dict[str, list[str]]:
    """Dotted key -> ``file:line`` of every read in the hub's code (schema files excluded)."""
    keys = {k.path for k in walk_schema()}
    resolver = _Resolver(keys, section_classes())
    reads: dict[str, list[str]] = defaultdict(list)
    for top in CODE_DIRS:
        for path in sorted((root / top).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            if rel in SCHEMA_FILES:
                continue
            tree = ast.parse(path.read_text(), filename=rel)
            unions = resolver.type_unions(tree)
            module_aliases = resolver.aliases_of(tree, {}, unions)
            seen: set[tuple[str, int]] = set()
            for _name, func in _functions(tree):
                aliases = resolver.aliases_of(func, module_aliases, unions)
                for node in ast.walk(func):
                    if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
                        for found in resolver.resolve_all(node, aliases):
                            dotted = ".".join(found)
                            if found in keys and (dotted, node.lineno) not in seen:
                                seen.add((dotted, node.lineno))
                                reads[dotted].append(f"{rel}:{node.lineno}")
    return reads


def _sets_in_text(text: str, key: Key) -> bool:
    if key.dotted in text:
        return True
    leaf = re.search(rf"(?<![\w.]){re.escape(key.path[-1])}\s*:", text)
    return bool(leaf) and all(re.search(rf"(?<![\w.]){p}\s*:", text) for p in key.path[:-1])


def key_tests(root: Path = ROOT) -> dict[str, list[str]]:
    """Dotted key -> ``tests/file.py::function`` of tests (or their helpers) that set it."""
    all_keys = list(walk_schema())
    sections = section_classes()
    resolver = _Resolver({k.path for k in all_keys}, sections)
    found: dict[str, set[str]] = defaultdict(set)
    for path in sorted((root / "tests").rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith("tests/bench/") or path.name.startswith("bench_"):
            continue  # measurements, not tests
        tree = ast.parse(path.read_text(), filename=rel)
        for name, func in _functions(tree):
            where = f"{rel}::{name or '<module>'}"
            body = [func] if name else [n for n in tree.body
                                        if not isinstance(n, (ast.FunctionDef,
                                                              ast.AsyncFunctionDef,
                                                              ast.ClassDef))]
            texts = [text for b in body for text in _strings(b)]
            calls = [n for b in body for n in ast.walk(b) if isinstance(n, ast.Call)]
            for key in all_keys:
                parent, leaf = key.path[:-1], key.path[-1]
                if any(_sets_in_text(t, key) for t in texts) or any(
                    leaf in {kw.arg for kw in call.keywords} and _call_targets(
                        call, parent, sections, resolver) for call in calls
                ):
                    found[key.dotted].add(where)
    return {k: sorted(v) for k, v in found.items()}


def _strings(node: ast.AST) -> Iterator[str]:
    """Every string literal under ``node``; an f-string as one text (``{}`` for its fields)."""
    if isinstance(node, ast.JoinedStr):
        yield "".join(str(v.value) if isinstance(v, ast.Constant) else "{}" for v in node.values)
        return
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    for child in ast.iter_child_nodes(node):
        yield from _strings(child)


def _call_targets(call: ast.Call, parent: Path_, sections: dict[str, Path_],
                  resolver: _Resolver) -> bool:
    """``SectionClass(leaf=...)`` or ``replace(<parent section>, leaf=...)``."""
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    if sections.get(name) == parent:
        return True
    if name == "replace" and call.args:
        return resolver.resolve(call.args[0], {}) == parent
    return False


def table(root: Path = ROOT, limit: int = 4) -> str:
    reads, tests = key_reads(root), key_tests(root)
    lines = [
        "| key | default | read at | tests that set it | flag |",
        "|---|---|---|---|---|",
    ]
    for key in walk_schema():
        where = reads.get(key.dotted, [])
        who = tests.get(key.dotted, [])
        flag = " ".join(f for f, missing in (("NOT READ", not where), ("NO TEST", not who))
                        if missing)
        shown_reads = ", ".join(f"`{w}`" for w in where[:limit]) + (
            f" (+{len(where) - limit})" if len(where) > limit else "")
        shown_tests = ", ".join(f"`{t}`" for t in who[:limit]) + (
            f" (+{len(who) - limit})" if len(who) > limit else "")
        default = repr(key.default) if not isinstance(key.default, str) or len(
            key.default) < 30 else repr(key.default[:27] + "...")
        lines.append(f"| `{key.dotted}` | `{default}` | {shown_reads or '-'} | "
                     f"{shown_tests or '-'} | {flag} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(table())
