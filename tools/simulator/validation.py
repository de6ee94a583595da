"""Small validators for JSON request bodies; each failure is a 400 aimed at the offending field."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from .errors import invalid
from .timeutil import parse_iso

_MISSING = object()


def parse_json_object(raw: bytes, *, required: bool = True) -> dict[str, Any]:
    """Decode a JSON object body (an empty body is ``{}`` when not required)."""
    if not raw.strip():
        if required:
            raise invalid("A JSON request body is required.")
        return {}
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise invalid(f"The request body is not valid JSON: {exc}.") from exc
    return require_object(value, None)


def require_object(value: object, target: str | None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid("Expected a JSON object.", target)
    return value


def reject_unknown(body: dict[str, Any], allowed: set[str], prefix: str = "") -> None:
    """400 for fields the schema does not allow (``additionalProperties: false``)."""
    for key in body:
        if key not in allowed:
            raise invalid(f"Unknown field '{key}'.", prefix + key)


def _value(body: dict[str, Any], key: str, name: str, *, required: bool, nullable: bool) -> Any:
    """A field's value, or None when it is absent (and optional) or null (and nullable)."""
    value = body.get(key, _MISSING)
    if value is _MISSING:
        if required:
            raise invalid(f"The field '{name}' is required.", name)
        return None
    if value is None and not nullable:
        raise invalid(f"The field '{name}' may not be null.", name)
    return value


def get_str(
    body: dict[str, Any],
    key: str,
    *,
    required: bool = False,
    nullable: bool = False,
    min_len: int = 0,
    max_len: int | None = None,
    pattern: re.Pattern[str] | None = None,
    target: str | None = None,
) -> str | None:
    """A string field, checked for presence, type, length and pattern."""
    name = target or key
    value = _value(body, key, name, required=required, nullable=nullable)
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(f"The field '{name}' must be a string.", name)
    check_length(value, name, min_len, max_len)
    if pattern is not None and not pattern.fullmatch(value):
        raise invalid(f"The field '{name}' has invalid characters.", name)
    return value


def check_length(value: str, name: str, min_len: int, max_len: int | None) -> None:
    if len(value) < min_len:
        raise invalid(f"The field '{name}' must be at least {min_len} characters long.", name)
    if max_len is not None and len(value) > max_len:
        raise invalid(f"The field '{name}' must be at most {max_len} characters long.", name)


def get_int(
    body: dict[str, Any],
    key: str,
    *,
    required: bool = False,
    nullable: bool = True,
    minimum: int | None = None,
    target: str | None = None,
) -> int | None:
    """An integer field (booleans are rejected)."""
    name = target or key
    value = _value(body, key, name, required=required, nullable=nullable)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(f"The field '{name}' must be an integer.", name)
    if minimum is not None and value < minimum:
        raise invalid(f"The field '{name}' must be at least {minimum}.", name)
    return value


def get_list(body: dict[str, Any], key: str, *, required: bool = True, max_items: int | None = None) -> list[Any]:
    value = body.get(key, _MISSING)
    if value is _MISSING:
        if required:
            raise invalid(f"The field '{key}' is required.", key)
        return []
    if not isinstance(value, list):
        raise invalid(f"The field '{key}' must be an array.", key)
    if max_items is not None and len(value) > max_items:
        raise invalid(f"The field '{key}' may hold at most {max_items} items.", key)
    return value


def parse_datetime_value(value: object, target: str) -> datetime:
    """An ISO 8601 date-time string → aware datetime (400 otherwise)."""
    if not isinstance(value, str):
        raise invalid(f"'{target}' must be an ISO 8601 date-time string.", target)
    try:
        return parse_iso(value)
    except ValueError as exc:
        raise invalid(f"'{target}' is not a valid ISO 8601 date-time: {value!r}.", target) from exc


def parse_bool_text(value: str, target: str) -> bool:
    """``true``/``1``/``false``/``0`` (query-string booleans)."""
    lowered = value.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise invalid(f"'{target}' must be true or false.", target)


def id_list(body: dict[str, Any]) -> list[int]:
    """The ids of ``{"value": [{"id": 1}, ...]}`` (Update*ListApiModel)."""
    ids: list[int] = []
    for index, item in enumerate(get_list(body, "value", max_items=500)):
        entry = require_object(item, f"value[{index}]")
        value = get_int(entry, "id", required=True, nullable=False, target=f"value[{index}].id")
        assert value is not None
        ids.append(value)
    return ids
