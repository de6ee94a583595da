"""The client over real HTTP against the simulator: auth, retries, idempotency, paging, typed errors, secrets."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_STACK, TEST_TOKEN, make_settings
from tests.fakes.tls import self_signed_certificate
from tools.client import K6CloudClient
from tools.errors import (
    ApiUnavailable,
    BadRequest,
    ConfigurationError,
    Forbidden,
    NotDone,
    NotFound,
    RateLimited,
    ServerError,
    Unauthorized,
)
from tools.models import AuthenticationResponse, LoadTest, TestRun
from tools.registry import Toolbox
from tools.simulator import Fault, Simulator


class SleepRecorder:
    """Records the delays the client waits between attempts (and really waits them)."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        import asyncio

        self.delays.append(seconds)
        await asyncio.sleep(seconds)


async def test_v6_requests_carry_bearer_token_and_stack_id(client: K6CloudClient, sim: Simulator) -> None:
    await client.get_model(LoadTest, "/cloud/v6/load_tests/501")
    request = sim.requests[-1]
    assert request.headers["x-stack-id"] == str(TEST_STACK)
    assert request.headers["authorization"].startswith("Bearer")
    assert TEST_TOKEN not in repr(request.headers)


async def test_legacy_requests_use_the_token_scheme(toolbox: Toolbox, sim: Simulator) -> None:
    await toolbox.execute("legacy_get_test_run", {"test_run_id": 1234})
    request = sim.requests[-1]
    assert request.path == "/loadtests/v2/runs/1234"
    assert request.headers["authorization"].startswith("Token")


async def test_each_kind_of_request_sends_its_own_headers_once_v6_ones_are_the_defaults(
    client: K6CloudClient, sim: Simulator
) -> None:
    """The usual v6 request's headers become the HTTP client's defaults; no other request inherits them."""
    await client.get_model(LoadTest, "/cloud/v6/load_tests/501")
    await client.request("GET", "/loadtests/v2/runs/1234", api="v2", idempotent=True)
    await client.authenticate("https://k6bot-demo.grafana.net")
    await client.request("GET", "/cloud/v6/load_tests/501/script", accept=None, idempotent=True)
    await client.request(
        "GET", "/cloud/v6/load_tests/501", headers={"Accept": "application/vnd.x+json"}, idempotent=True
    )
    await client.get_model(LoadTest, "/cloud/v6/load_tests/501")
    sent = [(r.headers.get("authorization", "").split()[0], r.headers.get("x-stack-id"), r.headers.get("accept"))
            for r in sim.requests]  # fmt: skip
    stack = str(TEST_STACK)
    assert sent == [
        ("Bearer", stack, "application/json"),
        ("Token", None, "application/json"),
        ("Bearer", None, "application/json"),
        ("Bearer", stack, "*/*"),
        ("Bearer", stack, "application/vnd.x+json"),
        ("Bearer", stack, "application/json"),
    ]
    assert TEST_TOKEN not in repr(client) + repr(client._http.headers)


async def test_wrong_token_is_401_with_a_clear_sentence_and_no_secret(sim_url: str) -> None:
    async with K6CloudClient(make_settings(sim_url, token="wrong-token-value")) as client:
        with pytest.raises(Unauthorized) as caught:
            await client.get_model(LoadTest, "/cloud/v6/load_tests/501")
    error = caught.value
    assert error.status == 401 and error.code
    assert "K6_CLOUD_TOKEN" in str(error)
    assert "wrong-token-value" not in str(error) + repr(error)


async def test_another_stack_is_403(sim_url: str) -> None:
    async with K6CloudClient(make_settings(sim_url, stack_id=4242)) as client:
        with pytest.raises(Forbidden) as caught:
            await client.get_model(LoadTest, "/cloud/v6/load_tests/501")
    assert caught.value.status == 403


async def test_stack_url_is_turned_into_a_stack_id_once(sim_url: str, sim: Simulator) -> None:
    settings = make_settings(sim_url, stack_id=None, stack_url="https://k6bot-demo.grafana.net")
    async with K6CloudClient(settings) as client:
        await client.get_model(LoadTest, "/cloud/v6/load_tests/501")
        await client.get_model(LoadTest, "/cloud/v6/load_tests/502")
        assert await client.stack_id() == TEST_STACK
    assert sim.count("GET", "/cloud/v6/auth") == 1
    assert sim.requests[0].headers["x-stack-url"] == "https://k6bot-demo.grafana.net"


