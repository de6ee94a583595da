"""A walk over the whole registry: every operation is fully declared, bounded, classified and simulated."""

from __future__ import annotations

import re
from typing import Any, get_args

import httpx
import pytest
from pydantic import BaseModel

from tests.conftest import TEST_STACK, TEST_TOKEN
from tests.spec import LEGACY_ENDPOINTS, V6_ENDPOINTS
from tools.registry import Operation, Safety, get_registry

REGISTRY = get_registry()
OPERATIONS = list(REGISTRY)

FIXED_NAMES = {
    "list_load_tests",
    "get_load_test",
    "find_load_tests",
    "create_load_test",
    "update_load_test",
    "delete_load_test",
    "move_load_test",
    "get_load_test_script",
    "upload_load_test_script",
    "start_load_test",
    "validate_options",
    "list_test_runs",
    "get_test_run",
    "update_test_run",
    "delete_test_run",
    "abort_test_run",
    "get_test_run_distribution",
    "save_test_run",
    "unsave_test_run",
    "get_test_run_script",
    "wait_for_test_run",
}


def test_every_v6_and_legacy_endpoint_has_an_operation() -> None:
    declared = {(e.method, e.path) for op in OPERATIONS for e in op.endpoints}
    assert declared >= V6_ENDPOINTS, sorted(V6_ENDPOINTS - declared)
    assert declared >= LEGACY_ENDPOINTS, sorted(LEGACY_ENDPOINTS - declared)
    assert {op.name for op in OPERATIONS if op.group == "legacy"} == {
        "legacy_start_load_test",
        "legacy_get_test_run",
        "legacy_list_test_runs",
        "legacy_stop_test_run",
    }


def test_the_fixed_names_exist() -> None:
    assert set(REGISTRY.names()) >= FIXED_NAMES


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
def test_operation_is_fully_declared(op: Operation) -> None:
    assert re.fullmatch(r"[a-z][a-z0-9_]+", op.name)
    assert op.title and op.title[0].isupper()
    assert len(op.summary) >= 20, "a one-line description people and models can act on"
    assert len(op.description) <= 1000
    assert isinstance(op.safety, Safety)
    assert issubclass(op.input, BaseModel) and issubclass(op.output, BaseModel)
    assert op.endpoints, "which API endpoints it uses"
    assert op.input.model_config.get("extra") == "forbid"
    if op.needs_confirmation:
        assert op.confirm is not None, "run / stop / admin operations say what the person confirms"
    for field_name, info in op.input.model_fields.items():
        assert info.description, f"{op.name}.{field_name} has no description"


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
def test_inputs_are_bounded(op: Operation) -> None:
    schema = op.input.model_json_schema()
    for name, prop in schema.get("properties", {}).items():
        variants = prop.get("anyOf", [prop])
        if name.endswith("_id") or name in ("load_test", "project", "to_project"):
            for variant in variants:
                if variant.get("type") == "integer":
                    assert variant.get("minimum") == 1 or variant.get("exclusiveMinimum") == 0, (
                        f"{op.name}.{name} ids ≥ 1"
                    )
        if name == "limit":
            assert prop.get("minimum") == 1 and 1 <= prop.get("maximum", 10**9) <= 1000, (
                f"{op.name}.limit within 1–1000"
            )
        for variant in variants:
            if (
                variant.get("type") == "string"
                and "enum" not in variant
                and variant.get("format") not in ("date-time",)
            ):
                assert "maxLength" in variant or "pattern" in variant, f"{op.name}.{name} strings are bounded"


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
def test_hints_agree_with_the_safety_class(op: Operation) -> None:
    hints = op.hints
    if op.safety is Safety.READ:
        assert hints.read_only and not hints.destructive and hints.idempotent
    else:
        assert not hints.read_only
    if op.safety is Safety.STOP:
        assert hints.destructive
    if op.safety is Safety.RUN:
        assert hints.open_world and not hints.idempotent
    if op.name.startswith("delete_"):
        assert hints.destructive and op.safety is Safety.ADMIN


def test_toolsets() -> None:
    core = {op.name for op in REGISTRY.select()}
    assert {
        "start_load_test",
        "abort_test_run",
        "wait_for_test_run",
        "list_test_runs",
        "find_load_tests",
    } <= core
    assert len(core) <= 10
    assert len(REGISTRY.select(["all"])) == len(REGISTRY)
    assert all(op.safety is Safety.READ for op in REGISTRY.select(["all"], read_only=True))
    assert {op.group for op in REGISTRY.select(["legacy"])} == {"legacy"}


def _concrete(path: str) -> str:
    return path.replace("{id}", "1").replace("{project_id}", "77").replace("{key}", "team")


@pytest.mark.parametrize(
    "endpoint",
    sorted({(e.method, e.path, e.api) for op in OPERATIONS for e in op.endpoints}),
    ids=lambda e: f"{e[0]} {e[1]}",
)
def test_every_endpoint_has_a_simulator_route(sim_url: str, endpoint: tuple[str, str, str]) -> None:
    method, path, api = endpoint
    url = sim_url + _concrete(path)
    if path.endswith(("query_aggregate_k6", "query_range_k6")):
        url += "(query='rate',metric='http_reqs')"
    headers = {
        "Authorization": f"{'Token' if api == 'v2' else 'Bearer'} {TEST_TOKEN}",
        "X-Stack-Id": str(TEST_STACK),
    }
    if api == "auth":
        headers["X-Stack-Url"] = "https://example.grafana.net"
    response = httpx.request(method, url, headers=headers, timeout=10)
    body: Any = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
    code = body.get("error", {}).get("code") if isinstance(body, dict) else None
    assert response.status_code != 405, f"{method} {path} is not routed"
    assert code not in ("unknown_endpoint", "method_not_allowed"), f"{method} {path} is not routed: {body}"


def test_reference_kinds_are_annotated() -> None:
    for op in OPERATIONS:
        for name in op.input.model_fields:
            if name in ("load_test", "project", "to_project"):
                assert name in op.ref_fields(), f"{op.name}.{name} should resolve names"
    assert get_args(REGISTRY["start_load_test"].input.model_fields["load_test"].annotation)
