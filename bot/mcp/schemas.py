"""JSON schemas of the MCP tools, derived from the operations' pydantic models and kept compact.

Every byte of ``tools/list`` is read by the assistant's model on every turn, so the schemas keep what a model
needs — field names, types, nullability, enums, numeric bounds, patterns, defaults that matter and the field
descriptions of inputs — and drop what it does not: the titles pydantic derives from field names, ``$ref``
indirection, ``null`` defaults, string length limits and ``additionalProperties`` (k6bot validates every
argument itself and answers with a clear sentence, naming an unknown argument), a ``type`` next to an ``enum``
of its values and ``anyOf`` spellings of "integer or string or null". Output schemas describe the top-level
fields and the objects inside them; API objects nested deeper are declared as plain objects.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from pydantic import BaseModel

from tools.operations.common import EXPLAINED_ONCE

_SCHEMA_MAPS = ("properties", "$defs", "definitions", "patternProperties")
_STRING_LIMITS = ("minLength", "maxLength")
_DROP_IN_OUTPUT = (
    "default",
    "examples",
    "additionalProperties",
    "format",
    "pattern",
    "minimum",
    "maximum",
    "required",
)
OUTPUT_DEPTH = 1
"""Object levels an output schema spells out below the root; deeper objects are ``{"type": "object"}``
(arrays of them ``{"type": "array"}``)."""


def input_schema(model: type[BaseModel], *, confirm: bool) -> dict[str, Any]:
    """The ``inputSchema`` of a tool: the operation's input model, plus ``confirm`` for run/stop/admin tools."""
    return copy.deepcopy(_input_schema(model, confirm))


def output_schema(model: type[BaseModel], *, depth: int = OUTPUT_DEPTH) -> dict[str, Any]:
    """The ``outputSchema`` of a tool that returns ``model`` as its structured content."""
    return copy.deepcopy(_output_schema(model, depth))


@cache
def _input_schema(model: type[BaseModel], confirm: bool) -> dict[str, Any]:
    schema = compact(model.model_json_schema(mode="validation"))
    schema.pop("description", None)  # the model's docstring; the tool description says it better
    schema.setdefault("properties", {})
    _optional_not_null(schema)
    for name, field in schema["properties"].items():
        if _only_names(name, field.get("description")) or field.get("description") in EXPLAINED_ONCE:
            del field["description"]  # "Test run id." on test_run_id: the name said it; the rest: the instructions
        if (
            (name.endswith("_id") or name == "test_run")
            and field.get("type") == "integer"
            and field.get("minimum") == 1
        ):
            del field["minimum"]  # an id is positive: saying so on every id tells a model nothing
    if confirm:
        schema["properties"]["confirm"] = {
            "type": "boolean",
            "default": False,
            "description": "Person approved the preview.",
        }
    schema["type"] = "object"
    return schema


def _only_names(name: str, description: Any) -> bool:
    """Whether a field's description is its name again ("Schedule id." of ``schedule_id``), perhaps plus "id"."""
    if not isinstance(description, str):
        return False
    said = description.casefold().rstrip(".").split()
    named = name.casefold().split("_")
    return said in (named, [*named, "id"])


def _optional_not_null(schema: dict[str, Any]) -> None:
    """An optional field without a default is left out, not sent as null: its schema does not offer ``null``.

    At every level: the members of nested objects (a recurrence rule's ``until``) are left out the same way.
    """
    required = set(schema.get("required", ()))
    for name, field in list(schema.get("properties", {}).items()):
        if name not in required and "default" not in field:
            field = schema["properties"][name] = _non_null(field)
        for nested in (field, field.get("items")):
            if isinstance(nested, dict) and "properties" in nested:
                _optional_not_null(nested)


@cache
def _output_schema(model: type[BaseModel], depth: int) -> dict[str, Any]:
    schema = compact(model.model_json_schema(mode="serialization", by_alias=False), output=True)
    schema.pop("description", None)
    return limit_depth(schema, depth)


def compact(schema: dict[str, Any], *, output: bool = False) -> dict[str, Any]:
    """A self-contained, smaller equivalent of a pydantic JSON schema (``$ref``s inlined where acyclic)."""
    defs = schema.get("$defs", {})
    result = _walk(copy.deepcopy(schema), defs, (), output=output, root=True)
    if not _has_ref(result):
        result.pop("$defs", None)
    return result


def limit_depth(schema: dict[str, Any], depth: int) -> dict[str, Any]:
    """Objects nested deeper than ``depth`` levels keep only their type."""
    kind = schema.get("type")
    is_object = kind == "object" or (isinstance(kind, list) and "object" in kind)
    if is_object and "properties" in schema:
        if depth <= 0:
            return {"type": kind}
        return {**schema, "properties": {k: limit_depth(v, depth - 1) for k, v in schema["properties"].items()}}
    if isinstance(schema.get("items"), dict):
        items = limit_depth(schema["items"], depth)
        if items == {"type": "object"}:  # objects whose fields are not declared here: a plain array, as candidates
            return {k: v for k, v in schema.items() if k != "items"}
        return {**schema, "items": items}
    return schema


