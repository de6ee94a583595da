"""Routes: label keys and project labels."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .errors import ApiError, invalid
from .http_util import body_object, no_content, ok, path_id, sim_of
from .ops_labels import LABEL_PATTERN
from .validation import get_int, get_list, get_str, reject_unknown, require_object

V6 = "/cloud/v6"
LABEL_KEY_MAX = 64
MAX_LABEL_KEYS_PER_REQUEST = 100


async def list_labels(request: Request) -> Response:
    return ok({"value": sim_of(request).list_label_keys()})


async def create_labels(request: Request) -> Response:
    body = await body_object(request)
    items: list[tuple[str, str | None]] = []
    raw_items = get_list(body, "value")
    if not raw_items or len(raw_items) > MAX_LABEL_KEYS_PER_REQUEST:
        raise invalid(f"'value' must hold 1 to {MAX_LABEL_KEYS_PER_REQUEST} label keys.", "value")
    for index, raw in enumerate(raw_items):
        entry = require_object(raw, f"value[{index}]")
        key = _label_key(entry, f"value[{index}].key", required=True)
        description = get_str(entry, "description", nullable=True, target=f"value[{index}].description")
        assert key is not None
        items.append((key, description))
    return ok({"value": sim_of(request).create_label_keys(items)}, 201)


async def update_label(request: Request) -> Response:
    sim = sim_of(request)
    body = await body_object(request)
    reject_unknown(body, {"key", "description"})
    changes: dict[str, object] = {}
    if body.get("key") is not None:
        changes["key"] = _label_key(body, "key", required=True)
    if "description" in body:
        changes["description"] = get_str(body, "description", nullable=True)
    return ok(sim.update_label_key(path_id(request), changes))


async def delete_label(request: Request) -> Response:
    sim_of(request).delete_label_key(path_id(request))
    return no_content()


async def get_project_labels(request: Request) -> Response:
    return ok({"value": sim_of(request).project_labels(path_id(request, "project_id"))})


async def put_project_labels(request: Request) -> Response:
    sim = sim_of(request)
    project_id = path_id(request, "project_id")
    sim.project_labels(project_id)
    body = await body_object(request)
    items: list[tuple[int | None, str | None, str]] = []
    for index, raw in enumerate(get_list(body, "value")):
        entry = require_object(raw, f"value[{index}]")
        key_id = get_int(entry, "key_id", target=f"value[{index}].key_id")
        key = _label_key(entry, f"value[{index}].key", required=False)
        value = _label_value(entry, f"value[{index}].value")
        if key_id is None and key is None:
            raise invalid("Each label needs 'key_id' or 'key'.", f"value[{index}]")
        items.append((key_id, key, value))
    return ok({"value": sim.replace_project_labels(project_id, items)})


async def delete_project_label(request: Request) -> Response:
    sim_of(request).delete_project_label(path_id(request, "project_id"), _key_segment(request))
    return no_content()


def _key_segment(request: Request) -> str:
    """The ``{key}`` path segment, percent-decoded only after splitting the raw path.

    ASGI servers decode ``%2F`` before routing, so the route takes ``{key:path}`` and the key is re-read
    from ``raw_path``: ``.../labels/a%2Fb`` is the key ``a/b``, while an unencoded ``.../labels/a/b`` is
    no endpoint at all (a client that forgets to encode the key gets 404, as from a path-routing server).
    """
    raw_path: bytes | None = request.scope.get("raw_path")
    if not raw_path:
        key: str = request.path_params["key"]
        return key
    raw = raw_path.split(b"?", 1)[0]
    _, found, raw_key = raw.partition(b"/labels/")
    if not found or not raw_key or b"/" in raw_key:
        where = f"{request.method} {request.url.path}"
        raise ApiError(404, f"No API endpoint matches {where}.", code="unknown_endpoint")
    return unquote_to_bytes(raw_key).decode("utf-8", errors="replace")


def _label_key(entry: dict[str, object], target: str, *, required: bool) -> str | None:
    return get_str(
        entry,
        "key",
        required=required,
        nullable=not required,
        min_len=1,
        max_len=LABEL_KEY_MAX,
        pattern=LABEL_PATTERN,
        target=target,
    )


def _label_value(entry: dict[str, object], target: str) -> str:
    value = get_str(
        entry, "value", required=True, min_len=1, max_len=LABEL_KEY_MAX, pattern=LABEL_PATTERN, target=target
    )
    assert value is not None
    return value


routes = [
    Route(f"{V6}/labels", list_labels, methods=["GET"]),
    Route(f"{V6}/labels", create_labels, methods=["POST"]),
    Route(f"{V6}/labels/{{id:int}}", update_label, methods=["PATCH"]),
    Route(f"{V6}/labels/{{id:int}}", delete_label, methods=["DELETE"]),
    Route(f"{V6}/projects/{{project_id:int}}/labels", get_project_labels, methods=["GET"]),
    Route(f"{V6}/projects/{{project_id:int}}/labels", put_project_labels, methods=["PUT"]),
    Route(f"{V6}/projects/{{project_id:int}}/labels/{{key:path}}", delete_project_label, methods=["DELETE"]),
]
