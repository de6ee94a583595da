"""Every registry operation through the Toolbox against the simulator over real HTTP: success and errors.

Each test says which operations (and which documented error statuses) it covers; the last test fails if an
operation, or an error an operation documents, has no test.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest

from tools.errors import (
    AmbiguousLoadTest,
    InvalidInput,
    K6BotError,
    NoMatchingLoadTest,
    NotAllowedNow,
    ResolutionError,
)
from tools.models import ListedRun
from tools.outputs import RunSummary
from tools.registry import ConfirmationRequired, Toolbox, get_registry
from tools.simulator import Fault, Simulator

F = TypeVar("F", bound=Callable[..., Any])
COVERED: set[str] = set()
COVERED_ERRORS: set[tuple[str, int]] = set()


def covers(*names: str, errors: tuple[tuple[str, int], ...] = ()) -> Callable[[F], F]:
    COVERED.update(names)
    COVERED_ERRORS.update(errors)
    return lambda fn: fn


async def run(toolbox: Toolbox, operation: str, /, **arguments: Any) -> Any:
    return await toolbox.execute(operation, arguments, confirmed=True)


async def fails(toolbox: Toolbox, operation: str, error: type[Exception], match: str, /, **arguments: Any) -> Exception:
    with pytest.raises(error) as caught:
        await toolbox.execute(operation, arguments, confirmed=True)
    assert match in str(caught.value), str(caught.value)
    return caught.value


def posts(sim: Simulator, path_regex: str) -> int:
    return sim.count("POST", path_regex)


# --------------------------------------------------------------------------- load tests


@covers("find_load_tests")
async def test_find_load_tests(toolbox: Toolbox) -> None:
    found = await run(toolbox, "find_load_tests", phrase="orders soak")
    assert found.best and found.best.id == 501 and not found.ambiguous
    found = await run(toolbox, "find_load_tests", phrase="orders")
    assert found.best is None and found.ambiguous
    assert {501, 502} <= {m.id for m in found.matches}
    assert "several" in found.text()
    assert (await run(toolbox, "find_load_tests", phrase="zzzz qqqq")).matches == []


@covers("list_load_tests", errors=(("list_load_tests", 404),))
async def test_list_load_tests_pages_and_scopes(toolbox: Toolbox) -> None:
    first = await run(toolbox, "list_load_tests", limit=4)
    assert len(first.items) == 4 and first.total == 10 and first.next_cursor
    assert [t.name for t in first.items] == sorted(t.name for t in first.items)
    second = await run(toolbox, "list_load_tests", limit=4, cursor=first.next_cursor)
    assert not {t.id for t in first.items} & {t.id for t in second.items}
    payments = await run(toolbox, "list_load_tests", project="payments")
    assert payments.items and {t.project_id for t in payments.items} == {78}
    assert payments.project_name == "Payments" and "Payments" in payments.text()
    with pytest.raises(InvalidInput, match="cursor"):
        await run(toolbox, "list_load_tests", cursor="not-a-cursor!")
    with pytest.raises(ResolutionError, match="No project with id 9999"):
        await run(toolbox, "list_load_tests", project=9999)


async def test_list_load_tests_404_from_the_api_names_the_project(toolbox: Toolbox, sim: Simulator) -> None:
    sim.faults.add(Fault(method="GET", path=r"/cloud/v6/projects/78/load_tests", kind="status", status=404))
    await fails(toolbox, "list_load_tests", K6BotError, "Project 78 not found", project=78)


@covers("get_load_test")
async def test_get_load_test_by_id_or_name(toolbox: Toolbox, sim: Simulator) -> None:
    assert (await run(toolbox, "get_load_test", load_test="orders smoke")).id == 502
    assert (await run(toolbox, "get_load_test", load_test=501)).name == "Orders API Soak Test"
    await fails(toolbox, "get_load_test", NoMatchingLoadTest, "No load test with id 99999", load_test=99999)
    sim.faults.add(Fault(method="GET", path=r"/cloud/v6/load_tests/501", kind="status", status=404, times=None))
    await fails(toolbox, "get_load_test", NoMatchingLoadTest, "No load test with id 501", load_test=501)


@covers(
    "create_load_test",
    errors=(("create_load_test", 404), ("create_load_test", 409), ("create_load_test", 400)),
)
async def test_create_load_test(toolbox: Toolbox, sim: Simulator) -> None:
    with pytest.raises(ConfirmationRequired) as asked:
        await toolbox.execute("create_load_test", {"project": 77, "name": "New API Test"})
    assert asked.value.prepared.confirmation == "Create load test 'New API Test' in project 'Default project' (id 77)?"
    assert posts(sim, r"/cloud/v6/projects/\d+/load_tests") == 0
    created = await run(
        toolbox,
        "create_load_test",
        project="Default project",
        name="New API Test",
        script="export default function () {}",
    )
    assert created.name == "New API Test" and created.project_id == 77
    await fails(
        toolbox,
        "create_load_test",
        K6BotError,
        "Project 'Default project' already has a load test named 'Orders API Soak Test'",
        project=77,
        name="Orders API Soak Test",
    )
    with pytest.raises(InvalidInput, match="name"):
        await run(toolbox, "create_load_test", project=77, name="x" * 301)
    sim.faults.add(Fault(method="POST", path=r"/cloud/v6/projects/77/load_tests", kind="status", status=404))
    await fails(toolbox, "create_load_test", K6BotError, "Project 77 not found", project=77, name="Another")
    sim.faults.add(
        Fault(
            method="POST",
            path=r"/cloud/v6/projects/77/load_tests",
            kind="status",
            status=400,
            body={
                "error": {"code": "validation_error", "message": "script is not valid JavaScript", "target": "script"}
            },
        )
    )
    await fails(
        toolbox,
        "create_load_test",
        K6BotError,
        "refused the new test 'Another': script is not valid JavaScript",
        project=77,
        name="Another",
    )


@covers("update_load_test", errors=(("update_load_test", 404), ("update_load_test", 409)))
async def test_update_load_test(toolbox: Toolbox, sim: Simulator) -> None:
    prepared = await toolbox.prepare("update_load_test", {"load_test": 503, "name": "Checkout Spike v2"})
    assert prepared.confirmation == "Change load test 'Checkout Spike' (id 503): rename it to 'Checkout Spike v2'?"
    updated = await run(toolbox, "update_load_test", load_test=503, name="Checkout Spike v2", baseline_test_run_id=1204)
    assert updated.name == "Checkout Spike v2" and updated.baseline_test_run_id == 1204
    cleared = await run(toolbox, "update_load_test", load_test=503, clear_baseline=True)
    assert cleared.baseline_test_run_id is None
    await fails(
        toolbox,
        "update_load_test",
        K6BotError,
        "already named 'Refunds API Load'",
        load_test=503,
        name="Refunds API Load",
    )
    with pytest.raises(InvalidInput, match="at least one"):
        await run(toolbox, "update_load_test", load_test=503)
    sim.faults.add(Fault(method="PATCH", path=r"/cloud/v6/load_tests/503", kind="status", status=404))
    await fails(toolbox, "update_load_test", K6BotError, "Load test 503 not found", load_test=503, name="X")


@covers("move_load_test", errors=(("move_load_test", 404), ("move_load_test", 409)))
async def test_move_load_test(toolbox: Toolbox, sim: Simulator) -> None:
    prepared = await toolbox.prepare("move_load_test", {"load_test": "checkout spike", "to_project": "platform"})
    assert (
        prepared.confirmation
        == "Move load test 'Checkout Spike' (id 503) and all its runs to project 'Platform' (id 79)?"
    )
    moved = await run(toolbox, "move_load_test", load_test=503, to_project=79)
    assert moved.project_id == 79
    await run(toolbox, "create_load_test", project=77, name="Search Stress Test")
    # Two tests are now named "Search Stress Test" (one per project): pick the new one by id.
    twin = next(t for t in sim.find_load_tests() if t.name == "Search Stress Test" and t.project_id == 77)
    await fails(
        toolbox,
        "move_load_test",
        K6BotError,
        "Project 'Platform' already has a load test named 'Search Stress Test'",
        load_test=twin.id,
        to_project=79,
    )
    sim.faults.add(Fault(method="PUT", path=r"/cloud/v6/load_tests/503/move", kind="status", status=404))
    await fails(toolbox, "move_load_test", K6BotError, "not found", load_test=503, to_project=77)


@covers("delete_load_test", errors=(("delete_load_test", 404), ("delete_load_test", 409)))
async def test_delete_load_test(toolbox: Toolbox, sim: Simulator) -> None:
    prepared = await toolbox.prepare("delete_load_test", {"load_test": 507})
    assert (
        prepared.confirmation == "Delete load test 'Storefront Browser Journey' (id 507) with all its runs and results?"
    )
    assert any("run(s)" in note for note in prepared.notes)
    done = await run(toolbox, "delete_load_test", load_test=507)
    assert "deleted" in done.message
    await fails(toolbox, "get_load_test", NoMatchingLoadTest, "No load test with id 507", load_test=507)
    with pytest.raises(NotAllowedNow, match=r"'Orders API Soak Test' has a run in progress \(#1234 running\)"):
        await toolbox.prepare("delete_load_test", {"load_test": 501})
    await fails(toolbox, "delete_load_test", NotAllowedNow, "has a run in progress (#1234 running)", load_test=501)
    assert sim.count("DELETE", ".*") == 1
    sim.faults.add(Fault(method="DELETE", path=r"/cloud/v6/load_tests/503", kind="status", status=409))
    await fails(
        toolbox,
        "delete_load_test",
        K6BotError,
        "'Checkout Spike' has a run in progress; abort it before deleting the test.",
        load_test=503,
    )
    sim.faults.add(Fault(method="DELETE", path=r"/cloud/v6/load_tests/503", kind="status", status=404))
    await fails(toolbox, "delete_load_test", K6BotError, "Load test 503 not found", load_test=503)


@covers("get_load_test_script", errors=(("get_load_test_script", 404), ("get_load_test_script", 406)))
async def test_get_load_test_script(toolbox: Toolbox, sim: Simulator) -> None:
    script = await run(toolbox, "get_load_test_script", load_test="orders soak")
    assert not script.is_archive and "export" in (script.script or "") and script.content_type == "text/javascript"
    await fails(
        toolbox, "get_load_test_script", K6BotError, "is not stored as archive", load_test=501, format="archive"
    )
    sim.faults.add(Fault(method="GET", path=r"/cloud/v6/load_tests/501/script", kind="status", status=404))
    await fails(toolbox, "get_load_test_script", K6BotError, "Load test 501 not found", load_test=501)


@covers("upload_load_test_script", errors=(("upload_load_test_script", 404), ("upload_load_test_script", 400)))
async def test_upload_load_test_script(toolbox: Toolbox, sim: Simulator) -> None:
    source = "import http from 'k6/http';\nexport const options = { vus: 3, duration: '2m' };\nexport default function () { http.get('https://test.k6.io'); }\n"
    prepared = await toolbox.prepare("upload_load_test_script", {"load_test": 503, "script": source})
    assert prepared.confirmation.startswith("Replace the script of load test 'Checkout Spike' (id 503)")
    await run(toolbox, "upload_load_test_script", load_test=503, script=source)
    upload = next(r for r in sim.requests if r.method == "PUT")
    assert upload.headers["content-type"] == "application/octet-stream" and upload.body == source.encode()
    assert (await run(toolbox, "get_load_test_script", load_test=503)).script == source
    tar = bytearray(1024)
    tar[257:262] = b"ustar"
    await run(toolbox, "upload_load_test_script", load_test=503, archive_base64=base64.b64encode(bytes(tar)).decode())
    archived = await run(toolbox, "get_load_test_script", load_test=503)
    assert archived.is_archive and archived.archive_base64
    with pytest.raises(InvalidInput, match="exactly one"):
        await run(toolbox, "upload_load_test_script", load_test=503, script="x", archive_base64="eA==")
    with pytest.raises(InvalidInput, match="base64"):
        await run(toolbox, "upload_load_test_script", load_test=503, archive_base64="%%%not base64%%%")
    sim.faults.add(Fault(method="PUT", path=r"/cloud/v6/load_tests/503/script", kind="status", status=404))
    await fails(toolbox, "upload_load_test_script", K6BotError, "Load test 503 not found", load_test=503, script="x")
    sim.faults.add(
        Fault(
            method="PUT",
            path=r"/cloud/v6/load_tests/503/script",
            kind="status",
            status=400,
            body={"error": {"code": "validation_error", "message": "archive is corrupt"}},
        )
    )
    await fails(
        toolbox,
        "upload_load_test_script",
        K6BotError,
        "refused the script for 'Checkout Spike': archive is corrupt",
        load_test=503,
        script="x",
    )


@covers("start_load_test", errors=(("start_load_test", 404), ("start_load_test", 400)))
async def test_start_load_test(toolbox: Toolbox, sim: Simulator) -> None:
    prepared = await toolbox.prepare("start_load_test", {"load_test": "the orders soak test please"})
    assert prepared.confirmation == "Start load test 'Orders API Soak Test' (id 501, project 77)?"
    notes = " ".join(prepared.notes)
    assert "Already in progress for this test: #1234 running" in notes
    assert "Last run #1233" not in notes and "Last run #" in notes and "VUH" in notes
    assert prepared.facts["estimated_vuh"] > 0
    assert posts(sim, r".*/start") == 0
    with pytest.raises(ConfirmationRequired):
        await toolbox.execute("start_load_test", {"load_test": 501})
    assert posts(sim, r".*/start") == 0
    started = await run(toolbox, "start_load_test", load_test="orders soak test")
    assert started.load_test_id == 501 and started.test_run.status == "created"
    assert started.test_run.url and started.idempotency_key
    assert posts(sim, r"/cloud/v6/load_tests/501/start") == 1
    with pytest.raises(AmbiguousLoadTest) as ambiguous:
        await run(toolbox, "start_load_test", load_test="orders")
    assert {c.id for c in ambiguous.value.candidates} == {501, 502}
    with pytest.raises(NoMatchingLoadTest, match="No load test matches 'payroll export'"):
        await run(toolbox, "start_load_test", load_test="payroll export")
    assert posts(sim, r".*/start") == 1
    await fails(
        toolbox, "start_load_test", K6BotError, "k6 Cloud refused to start 'Notifications Webhook Test'", load_test=510
    )
    sim.faults.add(Fault(method="POST", path=r"/cloud/v6/load_tests/502/start", kind="status", status=404))
    await fails(toolbox, "start_load_test", K6BotError, "Load test 502 no longer exists", load_test=502)


async def test_a_failed_preview_read_does_not_block_the_start(toolbox: Toolbox, sim: Simulator) -> None:
    sim.faults.add(
        Fault(method="GET", path=r"/cloud/v6/load_tests/502/test_runs", kind="status", status=503, times=None)
    )
    prepared = await toolbox.prepare("start_load_test", {"load_test": 502})
    assert prepared.confirmation.startswith("Start load test 'Orders API Smoke'")
    assert "could not be read" in prepared.notes[0]


async def test_start_preview_of_a_test_that_never_ran(toolbox: Toolbox) -> None:
    created = await run(
        toolbox, "create_load_test", project=77, name="Fresh Test", script="export default function () {}"
    )
    prepared = await toolbox.prepare("start_load_test", {"load_test": created.id})
    assert prepared.notes == ["This test has not run before, so there is no cost estimate yet."]


@covers("validate_options", errors=(("validate_options", 400),))
async def test_validate_options(toolbox: Toolbox, sim: Simulator) -> None:
    result = await run(toolbox, "validate_options", options={"vus": 10, "duration": "30m"}, project=77)
    assert result.vuh_usage == pytest.approx(5.0, rel=0.2)
    sim.faults.add(
        Fault(
            method="POST",
            path=r"/cloud/v6/validate_options",
            kind="status",
            status=400,
            body={
                "error": {
                    "code": "validation_error",
                    "message": "vus exceeds the project limit",
                    "target": "options.vus",
                }
            },
        )
    )
    await fails(
        toolbox,
        "validate_options",
        K6BotError,
        "cannot run these options: vus exceeds the project limit",
        options={"vus": 99999},
    )


# --------------------------------------------------------------------------- test runs


@covers("list_test_runs", errors=(("list_test_runs", 404),))
async def test_list_test_runs_newest_first_with_filters_and_cursor(toolbox: Toolbox, sim: Simulator) -> None:
    everything = await run(toolbox, "list_test_runs", limit=5)
    ids = [r.id for r in everything.items]
    assert ids == sorted(ids, reverse=True) and ids[0] == 1238 and everything.next_cursor
    assert everything.items[0].test_name == "Refunds API Load"
    following = await run(toolbox, "list_test_runs", limit=5, cursor=everything.next_cursor)
    assert [r.id for r in following.items] == [1233, 1232, 1231, 1230, 1229]
    active = await run(toolbox, "list_test_runs", status=["active"])
    assert {r.id for r in active.items} == {1232, 1234, 1236, 1237, 1238}
    of_soak = await run(toolbox, "list_test_runs", load_test="orders soak", limit=3)
    assert of_soak.load_test_name == "Orders API Soak Test" and [r.id for r in of_soak.items] == [1234, 1230, 1223]
    failed = await run(toolbox, "list_test_runs", result=["failed"], limit=50)
    assert failed.items and {r.result for r in failed.items} == {"failed"}
    starred = await run(toolbox, "list_test_runs", load_test=501, starred=True)
    assert {r.id for r in starred.items} == {1211, 1223}
    payments = await run(toolbox, "list_test_runs", project="payments", limit=50)  # a name, resolved
    assert payments.items and {r.test_id for r in payments.items} == {503, 504, 509}  # the tests of Payments
    assert {r.project_id for r in payments.items} == {78}
    with pytest.raises(InvalidInput, match="created_after must be earlier"):
        await run(
            toolbox, "list_test_runs", created_after="2026-01-02T00:00:00Z", created_before="2026-01-01T00:00:00Z"
        )
    sim.faults.add(Fault(method="GET", path=r"/cloud/v6/load_tests/502/test_runs", kind="status", status=404))
    await fails(toolbox, "list_test_runs", K6BotError, "Load test 502 not found", load_test=502)


@pytest.mark.parametrize("newest_first", [False, True], ids=["api-oldest-first", "api-newest-first"])
async def test_list_test_runs_cursor_walks_everything_exactly_once(
    toolbox: Toolbox, sim: Simulator, newest_first: bool
) -> None:
    sim.runs_newest_first = newest_first
    sim.add_runs(509, 120)
    seen: list[int] = []
    cursor = None
    for _ in range(100):
        page = await run(toolbox, "list_test_runs", limit=37, cursor=cursor)
        seen += [r.id for r in page.items]
        cursor = page.next_cursor
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == len(sim.run_ids())


async def test_list_test_runs_of_a_test_reads_one_page_of_limit_runs(toolbox: Toolbox, sim: Simulator) -> None:
    sim.add_runs(509, 30)
    total = len(sim.list_runs(509))
    await run(toolbox, "list_test_runs", load_test=509, limit=1)  # the test is read once, then known
    sim.clear_requests()
    page = await run(toolbox, "list_test_runs", load_test=509, limit=10)
    assert len(page.items) == 10 and page.next_cursor and page.load_test_name
    assert [(r.path, r.query.get("$top")) for r in sim.requests] == [("/cloud/v6/load_tests/509/test_runs", "10")]
    sim.clear_requests()
    rest = await run(toolbox, "list_test_runs", load_test=509, limit=total - 10, cursor=page.next_cursor)
    assert len(rest.items) == total - 10 and rest.next_cursor is None, "@nextLink says nothing follows"
    assert len(sim.requests) == 1
    assert {r.id for r in page.items + rest.items} == {r["id"] for r in sim.list_runs(509)}
    whole = await run(toolbox, "list_test_runs", load_test=509, limit=total)
    assert len(whole.items) == total and whole.next_cursor is None


async def test_a_test_named_by_id_is_not_read_again_when_the_list_of_tests_knows_it(
    toolbox: Toolbox, sim: Simulator
) -> None:
    await run(toolbox, "list_test_runs", load_test="orders soak", limit=1)  # reads the list of every test
    sim.clear_requests()
    runs = await run(toolbox, "list_test_runs", load_test=501, limit=3)
    assert runs.load_test_name == "Orders API Soak Test" and len(runs.items) == 3
    assert [r.path for r in sim.requests] == ["/cloud/v6/load_tests/501/test_runs"]


async def test_listed_runs_say_what_the_whole_runs_say(toolbox: Toolbox, sim: Simulator) -> None:
    """A list reads the lighter ListedRun: each summary is the one the whole run (get_test_run) gives."""
    listed = await run(toolbox, "list_test_runs", limit=1000)
    assert len(listed.items) == len(sim.run_ids())
    assert {r.status for r in listed.items} >= {"aborted", "completed", "running"}
    assert any(r.abort_reason for r in listed.items)
    for item in listed.items:
        whole = RunSummary.from_run(await run(toolbox, "get_test_run", test_run_id=item.id), item.test_name)
        moving = () if item.is_finished else ("duration_seconds",)  # still running: "so far" moves on
        assert item.model_dump(exclude=set(moving)) == whole.model_dump(exclude=set(moving)), item.id


def test_a_listed_run_reads_its_history_when_asked_and_leaves_out_an_entry_that_does_not_read() -> None:
    body = {
        "id": 1, "test_id": 2, "project_id": 3, "created": "2026-01-01T00:00:00", "ended": "2026-01-01T00:01:10",
        "status": "aborted", "options": {"vus": 10}, "distribution": "not even a list",
        "cost": {"total_vuh": 2.5, "breakdown": "not read"}, "status_details": {"type": "aborted"},
        "status_history": [
            {"type": "running", "entered": "2026-01-01T00:00:10"},
            {"type": "queued", "entered": "not a time"},
            {"type": "aborted", "entered": "2026-01-01T00:01:10Z", "extra": {"by_user": "ann@example.com"}},
        ],
    }  # fmt: skip
    listed = ListedRun.model_validate(body)
    assert [e.type for e in listed.status_history] == ["running", "aborted"]
    assert listed.vuh == 2.5 and listed.status_details is None, "a status entry without 'entered' does not read"
    assert listed.duration_seconds() == 60.0 and listed.abort_extra and listed.abort_extra.by_user == "ann@example.com"
    assert RunSummary.from_run(listed).abort_reason == "aborted by ann@example.com"


@pytest.mark.parametrize("newest_first", [False, True], ids=["api-oldest-first", "api-newest-first"])
async def test_list_test_runs_of_the_stack_ends_without_cursor_when_limit_is_all(
    toolbox: Toolbox, sim: Simulator, newest_first: bool
) -> None:
    sim.runs_newest_first = newest_first
    total = len(sim.run_ids())
    whole = await run(toolbox, "list_test_runs", limit=total)
    assert len(whole.items) == total and whole.next_cursor is None
    short = await run(toolbox, "list_test_runs", limit=total - 1)
    assert len(short.items) == total - 1 and short.next_cursor
    last = await run(toolbox, "list_test_runs", limit=5, cursor=short.next_cursor)
    assert [r.id for r in last.items] == [min(sim.run_ids())] and last.next_cursor is None


@pytest.mark.parametrize(("load_test", "newest_first"), [(None, False), (None, True), (501, False)])
async def test_list_test_runs_cursor_survives_runs_started_meanwhile(
    toolbox: Toolbox, sim: Simulator, load_test: int | None, newest_first: bool
) -> None:
    sim.runs_newest_first = newest_first
    sim.add_runs(501, 90)
    expected = {r["id"] for r in sim.list_runs(load_test)}
    scope = {"load_test": load_test} if load_test else {}
    seen: list[int] = []
    cursor = None
    started: list[int] = []
    for page_number in range(100):
        page = await run(toolbox, "list_test_runs", limit=25, cursor=cursor, **scope)
        seen += [r.id for r in page.items]
        if page_number == 1:  # a new run appears between two pages
            started.append(sim.start_run(501)["id"])
        cursor = page.next_cursor
        if not cursor:
            break
    assert len(seen) == len(set(seen)), "no run twice"
    assert expected <= set(seen), "no older run skipped"
    assert not set(started) & set(seen[:50]), "a newer run is not slipped into older pages"


async def test_list_runs_created_after_filters(toolbox: Toolbox, sim: Simulator) -> None:
    since = sim.clock.now() - timedelta(hours=1)
    recent = await run(toolbox, "list_test_runs", created_after=since.isoformat())
    assert recent.items and all(r.created >= since for r in recent.items)


@covers("get_test_run", errors=(("get_test_run", 404),))
async def test_get_test_run(toolbox: Toolbox) -> None:
    running = await run(toolbox, "get_test_run", test_run_id=1234)
    assert running.status == "running" and running.test_run_details_page_url
    aborted = await run(toolbox, "get_test_run", run_id=1217)  # an alias of test_run_id
    assert aborted.abort_extra and aborted.abort_extra.by_user == "devops@example.com"
    await fails(toolbox, "get_test_run", K6BotError, "Test run 987654 not found.", test_run_id=987654)
    with pytest.raises(InvalidInput, match="test_run_id"):
        await run(toolbox, "get_test_run", test_run_id=0)
    with pytest.raises(InvalidInput, match="unknown argument 'tset_run_id'"):
        await run(toolbox, "get_test_run", tset_run_id=1)


@covers("update_test_run", errors=(("update_test_run", 404),))
async def test_update_test_run_note(toolbox: Toolbox) -> None:
    result = await run(toolbox, "update_test_run", test_run_id=1233, note="baseline after the cache fix")
    assert result.test_run.note == "baseline after the cache fix" and "set" in result.message
    cleared = await run(toolbox, "update_test_run", test_run_id=1233, note="")
    assert cleared.test_run.note == "" and "cleared" in cleared.message
    await fails(toolbox, "update_test_run", K6BotError, "Test run 987654 not found.", test_run_id=987654, note="x")


@covers("abort_test_run", errors=(("abort_test_run", 404), ("abort_test_run", 409)))
async def test_abort_test_run(toolbox: Toolbox, sim: Simulator) -> None:
    prepared = await toolbox.prepare("abort_test_run", {"test_run_id": 1234})
    assert prepared.confirmation == "Abort test run 1234 of 'Orders API Soak Test' (running)?"
    assert any(note.startswith("Running for") for note in prepared.notes)
    with pytest.raises(ConfirmationRequired):
        await toolbox.execute("abort_test_run", {"test_run_id": 1234})
    assert posts(sim, r".*/abort") == 0
    result = await run(toolbox, "abort_test_run", test_run_id=1234)
    assert result.test_run.status == "aborted" and "aborted" in result.message
    assert result.test_run.abort_reason == "aborted by you@example.com"
    assert posts(sim, r"/cloud/v6/test_runs/1234/abort") == 1
    # Asked again: the state is re-checked and nothing is sent.
    await fails(
        toolbox, "abort_test_run", NotAllowedNow, "Run 1234 is not running, so it cannot be aborted", test_run_id=1234
    )
    with pytest.raises(NotAllowedNow):
        await toolbox.prepare("abort_test_run", {"test_run_id": 1233})
    assert posts(sim, r".*/abort") == 1
    await fails(toolbox, "abort_test_run", K6BotError, "Test run 987654 not found.", test_run_id=987654)


async def test_abort_409_from_the_api_gets_the_sentence(toolbox: Toolbox, sim: Simulator) -> None:
    """The run ended between the re-check and the abort: the API's 409 reads as a sentence too."""
    sim.faults.add(Fault(method="POST", path=r"/cloud/v6/test_runs/1236/abort", kind="status", status=409))
    await fails(
        toolbox, "abort_test_run", K6BotError, "Run 1236 is not running, so it cannot be aborted.", test_run_id=1236
    )


