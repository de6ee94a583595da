"""The async HTTP client for the Grafana Cloud k6 API (v6, legacy v2 runs, v5 metrics).

What it takes care of, so nothing above it has to:

* authentication: ``Authorization: Bearer <token>`` and ``X-Stack-Id`` for v6/v5, ``Authorization: Token``
  for legacy v2; a stack URL is turned into a stack id once, through ``GET /cloud/v6/auth``;
* retries (:mod:`tools.retry`: exponential backoff with jitter, ``Retry-After`` honoured) on network errors,
  5xx and 429 for requests that are safe to repeat: idempotent ones, and a start that carries a
  ``K6-Idempotency-Key`` (the same key on every attempt, so the API starts one run at most). A keyless
  POST is sent again only when it never reached the server. Every error says whether the request
  ``possibly_processed`` (an answer lost, a 5xx): the caller must then find out before saying "not done";
* paging through ``$top``/``$skip`` until no ``@nextLink`` remains;
* turning every error response into a typed :class:`~tools.errors.ApiError`.

The token lives in a ``SecretStr`` and is only ever written into request headers (for v6, the HTTP client's default
headers, which httpx shows as ``[secure]``): it is not in any repr, log line or exception.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

import httpx
from pydantic import BaseModel, SecretStr, ValidationError

from tools import observe
from tools.config import K6CloudSettings
from tools.errors import ApiError, ApiUnavailable, ConfigurationError, error_class_for
from tools.models import AuthenticationResponse, ListedRun, Page, TestRun
from tools.retry import Backoff, Failure, parse_retry_after, retrying

log = logging.getLogger("k6bot.client")

ApiFlavour = Literal["v6", "v5", "v2", "auth"]
M = TypeVar("M", bound=BaseModel)

USER_AGENT = "k6bot/0.1 (+https://github.com/k6bot/k6bot)"
MAX_PAGE_SIZE = 1000
IDEMPOTENCY_HEADER = "K6-Idempotency-Key"
_JSON = "application/json"
_HTTPX_ACCEPT = "*/*"  # httpx's own default Accept, which a request with accept=None has always sent
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Errors raised before the request reached the server: retrying them can never repeat a side effect.
_NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


_URL_CACHE_SIZE = 1024  # paths whose absolute URL is kept (ids make paths many: the cache starts over when full)

MAX_IN_FLIGHT = 20
"""Requests to the k6 API at once; more wait their turn here. httpx keeps 20 connections alive, and its pool
scans every queued request on every change, so hundreds queued there (a burst of slow commands) cost the event
loop more than the requests themselves — and Slack's acknowledgements waited behind that."""
BEFORE_READING: contextvars.ContextVar[Callable[[], Awaitable[None]] | None] = contextvars.ContextVar(
    "k6bot_before_reading", default=None
)
"""Awaited after each successful response, before the caller parses it, when set in the calling task's context:
a front-end's background work uses it to let that front-end's own urgent work go first (the Slack front-end sets
its acknowledgements' ``Priority.turn``: twenty slow answers arriving at once were parsed in one go, and a burst of
commands arriving then waited behind it). Unset (MCP, the notifier): nothing is awaited."""


def _tls_for(api_url: str) -> dict[str, Any]:
    """httpx loads certifi's CA bundle into every client's TLS context (~1.8 MiB of resident memory). An
    ``http://`` API — the demo mode's simulator on a loopback port — has no TLS to verify, so it gets a context
    with no trusted certificate at all: still verifying, so a TLS connection it might be sent to (an absolute
    ``https://`` link in an answer) fails its handshake instead of going unverified."""
    if not api_url.lower().startswith("http://"):
        return {}
    import ssl

    return {"verify": ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)}  # CERT_REQUIRED, check_hostname, no trust anchors


