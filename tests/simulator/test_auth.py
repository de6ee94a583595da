"""Authentication: tokens, X-Stack-Id, X-Stack-Url and /cloud/v6/auth."""

from __future__ import annotations

import httpx

from tools.simulator import Simulator, SimulatorServer

from .conftest import STACK_ID, TOKEN, V6, auth_headers, error_of


def test_missing_token_is_401(anon: httpx.Client) -> None:
    error = error_of(anon.get(f"{V6}/projects", headers={"X-Stack-Id": str(STACK_ID)}), 401)
    assert error["code"] == "unauthorized"


def test_wrong_token_is_401(anon: httpx.Client) -> None:
    error = error_of(anon.get(f"{V6}/projects", headers=auth_headers(token="nope")), 401)
    assert error["code"] == "unauthorized"
    assert "token" in error["message"].lower()


def test_wrong_scheme_is_401_on_v6(anon: httpx.Client) -> None:
    headers = {"Authorization": f"Token {TOKEN}", "X-Stack-Id": str(STACK_ID)}
    error_of(anon.get(f"{V6}/projects", headers=headers), 401)


def test_other_stack_is_403_naming_the_stack(anon: httpx.Client) -> None:
    error = error_of(anon.get(f"{V6}/projects", headers=auth_headers(stack_id=999)), 403)
    assert error["code"] == "forbidden"
    assert "999" in error["message"]


def test_missing_or_bad_stack_id_is_400(anon: httpx.Client) -> None:
    missing = error_of(anon.get(f"{V6}/projects", headers={"Authorization": f"Bearer {TOKEN}"}), 400)
    assert missing["target"] == "X-Stack-Id"
    bad = error_of(anon.get(f"{V6}/projects", headers=auth_headers(stack_id="abc")), 400)
    assert bad["target"] == "X-Stack-Id"


def test_any_token_and_stack_without_enforcement(shared_server: SimulatorServer) -> None:
    shared_server.sim = Simulator(speed=0)
    with httpx.Client(base_url=shared_server.url) as http:
        response = http.get(f"{V6}/projects", headers={"Authorization": "Bearer whatever", "X-Stack-Id": "7"})
        assert response.status_code == 200
        error_of(http.get(f"{V6}/projects", headers={"Authorization": "Bearer", "X-Stack-Id": "7"}), 401)
        auth = http.get(f"{V6}/auth", headers={"Authorization": "Bearer x", "X-Stack-Url": "https://acme.grafana.net"})
        assert auth.json() == {"stack_id": 1000, "default_project_id": 77}


def test_auth_endpoint_returns_stack_and_default_project(sim: Simulator, anon: httpx.Client) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", "X-Stack-Url": sim.stack_url}
    response = anon.get(f"{V6}/auth", headers=headers)
    assert response.status_code == 200
    assert response.json() == {"stack_id": STACK_ID, "default_project_id": 77}


def test_auth_endpoint_needs_stack_url_and_valid_token(anon: httpx.Client) -> None:
    error = error_of(anon.get(f"{V6}/auth", headers={"Authorization": f"Bearer {TOKEN}"}), 400)
    assert error["target"] == "X-Stack-Url"
    error_of(anon.get(f"{V6}/auth", headers={"Authorization": "Bearer bad", "X-Stack-Url": "https://a.b"}), 401)


def test_auth_creates_a_default_project_when_the_stack_has_none(sim: Simulator, anon: httpx.Client) -> None:
    sim.reset(demo=False)
    headers = {"Authorization": f"Bearer {TOKEN}", "X-Stack-Url": sim.stack_url}
    project_id = anon.get(f"{V6}/auth", headers=headers).json()["default_project_id"]
    assert sim.get_project(project_id)["is_default"] is True
    assert anon.get(f"{V6}/auth", headers=headers).json()["default_project_id"] == project_id