async def test_a_retried_abort_that_went_through_is_a_success(toolbox: Toolbox, sim: Simulator) -> None:
    sim.faults.add(Fault(method="POST", path=r"/cloud/v6/test_runs/1236/abort", kind="drop", after=True, times=1))
    result = await run(toolbox, "abort_test_run", test_run_id=1236)
    assert result.test_run.status == "aborted"
    assert posts(sim, r"/cloud/v6/test_runs/1236/abort") == 2


@covers("delete_test_run", errors=(("delete_test_run", 404), ("delete_test_run", 409)))
async def test_delete_test_run(toolbox: Toolbox, sim: Simulator) -> None:
    prepared = await toolbox.prepare("delete_test_run", {"test_run_id": 1233})
    assert (
        prepared.confirmation == "Delete test run 1233 of 'Orders API Smoke' (completed, passed) and all its results?"
    )
    assert "deleted" in (await run(toolbox, "delete_test_run", test_run_id=1233)).message
    await fails(toolbox, "get_test_run", K6BotError, "Test run 1233 not found.", test_run_id=1233)
    await fails(
        toolbox,
        "delete_test_run",
        NotAllowedNow,
        "Run 1234 is still running; abort it before deleting it",
        test_run_id=1234,
    )
    assert sim.count("DELETE", r".*") == 1
    await fails(toolbox, "delete_test_run", K6BotError, "Test run 987654 not found.", test_run_id=987654)
    sim.faults.add(Fault(method="DELETE", path=r"/cloud/v6/test_runs/1229", kind="status", status=409))
    await fails(
        toolbox,
        "delete_test_run",
        K6BotError,
        "Run 1229 is still running; abort it before deleting it.",
        test_run_id=1229,
    )