class K6CloudClient:
    """Typed async access to the k6 Cloud API. Use as ``async with K6CloudClient(settings) as client``."""

    def __init__(
        self,
        settings: K6CloudSettings | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        backoff_base: float = 0.5,
        backoff_max: float = 8.0,
        max_retry_after: float = 60.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.settings = settings or K6CloudSettings()
        if self.settings.token is None:
            raise ConfigurationError("K6_CLOUD_TOKEN is not set: k6bot needs a Grafana Cloud k6 API token.")
        self._token: SecretStr = self.settings.token
        self._stack_id: int | None = self.settings.stack_id
        self._page_base: str | None = None
        self._stack_lock = asyncio.Lock()
        self.backoff = Backoff(base=backoff_base, cap=backoff_max)
        self.max_retry_after = max_retry_after
        self._sleep = sleep
        self._in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
        self._header_cache: dict[tuple[str, str | None], httpx.Headers] = {}
        self._urls: dict[str, httpx.URL] = {}
        self._v6_defaults = False  # the v6 headers (token, stack id, Accept JSON) are the HTTP client's defaults
        self._http = httpx.AsyncClient(
            base_url=self.settings.api_url,
            timeout=httpx.Timeout(self.settings.timeout),
            transport=transport,
            headers={"User-Agent": USER_AGENT},
            follow_redirects=False,
            **_tls_for(self.settings.api_url),
        )

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> K6CloudClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def __repr__(self) -> str:
        return f"K6CloudClient(api_url={self.settings.api_url!r}, stack_id={self._stack_id!r})"

    @property
    def api_url(self) -> str:
        return self.settings.api_url

    # ------------------------------------------------------------------ stack

    async def stack_id(self) -> int:
        """The stack id for X-Stack-Id: configured, or looked up once from K6_CLOUD_STACK_URL."""
        if self._stack_id is not None:
            return self._stack_id
        async with self._stack_lock:
            if self._stack_id is None:
                if not self.settings.stack_url:
                    raise ConfigurationError(
                        "Set K6_CLOUD_STACK_ID (the numeric Grafana stack id) or K6_CLOUD_STACK_URL "
                        "(e.g. https://mystack.grafana.net)."
                    )
                auth = await self.authenticate(self.settings.stack_url)
                self._stack_id = auth.stack_id
        return self._stack_id

    async def authenticate(self, stack_url: str) -> AuthenticationResponse:
        """Validate the token against a stack URL (``GET /cloud/v6/auth``)."""
        response = await self.request(
            "GET", "/cloud/v6/auth", api="auth", headers={"X-Stack-Url": stack_url}, idempotent=True
        )
        return parse_model(AuthenticationResponse, response)

    # ------------------------------------------------------------------ requests

    async def _headers(
        self, api: ApiFlavour, accept: str | None, extra: Mapping[str, str] | None, idempotency_key: str | None
    ) -> httpx.Headers | dict[str, str] | None:
        """The headers of one request; None for the usual one (v6, JSON, nothing extra), whose headers are the
        HTTP client's defaults, so httpx has nothing to merge. The other plain ones (no extra header, no key)
        are built once per flavour and ``Accept``: the token and the stack id do not change once known."""
        plain = not extra and idempotency_key is None
        if plain:
            if api == "v6" and accept == _JSON and self._v6_defaults:
                return None
            cached = self._header_cache.get((api, accept))
            if cached is not None:
                return cached
        send_headers = dict(extra or {})
        send_headers.update(await self._auth_headers(api))
        if accept:
            send_headers.setdefault("Accept", accept)
        if idempotency_key is not None:
            send_headers[IDEMPOTENCY_HEADER] = idempotency_key
        if plain:
            if api == "v6" and accept == _JSON:
                self._http.headers.update(send_headers)
                self._v6_defaults = True
                return None
            self._header_cache[(api, accept)] = httpx.Headers(send_headers)
        return send_headers

    def _build(
        self, method: str, path: str, headers: httpx.Headers | dict[str, str] | None, **kwargs: Any
    ) -> httpx.Request:
        """The request, its headers exactly the ones asked for: v6's defaults (the stack id, ``Accept`` JSON) are
        taken off a request that does not ask for them (legacy v2, ``/auth``, another ``Accept``)."""
        request = self._http.build_request(method, self._url(path), headers=headers, **kwargs)
        if headers is not None and self._v6_defaults:
            asked = {key.lower() for key in headers}
            if "x-stack-id" not in asked and "x-stack-id" in request.headers:
                del request.headers["X-Stack-Id"]
            if "accept" not in asked:
                request.headers["Accept"] = _HTTPX_ACCEPT
        return request

    def _url(self, path: str) -> httpx.URL:
        """The absolute URL of ``path`` on the API, as httpx merges it with the base URL, kept per path: httpx
        parses a path string twice on every request (to merge it, then for the request), but takes an
        ``httpx.URL`` as it is. Half of what building a request cost."""
        url = self._urls.get(path)
        if url is None:
            if len(self._urls) >= _URL_CACHE_SIZE:
                self._urls.clear()
            url = self._urls[path] = self._http.build_request("GET", path).url
        return url

    async def _auth_headers(self, api: ApiFlavour) -> dict[str, str]:
        secret = self._token.get_secret_value()
        if api == "v2":
            return {"Authorization": f"Token {secret}"}
        headers = {"Authorization": f"Bearer {secret}"}
        if api != "auth":
            headers["X-Stack-Id"] = str(await self.stack_id())
        return headers

    async def request(
        self,
        method: str,
        path: str,
        *,
        api: ApiFlavour = "v6",
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | None = None,
        files: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        accept: str | None = "application/json",
        idempotent: bool,
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        """Send one logical request, retrying where that is safe, and return the 2xx response.

        ``idempotent`` says whether repeating the request is harmless; a request with an
        ``idempotency_key`` is made safe to repeat by the API, so it is retried too (with the same key).
        Raises :class:`ApiError` (typed by status) or :class:`ApiUnavailable`.
        """
        if api == "v6" and accept == _JSON and self._v6_defaults and not headers and idempotency_key is None:
            send_headers = None  # the usual request: its headers are the HTTP client's defaults (see _headers)
        else:
            send_headers = await self._headers(api, accept, headers, idempotency_key)
        repeatable = idempotent or idempotency_key is not None
        clean_params = _clean_params(params) if params else None
        possibly_processed = False  # by any attempt so far: what a caller must reconcile after a failure

        async def once(attempt: int) -> httpx.Response:
            nonlocal possibly_processed
            started = time.monotonic()
            try:
                request = self._build(
                    method, path, send_headers, params=clean_params, json=json, content=content, files=files, data=data
                )
                await self._in_flight.acquire()  # `async with`'s two extra coroutines, without them
                try:
                    response = await self._http.send(request)
                finally:
                    self._in_flight.release()
            except httpx.TransportError as exc:
                observe.report(
                    observe.ApiAttempt(
                        method, observe.route_of(path), None, type(exc).__name__, time.monotonic() - started, attempt
                    )
                )
                sent = not isinstance(exc, _NOT_SENT_ERRORS)
                possibly_processed = possibly_processed or sent
                unreachable = ApiUnavailable(_transport_sentence(exc, self.settings.api_url), attempts=attempt)
                unreachable.possibly_processed = possibly_processed
                # never sent: repeating cannot do anything twice, whatever the request
                raise Failure(
                    unreachable, may_repeat=repeatable or not sent, possibly_processed=sent, reason=type(exc).__name__
                ) from None
            elapsed = time.monotonic() - started
            if observe.watched():
                observe.report(
                    observe.ApiAttempt(method, observe.route_of(path), response.status_code, None, elapsed, attempt)
                )
            if log.isEnabledFor(logging.DEBUG):
                log.debug(
                    "%s %s -> %d in %.0f ms (attempt %d)", method, path, response.status_code, elapsed * 1000, attempt
                )
            if response.is_success:
                before_reading = BEFORE_READING.get()
                if before_reading is not None:
                    await before_reading()
                return response
            if method == "DELETE" and response.status_code == 404 and attempt > 1:
                # An earlier attempt went through but its answer was lost: the thing is gone, as asked.
                log.info("%s %s -> 404 on attempt %d: deleted by an earlier attempt", method, path, attempt)
                await response.aclose()
                return httpx.Response(204, request=response.request)
            error = api_error_from_response(response, method=method, path=path, attempts=attempt)
            await response.aclose()
            if response.status_code not in _RETRY_STATUSES:
                error.possibly_processed = possibly_processed
                raise error
            processed = response.status_code != 429  # a 5xx may come after the work was done; a 429 before it
            possibly_processed = possibly_processed or processed
            error.possibly_processed = possibly_processed
            wait = error.retry_after
            patient = wait is None or wait <= self.max_retry_after
            raise Failure(
                error,
                may_repeat=repeatable and patient,
                possibly_processed=processed,
                retry_after=wait,
                reason=f"HTTP {response.status_code}",
            )

        # The first attempt goes without the retry machinery (most requests need one); only a failure that may be
        # repeated enters tenacity's loop, which replays it as attempt 1, so its waits and log lines are the same.
        try:
            return await once(1)
        except Failure as failure:
            first = failure
        if not first.may_repeat or self.settings.max_retries < 1:
            raise first.error from None
        attempts = retrying(
            attempts=1 + self.settings.max_retries,
            backoff=self.backoff,
            sleep=self._sleep,
            log=log,
            what=f"{method} {path}",
        )
        try:
            async for attempt in attempts:
                with attempt:
                    number = attempt.retry_state.attempt_number
                    if number == 1:
                        raise first
                    return await once(number)
        except Failure as last:
            raise last.error from None
        raise AssertionError("the retry loop ends with a response or an error")  # pragma: no cover

    async def get_model(
        self, model: type[M], path: str, *, api: ApiFlavour = "v6", params: Mapping[str, Any] | None = None
    ) -> M:
        response = await self.request("GET", path, api=api, params=params, idempotent=True)
        return self.with_links(parse_model(model, response))

    # ------------------------------------------------------------------ run page links

    def with_links(self, obj: M) -> M:
        """Fill a run's ``test_run_details_page_url`` when the API left it out (and learn it when present).

        The v6 spec puts the link only on the start response, so runs read later may lack it. The link is
        ``<stack URL>/a/k6-app/runs/<id>``: the stack URL comes from K6_CLOUD_STACK_URL or from a link the
        API sent earlier.
        """
        runs = obj.value if isinstance(obj, Page) else [obj]
        for run in runs:
            if not isinstance(run, TestRun | ListedRun):
                continue
            if run.test_run_details_page_url:
                suffix = f"/{run.id}"
                if run.test_run_details_page_url.endswith(suffix):
                    self._page_base = run.test_run_details_page_url[: -len(suffix)]
            elif (url := self.run_page_url(run.id)) is not None:
                run.test_run_details_page_url = url
        return obj

    def run_page_url(self, run_id: int) -> str | None:
        """The Grafana Cloud page of a run, when the stack's URL is known."""
        if self._page_base:
            return f"{self._page_base}/{run_id}"
        if self.settings.stack_url:
            return f"{self.settings.stack_url.rstrip('/')}/a/k6-app/runs/{run_id}"
        return None

    # ------------------------------------------------------------------ paging

    async def get_page(self, model: type[M], path: str, params: Mapping[str, Any] | None = None) -> Page[M]:
        response = await self.request("GET", path, params=params, idempotent=True)
        return self.with_links(parse_model(Page[model], response))  # type: ignore[valid-type]

    async def pages(
        self,
        model: type[M],
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        page_size: int = MAX_PAGE_SIZE,
        limit: int | None = None,
        skip: int = 0,
    ) -> AsyncGenerator[tuple[Page[M], bool], None]:
        """Yield the pages of a v6 list, each with whether another follows, until the API stops sending ``@nextLink``.

        "Another follows" is what the page says (``@nextLink``, and ``@count`` when sent), so a caller that has
        enough need not read the next page to learn that there is more. The next page is rebuilt from ``$skip``
        rather than by following ``@nextLink`` verbatim (its scheme has varied between API versions); ``limit``
        items in all stop early.
        """
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be within 1..{MAX_PAGE_SIZE}")
        offset = skip
        base = dict(params or {})
        previous: list[Any] | None = None
        while True:
            top = page_size if limit is None else max(1, min(page_size, limit - (offset - skip)))
            page = await self.get_page(model, path, {**base, "$top": top, "$skip": offset})
            identity = [getattr(item, "id", None) for item in page.value]
            if previous is not None and identity == previous and None not in identity:
                log.warning("%s answered the same page for $skip=%d: the API ignores $skip; stopping", path, offset)
                return
            previous = identity
            offset += len(page.value)
            more = bool(page.next_link and page.value and (page.count is None or offset < page.count))
            yield page, more
            if not more or (limit is not None and offset - skip >= limit):
                return

    async def paginate(
        self,
        model: type[M],
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        page_size: int = MAX_PAGE_SIZE,
        limit: int | None = None,
        skip: int = 0,
    ) -> AsyncIterator[M]:
        """Yield every item of a v6 list, page by page (:meth:`pages`); ``limit`` stops early."""
        yielded = 0
        async with contextlib.aclosing(
            self.pages(model, path, params, page_size=page_size, limit=limit, skip=skip)
        ) as pages:
            async for page, _ in pages:
                for item in page.value:
                    yield item
                    yielded += 1
                    if limit is not None and yielded >= limit:
                        return

    async def collect(
        self, model: type[M], path: str, params: Mapping[str, Any] | None = None, *, limit: int | None = None
    ) -> list[M]:
        return [item async for item in self.paginate(model, path, params, limit=limit)]


# ---------------------------------------------------------------------- helpers


def parse_model(model: type[M], response: httpx.Response) -> M:
    """Parse a response body into ``model``; a body that does not fit is an API error, not a crash."""
    try:  # the validator itself: model_validate_json only checks its keyword arguments before calling it
        return model.__pydantic_validator__.validate_json(response.content)  # type: ignore[no-any-return]
    except ValidationError as exc:
        first: dict[str, Any] = dict(exc.errors()[0]) if exc.errors() else {}
        method, path = response.request.method, response.request.url.path
        if first.get("type") == "json_invalid":
            size = len(response.content)
            kind = response.headers.get("Content-Type", "no Content-Type").split(";")[0].strip()
            api_message = f"the body is not JSON ({size} bytes, {kind})"
            sentence = (
                f"k6 Cloud answered {method} {path} with HTTP {response.status_code} and a body that is not JSON "
                f"({size} bytes, {kind}): a proxy or an outage page may be in the way. Try again in a moment."
            )
        else:
            where = ".".join(str(p) for p in first.get("loc", ()))
            api_message = f"unexpected response shape at '{where}': {first.get('msg', 'invalid')}"
            sentence = (
                f"k6 Cloud answered {method} {path} with a body k6bot "
                f"does not understand ({where or 'body'}: {first.get('msg', 'invalid')})."
            )
        error = ApiError(
            response.status_code,
            code="unexpected_response",
            api_message=api_message,
            method=method,
            path=path,
            sentence=sentence,
        )
        # a 2xx means k6 Cloud did what was asked: only its answer is unreadable (a write must be reconciled)
        error.possibly_processed = response.is_success
        raise error from None


def api_error_from_response(response: httpx.Response, *, method: str, path: str, attempts: int = 1) -> ApiError:
    """Build the typed error for a non-2xx response from the API's ``{"error": {...}}`` body."""
    code = api_message = target = None
    details: list[Any] | None = None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        err = body["error"]
        code = _str_or_none(err.get("code"))
        api_message = _str_or_none(err.get("message"))
        target = _str_or_none(err.get("target"))
        details = err.get("details") if isinstance(err.get("details"), list) else None
    elif isinstance(body, dict) and ("detail" in body or "message" in body):
        api_message = _str_or_none(body.get("detail") or body.get("message"))
    elif response.text and len(response.text) < 300 and "<" not in response.text:
        api_message = response.text.strip()
    cls = error_class_for(response.status_code)
    return cls(
        response.status_code,
        code=code,
        api_message=api_message,
        target=target,
        details=details,
        method=method,
        path=path,
        retry_after=parse_retry_after(response.headers.get("Retry-After")),
        attempts=attempts,
    )


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _clean_params(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Drop unset query parameters and render values the way the API expects them."""
    if not params:
        return None
    clean: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            clean[key] = "true" if value else "false"
        elif isinstance(value, datetime):
            clean[key] = value.astimezone(UTC).isoformat().replace("+00:00", "Z")
        elif isinstance(value, list | tuple):
            # `ids[]` style parameters repeat; others (e.g. project_id_in) are comma-separated.
            clean[key] = [str(v) for v in value] if key.endswith("[]") else ",".join(str(v) for v in value)
        else:
            clean[key] = value
    return clean


def _transport_sentence(exc: httpx.TransportError, api_url: str) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return f"k6 Cloud at {api_url} did not answer in time. Try again, or raise K6_CLOUD_TIMEOUT."
    return f"Could not reach k6 Cloud at {api_url} ({type(exc).__name__}). Check the network or K6_CLOUD_API_URL."
