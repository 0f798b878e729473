"""Set one scalar in a YAML file without disturbing anything else in it.

The owner's ``maigic.yaml`` is full of comments and their own layout. Instead of re-dumping the
document (which loses comments), the new value is spliced into the text at the exact span PyYAML
reports for the old one; a missing key is inserted as a new line under its parent. Everything
else stays byte-for-byte the same, and the result is re-parsed to prove the edit landed.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import yaml


class YamlEditError(Exception):
    """The value cannot be set (the file is not YAML, or the key holds a section)."""


def _render(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return '"' + "".join(_escape(c) for c in value) + '"'


def _escape(char: str) -> str:
    """One character of a YAML double-quoted scalar."""
    if char in '"\\':
        return "\\" + char
    if char.isprintable():
        return char
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else (
        f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")


def _find(mapping: yaml.MappingNode, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    for key_node, value_node in mapping.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return key_node, value_node
    return None


def _line_end(text: str, index: int) -> int:
    end = text.find("\n", index)
    return len(text) if end < 0 else end + 1


def set_value(text: str, dotted_key: str, value: str | int | float | bool) -> str:
    """``text`` with ``dotted_key`` (e.g. ``audio.capture.device``) set to ``value``."""
    parts = dotted_key.split(".")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise YamlEditError(f"not valid YAML: {exc}") from None
    if node is None:
        return text + _block(parts, value, indent=0)
    if not isinstance(node, yaml.MappingNode):
        raise YamlEditError("expected a mapping of settings at the top of the file")
    parent_key: yaml.Node | None = None
    for depth, part in enumerate(parts):
        found = _find(node, part)
        if found is None:
            return _insert(text, node, parent_key, parts[depth:], value)
        parent_key, child = found
        last = depth == len(parts) - 1
        if last:
            if not isinstance(child, yaml.ScalarNode):
                raise YamlEditError(f"{dotted_key}: expected a single value, found a section")
            if child.tag == "tag:yaml.org,2002:null" and child.start_mark.index == (
                child.end_mark.index
            ):
                # "key:" with nothing after it: put the value after the colon
                at = child.start_mark.index
                return text[:at] + " " + _render(value) + text[at:]
            start, end = child.start_mark.index, child.end_mark.index
            return text[:start] + _render(value) + text[end:]
        if not isinstance(child, yaml.MappingNode):
            if isinstance(child, yaml.ScalarNode) and child.tag == "tag:yaml.org,2002:null":
                raise YamlEditError(
                    f"{'.'.join(parts[: depth + 1])}: is empty; expected a section of settings"
                )
            raise YamlEditError(f"{'.'.join(parts[: depth + 1])}: expected a section")
        if child.flow_style:
            raise YamlEditError(f"{'.'.join(parts[: depth + 1])}: inline {{...}} sections "
                                "cannot be edited; write it as an indented block")
        node = child
    raise AssertionError("unreachable")  # pragma: no cover


def _block(parts: list[str], value: str | int | float | bool, indent: int) -> str:
    lines = []
    for depth, part in enumerate(parts[:-1]):
        lines.append(" " * (indent + 2 * depth) + f"{part}:")
    lines.append(" " * (indent + 2 * (len(parts) - 1)) + f"{parts[-1]}: {_render(value)}")
    return "\n".join(lines) + "\n"


def _insert(text: str, mapping: yaml.MappingNode, parent_key: yaml.Node | None,
            missing: list[str], value: str | int | float | bool) -> str:
    if parent_key is None:  # a missing top-level section goes at the end of the file
        prefix = "" if text.endswith("\n") or not text else "\n"
        return text + prefix + _block(missing, value, indent=0)
    first_key = mapping.value[0][0] if mapping.value else None
    indent = first_key.start_mark.column if first_key is not None else (
        parent_key.start_mark.column + 2)
    at = _line_end(text, parent_key.start_mark.index)  # first line of the parent's block
    return text[:at] + _block(missing, value, indent) + text[at:]


def lookup(text: str, dotted_key: str) -> object:
    """The parsed value at ``dotted_key`` (KeyError when absent)."""
    data: object = yaml.safe_load(text)
    for part in dotted_key.split("."):
        if not isinstance(data, dict) or part not in data:
            raise KeyError(dotted_key)
        data = data[part]
    return data


def update_file(path: Path, changes: dict[str, str | int | float | bool]) -> bool:
    """Apply ``changes`` to the YAML file at ``path`` atomically; False if nothing changed.

    The file keeps its mode and owner; it is replaced by rename so a crash never leaves half a
    config behind.
    """
    original = path.read_text(encoding="utf-8")
    text = original
    for key, value in changes.items():
        text = set_value(text, key, value)
        if lookup(text, key) != value:  # pragma: no cover - guards the splice logic
            raise YamlEditError(f"{key}: the edit did not take effect")
    if text == original:
        return False
    st = path.stat()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(tmp, st.st_mode & 0o7777)
        if os.geteuid() == 0:
            os.chown(tmp, st.st_uid, st.st_gid)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True