@covers("get_test_run_distribution", errors=(("get_test_run_distribution", 404),))
async def test_get_test_run_distribution(toolbox: Toolbox) -> None:
    distribution = await run(toolbox, "get_test_run_distribution", test_run_id=1234)
    assert sum(zone.percentage for zone in distribution.distribution.values()) == 100
    assert all(zone.nodes for zone in distribution.distribution.values())
    await fails(toolbox, "get_test_run_distribution", K6BotError, "has no distribution data yet", test_run_id=1238)


@covers("get_test_run_script", errors=(("get_test_run_script", 404),))
async def test_get_test_run_script(toolbox: Toolbox) -> None:
    script = await run(toolbox, "get_test_run_script", test_run_id=1234)
    assert script.test_run_id == 1234 and "export" in (script.script or "")
    await fails(toolbox, "get_test_run_script", K6BotError, "Test run 987654 not found.", test_run_id=987654)


@covers(
    "save_test_run",
    "unsave_test_run",
    errors=(("save_test_run", 404), ("save_test_run", 409), ("unsave_test_run", 404)),
)
async def test_save_and_unsave(toolbox: Toolbox, sim: Simulator) -> None:
    saved = await run(toolbox, "save_test_run", test_run_id=1233)
    assert "saved" in saved.message and sim.run(1233)["retention_expiry"] is None
    unsaved = await run(toolbox, "unsave_test_run", test_run_id=1233)
    assert "unsaved" in unsaved.message and sim.run(1233)["retention_expiry"] is not None
    await fails(toolbox, "save_test_run", K6BotError, "Test run 987654 not found.", test_run_id=987654)
    await fails(toolbox, "unsave_test_run", K6BotError, "Test run 987654 not found.", test_run_id=987654)
    sim.max_saved_runs = 1  # run 1211 is already saved
    await fails(toolbox, "save_test_run", K6BotError, "the limit of saved runs is reached", test_run_id=1229)