def test_legacy_accepts_only_the_token_scheme(anon: httpx.Client) -> None:
    for scheme in ("Token", "token", "TOKEN"):
        response = anon.get("/loadtests/v2/runs/1234", headers={"Authorization": f"{scheme} {TOKEN}"})
        assert response.status_code == 200, scheme
    error_of(anon.get("/loadtests/v2/runs/1234"), 401)
    for path in ("/loadtests/v2/runs/1234", "/loadtests/v2/runs?test_id=501"):
        bearer = error_of(anon.get(path, headers={"Authorization": f"Bearer {TOKEN}"}), 401)
        assert bearer["code"] == "unauthorized"
        assert "legacy API uses the Token scheme" in bearer["message"], bearer["message"]
        assert "Authorization: Token <token>" in bearer["message"]
    started = anon.post("/loadtests/v2/tests/502/start-testrun", headers={"Authorization": f"Bearer {TOKEN}"})
    assert error_of(started, 401)["code"] == "unauthorized"
    assert anon.post("/loadtests/v2/tests/502/start-testrun", headers={"Authorization": f"Token {TOKEN}"}).is_success
    error_of(anon.get("/loadtests/v2/runs/1234", headers={"Authorization": f"Token {TOKEN}x"}), 401)


def test_v5_needs_bearer_and_stack(anon: httpx.Client) -> None:
    path = "/cloud/v5/test_runs/1234/query_aggregate_k6(query='rate',metric='http_reqs')"
    error_of(anon.get(path), 401)
    assert anon.get(path, headers=auth_headers()).status_code == 200


def test_authorization_is_redacted_in_the_request_log(sim: Simulator, client: httpx.Client) -> None:
    client.get(f"{V6}/projects")
    recorded = sim.requests[-1]
    assert recorded.headers["authorization"] == "Bearer <redacted>"
    assert recorded.headers["x-stack-id"] == str(STACK_ID)


def test_auth_endpoint_rejects_another_stack_url_when_the_stack_is_enforced(sim: Simulator, anon: httpx.Client) -> None:
    assert sim.stack_url == "https://k6bot-demo.grafana.net"
    for other in ("https://acme.grafana.net", "http://k6bot-demo.grafana.net", "https://k6bot-demo.grafana.net:8443"):
        headers = {"Authorization": f"Bearer {TOKEN}", "X-Stack-Url": other}
        error = error_of(anon.get(f"{V6}/auth", headers=headers), 403)
        assert error["code"] == "forbidden" and error["target"] == "X-Stack-Url"
        assert other in error["message"]


def test_auth_endpoint_stack_url_match_ignores_case_trailing_slash_and_default_port(
    sim: Simulator, anon: httpx.Client
) -> None:
    for same in (
        "https://k6bot-demo.grafana.net",
        "https://k6bot-demo.grafana.net/",
        "HTTPS://K6Bot-Demo.Grafana.NET/",
        "https://k6bot-demo.grafana.net:443",
    ):
        headers = {"Authorization": f"Bearer {TOKEN}", "X-Stack-Url": same}
        response = anon.get(f"{V6}/auth", headers=headers)
        assert response.status_code == 200, (same, response.text)
        assert response.json()["stack_id"] == STACK_ID


def test_auth_endpoint_uses_the_configured_stack_url(shared_server: SimulatorServer) -> None:
    shared_server.sim = Simulator(token=TOKEN, stack_id=STACK_ID, speed=0, stack_url="https://acme.grafana.net/")
    with httpx.Client(base_url=shared_server.url) as http:
        ok = {"Authorization": f"Bearer {TOKEN}", "X-Stack-Url": "https://acme.grafana.net"}
        assert http.get(f"{V6}/auth", headers=ok).json()["stack_id"] == STACK_ID
        demo = {"Authorization": f"Bearer {TOKEN}", "X-Stack-Url": "https://k6bot-demo.grafana.net"}
        error_of(http.get(f"{V6}/auth", headers=demo), 403)
        # token problems come first: a bad token with a foreign stack URL is still 401
        bad = {"Authorization": "Bearer nope", "X-Stack-Url": "https://elsewhere.grafana.net"}
        error_of(http.get(f"{V6}/auth", headers=bad), 401)


def test_auth_endpoint_accepts_any_stack_url_without_a_configured_stack_id(shared_server: SimulatorServer) -> None:
    shared_server.sim = Simulator(token=TOKEN, speed=0)
    with httpx.Client(base_url=shared_server.url) as http:
        for url in ("https://acme.grafana.net", "https://k6bot-demo.grafana.net", "http://localhost:3000/"):
            headers = {"Authorization": f"Bearer {TOKEN}", "X-Stack-Url": url}
            assert http.get(f"{V6}/auth", headers=headers).status_code == 200, url
        error_of(http.get(f"{V6}/auth", headers={"Authorization": f"Bearer {TOKEN}", "X-Stack-Url": "acme"}), 400)
