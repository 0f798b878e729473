"""Check tool arguments against a skill's JSON schema (the small subset skills use)."""

from __future__ import annotations

from typing import Any

_TYPES: dict[str, tuple[type, ...]] = {
    "integer": (int,),
    "number": (int, float),
    "string": (str,),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


def schema_errors(schema: dict[str, Any], value: Any, path: str = "arguments") -> list[str]:
    """What is wrong with ``value`` according to ``schema``; empty when it fits."""
    expected = schema.get("type")
    if expected is not None:
        ok = isinstance(value, _TYPES[expected])
        if isinstance(value, bool) and expected in ("integer", "number"):
            ok = False
        if not ok:
            return [f"{path} must be of type {expected}, got {type(value).__name__}"]
    errors: list[str] = []
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path} must be one of {schema['enum']}, got {value!r}")
    if "minimum" in schema and isinstance(value, int | float) and value < schema["minimum"]:
        errors.append(f"{path} must be at least {schema['minimum']}, got {value}")
    if "maximum" in schema and isinstance(value, int | float) and value > schema["maximum"]:
        errors.append(f"{path} must be at most {schema['maximum']}, got {value}")
    if isinstance(value, dict):
        properties: dict[str, Any] = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                errors.append(f"{path} is missing the required field {key!r}")
        for key, item in value.items():
            if key in properties:
                errors += schema_errors(properties[key], item, f"{path}.{key}")
            elif schema.get("additionalProperties") is False:
                errors.append(
                    f"{path} has an unexpected field {key!r}; allowed: {sorted(properties)}"
                )
    return errors