def _walk(node: Any, defs: dict[str, Any], stack: tuple[str, ...], *, output: bool, root: bool = False) -> Any:
    if isinstance(node, list):
        return [_walk(item, defs, stack, output=output) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        name = ref.removeprefix("#/$defs/")
        if name in stack or name not in defs:
            return node  # recursive model: keep the reference (and $defs)
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        merged = {**copy.deepcopy(defs[name]), **siblings}
        return _walk(merged, defs, (*stack, name), output=output)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "title" or key in _STRING_LIMITS:
            continue
        if key == "$defs" and not root:
            continue
        if key == "default" and value is None:
            continue
        if key == "additionalProperties" and isinstance(value, bool):
            continue  # true is JSON Schema's default; false: k6bot itself refuses an unknown argument by its name
        if output and (key in _DROP_IN_OUTPUT or (key == "description" and not _is_field_level(node))):
            continue
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: _walk(sub, defs, stack, output=output) for name, sub in value.items()}
            if output and key == "properties":  # structured content leaves None fields out: no null members
                out[key] = {name: _non_null(sub) for name, sub in out[key].items()}
        else:
            out[key] = _walk(value, defs, stack, output=output)
    return _enum_without_type(_merge_any_of(out))


def _enum_without_type(node: dict[str, Any]) -> dict[str, Any]:
    """``enum`` lists every value allowed, so a ``type`` next to it (of those very values) says nothing more."""
    values = node.get("enum")
    kind = node.get("type")
    if not isinstance(values, list) or not values or kind is None:
        return node
    kinds = {kind} if isinstance(kind, str) else set(kind)
    if {_json_type(v) for v in values} <= kinds:
        return {k: v for k, v in node.items() if k != "type"}
    return node


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object" if isinstance(value, dict) else "?"


def _is_field_level(node: dict[str, Any]) -> bool:
    """Descriptions of fields stay in output schemas; descriptions of whole objects (docstrings) go."""
    return node.get("type") != "object" and "properties" not in node


_PLAIN_TYPES = ("string", "integer", "number", "boolean", "null")


def _merge_any_of(node: dict[str, Any]) -> dict[str, Any]:
    """``anyOf`` of bare types → one ``type`` list; ``anyOf [X, null]`` → X with ``null`` added to its type."""
    options = node.get("anyOf")
    if not isinstance(options, list) or len(options) < 2 or not all(isinstance(o, dict) for o in options):
        return node
    rest = {k: v for k, v in node.items() if k != "anyOf"}
    if all(set(o) <= {"type", "minimum"} and o.get("type") in _PLAIN_TYPES for o in options):
        return {**rest, "type": _types([o["type"] for o in options])}
    non_null = [o for o in options if o != {"type": "null"}]
    if len(non_null) != len(options) - 1 or len(non_null) != 1:
        return node
    (only,) = non_null
    kind = only.get("type")
    if not isinstance(kind, str) or set(only) & set(rest):
        return node
    merged = {**rest, **only, "type": [kind, "null"]}
    if "enum" in merged and None not in merged["enum"]:
        merged["enum"] = [*merged["enum"], None]
    return merged


def _non_null(node: Any) -> Any:
    """An output member without ``null`` in its type (k6bot leaves None fields out of structured content).

    Only object members lose it: a ``None`` inside a list (a gap in a series) is still sent, so ``items`` keep it.
    """
    if not isinstance(node, dict):
        return node
    kind = node.get("type")
    if isinstance(kind, list) and "null" in kind and len(kind) > 1:
        node = {**node, "type": _types([k for k in kind if k != "null"])}
    if isinstance(node.get("enum"), list) and None in node["enum"]:
        node = {**node, "enum": [v for v in node["enum"] if v is not None]}
    if isinstance(node.get("anyOf"), list) and {"type": "null"} in node["anyOf"]:
        rest = [o for o in node["anyOf"] if o != {"type": "null"}]
        node = {k: v for k, v in node.items() if k != "anyOf"} | (rest[0] if len(rest) == 1 else {"anyOf": rest})
    return node


def _types(kinds: list[str]) -> str | list[str]:
    unique = list(dict.fromkeys(kinds))
    return unique[0] if len(unique) == 1 else unique


def _has_ref(node: Any) -> bool:
    if isinstance(node, dict):
        return "$ref" in node or any(_has_ref(v) for k, v in node.items() if k != "$defs")
    if isinstance(node, list):
        return any(_has_ref(v) for v in node)
    return False
