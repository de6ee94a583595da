"""Helpers for the v5 metrics API tests: build the OData-style paths the way a client does."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from tools.k6scripts import quote_argument

V5 = "/cloud/v5"


def call(function: str, **arguments: object) -> str:
    """``query_aggregate_k6(query='...',metric='...',step=5)``, URL-encoded as clients send it."""
    parts = []
    for name, value in arguments.items():
        if isinstance(value, str) and name in ("query", "metric"):
            text = quote_argument(value)
        elif isinstance(value, list):
            text = "[" + ",".join(str(item) for item in value) + "]"
        else:
            text = str(value)
        parts.append(f"{name}={text}")
    return f"{function}({quote(','.join(parts), safe='')})"


def aggregate(client: httpx.Client, run_id: int, query: str, metric: str, **extra: object) -> httpx.Response:
    return client.get(f"{V5}/test_runs/{run_id}/" + call("query_aggregate_k6", query=query, metric=metric, **extra))


def series_of(client: httpx.Client, run_id: int, query: str, metric: str, **extra: object) -> list[dict[str, Any]]:
    response = aggregate(client, run_id, query, metric, **extra)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "success" and body["data"]["resultType"] == "vector"
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def value(client: httpx.Client, run_id: int, query: str, metric: str, **extra: object) -> float | None:
    """The single value of an ungrouped query (None when the result is empty)."""
    result = series_of(client, run_id, query, metric, **extra)
    if not result:
        return None
    assert len(result) == 1, result
    return float(result[0]["values"][0][1])


def by_label(result: list[dict[str, Any]], label: str) -> dict[str, float]:
    return {series["metric"].get(label, ""): float(series["values"][0][1]) for series in result}


def range_of(client: httpx.Client, run_id: int, query: str, metric: str, **extra: object) -> list[dict[str, Any]]:
    response = client.get(f"{V5}/test_runs/{run_id}/" + call("query_range_k6", query=query, metric=metric, **extra))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "success" and body["data"]["resultType"] == "matrix"
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def multi(client: httpx.Client, load_test_id: int, query: str, metric: str, **extra: object) -> httpx.Response:
    path = call("query_aggregate_k6", query=query, metric=metric, **extra)
    return client.get(f"{V5}/load_tests/{load_test_id}/{path}")
