"""Error bodies: every failure is JSON with the ErrorResponseApiModel shape, even a crashing handler."""

from __future__ import annotations

import httpx
import pytest

from tools.simulator import Simulator

from .conftest import V6, error_of


def test_handler_exception_is_a_json_500(sim: Simulator, client: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*_: object, **__: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(sim, "find_projects", explode)
    error = error_of(client.get(f"{V6}/projects"), 500)
    assert error["code"] == "internal_error" and "boom" not in error["message"]
    assert sim.requests[-1].status == 500
    assert client.get(f"{V6}/projects/77").status_code == 200  # the server keeps serving


def test_invalid_json_body_is_400(client: httpx.Client) -> None:
    error = error_of(client.post(f"{V6}/projects", content=b"{", headers={"Content-Type": "application/json"}), 400)
    assert error["code"] == "validation_error"
    error_of(client.post(f"{V6}/projects", json=["not", "an", "object"]), 400)
    error_of(client.post(f"{V6}/projects"), 400)


def test_not_found_bodies(client: httpx.Client) -> None:
    for path in ("/test_runs/999999", "/load_tests/999999", "/projects/999999", "/schedules/999999"):
        assert error_of(client.get(V6 + path), 404)["code"] == "not_found"