async def test_save_after_the_endpoint_was_removed(toolbox: Toolbox, sim: Simulator) -> None:
    """save/unsave were scheduled for removal: a 404 for a run that exists points to star instead."""
    sim.faults.add(
        Fault(method="POST", path=r"/cloud/v6/test_runs/\d+/(un)?save", kind="status", status=404, times=None)
    )
    await fails(toolbox, "save_test_run", NotAllowedNow, "use star_test_run instead", test_run_id=1233)
    await fails(toolbox, "unsave_test_run", NotAllowedNow, "use unstar_test_run instead", test_run_id=1233)


@covers("star_test_run", "unstar_test_run", errors=(("star_test_run", 404), ("unstar_test_run", 404)))
async def test_star_and_unstar(toolbox: Toolbox) -> None:
    assert (await run(toolbox, "star_test_run", test_run_id=1229)).test_run.is_starred
    assert not (await run(toolbox, "unstar_test_run", test_run_id=1229)).test_run.is_starred
    await fails(toolbox, "star_test_run", K6BotError, "Test run 987654 not found.", test_run_id=987654)
    await fails(toolbox, "unstar_test_run", K6BotError, "Test run 987654 not found.", test_run_id=987654)


@covers("wait_for_test_run", errors=(("wait_for_test_run", 404),))
async def test_wait_for_a_finished_run_returns_at_once(toolbox: Toolbox) -> None:
    report = await run(toolbox, "wait_for_test_run", test_run_id=1217)
    assert report.finished and not report.timed_out
    assert "aborted by devops@example.com" in report.message
    script_error = await run(toolbox, "get_test_run", test_run_id=1209)
    from tools.outputs import abort_reason

    assert abort_reason(script_error).startswith("aborted by script error: TypeError")
    assert abort_reason(script_error).endswith("(code 7)") and abort_reason(script_error).count("aborted") == 1
    await fails(toolbox, "wait_for_test_run", K6BotError, "Test run 987654 not found.", test_run_id=987654)


