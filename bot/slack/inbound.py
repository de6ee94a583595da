"""What arrives at ``POST /slack/events``, checked before bolt sees it: size, then signature, then shape.

The order matters: nothing about a body is parsed before its signature is checked, so an outsider's junk
costs one HMAC and a 401; only a body Slack signed is parsed, and one that does not have the shape of a
slash command, an interaction payload or an Events API envelope is a 400.

Size: a slash command's text is at most 4,000 characters; the largest thing Slack sends k6bot is a
``block_actions`` payload, which carries the message whose button was clicked. Slack's limits for a
message (50 blocks, 3,000 characters of text per section, a 40,000-character ``text``) bound that to
about 190,000 characters; :data:`MAX_BODY_BYTES` leaves room for the JSON and URL encoding around them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal
from urllib.parse import parse_qsl

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, ValidationError

MAX_BODY_BYTES = 512 * 1024
"""Slack's own limits bound a request to about 190,000 characters (see the module docstring)."""
MAX_AGE_SECONDS = 300
"""Slack's rule: a request whose timestamp is more than five minutes away is a replay."""

Refusal = Literal["unsigned", "stale", "bad_signature"]


def signature_problem(
    secret: str, headers: Mapping[str, str], body: bytes, *, clock: Callable[[], float] = time.time
) -> Refusal | None:
    """Why the request is not signed by Slack with ``secret`` (None when it is).

    ``v0=HMAC_SHA256(secret, "v0:{timestamp}:{body}")`` over the raw bytes, compared in constant time.
    """
    timestamp = headers.get("x-slack-request-timestamp")
    signature = headers.get("x-slack-signature")
    if not timestamp or not signature:
        return "unsigned"
    try:
        age = abs(clock() - int(timestamp.strip()))
    except ValueError:
        return "stale"
    if age > MAX_AGE_SECONDS:
        return "stale"
    base = b"v0:" + timestamp.strip().encode("ascii", "replace") + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.strip().encode("utf-8", "replace")):
        return "bad_signature"
    return None


class MalformedRequest(ValueError):
    """A signed request whose body is not something Slack sends; ``reason`` says what is wrong (no content)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --------------------------------------------------------------------------- shapes
# Only the fields bolt and k6bot read are typed; everything else passes as it came.


class _Shape(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Ref(_Shape):
    """A user, team, channel or enterprise object."""

    id: StrictStr | None = None
    team_id: StrictStr | None = None
    enterprise_id: StrictStr | None = None


class _Authorization(_Shape):
    enterprise_id: StrictStr | None = None
    team_id: StrictStr | None = None
    user_id: StrictStr | None = None
    is_enterprise_install: StrictBool | None = None


class _Action(_Shape):
    action_id: StrictStr
    block_id: StrictStr | None = None
    value: StrictStr | None = None
    action_ts: StrictStr | None = None


class _Container(_Shape):
    channel_id: StrictStr | None = None
    message_ts: StrictStr | None = None


class _Message(_Shape):
    user: StrictStr | None = None
    thread_ts: StrictStr | None = None


class _Common(_Shape):
    type: StrictStr = Field(min_length=1)
    user: _Ref | StrictStr | None = None
    user_id: StrictStr | None = None
    team: _Ref | StrictStr | None = None
    team_id: StrictStr | None = None
    channel: _Ref | StrictStr | None = None
    channel_id: StrictStr | None = None
    enterprise: _Ref | StrictStr | None = None
    enterprise_id: StrictStr | None = None
    authorizations: list[_Authorization] | None = None
    is_enterprise_install: StrictBool | StrictStr | None = None
    is_ext_shared_channel: StrictBool | None = None
    thread_ts: StrictStr | None = None
    message: _Message | None = None
    previous_message: _Message | None = None
    view: _Shape | None = None
    function_data: _Shape | None = None
    item: _Ref | None = None


class _Event(_Common):
    text: StrictStr | None = None
    ts: StrictStr | None = None
    user_team: StrictStr | None = None


class Interaction(_Common):
    """``payload=…`` of a button click (``block_actions``) or any other interaction."""

    actions: list[_Action] | None = None
    container: _Container | None = None
    response_url: StrictStr | None = None
    trigger_id: StrictStr | None = None


class Envelope(_Common):
    """An Events API request: ``event_callback`` with its event, or ``url_verification``."""

    event: _Event | None = None
    event_id: StrictStr | None = None
    api_app_id: StrictStr | None = None
    challenge: StrictStr | None = None


def _json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        raise MalformedRequest(f"{what} is not JSON") from None


def _checked(model: type[BaseModel], data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise MalformedRequest(f"{what} is not a JSON object")
    try:
        model.model_validate(data)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in error["loc"]) or what for error in exc.errors()})[:3]
        raise MalformedRequest(f"{what} has unexpected fields: {', '.join(fields)}") from None
    return data


def check_body(body: bytes, content_type: str | None) -> str:
    """What ``body`` is — ``event``, ``block_actions`` (or another interaction type), ``ssl_check`` or
    ``command`` — or :class:`MalformedRequest` unless it has the shape of something Slack sends.

    Slash commands are form fields with a ``command``; interactions a form field ``payload`` holding a
    JSON object; the Events API a JSON object. (Bolt parses it again; this only makes sure it can.)
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedRequest("the body is not UTF-8") from None
    if not text.strip():
        raise MalformedRequest("the body is empty")
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind == "application/json" or text.lstrip().startswith(("{", "[")):
        _checked(Envelope, _json(text, "the body"), "the body")
        return "event"
    fields = dict(parse_qsl(text, keep_blank_values=True))
    if "payload" in fields:
        payload = _json(fields["payload"], "payload")
        _checked(Interaction, payload, "payload")
        named = payload.get("type") if isinstance(payload, dict) else None
        return named if isinstance(named, str) else "interaction"
    if fields.get("ssl_check"):
        return "ssl_check"
    command = fields.get("command", "")
    if not command.startswith("/"):
        raise MalformedRequest("neither a slash command, an interaction nor an event")
    return "command"
