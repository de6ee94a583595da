"""OData-style list parameters (``$top``, ``$skip``, ``$count``, ``$orderby``) and list bodies."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request

from .errors import invalid
from .http_util import sim_of
from .validation import parse_bool_text

MAX_TOP = 1000
T = TypeVar("T")
SortKeys = dict[str, Callable[[Any], Any]]


@dataclass(frozen=True)
class ListParams:
    top: int
    skip: int
    count: bool
    orderby: tuple[tuple[str, bool], ...]  # (field, descending)


def list_params(request: Request, sort_keys: SortKeys | None = None) -> ListParams:
    """Validate the list parameters (400 with the parameter as ``target``)."""
    query = request.query_params
    top = _int_param(query.get("$top"), "$top", MAX_TOP)
    if not 1 <= top <= MAX_TOP:
        raise invalid(f"$top must be between 1 and {MAX_TOP}.", "$top")
    skip = _int_param(query.get("$skip"), "$skip", 0)
    if skip < 0:
        raise invalid("$skip must not be negative.", "$skip")
    count_text = query.get("$count")
    count = parse_bool_text(count_text, "$count") if count_text is not None else False
    orderby = _orderby(query.get("$orderby"), sort_keys) if sort_keys is not None else ()
    return ListParams(top, skip, count, orderby)


def paged_body(
    request: Request,
    items: Sequence[T],
    params: ListParams,
    render: Callable[[T], dict[str, Any]],
    sort_keys: SortKeys | None = None,
) -> dict[str, Any]:
    """``{value, @count?, @nextLink?}`` for one page of ``items`` (already in default order).

    ``@count`` only when ``$count=true`` was asked for and the simulator's ``count_supported`` is on.
    """
    ordered = list(items)
    for field, descending in reversed(params.orderby):
        key = (sort_keys or {})[field]
        ordered.sort(key=key, reverse=descending)
    page = ordered[params.skip : params.skip + params.top]
    body: dict[str, Any] = {"value": [render(item) for item in page]}
    if params.count and sim_of(request).count_supported:
        body["@count"] = len(ordered)
    if params.skip + params.top < len(ordered):
        body["@nextLink"] = next_link(request, params.skip + params.top, params.top)
    return body


def next_link(request: Request, skip: int, top: int) -> str:
    """The same URL with ``$skip``/``$top`` of the next page (other parameters kept)."""
    kept = [(k, v) for k, v in parse_qsl(request.url.query, keep_blank_values=True) if k not in ("$skip", "$top")]
    query = urlencode([*kept, ("$skip", str(skip)), ("$top", str(top))], safe="$,:")
    return str(request.url.replace(query=query))


def _int_param(text: str | None, name: str, default: int) -> int:
    if text is None:
        return default
    try:
        return int(text.strip())
    except ValueError as exc:
        raise invalid(f"{name} must be an integer.", name) from exc


def _orderby(text: str | None, sort_keys: SortKeys) -> tuple[tuple[str, bool], ...]:
    if text is None or not text.strip():
        return ()
    fields: list[tuple[str, bool]] = []
    for part in text.split(","):
        words = part.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise invalid(f"Invalid $orderby clause '{part.strip()}'.", "$orderby")
        if words[0] not in sort_keys:
            allowed = ", ".join(sort_keys)
            raise invalid(f"Cannot order by '{words[0]}'; available fields: {allowed}.", "$orderby")
        fields.append((words[0], len(words) == 2 and words[1].lower() == "desc"))
    return tuple(fields)
