"""Junk at ``POST /slack/events``: the signature is checked first, then the shape; never a 500 or a traceback.

Over real HTTP against the real Slack ASGI app (uvicorn on a free port), with the fake Slack and the
simulator behind it: nothing junk reaches either, and the log stays a few lines however much junk arrives.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from urllib.parse import urlencode

import pytest

from bot.slack.app import MAX_BODY_BYTES
from tests.slack.conftest import Harness, sign

FORM = "application/x-www-form-urlencoded"


def _signed(body: bytes, content_type: str = FORM, **kwargs: object) -> dict[str, str]:
    return {**sign(body, **kwargs), "Content-Type": content_type}  # type: ignore[arg-type]


SIGNED_MALFORMED: list[tuple[str, bytes, str]] = [
    ("not utf-8", b"\xff\xfe\x00garbage\x80", FORM),
    ("payload is not JSON", b"payload=%7Bnot-json", FORM),
    ("payload is a list", urlencode({"payload": "[1, 2]"}).encode(), FORM),
    ("payload is a number", urlencode({"payload": "3"}).encode(), FORM),
    ("payload is a string", urlencode({"payload": '"block_actions"'}).encode(), FORM),
    ("payload fields of the wrong type", urlencode({"payload": json.dumps({"type": 1, "user": "x"})}).encode(), FORM),
    (
        "a click without actions",
        urlencode({"payload": json.dumps({"type": "block_actions", "actions": 5})}).encode(),
        FORM,
    ),
    ("broken JSON event", b'{"type": "event_callback", "event": ', "application/json"),
    ("JSON that is a list", b"[1, 2, 3]", "application/json"),
    (
        "an event of the wrong shape",
        b'{"type": "event_callback", "event": "x", "authorizations": 7}',
        "application/json",
    ),
    ("deeply nested JSON", b"[" * 100_000 + b"]" * 100_000, "application/json"),
    ("a command with no command", b"text=list+tests&user_id=U0ALICE", FORM),
    ("empty", b"", FORM),
]


@pytest.mark.parametrize(("what", "body", "content_type"), SIGNED_MALFORMED, ids=[c[0] for c in SIGNED_MALFORMED])
async def test_a_signed_malformed_body_is_a_400_not_a_500(
    harness: Harness, what: str, body: bytes, content_type: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    before = len(harness.sim.requests)
    response = await harness.http.post(f"{harness.url}/slack/events", content=body, headers=_signed(body, content_type))
    assert response.status_code == 400, (what, response.status_code, response.text)
    assert "Traceback" not in response.text
    await harness.settle()
    assert harness.fake.calls == [] and len(harness.sim.requests) == before
    assert "Traceback" not in caplog.text
    refused = [r for r in caplog.records if "Slack request" in r.getMessage()]
    assert len(refused) == 1, caplog.text
    assert refused[0].exc_info is None


UNSIGNED: list[tuple[str, bytes, dict[str, str]]] = [
    ("no headers at all", b"\xff\xfe garbage", {}),
    ("no signature", b"payload=%7Bnot-json", {"Content-Type": FORM, "X-Slack-Request-Timestamp": "1"}),
    (
        "a timestamp that is not a number",
        b"payload=x",
        {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=00"},
    ),
    ("a forged signature on junk", b"\x80\x81", _signed(b"\x80\x81", secret="forged")),
    ("a stale signature on junk", b"payload=[", _signed(b"payload=[", timestamp=int(time.time()) - 3600)),
    (
        "a signature that is not hex",
        b"x",
        {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=zz;not hex"},
    ),
]


@pytest.mark.parametrize(("what", "body", "headers"), UNSIGNED, ids=[c[0] for c in UNSIGNED])
async def test_junk_without_a_valid_signature_is_a_401(
    harness: Harness, what: str, body: bytes, headers: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    response = await harness.http.post(f"{harness.url}/slack/events", content=body, headers=headers)
    assert response.status_code == 401, (what, response.status_code, response.text)
    await harness.settle()
    assert harness.fake.calls == []
    assert "Traceback" not in caplog.text
    assert len([r for r in caplog.records if "Slack request" in r.getMessage()]) == 1, caplog.text


async def raw_post(url: str, headers: dict[str, str], chunks: list[bytes], *, chunked: bool = False) -> int:
    """POST over a plain socket, so the body can be announced and not sent; returns the answer's status."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    head = ["POST /slack/events HTTP/1.1", f"Host: {host}", "Connection: close"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    if chunked:
        head.append("Transfer-Encoding: chunked")
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode())
    try:
        for chunk in chunks:
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
            await writer.drain()
    except ConnectionError:
        pass  # k6bot answered and closed while the rest was still being sent
    status_line = await asyncio.wait_for(reader.readline(), 10)
    writer.close()
    return int(status_line.split()[1])


