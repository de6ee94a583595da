"""The v5 query language parser: arguments, selectors, queries (and k6scripts' selectors round-trip)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tools.k6scripts import V5Query, v5_selector
from tools.simulator.v5query import (
    Matcher,
    Query,
    QueryError,
    Selector,
    parse_arguments,
    parse_query,
    parse_selector,
)

ALLOWED = ("query", "metric", "step", "start", "test_run_ids")


def test_arguments() -> None:
    assert parse_arguments("", ALLOWED) == {}
    parsed = parse_arguments(
        "query='increase by (name,status)',metric='http_reqs{status!=\"0\"}',step=5,"
        "start=2022-11-23T10:03:00Z,test_run_ids=[1, 2,3]",
        ALLOWED,
    )
    assert parsed == {
        "query": "increase by (name,status)",
        "metric": 'http_reqs{status!="0"}',
        "step": "5",
        "start": "2022-11-23T10:03:00Z",
        "test_run_ids": [1, 2, 3],
    }
    assert parse_arguments("metric='name=\"o''brien\"'", ALLOWED) == {"metric": 'name="o\'brien"'}


@pytest.mark.parametrize(
    "text",
    ["query", "query=", "query='x", "query='a'b'", "colour='red'", "query='a',query='b'", "test_run_ids=[a]", "=1"],
)
def test_bad_arguments(text: str) -> None:
    with pytest.raises(QueryError):
        parse_arguments(text, ALLOWED)


def test_selectors() -> None:
    assert parse_selector("http_reqs") == Selector("http_reqs")
    selector = parse_selector('http_req_duration{status="200", name!="x",method=~"GET|POST",url!~"https://.*",}')
    assert selector.metric == "http_req_duration"
    assert selector.matchers == (
        Matcher("status", "=", "200"),
        Matcher("name", "!=", "x"),
        Matcher("method", "=~", "GET|POST"),
        Matcher("url", "!~", "https://.*"),
    )
    assert selector.matches({"status": "200", "name": "y", "method": "GET", "url": "ftp://a"})
    assert not selector.matches({"status": "200", "name": "y", "method": "GETX", "url": "ftp://a"})
    assert parse_selector('{__name__="vus",load_zone="a"}') == Selector("vus", (Matcher("load_zone", "=", "a"),))
    assert parse_selector(r'http_reqs{status=~"2\d\d"}').matchers[0].value == r"2\d\d"
    assert Matcher("missing", "=", "").matches({})  # an absent label is the empty string


@pytest.mark.parametrize("text", ["", "{}", 'x{a="1"', "x{a=1}", 'x{a="1" b="2"}', 'x{a=~"("}', "x y", 'x{a~"1"}'])
def test_bad_selectors(text: str) -> None:
    with pytest.raises(QueryError):
        parse_selector(text)


@pytest.mark.parametrize(
    ("text", "query"),
    [
        ("histogram_quantile(0.95)", Query("histogram_quantile", 0.95)),
        ("ratio by (check)", Query("ratio", None, ("check",))),
        ("increase by (name, status)", Query("increase", None, ("name", "status"))),
        ("max_rate(10)", Query("max_rate", 10.0)),
        ("max", Query("max")),
        ("max by (instance_id)", Query("max", None, ("instance_id",))),
        ("sum(max by (instance_id))", Query("max", None, ("instance_id",), "sum")),
        (
            "sum by (load_zone) (last by (load_zone, instance_id))",
            Query("last", None, ("load_zone", "instance_id"), "sum", ("load_zone",)),
        ),
        ("avg(histogram_avg by (name)) by (name)", Query("histogram_avg", None, ("name",), "avg", ("name",))),
        ("count ( increase by (name) )", Query("increase", None, ("name",), "count")),
    ],
)
def test_queries(text: str, query: Query) -> None:
    assert parse_query(text) == query


@pytest.mark.parametrize(
    "text",
    [
        "",
        "bogus",
        "histogram_quantile",
        "histogram_quantile(2)",
        "ratio(1)",
        "max_rate",
        "ratio by check",
        "ratio by (check",
        "sum(max by (instance_id)",
        "sum(bogus)",
        "sum by (a) (max) by (b)",
        "ratio extra",
    ],
)
def test_bad_queries(text: str) -> None:
    with pytest.raises(QueryError):
        parse_query(text)


@given(st.dictionaries(st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True), st.text(max_size=12), max_size=4))
def test_k6scripts_selectors_parse_back(tags: dict[str, str]) -> None:
    selector = parse_selector("http_req_duration" + v5_selector(tags))
    assert {m.label: m.value for m in selector.matchers} == tags
    assert all(m.operator == "=" for m in selector.matchers)
    assert parse_arguments(V5Query("ratio", "checks" + v5_selector(tags)).arguments(), ALLOWED)["metric"] == (
        "checks" + v5_selector(tags)
    )
