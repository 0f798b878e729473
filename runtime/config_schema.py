"""Turn a YAML node tree into frozen dataclasses, collecting every problem at once.

The schema is the dataclasses themselves: field types (``int``, ``float``, ``bool``,
``str``, ``Path``, ``Literal[...]``, ``X | None``, ``tuple[str, ...]``, nested
dataclasses) say what is expected, and ``setting(...)`` metadata adds ranges and
help text. Every problem carries the file, line, key path, what was expected and
what was found, so a typo made over ssh is explained in one line.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

import yaml

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One thing wrong with a config file."""

    file: str
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        key = f" {self.key}:" if self.key else ""
        return f"{where}:{key} {self.message}"


def setting(
    default: Any,
    *,
    min: float | None = None,
    max: float | None = None,
    help: str = "",
) -> Any:
    """A dataclass field with a default, an optional numeric range and help text."""
    metadata = {"min": min, "max": max, "help": help}
    if isinstance(default, (list, dict)) or dataclasses.is_dataclass(default):
        factory = default if callable(default) else (lambda: default)
        return dataclasses.field(default_factory=factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def section(cls: type[T]) -> T:
    """A nested dataclass field whose defaults come from the class."""
    return dataclasses.field(default_factory=cls)


def describe(value: object) -> str:
    """How a found value is shown in a message (short, never a secret)."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class _Converter:
    """Walks YAML nodes against dataclass types; records problems instead of raising."""

    def __init__(self, file: str, retired: typing.Mapping[str, str]) -> None:
        self.file = file
        self.retired = retired
        self.problems: list[ConfigProblem] = []
        self.notes: list[ConfigProblem] = []  # retired keys: accepted, said once, unused

    def problem(self, node: yaml.Node | None, key: str, message: str) -> None:
        line = node.start_mark.line + 1 if node is not None else None
        self.problems.append(ConfigProblem(self.file, line, key, message))

    def build(self, cls: type[T], node: yaml.Node | None, key: str) -> T:
        """A ``cls`` instance from a mapping node; defaults where keys are absent."""
        fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        hints = typing.get_type_hints(cls)
        values: dict[str, Any] = {}
        if node is not None and not isinstance(node, yaml.MappingNode):
            self.problem(node, key, f"expected a mapping of settings, found {_node_kind(node)}")
            node = None
        seen: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value if node is not None else []:
            name = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            path = f"{key}.{name}" if key else str(name)
            if path in self.retired:  # an older file still works; the owner is told why
                line = key_node.start_mark.line + 1
                self.notes.append(ConfigProblem(self.file, line, path,
                                                f"is no longer used: {self.retired[path]}; "
                                                f"remove it"))
                continue
            if name is None or name not in fields:
                self._unknown_key(key_node, path, str(name), list(fields))
                continue
            if name in seen:
                first = seen[name].start_mark.line + 1
                self.problem(key_node, path, f"is set twice (first on line {first})")
                continue
            seen[name] = key_node
            values[name] = self.value(hints[name], value_node, path, fields[name].metadata)
        try:
            return cls(**values)
        except (TypeError, ValueError) as exc:  # pragma: no cover - schema bug guard
            self.problem(node, key, str(exc))
            return cls()

    def _unknown_key(self, node: yaml.Node, path: str, name: str, known: list[str]) -> None:
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else f"; known keys: {', '.join(known)}"
        self.problem(node, path, f"unknown key{hint}")

    def value(
        self, tp: Any, node: yaml.Node, key: str, meta: typing.Mapping[str, Any]
    ) -> Any:
        origin = get_origin(tp)
        if origin in (Union, types.UnionType):
            options = [a for a in get_args(tp) if a is not type(None)]
            if _is_null(node):
                return None
            return self.value(options[0], node, key, meta)
        if dataclasses.is_dataclass(tp):
            if _is_null(node):
                return tp()  # type: ignore[operator]
            return self.build(tp, node, key)  # type: ignore[arg-type]
        if origin is tuple:
            return self._sequence(get_args(tp)[0], node, key, meta)
        if not isinstance(node, yaml.ScalarNode):
            self.problem(node, key, f"expected {_expected(tp, meta)}, found {_node_kind(node)}")
            return _DEFAULT_MISSING
        return self._scalar(tp, node, key, meta)

    def _sequence(
        self, item_tp: Any, node: yaml.Node, key: str, meta: typing.Mapping[str, Any]
    ) -> Any:
        if _is_null(node):
            return ()
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, key, f"expected a list, found {_node_kind(node)}")
            return _DEFAULT_MISSING
        return tuple(
            self.value(item_tp, item, f"{key}[{i}]", meta) for i, item in enumerate(node.value)
        )

    def _scalar(
        self, tp: Any, node: yaml.ScalarNode, key: str, meta: typing.Mapping[str, Any]
    ) -> Any:
        expected = _expected(tp, meta)
        try:
            raw = _construct(node)
        except yaml.YAMLError as exc:
            self.problem(node, key, f"expected {expected}, found an unreadable value ({exc})")
            return _DEFAULT_MISSING
        if get_origin(tp) is Literal:
            choices = get_args(tp)
            if raw in choices:
                return raw
            near = difflib.get_close_matches(str(raw), [str(c) for c in choices], n=1)
            hint = f" (did you mean '{near[0]}'?)" if near else ""
            self.problem(node, key, f"expected {expected}, found {describe(raw)}{hint}")
            return _DEFAULT_MISSING
        ok = _check_type(tp, raw)
        if ok is None:
            self.problem(node, key, f"expected {expected}, found {describe(raw)}")
            return _DEFAULT_MISSING
        lo, hi = meta.get("min"), meta.get("max")
        is_number = isinstance(ok, (int, float)) and not isinstance(ok, bool)
        if is_number and ((lo is not None and ok < lo) or (hi is not None and ok > hi)):
            self.problem(node, key, f"expected {expected}, found {describe(raw)}")
            return _DEFAULT_MISSING
        if tp is str and not ok.strip():
            self.problem(node, key, "expected a non-empty string, found an empty one")
            return _DEFAULT_MISSING
        return ok


class _Missing:
    """Marks a value that failed validation; replaced by the field default."""


_DEFAULT_MISSING: Any = _Missing()


def strip_missing(obj: T) -> T:
    """Replace failed values by their defaults (the config is rejected anyway)."""
    if not dataclasses.is_dataclass(obj) or isinstance(obj, type):
        return obj
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, _Missing):
            if f.default is not dataclasses.MISSING:
                changes[f.name] = f.default
            elif f.default_factory is not dataclasses.MISSING:
                changes[f.name] = f.default_factory()
        elif dataclasses.is_dataclass(value):
            changes[f.name] = strip_missing(value)
        elif isinstance(value, tuple) and any(isinstance(v, _Missing) for v in value):
            changes[f.name] = tuple(v for v in value if not isinstance(v, _Missing))
    return dataclasses.replace(obj, **changes)


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def _construct(node: yaml.ScalarNode) -> object:
    """The Python value of a scalar node, by YAML's safe rules (no arbitrary tags)."""
    return yaml.constructor.SafeConstructor().construct_object(node, deep=True)


def _node_kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    try:
        return describe(_construct(node))  # type: ignore[arg-type]
    except yaml.YAMLError:
        return f"a value tagged {node.tag}"


def _check_type(tp: Any, raw: object) -> Any:
    """``raw`` converted to ``tp``, or None when it is the wrong kind of value."""
    if tp is bool:
        return raw if isinstance(raw, bool) else None
    if tp is int:
        return raw if isinstance(raw, int) and not isinstance(raw, bool) else None
    if tp is float:
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            return float(raw)
        return None
    if tp is str:
        return raw if isinstance(raw, str) else None
    if tp is Path:
        return Path(raw).expanduser() if isinstance(raw, str) and raw.strip() else None
    raise TypeError(f"unsupported config type {tp!r}")  # pragma: no cover - schema bug


def _expected(tp: Any, meta: typing.Mapping[str, Any]) -> str:
    if get_origin(tp) is Literal:
        return "one of " + ", ".join(str(c) for c in get_args(tp))
    names = {bool: "true or false", int: "an integer", float: "a number", str: "a string",
             Path: "a file path"}
    text = names.get(tp, getattr(tp, "__name__", str(tp)))
    lo, hi = meta.get("min"), meta.get("max")
    if lo is not None and hi is not None:
        text += f" from {_num(lo)} to {_num(hi)}"
    elif lo is not None:
        text += f" of at least {_num(lo)}"
    elif hi is not None:
        text += f" of at most {_num(hi)}"
    return text


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def convert(cls: type[T], root: yaml.Node | None, file: str,
            retired: typing.Mapping[str, str] | None = None,
            ) -> tuple[T, list[ConfigProblem], list[ConfigProblem]]:
    """Build ``cls`` from the YAML ``root`` node; return it with every problem found and a
    note for each ``retired`` key (dotted path -> why it went) the file still sets."""
    converter = _Converter(file, retired or {})
    obj = converter.build(cls, root, "")
    return strip_missing(obj), converter.problems, converter.notes