def test_missing_token_or_stack_is_a_configuration_error(sim_url: str) -> None:
    with pytest.raises(ConfigurationError, match="K6_CLOUD_TOKEN"):
        K6CloudClient(make_settings(sim_url, token=None))


async def test_missing_stack_id_and_url_is_explained(sim_url: str) -> None:
    async with K6CloudClient(make_settings(sim_url, stack_id=None)) as client:
        with pytest.raises(ConfigurationError, match="K6_CLOUD_STACK_ID"):
            await client.get_model(LoadTest, "/cloud/v6/load_tests/501")


async def test_errors_carry_the_api_details(client: K6CloudClient) -> None:
    with pytest.raises(BadRequest) as caught:
        await client.get_page(LoadTest, "/cloud/v6/load_tests", {"$top": 5000})
    error = caught.value
    assert error.status == 400 and error.target == "$top" and error.code and error.api_message
    with pytest.raises(NotFound) as missing:
        await client.get_model(TestRun, "/cloud/v6/test_runs/987654")
    assert missing.value.status == 404 and missing.value.code


# --------------------------------------------------------------------------- retries


async def test_a_5xx_is_retried_then_succeeds(sim_url: str, sim: Simulator) -> None:
    sim.faults.add(Fault(method="GET", path=r"/cloud/v6/load_tests/501", kind="status", status=503, times=2))
    sleeps = SleepRecorder()
    async with K6CloudClient(make_settings(sim_url), backoff_base=0.01, backoff_max=0.05, sleep=sleeps) as client:
        test = await client.get_model(LoadTest, "/cloud/v6/load_tests/501")
    assert test.id == 501
    assert sim.count("GET", "/cloud/v6/load_tests/501") == 3
    assert len(sleeps.delays) == 2 and sleeps.delays[1] >= sleeps.delays[0] / 2


async def test_429_honours_retry_after(sim_url: str, sim: Simulator) -> None:
    sim.faults.add(Fault(path=r"/cloud/v6/load_tests/501", kind="status", status=429, retry_after=0.3, times=1))
    sleeps = SleepRecorder()
    async with K6CloudClient(make_settings(sim_url), backoff_base=0.01, sleep=sleeps) as client:
        await client.get_model(LoadTest, "/cloud/v6/load_tests/501")
    assert sleeps.delays == [pytest.approx(0.3)]


async def test_retries_give_up_with_the_last_error(sim_url: str, sim: Simulator) -> None:
    sim.faults.add(Fault(path=r"/cloud/v6/load_tests/501", kind="status", status=500, times=None))
    async with K6CloudClient(make_settings(sim_url, max_retries=2), backoff_base=0.01, backoff_max=0.02) as client:
        with pytest.raises(ServerError) as caught:
            await client.get_model(LoadTest, "/cloud/v6/load_tests/501")
    assert caught.value.attempts == 3
    assert sim.count("GET", "/cloud/v6/load_tests/501") == 3


async def test_a_long_retry_after_is_not_waited_out(sim_url: str, sim: Simulator) -> None:
    sim.faults.add(Fault(path=r"/cloud/v6/load_tests/501", kind="status", status=429, retry_after=3600, times=1))
    async with K6CloudClient(make_settings(sim_url), max_retry_after=5) as client:
        with pytest.raises(RateLimited) as caught:
            await client.get_model(LoadTest, "/cloud/v6/load_tests/501")
    assert caught.value.retry_after == pytest.approx(3600, abs=1)
    assert "3600" in str(caught.value)


async def test_dropped_connections_are_retried_for_idempotent_requests(sim_url: str, sim: Simulator) -> None:
    sim.faults.add(Fault(method="GET", path=r"/cloud/v6/load_tests/501", kind="drop", times=1))
    async with K6CloudClient(make_settings(sim_url), backoff_base=0.01) as client:
        assert (await client.get_model(LoadTest, "/cloud/v6/load_tests/501")).id == 501
    assert sim.count("GET", "/cloud/v6/load_tests/501") == 2


async def test_non_idempotent_requests_are_not_retried(toolbox: Toolbox, sim: Simulator) -> None:
    sim.faults.add(Fault(method="POST", path=r"/cloud/v6/projects/\d+/load_tests", kind="status", status=500, times=1))
    with pytest.raises(NotDone):  # not retried; then reconciled: k6 Cloud shows no such test, so "not created"
        await toolbox.execute(
            "create_load_test",
            {"project": 77, "name": "Brand New Test", "script": "export default function() {}"},
            confirmed=True,
        )
    assert sim.count("POST", r"/cloud/v6/projects/\d+/load_tests") == 1


