"""The tool layer against an API that is stricter or plainer than our simulator's defaults.

The independent implementations k6bot meets were written from the same docs but need not share our
simulator's habits: whole-second timestamps, no ``@count``, run links only on the start answer, nulls in
display fields, answers lost after the work was done. Each test switches the simulator to such a habit.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.conftest import make_settings
from tools.client import K6CloudClient
from tools.errors import NoMatchingLoadTest, NotFound
from tools.models import TestRun
from tools.registry import Toolbox
from tools.simulator import Fault, Simulator


async def walk(toolbox: Toolbox, limit: int, **scope: object) -> list[int]:
    seen: list[int] = []
    cursor = None
    for _ in range(200):
        page = await toolbox.execute("list_test_runs", {"limit": limit, "cursor": cursor, **scope})
        seen += [r.id for r in page.items]
        cursor = page.next_cursor
        if not cursor:
            return seen
    raise AssertionError("the cursor never ended")


@pytest.mark.parametrize("load_test", [None, 501])
async def test_whole_second_timestamps_lose_no_run(toolbox: Toolbox, sim: Simulator, load_test: int | None) -> None:
    sim.timestamps_in_whole_seconds = True
    sim.clock.speed = 0  # many runs share a displayed second
    started = [sim.start_run(501)["id"] for _ in range(30)]
    scope = {"load_test": load_test} if load_test else {}
    seen = await walk(toolbox, 7, **scope)
    assert len(seen) == len(set(seen))
    assert set(started) <= set(seen)
    assert {r["id"] for r in sim.list_runs(load_test)} <= set(seen)


@pytest.mark.parametrize("newest_first", [False, True])
async def test_an_api_that_does_not_count_still_lists_newest_first(
    toolbox: Toolbox, sim: Simulator, newest_first: bool
) -> None:
    sim.count_supported = False
    sim.runs_newest_first = newest_first
    page = await toolbox.execute("list_test_runs", {"limit": 10})
    assert [r.id for r in page.items] == list(range(1238, 1228, -1))
    seen = await walk(toolbox, 9)
    assert sorted(seen) == sorted(sim.run_ids()) and len(seen) == len(set(seen))


async def test_run_links_come_from_the_start_answer_when_gets_lack_them(toolbox: Toolbox, sim: Simulator) -> None:
    sim.page_url_on_start_only = True
    started = await toolbox.execute("start_load_test", {"load_test": 502}, confirmed=True)
    assert started.test_run.url and started.test_run.url.endswith(f"/{started.test_run.id}")
    fetched = await toolbox.execute("get_test_run", {"test_run_id": 1234})
    assert fetched.test_run_details_page_url == started.test_run.url.rsplit("/", 1)[0] + "/1234"
    listed = await toolbox.execute("list_test_runs", {"limit": 3})
    assert all(item.url for item in listed.items)


async def test_run_links_come_from_the_stack_url(sim_url: str, sim: Simulator) -> None:
    sim.page_url_on_start_only = True
    settings = make_settings(sim_url, stack_url="https://k6bot-demo.grafana.net")
    async with K6CloudClient(settings) as client:
        run = await client.get_model(TestRun, "/cloud/v6/test_runs/1234")
    assert run.test_run_details_page_url == "https://k6bot-demo.grafana.net/a/k6-app/runs/1234"


async def test_without_a_stack_url_a_missing_link_stays_missing(toolbox: Toolbox, sim: Simulator) -> None:
    sim.page_url_on_start_only = True
    run = await toolbox.execute("get_test_run", {"test_run_id": 1234})
    assert run.test_run_details_page_url is None


async def test_a_delete_whose_answer_was_lost_is_a_success(toolbox: Toolbox, sim: Simulator) -> None:
    sim.faults.add(
        Fault(method="DELETE", path=r"/cloud/v6/test_runs/1201", kind="status", status=502, after=True, times=1)
    )
    done = await toolbox.execute("delete_test_run", {"test_run_id": 1201}, confirmed=True)
    assert "deleted" in done.message
    assert sim.count("DELETE", r"/cloud/v6/test_runs/1201") == 2
    with pytest.raises(NotFound):
        await toolbox.client.get_model(TestRun, "/cloud/v6/test_runs/1201")


async def test_a_single_delete_of_a_missing_thing_is_still_an_error(toolbox: Toolbox) -> None:
    with pytest.raises(Exception, match=r"Test run 987654 not found\."):
        await toolbox.execute("delete_test_run", {"test_run_id": 987654}, confirmed=True)


async def test_a_legacy_stop_whose_answer_was_lost_is_a_success(toolbox: Toolbox, sim: Simulator) -> None:
    sim.faults.add(Fault(method="POST", path=r"/loadtests/v2/runs/1234/stop", kind="drop", after=True, times=1))
    stopped = await toolbox.execute("legacy_stop_test_run", {"test_run_id": 1234}, confirmed=True)
    assert stopped.run.run_status == 5


async def test_legacy_text_says_passed(toolbox: Toolbox) -> None:
    result = await toolbox.execute("legacy_get_test_run", {"test_run_id": 1201})
    assert result.run.result_status == 0 and "finished, passed" in result.text()


async def test_a_label_key_with_url_characters_removes_exactly_that_label(toolbox: Toolbox, sim: Simulator) -> None:
    await toolbox.execute("create_label_keys", {"keys": [{"key": "squad"}, {"key": "squad#old"}]}, confirmed=True)
    await toolbox.execute(
        "set_project_labels",
        {"project": 79, "labels": [{"key": "squad", "value": "pay"}, {"key": "squad#old", "value": "x"}]},
        confirmed=True,
    )
    await toolbox.execute("delete_project_label", {"project": 79, "key": "squad#old"}, confirmed=True)
    left = await toolbox.execute("list_project_labels", {"project": 79})
    assert [(label.key, label.value) for label in left.items] == [("squad", "pay")]


def test_nulls_in_display_fields_do_not_break_a_run() -> None:
    run = TestRun.model_validate(
        {
            "id": 1,
            "test_id": 2,
            "project_id": 3,
            "created": "2024-06-01T19:00:00",
            "status": "completed",
            "result": "success",
            "note": None,
            "k6_dependencies": None,
            "k6_versions": None,
            "status_history": None,
            "is_starred": None,
            "cost": {"total_vuh": "6.75", "breakdown": None},
            "execution_duration": 1830.5,
        }
    )
    assert run.note == "" and run.status_history == [] and run.is_starred is False
    assert run.result == "passed" and run.vuh == 6.75
    assert run.created.tzinfo is not None


async def test_dates_without_a_zone_are_utc_in_filters(toolbox: Toolbox, sim: Simulator) -> None:
    newest = datetime.fromisoformat(sim.run(1238)["created"].replace("Z", "+00:00"))
    naive = newest.replace(tzinfo=None).isoformat()
    page = await toolbox.execute("list_test_runs", {"created_before": naive, "limit": 2})
    assert page.items and all(item.id != 1238 for item in page.items)
    following = await toolbox.execute(
        "list_test_runs", {"created_before": naive, "limit": 2, "cursor": page.next_cursor}
    )
    assert following.items


async def test_a_fabricated_cursor_is_a_clear_error(toolbox: Toolbox) -> None:
    from tools.errors import InvalidInput
    from tools.outputs import encode_cursor

    for state in ({"anchor": "yesterday", "skip": 1}, {"asc": True, "end": "x"}, {"skip": -4}):
        scope = {"load_test": 501} if "anchor" in state else {}
        with pytest.raises(InvalidInput, match="cursor"):
            await toolbox.execute("list_test_runs", {"cursor": encode_cursor(state), **scope})


async def test_paging_stops_when_the_api_ignores_skip(sim_url: str, sim: Simulator) -> None:
    """A server that answers the same page for every $skip must not make the client loop forever."""
    import httpx

    async def same_page(request: httpx.Request) -> httpx.Response:
        body = {"value": [sim.run(1201), sim.run(1202)], "@nextLink": str(request.url)}
        return httpx.Response(200, json=body)

    settings = make_settings(sim_url)
    async with K6CloudClient(settings, transport=httpx.MockTransport(same_page)) as client:
        runs = await client.collect(TestRun, "/cloud/v6/test_runs")
    assert [r.id for r in runs] == [1201, 1202]


async def test_a_test_created_a_moment_ago_is_found_by_name(client: K6CloudClient, sim: Simulator) -> None:
    from tools.resolve import LoadTestCatalog

    now = [1000.0]
    toolbox = Toolbox(client, catalog=LoadTestCatalog(client, clock=lambda: now[0]))
    await toolbox.execute("find_load_tests", {"phrase": "orders"})  # the catalog is now cached
    sim.add_load_test(77, "Brand New Gamma Test")
    now[0] += 1  # a second later the cache is trusted: the new name is not known yet
    with pytest.raises(NoMatchingLoadTest):
        await toolbox.prepare("start_load_test", {"load_test": "brand new gamma test"})
    now[0] += 5  # older than the refresh threshold: read again once before saying no
    found = await toolbox.prepare("start_load_test", {"load_test": "brand new gamma test"})
    assert found.facts["load_test_name"] == "Brand New Gamma Test"
