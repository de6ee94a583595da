"""Fault injection: status codes, Retry-After, latency, dropped connections, faults after processing."""

from __future__ import annotations

import time

import httpx
import pytest

from tools.simulator import Fault, Simulator

from .conftest import V6, error_of


def test_status_fault_fires_before_processing(sim: Simulator, client: httpx.Client) -> None:
    runs_before = len(sim.find_runs())
    sim.faults.add(Fault(method="POST", path=r"/cloud/v6/load_tests/\d+/start", status=500))
    error = error_of(client.post(f"{V6}/load_tests/502/start"), 500)
    assert error["code"] == "internal_error"
    assert len(sim.find_runs()) == runs_before  # no side effect
    assert client.post(f"{V6}/load_tests/502/start").status_code == 200  # times=1: used up
    assert [r.status for r in sim.requests[-2:]] == [500, 200]


def test_fault_matches_method_and_path(sim: Simulator, client: httpx.Client) -> None:
    sim.faults.add(Fault(method="DELETE", path=r"/cloud/v6/projects/\d+", status=503, times=None))
    assert client.get(f"{V6}/projects/77").status_code == 200
    assert client.delete(f"{V6}/projects/79").status_code == 503
    assert client.delete(f"{V6}/projects/79").status_code == 503
    sim.faults.clear()
    assert client.delete(f"{V6}/projects/79").status_code == 409


def test_429_with_retry_after(sim: Simulator, client: httpx.Client) -> None:
    sim.faults.add(Fault(status=429, retry_after=2, times=2))
    for _ in range(2):
        response = client.get(f"{V6}/projects")
        assert response.headers["retry-after"] == "2"
        assert error_of(response, 429)["code"] == "rate_limited"
    assert client.get(f"{V6}/projects").status_code == 200


def test_custom_fault_body(sim: Simulator, client: httpx.Client) -> None:
    body = {"error": {"code": "maintenance", "message": "Back soon", "target": None, "details": None}}
    sim.faults.add(Fault(status=503, body=body))
    assert client.get(f"{V6}/projects").json() == body


def test_latency(sim: Simulator, client: httpx.Client) -> None:
    sim.faults.add(Fault(kind="latency", delay=0.3))
    started = time.perf_counter()
    response = client.get(f"{V6}/projects")
    assert response.status_code == 200 and time.perf_counter() - started >= 0.3
    with pytest.raises(httpx.ReadTimeout):
        sim.faults.add(Fault(kind="latency", delay=0.5))
        client.get(f"{V6}/projects", timeout=0.1)


def test_drop_is_a_transport_error(sim: Simulator, client: httpx.Client) -> None:
    runs_before = len(sim.find_runs())
    sim.faults.add(Fault(kind="drop", path=r".*/start"))
    with pytest.raises(httpx.RemoteProtocolError):
        client.post(f"{V6}/load_tests/502/start")
    assert len(sim.find_runs()) == runs_before
    assert sim.requests[-1].status == 0 and sim.requests[-1].path.endswith("/start")
    assert client.post(f"{V6}/load_tests/502/start").status_code == 200


def test_after_processing_the_side_effect_happens_but_the_response_is_lost(
    sim: Simulator, client: httpx.Client
) -> None:
    runs_before = len(sim.find_runs())
    sim.faults.add(Fault(kind="drop", path=r".*/start", after=True))
    with pytest.raises(httpx.RemoteProtocolError):
        client.post(f"{V6}/load_tests/502/start", headers={"K6-Idempotency-Key": "retry-me"})
    assert len(sim.find_runs()) == runs_before + 1
    retried = client.post(f"{V6}/load_tests/502/start", headers={"K6-Idempotency-Key": "retry-me"})
    assert retried.json()["id"] == sim.find_runs()[-1].id
    assert len(sim.find_runs()) == runs_before + 1


def test_malformed_answers_200_with_a_body_that_is_not_json(sim: Simulator, client: httpx.Client) -> None:
    sim.faults.add(Fault(method="GET", path=r".*/test_runs/1234", kind="malformed"))
    response = client.get(f"{V6}/test_runs/1234")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    with pytest.raises(ValueError):
        response.json()
    assert sim.requests[-1].status == 200
    assert client.get(f"{V6}/test_runs/1234").json()["id"] == 1234  # times=1: used up


def test_malformed_after_processing_keeps_the_side_effect(sim: Simulator, client: httpx.Client) -> None:
    runs_before = len(sim.find_runs())
    sim.faults.add(Fault(method="POST", path=r".*/start", kind="malformed", after=True))
    response = client.post(f"{V6}/load_tests/502/start")
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()
    assert len(sim.find_runs()) == runs_before + 1


def test_after_processing_status_fault(sim: Simulator, client: httpx.Client) -> None:
    sim.faults.add(Fault(method="POST", path=r".*/abort", status=502, after=True))
    error_of(client.post(f"{V6}/test_runs/1234/abort"), 502)
    assert sim.run(1234)["status"] == "aborted"
    assert client.post(f"{V6}/test_runs/1234/abort").status_code == 409


def test_after_processing_latency_keeps_the_real_response(sim: Simulator, client: httpx.Client) -> None:
    sim.faults.add(Fault(kind="latency", delay=0.2, after=True))
    started = time.perf_counter()
    response = client.get(f"{V6}/test_runs/1234")
    assert response.status_code == 200 and response.json()["id"] == 1234
    assert time.perf_counter() - started >= 0.2


def test_faults_apply_before_authentication(sim: Simulator, anon: httpx.Client) -> None:
    sim.faults.add(Fault(status=500))
    assert anon.get(f"{V6}/projects").status_code == 500
    assert anon.get(f"{V6}/projects").status_code == 401


def test_faults_do_not_touch_control_endpoints(sim: Simulator, anon: httpx.Client) -> None:
    sim.faults.add(Fault(status=500, times=None))
    assert anon.get("/_sim/health").status_code == 200


def test_fault_validation() -> None:
    with pytest.raises(ValueError):
        Fault(kind="explode")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Fault(times=0)
