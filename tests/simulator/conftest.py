"""Fixtures: a simulator (demo data, frozen clock, enforced token and stack) served over real HTTP."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tools.simulator import Simulator, SimulatorServer

TOKEN = "sim-test-token"
STACK_ID = 4242
USER = "tester@example.com"
START = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)  # a Monday
V6 = "/cloud/v6"


def auth_headers(token: str = TOKEN, stack_id: int | str = STACK_ID) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "X-Stack-Id": str(stack_id)}


def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    """Assert an ErrorResponseApiModel body with ``status``; returns the inner error."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    assert set(error) == {"code", "message", "target", "details"}
    return error


def k6_archive(options: dict[str, object]) -> bytes:
    """A minimal k6 .tar archive (metadata.json with ``options`` and one script file)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        for name, data in (
            ("metadata.json", json.dumps({"options": options}).encode()),
            ("file/home/me/test.js", b"export default function () {}\n"),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture
def sim() -> Simulator:
    return Simulator(token=TOKEN, stack_id=STACK_ID, speed=0, demo=True, user_email=USER, start=START)


@pytest.fixture(scope="session")
def shared_server() -> Iterator[SimulatorServer]:
    """One server for the session; each test swaps its own simulator in (stopping uvicorn takes 0.1 s)."""
    server = SimulatorServer(Simulator(demo=False, speed=0))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def base_url(sim: Simulator, shared_server: SimulatorServer) -> str:
    shared_server.sim = sim
    return shared_server.url


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    # verify=False: plain HTTP only, and it skips loading CA certificates for every test's client.
    with httpx.Client(base_url=base_url, headers=auth_headers(), timeout=10, verify=False) as http:
        yield http


@pytest.fixture
def anon(base_url: str) -> Iterator[httpx.Client]:
    """A client without credentials."""
    with httpx.Client(base_url=base_url, timeout=10, verify=False) as http:
        yield http