async def test_wait_times_out_but_the_run_goes_on(toolbox: Toolbox, sim: Simulator) -> None:
    sim.clock.speed = 0
    report = await toolbox.execute(
        "wait_for_test_run", {"test_run_id": 1234, "timeout_seconds": 1, "poll_seconds": 0.5}
    )
    assert report.timed_out and not report.finished and report.test_run.status == "running"
    assert sim.count("POST", ".*") == 0


async def test_wait_keeps_to_its_timeout_when_the_api_fails(toolbox: Toolbox, sim: Simulator) -> None:
    sim.clock.speed = 0
    loop = asyncio.get_running_loop()
    started = loop.time()
    report = await toolbox.execute(
        "wait_for_test_run", {"test_run_id": 1234, "timeout_seconds": 2, "poll_seconds": 0.5}
    )
    assert report.timed_out
    sim.faults.add(Fault(method="GET", path=r"/cloud/v6/test_runs/1234", kind="status", status=503, times=None))
    started = loop.time()
    with pytest.raises(K6BotError):
        await toolbox.execute("wait_for_test_run", {"test_run_id": 1234, "timeout_seconds": 1, "poll_seconds": 0.5})
    assert loop.time() - started < 4, "the wait must not run far past its timeout during an outage"
    sim.faults.clear()
    sim.faults.add(Fault(method="GET", path=r"/cloud/v6/test_runs/1234", kind="latency", delay=5, times=None))
    started = loop.time()
    with pytest.raises(K6BotError, match="did not answer within"):
        await toolbox.execute("wait_for_test_run", {"test_run_id": 1234, "timeout_seconds": 1, "poll_seconds": 0.5})
    assert loop.time() - started < 3


async def test_wait_reports_progress_until_the_run_finishes(toolbox: Toolbox, sim: Simulator) -> None:
    sim.clock.speed = 600
    started = await run(toolbox, "start_load_test", load_test=502)
    updates: list[tuple[float, float | None, str]] = []

    async def progress(done: float, total: float | None, message: str) -> None:
        updates.append((done, total, message))

    report = await toolbox.execute(
        "wait_for_test_run",
        {"test_run_id": started.test_run.id, "poll_seconds": 0.5, "timeout_seconds": 120},
        progress=progress,
    )
    assert report.finished and report.test_run.result == "passed" and report.test_run.url
    assert len(updates) >= 2
    assert [u[0] for u in updates] == sorted(u[0] for u in updates)
    assert all(u[1] == 120 for u in updates)
    assert updates[-1][2].startswith(f"Run {started.test_run.id} (Orders API Smoke): completed, passed")


@covers("get_test_run_metrics", errors=(("get_test_run_metrics", 404),))
async def test_get_test_run_metrics(toolbox: Toolbox) -> None:
    metrics = await run(toolbox, "get_test_run_metrics", test_run_id=1233)
    assert metrics.http_req_duration_p95_ms and metrics.http_req_duration_p99_ms
    assert metrics.http_req_duration_p99_ms >= metrics.http_req_duration_p95_ms
    assert metrics.http_req_rate and metrics.http_req_failed_rate is not None
    assert metrics.checks and 0 <= (metrics.checks_pass_rate or 0) <= 1
    empty = await run(toolbox, "get_test_run_metrics", test_run_id=1238)
    assert empty.http_req_duration_p95_ms is None and empty.checks == []
    await fails(toolbox, "get_test_run_metrics", K6BotError, "Test run 987654 not found.", test_run_id=987654)