async def test_a_retried_start_keeps_its_idempotency_key_and_yields_one_run(toolbox: Toolbox, sim: Simulator) -> None:
    before = {r["id"] for r in _runs_of(sim, 502)}
    # The first start goes through but its answer is lost (500 after processing), the second is dropped: the
    # third attempt must carry the same key and get the same run back.
    sim.faults.add(
        Fault(
            method="POST",
            path=r"/cloud/v6/load_tests/502/start",
            kind="status",
            status=500,
            after=True,
            times=1,
        )
    )
    sim.faults.add(Fault(method="POST", path=r"/cloud/v6/load_tests/502/start", kind="drop", after=True, times=1))
    started = await toolbox.execute("start_load_test", {"load_test": 502}, confirmed=True)
    starts = [r for r in sim.requests if r.method == "POST" and r.path == "/cloud/v6/load_tests/502/start"]
    assert len(starts) == 3
    keys = {r.headers["k6-idempotency-key"] for r in starts}
    assert len(keys) == 1 and 1 <= len(keys.pop()) <= 36
    new_runs = {r["id"] for r in _runs_of(sim, 502)} - before
    assert new_runs == {started.test_run.id}


async def test_a_start_with_a_callers_key_is_not_repeated(toolbox: Toolbox, sim: Simulator) -> None:
    first = await toolbox.execute("start_load_test", {"load_test": 502}, confirmed=True, idempotency_key="confirm-abc")
    second = await toolbox.execute("start_load_test", {"load_test": 502}, confirmed=True, idempotency_key="confirm-abc")
    assert first.test_run.id == second.test_run.id
    assert {r.headers["k6-idempotency-key"] for r in sim.requests if r.path.endswith("/start")} == {"confirm-abc"}


async def test_an_unreachable_api_is_a_clear_error(unused_tcp_port: int) -> None:
    with socket.socket() as probe:  # make sure nothing listens there
        assert probe.connect_ex(("127.0.0.1", unused_tcp_port)) != 0
    settings = make_settings(f"http://127.0.0.1:{unused_tcp_port}", max_retries=1)
    async with K6CloudClient(settings, backoff_base=0.01) as client:
        with pytest.raises(ApiUnavailable) as caught:
            await client.get_model(LoadTest, "/cloud/v6/load_tests/501")
    assert caught.value.attempts == 2
    assert "Could not reach k6 Cloud" in str(caught.value)


# --------------------------------------------------------------------------- paging


async def test_paging_walks_more_than_1000_items(client: K6CloudClient, sim: Simulator) -> None:
    sim.add_runs(503, 2500)
    sim.clear_requests()
    runs = await client.collect(TestRun, "/cloud/v6/load_tests/503/test_runs")
    assert len(runs) >= 2500 and len({r.id for r in runs}) == len(runs)
    pages = [r for r in sim.requests if r.path == "/cloud/v6/load_tests/503/test_runs"]
    assert len(pages) == 3
    assert [p.query.get("$skip") for p in pages] == ["0", "1000", "2000"]


async def test_paging_stops_at_the_limit(client: K6CloudClient, sim: Simulator) -> None:
    sim.add_runs(503, 50)
    runs = await client.collect(TestRun, "/cloud/v6/load_tests/503/test_runs", limit=7)
    assert len(runs) == 7


# --------------------------------------------------------------------------- secrets


