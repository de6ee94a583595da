"""A local fake of the Slack Web API (and of response_url) that records every call.

Serves on 127.0.0.1 with a free port in a thread. Answers the methods k6bot uses, can be told to fail
(HTTP 500, or 429 with Retry-After) a number of times per method, and lets tests wait for calls with a
condition variable instead of sleeping.

Like Slack, every answer to the bot token carries the granted scopes in ``x-oauth-scopes`` (``scopes``;
None leaves the header out), and ``apps.connections.open`` wants the app-level token (``app_token``) and
answers ``socket_url``.

File uploads follow Slack's current flow: ``files.getUploadURLExternal`` answers an ``upload_url`` on this fake,
the bytes POSTed there are kept in ``uploads`` (by file id, recorded as the call ``upload``), and
``files.completeUploadExternal`` shares them (``shared``: file id → channel / thread / title).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qsl


@dataclass
class SlackCall:
    method: str
    args: dict[str, Any]
    authorized: bool
    status: int
    at: float = field(default_factory=time.monotonic)

    @property
    def text(self) -> str:
        """Every piece of text in the call (text, blocks, attachments), for content assertions."""
        return json.dumps({k: self.args.get(k) for k in ("text", "blocks", "attachments")}, ensure_ascii=False)


@dataclass
class _Failure:
    remaining: int
    status: int
    retry_after: float | str | None
    error: str


DEFAULT_SCOPES = (
    "commands",
    "chat:write",
    "chat:write.public",
    "usergroups:read",
    "app_mentions:read",
    "files:write",
)
"""What manifest.yaml asks for."""


class FakeSlack:
    """The fake server. ``api_url`` is the Web API base (ends with a slash); ``response_url(name)`` makes URLs."""

    started: ClassVar[list[FakeSlack]] = []
    """Every fake started (since the suite's guard last cleared it): what they recorded is checked for secrets."""

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-test-token",
        app_token: str = "xapp-test-token",
        scopes: tuple[str, ...] | None = DEFAULT_SCOPES,
    ) -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        self.scopes = scopes
        self.socket_url = "ws://127.0.0.1:9/link/?ticket=fake"  # nothing listens: Socket Mode itself is not faked
        self.calls: list[SlackCall] = []
        self.usergroups: dict[str, list[str]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.uploads: dict[str, bytes] = {}
        """Bytes POSTed to each upload URL, by file id."""
        self.pending: dict[str, dict[str, Any]] = {}
        """Upload URLs handed out and not completed yet: file id → the getUploadURLExternal arguments."""
        self.shared: dict[str, dict[str, Any]] = {}
        """Completed uploads: file id → channel_id, thread_ts, title, initial_comment."""
        self._file_ids = 0
        self._failures: dict[str, list[_Failure]] = {}
        self._ts = 1_700_000_000_000_100
        self._cond = threading.Condition()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                fake._handle(self)

            def do_GET(self) -> None:
                fake._handle(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-slack", daemon=True
        )

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeSlack:
        self._thread.start()
        FakeSlack.started.append(self)
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return self.base_url + "/api/"

    def response_url(self, name: str = "r1") -> str:
        return f"{self.base_url}/response/{name}"

    # ------------------------------------------------------------------ control

    def fail(
        self,
        method: str,
        *,
        times: int = 1,
        status: int = 500,
        retry_after: float | str | None = None,
        error: str = "internal_error",
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail (``status`` 429 with ``retry_after`` for rate limits).

        ``retry_after`` is seconds, or a string sent as the ``Retry-After`` header verbatim (e.g. an HTTP date).
        """
        with self._cond:
            self._failures.setdefault(method, []).append(_Failure(times, status, retry_after, error))

    def calls_of(self, method: str) -> list[SlackCall]:
        with self._cond:
            return [c for c in self.calls if c.method == method]

    def successful(self, method: str) -> list[SlackCall]:
        return [c for c in self.calls_of(method) if c.status == 200]

    def wait_for(
        self, method: str, count: int = 1, *, timeout: float = 10.0, successful: bool = True
    ) -> list[SlackCall]:
        """Block until at least ``count`` calls of ``method`` arrived (successful ones by default)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                calls = [c for c in self.calls if c.method == method and (not successful or c.status == 200)]
                if len(calls) >= count:
                    return calls
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} {method} call(s), got {len(calls)}: {self.summary()}")
                self._cond.wait(remaining)

    def summary(self) -> list[str]:
        with self._cond:
            return [f"{c.method}[{c.status}]" for c in self.calls]

    def reset(self) -> None:
        with self._cond:
            self.calls.clear()
            self._failures.clear()
            self.uploads.clear()
            self.pending.clear()
            self.shared.clear()

    # ------------------------------------------------------------------ serving

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        content_type = request.headers.get("Content-Type", "")
        args: dict[str, Any]
        path, _, query = request.path.partition("?")
        if path.startswith("/upload/"):
            self._upload(request, path[len("/upload/") :], raw)
            return
        if "json" in content_type:
            try:
                args = json.loads(raw or b"{}")
            except ValueError:
                args = {"_raw": raw.decode(errors="replace")}
        else:
            args = dict(parse_qsl(raw.decode(errors="replace")))
            for key in ("blocks", "attachments"):
                if isinstance(args.get(key), str):
                    with contextlib.suppress(ValueError):
                        args[key] = json.loads(args[key])
        for key, value in parse_qsl(query):  # GET methods (e.g. usergroups.users.list in the SDK) send a query
            args.setdefault(key, value)
        if path.startswith("/response/"):
            method = "response_url"
            authorized = True
        elif path.startswith("/api/"):
            method = path[len("/api/") :]
            auth = request.headers.get("Authorization", "")
            authorized = auth == f"Bearer {self.bot_token}" or args.get("token") == self.bot_token
            if method == "apps.connections.open":
                authorized = auth == f"Bearer {self.app_token}"
        else:
            self._reply(request, 404, {"ok": False, "error": "unknown_url"})
            return
        status, body, headers = self._answer(method, args, authorized)
        if authorized and self.scopes is not None and method not in ("response_url", "apps.connections.open"):
            headers = {"x-oauth-scopes": ",".join(self.scopes), **headers}
        with self._cond:
            self.calls.append(SlackCall(method, args, authorized, status))
            self._cond.notify_all()
        self._reply(request, status, body, headers)

    def _answer(
        self, method: str, args: dict[str, Any], authorized: bool
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._cond:
            queue = self._failures.get(method, [])
            while queue and queue[0].remaining <= 0:
                queue.pop(0)
            if queue:
                failure = queue[0]
                failure.remaining -= 1
                wait = failure.retry_after
                headers = {"Retry-After": wait if isinstance(wait, str) else f"{wait:g}"} if wait is not None else {}
                error = "ratelimited" if failure.status == 429 else failure.error
                return failure.status, {"ok": False, "error": error}, headers
        if not authorized:
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        if method == "apps.connections.open":
            return 200, {"ok": True, "url": self.socket_url}, {}
        if method == "response_url":
            return 200, {"ok": True}, {}
        if method == "auth.test":
            return (
                200,
                {
                    "ok": True,
                    "url": "https://fake.slack.com/",
                    "team": "Fake",
                    "user": "k6bot",
                    "team_id": "T0FAKE",
                    "user_id": "U0K6BOT",
                    "bot_id": "B0K6BOT",
                },
                {},
            )
        if method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            ts = args.get("ts") if method == "chat.update" else self._next_ts()
            body: dict[str, Any] = {
                "ok": True,
                "channel": args.get("channel"),
                "ts": ts,
                "message": {"text": args.get("text"), "ts": ts},
            }
            if method == "chat.postEphemeral":
                body = {"ok": True, "message_ts": ts}
            return 200, body, {}
        if method == "usergroups.users.list":
            return 200, {"ok": True, "users": self.usergroups.get(str(args.get("usergroup")), [])}, {}
        if method == "users.info":
            user_id = str(args.get("user"))
            user = self.users.get(
                user_id,
                {"id": user_id, "name": user_id.lower(), "real_name": user_id, "profile": {"display_name": user_id}},
            )
            return 200, {"ok": True, "user": user}, {}
        if method == "conversations.info":
            return (
                200,
                {"ok": True, "channel": {"id": args.get("channel"), "name": str(args.get("channel")).lower()}},
                {},
            )
        if method == "files.getUploadURLExternal":
            return self._upload_url(args)
        if method == "files.completeUploadExternal":
            return self._complete(args)
        return 200, {"ok": True}, {}

    def _upload_url(self, args: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        if not args.get("filename") or not str(args.get("length") or "").isdigit():
            return 200, {"ok": False, "error": "invalid_arguments"}, {}
        with self._cond:
            self._file_ids += 1
            file_id = f"F{self._file_ids:08d}"
            self.pending[file_id] = dict(args)
        return 200, {"ok": True, "file_id": file_id, "upload_url": f"{self.base_url}/upload/{file_id}"}, {}

    def _upload(self, request: BaseHTTPRequestHandler, file_id: str, raw: bytes) -> None:
        with self._cond:
            expected = self.pending.get(file_id)
            ok = expected is not None and int(expected["length"]) == len(raw)
            if ok:
                self.uploads[file_id] = raw
            status = 200 if ok else 400
            self.calls.append(SlackCall("upload", {"file_id": file_id, "size": len(raw)}, True, status))
            self._cond.notify_all()
        data = b"OK - " + str(len(raw)).encode() if ok else b"bad upload"
        request.send_response(status)
        request.send_header("Content-Type", "text/plain")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    def _complete(self, args: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        try:
            files = json.loads(args.get("files") or "[]") if isinstance(args.get("files"), str) else args["files"]
        except (ValueError, KeyError):
            return 200, {"ok": False, "error": "invalid_arguments"}, {}
        with self._cond:
            if not files or any(f.get("id") not in self.uploads for f in files):
                return 200, {"ok": False, "error": "file_not_found"}, {}
            shared = []
            for f in files:
                self.pending.pop(f["id"], None)
                self.shared[f["id"]] = {
                    "channel_id": args.get("channel_id"),
                    "thread_ts": args.get("thread_ts"),
                    "title": f.get("title"),
                    "initial_comment": args.get("initial_comment"),
                }
                shared.append({"id": f["id"], "title": f.get("title")})
        return 200, {"ok": True, "files": shared}, {}

    def _next_ts(self) -> str:
        with self._cond:
            self._ts += 100
            value = self._ts
        return f"{value // 1_000_000}.{value % 1_000_000:06d}"

    @staticmethod
    def _reply(
        request: BaseHTTPRequestHandler, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(body).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json; charset=utf-8")
        request.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            request.send_header(key, value)
        request.end_headers()
        request.wfile.write(data)