@covers("investigate_test_run", errors=(("investigate_test_run", 404),))
async def test_investigate_test_run(toolbox: Toolbox) -> None:
    report = await run(toolbox, "investigate_test_run", test_run=1224)
    assert report.result == "failed" and report.side == "system-side"
    assert any(v.state == "crossed" for v in report.thresholds)
    await fails(toolbox, "investigate_test_run", K6BotError, "Test run 987654 not found.", test_run=987654)


@covers("compare_test_runs", errors=(("compare_test_runs", 404),))
async def test_compare_test_runs(toolbox: Toolbox) -> None:
    report = await run(toolbox, "compare_test_runs", test_run=1223, against="baseline")
    assert report.against_id == 1211 and report.overall == "regression"
    await fails(toolbox, "compare_test_runs", K6BotError, "run 987654 or the run", test_run=987654)


@covers("chart_test_run", errors=(("chart_test_run", 404),))
async def test_chart_test_run(toolbox: Toolbox, sim: Simulator) -> None:
    chart = await run(toolbox, "chart_test_run", test_run=1224)
    assert chart.has_data and chart.image == "k6-run-1224.png"
    assert sim.count("GET", r"/cloud/v5/test_runs/1224/query_range_k6.*") == 4
    [png] = chart.attachments
    assert png.mime_type == "image/png" and png.data.startswith(b"\x89PNG\r\n\x1a\n") and len(png.data) > 10_000
    assert len(chart.model_dump_json()) < 3_000 and "attachments" not in chart.model_dump()  # no bytes in the JSON
    assert "attachments" not in str(type(chart).model_json_schema())
    p95 = next(s for s in chart.series if s.name == "p95")
    assert p95.points > 3 and p95.min is not None and p95.max is not None and p95.min <= (p95.last or 0) <= p95.max
    assert len(p95.sparkline) > 3 and set(p95.sparkline) <= set("▁▂▃▄▅▆▇█")
    assert "Chart attached: k6-run-1224.png" in chart.text() and p95.sparkline in chart.text()
    running = await run(toolbox, "chart_test_run", test_run=1234)
    assert running.status == "running" and running.has_data and running.attachments
    assert "still going: the chart shows what exists so far" in running.text()
    empty = await run(toolbox, "chart_test_run", test_run=1238)
    assert not empty.has_data and empty.attachments == [] and empty.image is None
    assert "nothing to draw" in empty.text() or "No metrics yet" in empty.text()
    before = sim.count("GET", r".*query_range_k6.*")
    await fails(toolbox, "chart_test_run", K6BotError, "Test run 987654 not found.", test_run=987654)
    assert sim.count("GET", r".*query_range_k6.*") == before  # a missing run is found out before any metric query


@covers("get_load_test_trend", errors=(("get_load_test_trend", 404),))
async def test_get_load_test_trend(toolbox: Toolbox) -> None:
    report = await run(toolbox, "get_load_test_trend", load_test=501, runs=10)
    assert report.last_run_id == 1230 and report.unfinished_left_out == 1
    assert any(t.metric == "p95" and t.direction == "degrading" for t in report.trends)
    await fails(toolbox, "get_load_test_trend", K6BotError, "987654", load_test=987654)


# --------------------------------------------------------------------------- projects


@covers(
    "list_projects",
    "get_project",
    "create_project",
    "update_project",
    "delete_project",
    errors=(
        ("create_project", 409),
        ("update_project", 404),
        ("update_project", 409),
        ("delete_project", 404),
        ("delete_project", 409),
    ),
)
async def test_projects(toolbox: Toolbox, sim: Simulator) -> None:
    listing = await run(toolbox, "list_projects")
    assert {p.name for p in listing.items} >= {"Default project", "Payments", "Platform"} and listing.total == 3
    assert (await run(toolbox, "get_project", project="payments")).id == 78
    with pytest.raises(ResolutionError, match="No project with id 4242"):
        await run(toolbox, "get_project", project=4242)
    created = await run(toolbox, "create_project", name="Search")
    await fails(toolbox, "create_project", K6BotError, "Cannot create project 'Search': ", name="Search")
    renamed = await run(toolbox, "update_project", project=created.id, name="Search & Discovery")
    assert renamed.name == "Search & Discovery"
    await fails(
        toolbox,
        "update_project",
        K6BotError,
        "A project named 'Payments' already exists",
        project=created.id,
        name="Payments",
    )
    prepared = await toolbox.prepare("delete_project", {"project": "Search & Discovery"})
    assert prepared.confirmation.startswith("Delete project 'Search & Discovery'")
    await run(toolbox, "delete_project", project=created.id)
    await fails(
        toolbox,
        "delete_project",
        K6BotError,
        "Project 'Default project' cannot be deleted: The default project cannot be deleted.",
        project=77,
    )
    sim.faults.add(Fault(method="DELETE", path=r"/cloud/v6/projects/78", kind="status", status=409))
    await fails(
        toolbox,
        "delete_project",
        K6BotError,
        "Project 'Payments' cannot be deleted: Injected fault: HTTP 409.",
        project=78,
    )
    for method, path, op, args in [
        ("PATCH", r"/cloud/v6/projects/79", "update_project", {"project": 79, "name": "P"}),
        ("DELETE", r"/cloud/v6/projects/79", "delete_project", {"project": 79}),
    ]:
        sim.faults.add(Fault(method=method, path=path, kind="status", status=404))
        await fails(toolbox, op, K6BotError, "Project 79 not found", **args)


@covers(
    "get_project_limits",
    "list_project_limits",
    "update_project_limits",
    errors=(("get_project_limits", 404), ("update_project_limits", 404)),
)
async def test_project_limits(toolbox: Toolbox, sim: Simulator) -> None:
    limits = await run(toolbox, "get_project_limits", project="Payments")
    assert limits.vuh_max_per_month == 500
    updated = await run(
        toolbox, "update_project_limits", project=78, vu_max_per_test=2000, remove=["vuh_max_per_month"]
    )
    assert updated.vu_max_per_test == 2000 and updated.vuh_max_per_month is None
    prepared = await toolbox.prepare("update_project_limits", {"project": 78, "duration_max_per_test": 3600})
    assert prepared.confirmation == "Change the limits of project 'Payments' (id 78): duration_max_per_test = 3600?"
    listing = await run(toolbox, "list_project_limits", project_ids=[78, 79])
    assert {item.project_id for item in listing.items} == {78, 79}
    with pytest.raises(InvalidInput, match="unknown limit"):
        await run(toolbox, "update_project_limits", project=78, remove=["vus"])
    sim.faults.add(Fault(method="GET", path=r"/cloud/v6/projects/78/limits", kind="status", status=404))
    await fails(toolbox, "get_project_limits", K6BotError, "Project 78 not found", project=78)
    sim.faults.add(Fault(method="PATCH", path=r"/cloud/v6/projects/78/limits", kind="status", status=404))
    await fails(toolbox, "update_project_limits", K6BotError, "Project 78 not found", project=78, vu_max_per_test=5)


# --------------------------------------------------------------------------- schedules