async def test_the_token_never_reaches_logs_reprs_or_errors(
    sim_url: str, sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sim.faults.add(Fault(path=r"/cloud/v6/load_tests/501", kind="status", status=500, times=1))
    async with K6CloudClient(make_settings(sim_url), backoff_base=0.01) as client:
        await client.get_model(LoadTest, "/cloud/v6/load_tests/501")
        with pytest.raises(NotFound) as caught:
            await client.get_model(LoadTest, "/cloud/v6/load_tests/999999")
        texts = [
            repr(client),
            repr(client.settings),
            str(client.settings),
            str(caught.value),
            repr(caught.value),
            caplog.text,
        ]
    assert caplog.records, "expected the retry to be logged"
    for text in texts:
        assert TEST_TOKEN not in text


def _runs_of(sim: Simulator, test_id: int) -> list[dict]:
    return sim.list_runs(test_id)


@pytest.mark.parametrize("kind", ["drop", "status"])
async def test_a_start_whose_every_answer_is_lost_is_reconciled_to_the_one_run_it_made(
    toolbox: Toolbox, sim: Simulator, kind: str
) -> None:
    before = {r["id"] for r in _runs_of(sim, 502)}
    sim.faults.add(
        Fault(method="POST", path=r"/cloud/v6/load_tests/502/start", kind=kind, status=502, after=True, times=None)  # type: ignore[arg-type]
    )
    started = await toolbox.execute("start_load_test", {"load_test": 502}, confirmed=True)
    assert {r["id"] for r in _runs_of(sim, 502)} - before == {started.test_run.id}
    assert "answer was lost" in started.message


async def test_a_start_refused_before_processing_says_not_started_and_starts_nothing(
    toolbox: Toolbox, sim: Simulator
) -> None:
    before = {r["id"] for r in _runs_of(sim, 502)}
    sim.faults.add(Fault(method="POST", path=r"/cloud/v6/load_tests/502/start", kind="drop", times=None))
    with pytest.raises(ApiUnavailable) as raised:
        await toolbox.execute("start_load_test", {"load_test": 502}, confirmed=True)
    assert isinstance(raised.value, NotDone) and "was not started" in str(raised.value)
    assert {r["id"] for r in _runs_of(sim, 502)} == before


async def test_each_path_reaches_its_own_url_however_full_the_url_cache_is(
    client: K6CloudClient, sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The client keeps each path's absolute URL (httpx parsed it twice a request); a full cache starts over."""
    monkeypatch.setattr("tools.client._URL_CACHE_SIZE", 2)
    sim.clear_requests()
    for _ in range(2):
        for test_id in (501, 502, 503):
            test = await client.get_model(LoadTest, f"/cloud/v6/load_tests/{test_id}")
            assert test.id == test_id
    page = await client.get_page(TestRun, "/cloud/v6/load_tests/503/test_runs", {"$top": 2})
    assert len(page.value) == 2
    paths = [r.path for r in sim.requests]
    assert paths == [f"/cloud/v6/load_tests/{i}" for i in (501, 502, 503) * 2] + ["/cloud/v6/load_tests/503/test_runs"]
    assert sim.requests[-1].query["$top"] == "2"
    assert len(client._urls) <= 2


async def test_a_base_url_with_a_path_prefix_is_kept_for_every_request() -> None:
    """The URL of a path is merged with the base URL as httpx merges it, prefix and all, cached or not."""
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"stack_id": 1, "default_project_id": 2})

    settings = make_settings("https://k6.example/api/prefix")
    async with K6CloudClient(settings, transport=httpx.MockTransport(answer)) as client:
        for _ in range(2):
            await client.get_model(AuthenticationResponse, "/cloud/v6/auth")
            await client.get_model(AuthenticationResponse, "/cloud/v6/auth", params={"a b": "c/d"})
    assert (
        seen
        == [
            "https://k6.example/api/prefix/cloud/v6/auth",
            "https://k6.example/api/prefix/cloud/v6/auth?a+b=c%2Fd",
        ]
        * 2
    )


async def test_an_http_api_loads_no_ca_bundle_and_still_refuses_unverified_tls(tmp_path: Path) -> None:
    """An ``http://`` API (the demo's simulator) needs no CA bundle (certifi's costs ~1.8 MiB of a serving process),
    but the client must not become one that accepts any certificate: a TLS server it is sent to is refused."""
    import ssl
    import threading

    import httpx

    cert, key = self_signed_certificate(tmp_path)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    handshakes: list[str] = []

    def serve_one() -> None:
        conn, _ = listener.accept()
        try:
            with server_context.wrap_socket(conn, server_side=True):
                handshakes.append("completed")
        except (ssl.SSLError, OSError) as exc:
            handshakes.append(type(exc).__name__)

    thread = threading.Thread(target=serve_one, daemon=True)
    thread.start()
    try:
        async with K6CloudClient(make_settings("http://127.0.0.1:9")) as client:
            stats = client._http._transport._pool._ssl_context.cert_store_stats()  # type: ignore[attr-defined]
            assert stats["x509_ca"] == 0  # no CA bundle loaded
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await client._http.get(f"https://127.0.0.1:{port}/cloud/v6/auth")
        thread.join(10)
        assert handshakes and handshakes != ["completed"]
    finally:
        listener.close()
    async with K6CloudClient(make_settings("https://api.k6.io")) as client:  # a real API keeps certifi's
        assert client._http._transport._pool._ssl_context.cert_store_stats()["x509_ca"] > 0  # type: ignore[attr-defined]