async def test_an_oversized_body_is_refused_with_413_before_it_is_read(harness: Harness) -> None:
    body = b"text=" + b"x" * (MAX_BODY_BYTES + 1)
    response = await harness.http.post(f"{harness.url}/slack/events", content=body, headers=_signed(body))
    assert response.status_code == 413

    # a client that announces a huge body gets its answer without sending it: k6bot does not wait for it
    announced = {**_signed(b""), "Content-Length": str(50 * 1024 * 1024)}
    assert await raw_post(harness.url, announced, [b"text=x"]) == 413

    # chunked, without a Content-Length: counted as it arrives, refused once past the limit
    chunks = [b"x" * 65536] * (MAX_BODY_BYTES // 65536 + 2)
    assert await raw_post(harness.url, _signed(b""), chunks, chunked=True) == 413
    await harness.settle()
    assert harness.fake.calls == []


async def test_a_body_at_the_limit_is_still_read(harness: Harness) -> None:
    text = "list tests"
    body = harness.command_body(text)
    padded = body + b"&pad=" + b"x" * (MAX_BODY_BYTES - len(body) - 5)
    assert len(padded) == MAX_BODY_BYTES
    response = await harness.http.post(f"{harness.url}/slack/events", content=padded, headers=_signed(padded))
    assert response.status_code == 200
    calls = await harness.responses(1)
    assert "load test" in calls[0].text


async def test_200_junk_requests_leave_a_bounded_log(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    statuses: dict[int, int] = {}
    for index in range(200):
        _what, body, content_type = SIGNED_MALFORMED[index % len(SIGNED_MALFORMED)]
        secret = {} if index % 2 else {"secret": "forged"}
        headers = _signed(body, content_type, **secret)
        response = await harness.http.post(f"{harness.url}/slack/events", content=body, headers=headers)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    assert set(statuses) == {400, 401}, statuses
    await harness.settle()
    assert harness.fake.calls == []
    assert "Traceback" not in caplog.text
    lines = [r for r in caplog.records if r.name.startswith(("k6bot", "uvicorn", "slack_bolt"))]
    assert len(lines) <= 4, caplog.text  # one line per reason (bad signature, malformed), not one per request
    assert sum(len(r.getMessage()) for r in lines) < 1000


def test_the_log_line_says_how_many_were_suppressed() -> None:
    from bot.logs import RateLimitedLog

    now = [1000.0]
    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    logger = logging.getLogger("k6bot.test.ratelimit")
    logger.propagate = False
    logger.addHandler(Collect())
    logger.setLevel(logging.INFO)
    limited = RateLimitedLog(logger, every=60, clock=lambda: now[0])
    for _ in range(50):
        limited.warning("bad_signature", "Refused a Slack request: %s", "bad signature")
    limited.warning("malformed", "Refused a Slack request: %s", "malformed")
    now[0] += 61
    limited.warning("bad_signature", "Refused a Slack request: %s", "bad signature")
    assert records == [
        "Refused a Slack request: bad signature",
        "Refused a Slack request: malformed",
        "Refused a Slack request: bad signature (49 more like it in the last 61 s were not logged)",
    ]
