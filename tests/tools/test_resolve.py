"""Name resolution: id → exact name → fuzzy, never guessing between close candidates."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from tools.client import K6CloudClient
from tools.errors import AmbiguousLoadTest, NoMatchingLoadTest
from tools.models import LoadTest
from tools.resolve import LoadTestCatalog, choose, meaningful_words, parse_id
from tools.simulator import Simulator

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def load_test(id_: int, name: str, project: int = 77) -> LoadTest:
    return LoadTest(id=id_, name=name, project_id=project, created=NOW, updated=NOW)


TESTS = [
    load_test(501, "Orders API Soak Test"),
    load_test(502, "Orders API Smoke"),
    load_test(503, "Checkout Spike Test"),
    load_test(504, "Login & Auth Flow"),
    load_test(505, "Search Stress Test", 78),
    load_test(506, "Homepage Browser Test", 78),
]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (501, 501),
        ("501", 501),
        ("#501", 501),
        ("id 501", 501),
        ("test #501", 501),
        ("test id 501", 501),
        (" #7 ", 7),
        ("test 501", None),
        ("v2", None),
        ("orders", None),
        (0, None),
        (True, None),
    ],
)
def test_ids_are_recognised(value: int | str, expected: int | None) -> None:
    assert parse_id(value) == expected


def test_filler_words_are_dropped_but_never_everything() -> None:
    assert meaningful_words("please start the Orders soak test") == ["orders", "soak"]
    assert meaningful_words("the test") == ["the", "test"]


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("Orders API Soak Test", 501),
        ("orders api soak test", 501),
        ("orders soak test", 501),
        ("the orders soak test please", 501),
        ("ORDERS SOAK", 501),
        ("orders smoke", 502),
        ("order smoke", 502),
        ("checkout", 503),
        ("chekout spike", 503),
        ("auth", 504),
        ("login", 504),
        ("search stress", 505),
        ("homepage", 506),
    ],
)
def test_one_clear_winner(phrase: str, expected: int) -> None:
    assert choose(phrase, TESTS).id == expected


@pytest.mark.parametrize("phrase", ["orders", "orders api", "the orders test", "orders api test please"])
def test_close_candidates_are_ambiguous_and_named(phrase: str) -> None:
    with pytest.raises(AmbiguousLoadTest) as caught:
        choose(phrase, TESTS)
    names = {c.name for c in caught.value.candidates}
    assert names == {"Orders API Soak Test", "Orders API Smoke"}
    assert "Orders API Soak Test" in str(caught.value) and "Orders API Smoke" in str(caught.value)


def test_same_name_in_two_projects_is_ambiguous() -> None:
    tests = [*TESTS, load_test(600, "Checkout Spike Test", 78)]
    with pytest.raises(AmbiguousLoadTest) as caught:
        choose("checkout spike test", tests)
    assert {c.id for c in caught.value.candidates} == {503, 600}


def test_no_match_suggests_what_is_close() -> None:
    with pytest.raises(NoMatchingLoadTest) as caught:
        choose("payments gateway", TESTS)
    assert str(caught.value).startswith("No load test matches 'payments gateway'.")
    with pytest.raises(NoMatchingLoadTest) as caught:
        choose("orders soak xyzzy quux", TESTS)
    assert "Did you mean" in str(caught.value) and "Orders API Soak Test" in str(caught.value)


@pytest.mark.parametrize(
    ("phrase", "names", "expected"),
    [
        ("orders v2", ["Orders v1", "Orders v2"], "Orders v2"),
        ("checkout 2024", ["Checkout 2023", "Checkout 2024"], "Checkout 2024"),
        ("api v10", ["API v1", "API v10"], "API v10"),
        ("orders 100 vus", ["Orders 1000 vus", "Orders 100 vus"], "Orders 100 vus"),
        ("cafe soak", ["Café Soak", "Cart Smoke"], "Café Soak"),
        ("注文 ソーク", ["注文 ソーク", "決済 スパイク"], "注文 ソーク"),
    ],
)
def test_numbers_versions_and_other_scripts_match_exactly(phrase: str, names: list[str], expected: str) -> None:
    tests = [load_test(600 + i, name) for i, name in enumerate(names)]
    assert choose(phrase, tests).name == expected


@pytest.mark.parametrize(
    ("phrase", "names"),
    [
        ("orders v2", ["Orders v1"]),
        ("checkout 2024", ["Checkout 2023"]),
        ("search 1", ["Search 10"]),
        ("負荷テスト", ["注文 ソーク"]),
        ("?!", ["注文 ソーク"]),
    ],
)
def test_a_different_number_or_no_words_is_no_match(phrase: str, names: list[str]) -> None:
    tests = [load_test(600 + i, name) for i, name in enumerate(names)]
    with pytest.raises(NoMatchingLoadTest):
        choose(phrase, tests)


def test_filler_only_phrase_does_not_pick_a_test() -> None:
    with pytest.raises((AmbiguousLoadTest, NoMatchingLoadTest)):
        choose("the test please", TESTS)


def test_empty_phrase_is_a_clear_error() -> None:
    with pytest.raises(NoMatchingLoadTest, match="Say which load test"):
        choose("   ", TESTS)


# --------------------------------------------------------------------------- the catalog's cache


async def test_the_catalog_reads_once_per_ttl_and_again_after_invalidate(client: K6CloudClient, sim: Simulator) -> None:
    now = [1000.0]
    catalog = LoadTestCatalog(client, ttl=30.0, clock=lambda: now[0])

    def reads() -> tuple[int, int]:
        return sim.count("GET", "/cloud/v6/load_tests"), sim.count("GET", "/cloud/v6/projects")

    await catalog.load_tests()
    await catalog.project_names()
    now[0] += 29
    await asyncio.gather(catalog.load_tests(), catalog.load_tests(), catalog.projects())
    assert reads() == (1, 1)
    now[0] += 2  # older than the TTL: read again, once
    await asyncio.gather(catalog.load_tests(), catalog.load_tests())
    assert reads() == (2, 1)
    sim.add_load_test(77, "Renamed Meanwhile")
    catalog.invalidate()  # a write that changes names
    assert "Renamed Meanwhile" in {t.name for t in await catalog.load_tests()}
    assert reads() == (3, 1)


async def test_a_miss_looks_at_the_newest_tests_once_instead_of_reading_every_test_again(
    client: K6CloudClient, sim: Simulator
) -> None:
    now = [1000.0]
    catalog = LoadTestCatalog(client, ttl=30.0, clock=lambda: now[0])

    def lists(kind: str) -> int:
        mine = [r for r in sim.requests if r.method == "GET" and r.path == "/cloud/v6/load_tests"]
        return sum(("$orderby" in r.query) == (kind == "recent") for r in mine)

    await catalog.load_tests()
    assert (lists("full"), lists("recent")) == (1, 0)
    sim.add_load_test(77, "Created Meanwhile")  # behind the catalog's back, e.g. in the Grafana UI
    now[0] += 3  # the cached list is older than STALE_AFTER_MISS
    found = await catalog.resolve("created meanwhile")
    assert found.name == "Created Meanwhile"
    assert (lists("full"), lists("recent")) == (1, 1)  # one small request, not the whole list again
    assert [r.query.get("$orderby") for r in sim.requests if "$orderby" in r.query] == ["updated desc"]
    with pytest.raises(NoMatchingLoadTest):  # a real miss right after: nothing more is asked
        await catalog.resolve("nothing like this exists")
    assert (lists("full"), lists("recent")) == (1, 1)


async def test_an_ambiguous_phrase_is_not_checked_again(client: K6CloudClient, sim: Simulator) -> None:
    now = [1000.0]
    catalog = LoadTestCatalog(client, ttl=30.0, clock=lambda: now[0])
    await catalog.load_tests()
    await catalog.project_names()  # the candidates name their projects
    now[0] += 3
    before = len(sim.requests)
    with pytest.raises(AmbiguousLoadTest):
        await catalog.resolve("orders")
    assert len(sim.requests) == before