@covers(
    "list_schedules",
    "get_schedule",
    "get_load_test_schedule",
    "set_load_test_schedule",
    "activate_schedule",
    "deactivate_schedule",
    "delete_schedule",
    errors=(
        ("get_schedule", 404),
        ("get_load_test_schedule", 404),
        ("set_load_test_schedule", 404),
        ("set_load_test_schedule", 400),
        ("activate_schedule", 404),
        ("activate_schedule", 409),
        ("deactivate_schedule", 404),
        ("delete_schedule", 404),
    ),
)
async def test_schedules(toolbox: Toolbox, sim: Simulator) -> None:
    listing = await run(toolbox, "list_schedules")
    assert {s.id for s in listing.items} == {1, 2, 3, 4}
    assert (await run(toolbox, "get_schedule", schedule_id=2)).deactivated
    assert (await run(toolbox, "get_load_test_schedule", load_test="orders smoke")).id == 1
    await fails(
        toolbox, "get_load_test_schedule", K6BotError, "Load test 'Checkout Spike' has no schedule.", load_test=503
    )
    starts = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    prepared = await toolbox.prepare(
        "set_load_test_schedule",
        {"load_test": 503, "starts": starts.isoformat(), "recurrence_rule": {"frequency": "WEEKLY", "byday": ["MO"]}},
    )
    when = starts.strftime("%a %Y-%m-%d %H:%M UTC")
    assert prepared.confirmation.startswith(
        f"Schedule load test 'Checkout Spike' (id 503): every Mon at {starts:%H:%M} UTC, starting {when}?"
    )
    schedule = await run(
        toolbox,
        "set_load_test_schedule",
        load_test=503,
        starts=starts.isoformat(),
        recurrence_rule={"frequency": "WEEKLY", "byday": ["MO"]},
    )
    assert schedule.load_test_id == 503 and schedule.next_run is not None
    with pytest.raises(InvalidInput, match="not both"):
        await run(
            toolbox,
            "set_load_test_schedule",
            load_test=503,
            starts=starts.isoformat(),
            recurrence_rule={"frequency": "DAILY"},
            cron={"schedule": "0 3 * * *", "time_zone": "UTC"},
        )
    await fails(
        toolbox,
        "set_load_test_schedule",
        K6BotError,
        "refused the schedule",
        load_test=503,
        starts=starts.isoformat(),
        cron={"schedule": "not a cron", "time_zone": "UTC"},
    )
    assert "re-activated" in (await run(toolbox, "activate_schedule", schedule_id=2)).message
    await fails(
        toolbox, "activate_schedule", K6BotError, "Schedule 3 has expired and cannot be re-activated.", schedule_id=3
    )
    assert "deactivated" in (await run(toolbox, "deactivate_schedule", schedule_id=1)).message
    assert "deleted" in (await run(toolbox, "delete_schedule", schedule_id=4)).message
    for op in ("get_schedule", "activate_schedule", "deactivate_schedule", "delete_schedule"):
        await fails(toolbox, op, K6BotError, "Schedule 4 not found.", schedule_id=4)
    sim.faults.add(Fault(method="POST", path=r"/cloud/v6/load_tests/503/schedule", kind="status", status=404))
    await fails(
        toolbox,
        "set_load_test_schedule",
        K6BotError,
        "Load test 503 not found",
        load_test=503,
        starts=starts.isoformat(),
    )


# --------------------------------------------------------------------------- load zones


@covers(
    "list_load_zones",
    "get_load_zone_allowed_projects",
    "set_load_zone_allowed_projects",
    "get_project_allowed_load_zones",
    "set_project_allowed_load_zones",
    errors=(
        ("get_load_zone_allowed_projects", 404),
        ("set_load_zone_allowed_projects", 404),
        ("get_project_allowed_load_zones", 404),
        ("set_project_allowed_load_zones", 404),
    ),
)
async def test_load_zones(toolbox: Toolbox, sim: Simulator) -> None:
    zones = await run(toolbox, "list_load_zones")
    private = [z for z in zones.items if not z.public]
    assert len(zones.items) >= 20 and private
    zone_id = private[0].id
    only_ashburn = await run(toolbox, "list_load_zones", k6_load_zone_id="amazon:us:ashburn")
    assert [z.k6_load_zone_id for z in only_ashburn.items] == ["amazon:us:ashburn"]
    allowed = await run(toolbox, "get_load_zone_allowed_projects", load_zone_id=zone_id)
    assert {p.id for p in allowed.items} == {79}
    replaced = await run(toolbox, "set_load_zone_allowed_projects", load_zone_id=zone_id, project_ids=[78, 79])
    assert {p.id for p in replaced.items} == {78, 79}
    assert [z.id for z in (await run(toolbox, "get_project_allowed_load_zones", project=78)).items] == [zone_id]
    cleared = await run(toolbox, "set_project_allowed_load_zones", project=78, load_zone_ids=[])
    assert cleared.items == []
    await fails(toolbox, "get_load_zone_allowed_projects", K6BotError, "Load zone 99999 not found.", load_zone_id=99999)
    await fails(
        toolbox, "set_load_zone_allowed_projects", K6BotError, "not found", load_zone_id=99999, project_ids=[78]
    )
    await fails(
        toolbox,
        "set_project_allowed_load_zones",
        K6BotError,
        "99999 is not a private load zone",
        project=78,
        load_zone_ids=[99999],
    )
    sim.faults.add(Fault(method="PUT", path=r"/cloud/v6/projects/78/allowed_load_zones", kind="status", status=404))
    await fails(
        toolbox,
        "set_project_allowed_load_zones",
        K6BotError,
        "Project 78 or one of the load zones not found",
        project=78,
        load_zone_ids=[],
    )
    sim.faults.add(Fault(method="GET", path=r"/cloud/v6/projects/78/allowed_load_zones", kind="status", status=404))
    await fails(toolbox, "get_project_allowed_load_zones", K6BotError, "Project 78 not found", project=78)


# --------------------------------------------------------------------------- labels


@covers(
    "list_label_keys",
    "create_label_keys",
    "update_label_key",
    "delete_label_key",
    "list_project_labels",
    "set_project_labels",
    "delete_project_label",
    errors=(
        ("create_label_keys", 400),
        ("create_label_keys", 409),
        ("update_label_key", 404),
        ("update_label_key", 409),
        ("delete_label_key", 404),
        ("list_project_labels", 404),
        ("set_project_labels", 400),
        ("set_project_labels", 404),
        ("set_project_labels", 409),
        ("delete_project_label", 404),
    ),
)
async def test_labels(toolbox: Toolbox, sim: Simulator) -> None:
    keys = await run(toolbox, "list_label_keys")
    assert {k.key for k in keys.items} == {"environment", "team", "cost_center"}
    created = await run(toolbox, "create_label_keys", keys=[{"key": "tier", "description": "Service tier"}])
    tier = next(k for k in created.items if k.key == "tier")
    await fails(
        toolbox, "create_label_keys", K6BotError, "k6 Cloud refused the label keys: ", keys=[{"key": "a"}, {"key": "a"}]
    )
    await fails(toolbox, "create_label_keys", K6BotError, "already exists", keys=[{"key": "team"}])
    renamed = await run(toolbox, "update_label_key", label_key_id=tier.id, key="service_tier")
    assert renamed.key == "service_tier"
    await fails(
        toolbox,
        "update_label_key",
        K6BotError,
        "A label key named 'team' already exists.",
        label_key_id=tier.id,
        key="team",
    )
    await fails(toolbox, "update_label_key", K6BotError, "Label key 999 not found.", label_key_id=999, key="x")
    labels = await run(toolbox, "list_project_labels", project="Payments")
    assert {(label.key, label.value) for label in labels.items} >= {("team", "payments")}
    replaced = await run(toolbox, "set_project_labels", project=78, labels=[{"key": "team", "value": "checkout"}])
    assert [(label.key, label.value) for label in replaced.items] == [("team", "checkout")]
    await fails(
        toolbox,
        "set_project_labels",
        K6BotError,
        "Invalid label key or duplicate keys",
        project=78,
        labels=[{"key": "team", "value": "a"}, {"key": "team", "value": "b"}],
    )
    await fails(
        toolbox,
        "delete_project_label",
        K6BotError,
        "Project 'Payments' has no label 'environment'.",
        project=78,
        key="environment",
    )
    assert "removed" in (await run(toolbox, "delete_project_label", project=78, key="team")).message
    assert "deleted" in (await run(toolbox, "delete_label_key", label_key_id=tier.id)).message
    await fails(toolbox, "delete_label_key", K6BotError, f"Label key {tier.id} not found.", label_key_id=tier.id)
    with pytest.raises(InvalidInput, match="key"):
        await run(toolbox, "create_label_keys", keys=[{"key": "has space"}])
    sim.faults.add(Fault(method="POST", path=r"/cloud/v6/labels", kind="status", status=409))
    await fails(
        toolbox, "create_label_keys", K6BotError, "k6 Cloud refused the label keys: Injected fault", keys=[{"key": "x"}]
    )
    sim.faults.add(Fault(method="PUT", path=r"/cloud/v6/projects/79/labels", kind="status", status=409))
    await fails(
        toolbox, "set_project_labels", K6BotError, "Too many labels", project=79, labels=[{"key": "team", "value": "x"}]
    )
    for method, op, args in [
        ("GET", "list_project_labels", {"project": 79}),
        ("PUT", "set_project_labels", {"project": 79, "labels": []}),
    ]:
        sim.faults.add(Fault(method=method, path=r"/cloud/v6/projects/79/labels", kind="status", status=404))
        await fails(toolbox, op, K6BotError, "Project 79 not found", **args)


# --------------------------------------------------------------------------- account and legacy


@covers("check_auth", errors=(("check_auth", 401), ("check_auth", 403)))
async def test_check_auth(toolbox: Toolbox, sim: Simulator) -> None:
    plain = await run(toolbox, "check_auth")
    assert plain.stack_id == 1000 and plain.default_project_id == 77
    with_url = await run(toolbox, "check_auth", stack_url="https://k6bot-demo.grafana.net")
    assert with_url.stack_id == 1000 and sim.count("GET", "/cloud/v6/auth") == 1
    sim.faults.add(Fault(method="GET", path=r"/cloud/v6/auth", kind="status", status=403))
    await fails(toolbox, "check_auth", K6BotError, "no access to that stack", stack_url="https://other.grafana.net")
    sim.faults.add(Fault(method="GET", path=r"/cloud/v6/auth", kind="status", status=401))
    await fails(
        toolbox, "check_auth", K6BotError, "did not accept the API token", stack_url="https://k6bot-demo.grafana.net"
    )


@covers(
    "legacy_get_test_run",
    "legacy_list_test_runs",
    "legacy_stop_test_run",
    "legacy_start_load_test",
    errors=(
        ("legacy_get_test_run", 404),
        ("legacy_list_test_runs", 404),
        ("legacy_stop_test_run", 404),
        ("legacy_stop_test_run", 409),
        ("legacy_start_load_test", 404),
    ),
)
async def test_legacy_runs_api(toolbox: Toolbox, sim: Simulator) -> None:
    running = await run(toolbox, "legacy_get_test_run", test_run_id=1234)
    assert running.run.run_status == 2 and running.run.run_status_name == "running"
    listing = await run(toolbox, "legacy_list_test_runs", load_test="orders soak")
    assert {r.test_id for r in listing.items} == {501} and 1234 in {r.id for r in listing.items}
    chosen = await run(toolbox, "legacy_list_test_runs", load_test=501, test_run_ids=[1211, 1217])
    assert {r.id for r in chosen.items} == {1211, 1217}
    prepared = await toolbox.prepare("legacy_stop_test_run", {"test_run_id": 1234})
    assert prepared.confirmation == "Stop test run 1234 through the legacy v2 API?"
    stopped = await run(toolbox, "legacy_stop_test_run", test_run_id=1234)
    assert stopped.run.run_status == 5
    await fails(
        toolbox,
        "legacy_stop_test_run",
        K6BotError,
        "Run 1234 is not running, so it cannot be stopped.",
        test_run_id=1234,
    )
    started = await run(toolbox, "legacy_start_load_test", load_test=502)
    assert started.run.test_id == 502 and posts(sim, r"/loadtests/v2/tests/502/start-testrun") == 1
    await fails(
        toolbox, "legacy_get_test_run", K6BotError, "Test run 987654 not found (legacy API).", test_run_id=987654
    )
    await fails(
        toolbox, "legacy_stop_test_run", K6BotError, "Test run 987654 not found (legacy API).", test_run_id=987654
    )
    sim.faults.add(Fault(method="POST", path=r"/loadtests/v2/tests/502/start-testrun", kind="status", status=404))
    await fails(toolbox, "legacy_start_load_test", K6BotError, "Load test 502 not found.", load_test=502)
    sim.faults.add(Fault(method="GET", path=r"/loadtests/v2/runs", kind="status", status=404))
    await fails(toolbox, "legacy_list_test_runs", K6BotError, "Load test 501 not found.", load_test=501)


# --------------------------------------------------------------------------- coverage of this file


def test_every_operation_and_documented_error_has_a_test() -> None:
    registry = get_registry()
    missing = set(registry.names()) - COVERED
    assert not missing, f"operations without a test: {sorted(missing)}"
    documented = {(op.name, status) for op in registry for status in op.errors}
    untested = documented - COVERED_ERRORS
    assert not untested, f"documented error sentences without a test: {sorted(untested)}"


def test_a_schedule_is_said_back_in_words() -> None:
    from tools.outputs import recurrence_words

    at = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
    weekdays = {"frequency": "WEEKLY", "interval": 1, "byday": ["MO", "TU", "WE", "TH", "FR"]}
    assert (
        recurrence_words(weekdays, None, at)
        == "every weekday (Mon–Fri) at 09:30 UTC, starting Fri 2026-12-04 09:30 UTC"
    )
    assert recurrence_words({"frequency": "HOURLY", "interval": 6}, None, at).startswith("every 6 hours, starting")
    assert recurrence_words({"frequency": "DAILY", "count": 10}, None, at).startswith(
        "every day at 09:30 UTC (10 times)"
    )
    cron = {"schedule": "0 2 * * 1-5", "time_zone": "Europe/Berlin"}
    assert (
        recurrence_words(None, cron, None)
        == "weekdays (Mon–Fri) at 02:00 Europe/Berlin (cron '0 2 * * 1-5' (Europe/Berlin))"
    )
    assert recurrence_words(None, None, at) == "once, starting Fri 2026-12-04 09:30 UTC"


def test_every_write_that_cannot_be_repeated_declares_how_it_is_reconciled() -> None:
    """A keyless write whose answer is lost must be looked up, never reported as failed: the registry says how."""
    keyless = [op.name for op in get_registry() if not op.idempotent and op.safety.value != "read"]
    assert keyless, "no keyless writes at all: the check below would be empty"
    assert [name for name in keyless if get_registry()[name].reconciler is None] == []
