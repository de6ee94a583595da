"""Test run operations: list, inspect, annotate, star, abort, delete, wait, metrics."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from pydantic import Field, model_validator

from tools.errors import ApiError, ApiUnavailable, InvalidInput, NotAllowedNow, NotFound
from tools.k6scripts import quote_argument
from tools.models import (
    ABORTABLE_STATUSES,
    FINAL_STATUSES,
    ApiDateTime,
    ListedRun,
    LoadTest,
    MetricQueryResponse,
    RunResult,
    TestRun,
    TestRunDistribution,
)
from tools.operations.answers import LIST_ANSWERS, METRIC_ANSWERS, RUN_ANSWERS
from tools.operations.common import (
    TEST_RUN_ID,
    Cursor,
    Limit,
    MaybeLoadTestRef,
    MaybeProjectRef,
    TestRunInput,
)
from tools.outputs import (
    CheckResult,
    Done,
    RunAction,
    RunList,
    RunMetrics,
    RunReport,
    RunSummary,
    ScriptFile,
    decode_cursor,
    encode_cursor,
    human_duration,
    status_phrase,
    vuh_text,
)
from tools.phrasing import DELETE, LIST, SHOW, Phrases, Say, Slot
from tools.registry import Endpoint, InputModel, OpContext, Preview, Safety, operation

RUNS = "/cloud/v6/test_runs"
NOT_FOUND = "Test run {test_run_id} not found."
MAX_SCAN = 2000
"""How many runs one list call reads at most while filtering locally (the API cannot filter by status)."""


def run_path(test_run_id: int, suffix: str = "") -> str:
    return f"{RUNS}/{test_run_id}{suffix}"


async def run_script(ctx: OpContext, test_run_id: int) -> bytes | None:
    """The script bundle a run executed (plain JS or a k6 .tar archive), or None when k6 Cloud has none."""
    try:
        response = await ctx.send(
            "GET", run_path(test_run_id, "/script"), idempotent=True, accept="text/javascript, application/x-tar"
        )
    except NotFound:
        return None
    return bytes(response.content)


async def fetch_run(ctx: OpContext, test_run_id: int) -> TestRun:
    return await ctx.get(TestRun, run_path(test_run_id))


async def summarize(ctx: OpContext, run: TestRun) -> RunSummary:
    return RunSummary.from_run(run, await ctx.catalog.display_name(run.test_id))


async def remember_run(ctx: OpContext, test_run_id: int) -> TestRun:
    """Read the run and put what a confirmation or an error sentence needs into ``ctx.facts``."""
    run = await fetch_run(ctx, test_run_id)
    name = await ctx.catalog.display_name(run.test_id)
    ctx.facts.update(
        load_test_name=name or f"test {run.test_id}",
        load_test_id=run.test_id,
        project_id=run.project_id,
        status=run.status,
        status_text=status_phrase(run.status, run.result),
    )
    return run


# --------------------------------------------------------------------------- list


class StatusFilter(StrEnum):
    ACTIVE = "active"
    FINISHED = "finished"
    CREATED = "created"
    QUEUED = "queued"
    INITIALIZING = "initializing"
    RUNNING = "running"
    PROCESSING_METRICS = "processing_metrics"
    COMPLETED = "completed"
    ABORTED = "aborted"


def _statuses(filters: list[StatusFilter] | None) -> set[str] | None:
    if not filters:
        return None
    wanted: set[str] = set()
    for item in filters:
        if item is StatusFilter.ACTIVE:
            wanted |= set(ABORTABLE_STATUSES) | {"processing_metrics"}
        elif item is StatusFilter.FINISHED:
            wanted |= set(FINAL_STATUSES)
        else:
            wanted.add(item.value)
    return wanted


class ListTestRunsInput(InputModel):
    load_test: MaybeLoadTestRef = None
    project: Annotated[MaybeProjectRef, Say(Slot.PROJECT, before=("in", "under", "within", "inside"))] = None
    """Said after "in" ("failed runs in payments"): other words before a run list name its test."""
    status: list[StatusFilter] | None = Field(
        default=None,
        description="'active': not finished yet; 'finished': completed or aborted.",
    )
    result: list[RunResult] | None = Field(default=None, description="Only these results.")
    created_after: ApiDateTime | None = Field(default=None, description="Created at/after (UTC if no zone).")
    created_before: ApiDateTime | None = Field(default=None, description="Created before (UTC if no zone).")
    starred: bool | None = Field(default=None, description="Only starred (true) or unstarred (false) runs.")
    limit: Limit = 20
    cursor: Cursor = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> ListTestRunsInput:
        if self.created_after and self.created_before and self.created_after >= self.created_before:
            raise ValueError("created_after must be earlier than created_before")
        return self


FALLBACK_SCAN = 20_000
"""Without ``@count`` the stack-wide list is read whole (up to this many runs) and sorted here."""


@dataclass
class RunScan:
    """What :func:`newest_first` knows beyond the runs it yields: ``last`` is True while the run just yielded is
    the oldest there is, so a caller with enough runs learns whether more follow without reading another page."""

    last: bool = False


R = TypeVar("R", TestRun, ListedRun)


async def newest_first(
    ctx: OpContext,
    model: type[R],
    path: str,
    params: dict[str, Any],
    *,
    can_order: bool,
    window: int,
    state: dict[str, Any],
    scan: RunScan | None = None,
) -> AsyncGenerator[tuple[R, dict[str, Any]], None]:
    """Runs (as ``model``: :class:`TestRun`, or the lighter :class:`ListedRun`) of ``path`` from the newest to the oldest, each with the cursor state that resumes right after it.

    The per-test list can order by ``created desc``. Its first call pins an anchor — the newest run's
    creation second, rounded up — and later pages ask for ``created_before=<anchor>`` at an offset, so runs
    started meanwhile never shift the pages and a server that shows or compares whole seconds loses
    nothing. The stack-wide list cannot be ordered, and its default order is not documented: the first
    call looks at both ends once; oldest-first lists are read backwards from the end (runs created
    meanwhile are appended after it, positions hold), newest-first lists forwards (the offset moves by the
    number of runs created meanwhile). An API that does not count (no ``@count``) gets the list read whole
    and sorted here. No run is skipped when runs start between two calls. ``scan`` (optional) says when the
    run yielded is the last one.
    """
    scan = scan if scan is not None else RunScan()
    for key in ("skip", "end", "total"):  # a cursor that was not made here is refused before anything is read
        if key in state:
            _cursor_int(state, key)
    if can_order:
        anchor = _cursor_time(state, "anchor")
        pinned: str | None = None  # the anchor as the cursor holds it, written once
        skip = _cursor_int(state, "skip")
        ordered = {**params, "$orderby": "created desc"}
        if anchor is not None:
            user_before = params.get("created_before")
            ordered["created_before"] = min(user_before, anchor) if user_before else anchor
        async with contextlib.aclosing(ctx.client.pages(model, path, ordered, page_size=window, skip=skip)) as pages:
            async for page, more in pages:
                for position, run in enumerate(page.value, 1):
                    if anchor is None:
                        anchor = run.created.replace(microsecond=0) + timedelta(seconds=1)
                    if pinned is None:
                        pinned = anchor.isoformat()
                    skip += 1
                    scan.last = not more and position == len(page.value)
                    yield run, {"anchor": pinned, "skip": skip}
        return
    first = await ctx.client.get_page(model, path, {**params, "$count": True, "$top": 1})
    if not first.value:
        return
    if first.count is None:
        async for item in _sorted_fallback(ctx, model, path, params, state, scan):
            yield item
        return
    total = first.count
    if "asc" in state:
        ascending = bool(state["asc"])
    else:
        last = await ctx.client.get_page(model, path, {**params, "$skip": total - 1, "$top": 1})
        ascending = not last.value or (first.value[0].created, first.value[0].id) <= (
            last.value[0].created,
            last.value[0].id,
        )
    if ascending:
        # Oldest first: read backwards from the end. New runs are appended after it, so positions hold.
        end = min(total, _cursor_int(state, "end", total))
        while end > 0:
            start = max(0, end - window)
            page = await ctx.client.get_page(model, path, {**params, "$skip": start, "$top": end - start})
            if not page.value:
                return
            for offset, run in reversed(list(enumerate(page.value))):
                scan.last = start + offset == 0
                yield run, {"asc": True, "end": start + offset}
            end = start
        return
    # Newest first: read forwards. New runs are inserted before us, so shift by how many arrived.
    skip = _cursor_int(state, "skip") + max(0, total - _cursor_int(state, "total", total))
    while skip < total:
        page = await ctx.client.get_page(model, path, {**params, "$skip": skip, "$top": window})
        if not page.value:
            return
        for offset, run in enumerate(page.value):
            scan.last = skip + offset + 1 >= total
            yield run, {"asc": False, "skip": skip + offset + 1, "total": total}
        skip += len(page.value)


async def _sorted_fallback(
    ctx: OpContext, model: type[R], path: str, params: dict[str, Any], state: dict[str, Any], scan: RunScan
) -> AsyncGenerator[tuple[R, dict[str, Any]], None]:
    runs = await ctx.client.collect(model, path, params, limit=FALLBACK_SCAN)
    runs.sort(key=lambda r: (r.created, r.id), reverse=True)
    total = len(runs)
    skip = _cursor_int(state, "skip") + max(0, total - _cursor_int(state, "total", total))
    for position in range(skip, total):
        scan.last = position + 1 >= total
        yield runs[position], {"sorted": True, "skip": position + 1, "total": total}


def _cursor_int(state: dict[str, Any], key: str, default: int = 0) -> int:
    value = state.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput("That cursor is not valid: pass the next_cursor of a previous answer unchanged.")
    return value


def _cursor_time(state: dict[str, Any], key: str) -> datetime | None:
    value = state.get(key)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput("That cursor is not valid: pass the next_cursor of a previous answer unchanged.") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@operation(
    name="list_test_runs",
    title="List test runs",
    group="runs",
    safety=Safety.READ,
    idempotent=True,
    core=True,
    endpoints=[
        Endpoint("GET", "/cloud/v6/test_runs"),
        Endpoint("GET", "/cloud/v6/load_tests/{id}/test_runs"),
    ],
    errors={404: "Load test {load_test} not found."},
    phrases=Phrases(
        verbs=(
            *LIST,
            "what",
            "what's",
            "whats",
            "what is",
            "anything",
            "is anything",
            "something",
            "is something",
            "are there",
            "any",
            "how many",
            "what ran",
            "what happened",
            "what has run",
            "what's been run",
            "who's",
            "whos",
            "who is",
            "how did … do",
            "how has … done",
            "how is … doing lately",
        ),
        nouns=(
            "runs",
            "test runs",
            "runs created",
            "runs started",
            "runs made",
            "run history",
            "history",
            "recent runs",
            "running tests",
            "tests running",
            "active tests",
            "failed tests",
            "failing tests",
            "tests failed",
            "tests failing",
            "aborted tests",
            "passed tests",
            "tests passed",
            "ran",
        ),
        examples={
            "list runs": {},
            "runs of orders soak test": {"load_test": "orders soak test"},
            "failed runs of checkout spike": {"load_test": "checkout spike", "result": ["failed"]},
            "failed runs in payments": {"project": "payments", "result": ["failed"]},
            "last 5 runs of checkout spike": {"load_test": "checkout spike", "limit": 5},
            "what's running?": {"status": ["active"]},
            "starred runs": {"starred": True},
        },
        answers=LIST_ANSWERS,
        template="list runs[ {status}][ {result}][ of {load_test}][ in {project}]",
    ),
    description="""
    List test runs, newest first, of one load test or all, filtered by project, state, result, date or star.
    """,
)
async def list_test_runs(ctx: OpContext, args: ListTestRunsInput) -> RunList:
    statuses = _statuses(args.status)
    results = {r.value for r in args.result} if args.result else None
    params: dict[str, Any] = {"created_after": args.created_after, "created_before": args.created_before}
    if args.load_test is not None:
        path = f"/cloud/v6/load_tests/{args.load_test}/test_runs"
        if args.starred is not None:
            params["is_starred"] = args.starred
        can_order = True
    else:
        path = RUNS
        can_order = False
    names = {t.id: t.name for t in await ctx.catalog.load_tests()} if args.load_test is None else {}
    now = datetime.now(UTC)
    # Unfiltered, one page of limit runs, whose @nextLink/@count says whether more follow; client-side filters
    # read wider pages.
    filtered = (
        statuses is not None
        or results is not None
        or args.project is not None
        or (args.starred is not None and not can_order)
    )
    window = min(1000, max(100, args.limit * 2)) if filtered else min(1000, args.limit)
    items: list[RunSummary] = []
    scanned = 0
    resume: dict[str, Any] | None = None
    more = False
    scan = RunScan()
    cursor = decode_cursor(args.cursor)
    runs = newest_first(ctx, ListedRun, path, params, can_order=can_order, window=window, state=cursor, scan=scan)
    async for run, after in runs:
        keep = (
            (statuses is None or run.status in statuses)
            and (results is None or run.result in results)
            and (args.starred is None or run.is_starred == args.starred)
            and (args.project is None or run.project_id == args.project)
        )
        if scanned >= MAX_SCAN or (keep and len(items) >= args.limit):
            more = True
            break
        scanned += 1
        resume = after
        if keep:
            name = ctx.facts.get("load_test_name") if args.load_test is not None else names.get(run.test_id)
            items.append(RunSummary.from_run(run, name, now=now))
            if not filtered and len(items) >= args.limit:
                more = not scan.last
                break
    await runs.aclose()
    return RunList(
        items=items,
        next_cursor=encode_cursor(resume) if more and resume is not None else None,
        load_test_id=args.load_test if isinstance(args.load_test, int) else None,
        load_test_name=ctx.facts.get("load_test_name"),
        scanned=scanned,
    )


# --------------------------------------------------------------------------- get / update


@operation(
    name="get_test_run",
    title="Get a test run",
    group="runs",
    safety=Safety.READ,
    idempotent=True,
    core=True,
    endpoints=[Endpoint("GET", "/cloud/v6/test_runs/{id}")],
    errors={404: NOT_FOUND},
    phrases=Phrases(
        verbs=(
            *SHOW,
            "status",
            "how is",
            "how's",
            "hows",
            "is",
            "did",
            "has",
            "was",
            "who",
            "when did",
            "how long did",
            "what happened to",
            "what happened",
            "what's going on with",
            "update on",
            "any update on",
            "any news on",
            "news on",
            "whats going on with",
            "what is going on with",
            "how is it going with",
            "where are we with",
            "where are we on",
            "where are we at with",
            "where is … at",
            "where's … at",
            "what happened with",
            "what's up with",
            "whats up with",
            "how'd",
            "what about",
            "how is … doing",
            "how did … go",
            "how'd … go",
            "how did it go with",
            "how's … doing",
            "hows … doing",
            "how is … going",
            "how's … going",
            "hows … going",
            "how … is doing",
            "how … is going",
            "how … is looking",
            "what's … up to",
            "whats … up to",
            "what is … up to",
            "how's … looking",
            "hows … looking",
            "how is … looking",
        ),
        nouns=("run", "test run", "status", "details", "state", "progress", "summary", "info", "link", "url"),
        examples={
            "status of run 1234": {"test_run_id": 1234},
            "show run 1234": {"test_run_id": 1234},
            "run 1234": {"test_run_id": 1234},
            "is 1234 done yet?": {"test_run_id": 1234},
            "who started run 1234": {"test_run_id": 1234},
        },
        answers=RUN_ANSWERS,
        template="show {test_run_id}",
        bare=True,
    ),
    description="""
    Get every detail of a test run: status history, result, cost, load zones, options, who started it, link.
    """,
)
async def get_test_run(ctx: OpContext, args: TestRunInput) -> TestRun:
    return await fetch_run(ctx, args.test_run_id)


class UpdateTestRunInput(InputModel):
    test_run_id: int = TEST_RUN_ID
    note: str = Field(max_length=10_000, description="'' clears it.")


@operation(
    name="update_test_run",
    title="Set a test run's note",
    group="runs",
    safety=Safety.WRITE,
    idempotent=True,
    endpoints=[Endpoint("PATCH", "/cloud/v6/test_runs/{id}")],
    errors={404: NOT_FOUND},
    phrases=Phrases(
        verbs=(
            "note",
            "annotate",
            "comment",
            "add a note",
            "add note",
            "set the note",
            "set note",
            "write",
            "leave a note",
            "leave a note on",
            "put a note on",
            "add a comment",
            "add a comment to",
            "comment on",
            "leave a comment on",
            "jot down",
        ),
        nouns=("note",),
        examples={
            "note run 1234: baseline after the cache fix": {
                "test_run_id": 1234,
                "note": "baseline after the cache fix",
            },
            'annotate 1234 "p95 regressed"': {"test_run_id": 1234, "note": "p95 regressed"},
        },
        template="note {test_run_id}: {note}",
    ),
    description="""
    Set the note of a test run (e.g. "baseline after the cache fix").
    """,
)
async def update_test_run(ctx: OpContext, args: UpdateTestRunInput) -> RunAction:
    await ctx.send("PATCH", run_path(args.test_run_id), json={"note": args.note}, idempotent=True)
    run = await fetch_run(ctx, args.test_run_id)
    message = f"Note of run {run.id} set." if args.note else f"Note of run {run.id} cleared."
    return RunAction(message=message, test_run=await summarize(ctx, run))


# --------------------------------------------------------------------------- abort / delete


def _abort_refusal(run: TestRun) -> NotAllowedNow:
    return NotAllowedNow(
        f"Run {run.id} is not running, so it cannot be aborted (it is {status_phrase(run.status, run.result)})."
    )


@operation(
    name="abort_test_run",
    title="Abort a test run",
    group="runs",
    safety=Safety.STOP,
    idempotent=True,
    destructive=True,
    core=True,
    endpoints=[Endpoint("POST", "/cloud/v6/test_runs/{id}/abort")],
    confirm="Abort test run {test_run_id} of '{load_test_name}' ({status_text})?",
    errors={
        404: NOT_FOUND,
        409: "Run {test_run_id} is not running, so it cannot be aborted.",
    },
    phrases=Phrases(
        verbs=(
            "abort",
            "stop",
            "cancel",
            "kill",
            "halt",
            "terminate",
            "end",
            "interrupt",
            "shut down",
            "pull the plug on",
        ),
        nouns=("run", "test run", "test", "tests", "runs"),
        examples={
            "abort run 1234": {"test_run_id": 1234},
            "stop 1234": {"test_run_id": 1234},
            "cancel #1234": {"test_run_id": 1234},
        },
        template="abort {test_run_id}",
    ),
    description="""
    Abort an unfinished test run, keeping its results so far. Cannot be undone.
    """,
)
async def abort_test_run(ctx: OpContext, args: TestRunInput) -> RunAction:
    try:
        await ctx.send("POST", run_path(args.test_run_id, "/abort"), idempotent=True)
    except ApiError as exc:
        # A retried abort whose first attempt went through meets 409: the run is aborted, which is what we wanted.
        if exc.status != 409 or exc.attempts < 2:
            raise
        if (await fetch_run(ctx, args.test_run_id)).status != "aborted":
            raise
    run = await fetch_run(ctx, args.test_run_id)
    name = ctx.facts.get("load_test_name") or await ctx.catalog.display_name(run.test_id)
    return RunAction(message=f"Run {run.id} of '{name}' aborted.", test_run=RunSummary.from_run(run, name))


@abort_test_run.preview
async def _preview_abort(ctx: OpContext, args: TestRunInput) -> Preview:
    run = await remember_run(ctx, args.test_run_id)
    if not run.is_abortable:
        raise _abort_refusal(run)
    notes = [f"Status: {status_phrase(run.status, run.result)}"]
    elapsed = run.duration_seconds()
    if elapsed is not None:
        expected = f" of ~{human_duration(run.estimated_duration)}" if run.estimated_duration else ""
        notes.append(f"Running for {human_duration(elapsed)}{expected}")
    if run.max_vus:
        notes.append(f"{run.max_vus} VUs")
    if run.started_by:
        notes.append(f"Started by {run.started_by}")
    return Preview(notes=notes)


@abort_test_run.check
async def _check_abort(ctx: OpContext, args: TestRunInput) -> None:
    run = await remember_run(ctx, args.test_run_id)
    if not run.is_abortable:
        raise _abort_refusal(run)


@operation(
    name="delete_test_run",
    title="Delete a test run",
    group="runs",
    safety=Safety.ADMIN,
    idempotent=True,
    destructive=True,
    endpoints=[Endpoint("DELETE", "/cloud/v6/test_runs/{id}")],
    confirm="Delete test run {test_run_id} of '{load_test_name}' ({status_text}) and all its results?",
    errors={404: NOT_FOUND, 409: "Run {test_run_id} is still running; abort it before deleting it."},
    phrases=Phrases(
        verbs=DELETE,
        nouns=(
            "run",
            "test run",
            "runs",
            "results of run",
            "for good",
            "permanently",
            "forever",
        ),
        examples={"delete run 1234": {"test_run_id": 1234}, "remove test run #1234": {"test_run_id": 1234}},
        template="delete {test_run_id}",
    ),
    description="""
    Delete a finished test run with its results and metrics, for good.
    """,
)
async def delete_test_run(ctx: OpContext, args: TestRunInput) -> Done:
    await ctx.send("DELETE", run_path(args.test_run_id), idempotent=True)
    return Done(message=f"Run {args.test_run_id} deleted.", id=args.test_run_id)


@delete_test_run.preview
async def _preview_delete_run(ctx: OpContext, args: TestRunInput) -> Preview:
    run = await remember_run(ctx, args.test_run_id)
    _refuse_unfinished(run)
    notes = ["Its results and metrics are deleted for good."]
    if run.is_starred or run.retention_expiry is None:
        notes.append("This run is starred/saved.")
    return Preview(notes=notes)


@delete_test_run.check
async def _check_delete_run(ctx: OpContext, args: TestRunInput) -> None:
    _refuse_unfinished(await remember_run(ctx, args.test_run_id))


def _refuse_unfinished(run: TestRun) -> None:
    if not run.is_finished:
        raise NotAllowedNow(f"Run {run.id} is still {run.status.replace('_', ' ')}; abort it before deleting it.")


# --------------------------------------------------------------------------- distribution / script


@operation(
    name="get_test_run_distribution",
    title="Get a test run's load generators",
    group="runs",
    safety=Safety.READ,
    idempotent=True,
    endpoints=[Endpoint("GET", "/cloud/v6/test_runs/{id}/distribution")],
    errors={404: "Test run {test_run_id} not found, or it has no distribution data yet."},
    phrases=Phrases(
        verbs=(
            *SHOW,
            "where did",
            "where is",
            "which",
            "where did",
            "where does",
            "which load zones did … use",
            "which zones did … use",
            "what load zones did … use",
            "what zones did … use",
            "which regions did … use",
            "which load zones did … run in",
            "which zones did … run in",
            "what load zones did … run in",
            "what zones did … run in",
            "which regions did … run in",
            "which load zones did … run from",
            "which zones did … run from",
            "where did … run",
            "what load zones did … run from",
            "what zones did … run from",
            "where did … run from",
        ),
        nouns=(
            "distribution",
            "load generators",
            "generators",
            "ips",
            "ip addresses",
            "nodes",
            "load zones of run",
            "where it ran",
            "instances",
            "ip",
            "ip addresses",
            "load zone distribution",
            "generate load",
            "generated load",
            "generating load",
            "run",
            "test run",
            "on load zones",
            "over load zones",
            "across load zones",
            "ip adresses",
            "ips used",
            "adresses",
        ),
        examples={"load generators of run 1234": {"test_run_id": 1234}, "ips of run 1234": {"test_run_id": 1234}},
        template="show load generators of {test_run_id}",
    ),
    description="""
    Get how a run's load is spread over load zones and generator nodes (shares, sizes, public IPs).
    """,
)
async def get_test_run_distribution(ctx: OpContext, args: TestRunInput) -> TestRunDistribution:
    return await ctx.get(TestRunDistribution, run_path(args.test_run_id, "/distribution"))


def script_file(content: bytes, content_type: str, **owner: Any) -> ScriptFile:
    import base64

    is_archive = "tar" in content_type or content[257:262] == b"ustar"
    if is_archive:
        return ScriptFile(
            content_type=content_type,
            is_archive=True,
            size_bytes=len(content),
            archive_base64=base64.b64encode(content).decode(),
            **owner,
        )
    return ScriptFile(
        content_type=content_type,
        is_archive=False,
        size_bytes=len(content),
        script=content.decode("utf-8", errors="replace"),
        **owner,
    )


@operation(
    name="get_test_run_script",
    title="Get the script a test run ran",
    group="runs",
    safety=Safety.READ,
    idempotent=True,
    endpoints=[Endpoint("GET", "/cloud/v6/test_runs/{id}/script")],
    errors={404: NOT_FOUND},
    phrases=Phrases(
        verbs=(*SHOW, "which"),
        nouns=(
            "script",
            "code",
            "source",
            "scripts",
            "run",
            "test run script",
            "run script",
            "ran",
            "executed by",
            "used by",
            "ran by",
            "that ran",
            "executed",
        ),
        examples={
            "show script of run 1234": {"test_run_id": 1234},
            "get the script of run 1234": {"test_run_id": 1234},
        },
        template="show script of {test_run_id}",
    ),
    description="""
    Get the exact script (JavaScript, or a .tar archive as base64) a test run executed.
    """,
)
async def get_test_run_script(ctx: OpContext, args: TestRunInput) -> ScriptFile:
    response = await ctx.send(
        "GET",
        run_path(args.test_run_id, "/script"),
        idempotent=True,
        accept="text/javascript, application/x-tar",
    )
    content_type = response.headers.get("content-type", "application/octet-stream").split(";")[0]
    return script_file(response.content, content_type, test_run_id=args.test_run_id)


# --------------------------------------------------------------------------- save / star


async def _toggle(ctx: OpContext, args: TestRunInput, action: str, message: str) -> RunAction:
    await ctx.send("POST", run_path(args.test_run_id, f"/{action}"), idempotent=True)
    run = await fetch_run(ctx, args.test_run_id)
    return RunAction(message=message.format(id=run.id), test_run=await summarize(ctx, run))


@operation(
    name="save_test_run",
    title="Save a test run's results",
    group="runs",
    safety=Safety.WRITE,
    idempotent=True,
    endpoints=[Endpoint("POST", "/cloud/v6/test_runs/{id}/save")],
    errors={
        404: NOT_FOUND,
        409: "Run {test_run_id} cannot be saved: its results were already deleted, or the limit of saved runs is reached.",
    },
    deprecated="k6 Cloud removes save on 2026-09-01 (star_test_run does not extend retention).",
    phrases=Phrases(
        verbs=("save", "keep", "retain", "preserve"),
        nouns=(
            "run",
            "results",
            "test run",
            "past retention",
            "forever",
            "beyond retention",
            "retention",
        ),
        examples={"save run 1234": {"test_run_id": 1234}, "keep the results of run 1234": {"test_run_id": 1234}},
        template="save {test_run_id}",
    ),
    description="""
    Keep a test run's results past retention.
    """,
)
async def save_test_run(ctx: OpContext, args: TestRunInput) -> RunAction:
    try:
        return await _toggle(ctx, args, "save", "Run {id} saved: its results are kept past retention.")
    except NotFound:
        await _endpoint_gone_if_run_exists(ctx, args.test_run_id, "save")
        raise


@operation(
    name="unsave_test_run",
    title="Unsave a test run's results",
    group="runs",
    safety=Safety.WRITE,
    idempotent=True,
    endpoints=[Endpoint("POST", "/cloud/v6/test_runs/{id}/unsave")],
    errors={404: NOT_FOUND},
    deprecated="k6 Cloud removes unsave on 2026-09-01.",
    phrases=Phrases(
        verbs=("unsave", "stop keeping", "don't keep", "forget"),
        nouns=(
            "run",
            "results",
            "test run",
            "forever",
            "past retention",
        ),
        examples={"unsave run 1234": {"test_run_id": 1234}},
        template="unsave {test_run_id}",
    ),
    description="""
    Stop keeping a saved test run past retention.
    """,
)
async def unsave_test_run(ctx: OpContext, args: TestRunInput) -> RunAction:
    try:
        return await _toggle(ctx, args, "unsave", "Run {id} unsaved: its results follow the normal retention again.")
    except NotFound:
        await _endpoint_gone_if_run_exists(ctx, args.test_run_id, "unsave")
        raise


async def _endpoint_gone_if_run_exists(ctx: OpContext, test_run_id: int, action: str) -> None:
    """save/unsave were scheduled for removal: a 404 for a run that exists means the endpoint is gone."""
    try:
        await fetch_run(ctx, test_run_id)
    except NotFound:
        return
    replacement = "star_test_run" if action == "save" else "unstar_test_run"
    raise NotAllowedNow(
        f"k6 Cloud no longer offers to {action} runs (the endpoint was removed); use {replacement} instead."
    )


@operation(
    name="star_test_run",
    title="Star a test run",
    group="runs",
    safety=Safety.WRITE,
    idempotent=True,
    endpoints=[Endpoint("POST", "/cloud/v6/test_runs/{id}/star")],
    errors={404: NOT_FOUND},
    phrases=Phrases(
        verbs=("star", "favourite", "favorite", "bookmark", "pin", "mark"),
        nouns=(
            "run",
            "test run",
            "with star",
            "with a star",
            "star",
        ),
        examples={"star run 1234": {"test_run_id": 1234}, "favourite 1234": {"test_run_id": 1234}},
        template="star {test_run_id}",
    ),
    description="""
    Star a test run to find it quickly (it does not extend retention).
    """,
)
async def star_test_run(ctx: OpContext, args: TestRunInput) -> RunAction:
    return await _toggle(ctx, args, "star", "Run {id} starred.")


@operation(
    name="unstar_test_run",
    title="Unstar a test run",
    group="runs",
    safety=Safety.WRITE,
    idempotent=True,
    endpoints=[Endpoint("POST", "/cloud/v6/test_runs/{id}/unstar")],
    errors={404: NOT_FOUND},
    phrases=Phrases(
        verbs=("unstar", "unfavourite", "unfavorite", "unpin", "unbookmark", "remove the star from", "unmark"),
        nouns=("run", "test run"),
        examples={"unstar run 1234": {"test_run_id": 1234}},
        template="unstar {test_run_id}",
    ),
    description="""
    Remove the star from a test run.
    """,
)
async def unstar_test_run(ctx: OpContext, args: TestRunInput) -> RunAction:
    return await _toggle(ctx, args, "unstar", "Run {id} unstarred.")


# --------------------------------------------------------------------------- wait


class WaitInput(InputModel):
    test_run_id: int = TEST_RUN_ID
    timeout_seconds: float = Field(
        default=1800,
        ge=1,
        le=24 * 3600,
        description="Give up waiting after this many seconds.",
    )
    poll_seconds: float = Field(default=5, ge=0.5, le=300, description="Seconds between checks.")


TRANSIENT_FAILURES_TOLERATED = 3


@operation(
    name="wait_for_test_run",
    title="Wait for a test run to finish",
    group="runs",
    safety=Safety.READ,
    idempotent=True,
    core=True,
    endpoints=[Endpoint("GET", "/cloud/v6/test_runs/{id}")],
    errors={404: NOT_FOUND},
    # "wait for / until …" blocks until the run ends; "tell me / let me know when … is done" is the bot's watch
    # command (told later, in Slack; bot/router/commands.py): the verb says which one is meant.
    phrases=Phrases(
        verbs=(
            "wait for",
            "wait until",
            "wait on",
            "block until",
            "await",
            "wait",
            "hang on until",
            "hold on until",
            "hold until",
            "hold on till",
            "wait till",
        ),
        nouns=(
            "finishes",
            "is done",
            "to finish",
            "done",
            "completes",
            "finished",
            "ends",
            "finish",
            "till it finishes",
            "until it finishes",
            "until it is done",
            "till it is done",
            "run",
            "test run",
        ),
        examples={
            "wait for run 1234": {"test_run_id": 1234},
            "wait for 1234 for 10 minutes": {"test_run_id": 1234, "timeout_seconds": 600.0},
        },
        template="wait for {test_run_id}",
    ),
    description="""
    Wait for a test run to complete or abort, reporting progress; returns its result, duration, VUH, abort reason
    and link (on timeout: where it stands).
    """,
)
async def wait_for_test_run(ctx: OpContext, args: WaitInput) -> RunReport:
    loop = asyncio.get_running_loop()
    started = loop.time()
    deadline = started + args.timeout_seconds
    name: str | None = None
    last: RunSummary | None = None
    failures = 0
    while True:
        try:
            async with asyncio.timeout_at(deadline + DEADLINE_GRACE):  # no API call outlives the wait
                run = await fetch_run(ctx, args.test_run_id)
            failures = 0
        except TimeoutError:
            return _still_going(last, loop.time() - started, args, trouble=True)
        except (ApiUnavailable, ApiError) as exc:
            transient = isinstance(exc, ApiUnavailable) or exc.status == 429 or exc.status >= 500
            failures += 1
            if not transient or failures > TRANSIENT_FAILURES_TOLERATED:
                raise
            if loop.time() >= deadline:
                if last is None:
                    raise
                return _still_going(last, loop.time() - started, args, trouble=True)
            await asyncio.sleep(min(args.poll_seconds, max(0.0, deadline - loop.time())))
            continue
        if name is None:
            name = await ctx.catalog.display_name(run.test_id) or f"test {run.test_id}"
        waited = loop.time() - started
        last = summary = RunSummary.from_run(run, name)
        so_far = (
            f"{human_duration(summary.duration_seconds)} elapsed"
            if summary.duration_seconds is not None
            else "not started yet"
        )
        await ctx.report(
            min(waited, args.timeout_seconds),
            args.timeout_seconds,
            f"Run {run.id} ({name}): {status_phrase(run.status, run.result)}, {so_far}",
        )
        if run.is_finished:
            return RunReport(
                test_run=summary,
                finished=True,
                waited_seconds=round(waited, 3),
                message=_finished_message(summary),
            )
        if waited >= args.timeout_seconds:
            return _still_going(summary, waited, args)
        await asyncio.sleep(min(args.poll_seconds, max(0.0, deadline - loop.time())))


DEADLINE_GRACE = 1.0
"""Seconds an API call may run past the wait's timeout before the wait gives up on it."""


def _still_going(last: RunSummary | None, waited: float, args: WaitInput, *, trouble: bool = False) -> RunReport:
    if last is None:
        raise ApiUnavailable(f"k6 Cloud did not answer within the {human_duration(args.timeout_seconds)} wait.")
    why = " (k6 Cloud was not answering at the end)" if trouble else ""
    return RunReport(
        test_run=last,
        finished=False,
        timed_out=True,
        waited_seconds=round(waited, 3),
        message=(
            f"Stopped waiting after {human_duration(waited)}{why}: run {last.id} was last seen "
            f"{last.status.replace('_', ' ')}. It goes on; wait again to follow it."
        ),
    )


def _finished_message(summary: RunSummary) -> str:
    parts = [f"Run {summary.id} of {summary.test_name} finished: {status_phrase(summary.status, summary.result)}"]
    if summary.abort_reason:
        parts.append(summary.abort_reason)
    if summary.duration_seconds is not None:
        parts.append(f"ran {human_duration(summary.duration_seconds)}")
    if summary.vuh is not None:
        parts.append(vuh_text(summary.vuh))
    return ", ".join(parts) + "."


# --------------------------------------------------------------------------- metrics (v5)

METRIC_QUERIES: dict[str, tuple[str, str]] = {
    "p95": ("histogram_quantile(0.95)", "http_req_duration"),
    "p99": ("histogram_quantile(0.99)", "http_req_duration"),
    "rate": ("rate", "http_reqs"),
    "failed": ("ratio", "http_req_failed"),
    "checks": ("ratio by (check)", "checks"),
}


def aggregate_path(test_run_id: int, query: str, metric: str) -> str:
    return f"/cloud/v5/test_runs/{test_run_id}/query_aggregate_k6(query='{query}',metric='{metric}')"


FIGURE_NAMES = {"p95": "p95", "p99": "p99", "rate": "request_rate", "failed": "error_rate", "checks": "check_rate"}
"""METRIC_QUERIES' keys → the figure names tools/analysis/compare.py judges by direction."""


def check_rate(rates: Sequence[float]) -> float | None:
    """The check rate compare_test_runs and investigate_test_run state: the mean of the checks' pass rates."""
    return round(sum(rates) / len(rates), 4) if rates else None


def multi_run_path(test_id: int, query: str, metric: str, run_ids: list[int]) -> str:
    """The v5 query over several finished runs of one load test, in one request (series labelled test_run_id)."""
    ids = ",".join(map(str, run_ids))
    arguments = f"query={quote_argument(query)},metric={quote_argument(metric)},test_run_ids=[{ids}]"
    return f"/cloud/v5/load_tests/{test_id}/query_aggregate_k6({arguments})"


async def previous_completed_run(ctx: OpContext, run: TestRun) -> int | None:
    """The latest completed run of the same test created before ``run``; None when there is none."""
    path = f"/cloud/v6/load_tests/{run.test_id}/test_runs"
    async for other, _ in newest_first(ctx, TestRun, path, {}, can_order=True, window=50, state={}):
        if other.id != run.id and other.created < run.created and other.status == "completed":
            return other.id
    return None


@dataclass(frozen=True)
class Reference:
    """The run another is compared with (:func:`reference_run`): its id (None when there is none), ``baseline`` or
    ``previous``, why the baseline was passed over (``note``), and the API requests it took to decide."""

    id: int | None
    kind: str
    note: str | None
    requests: int


async def reference_run(ctx: OpContext, run: TestRun, *, insist: bool = False) -> Reference:
    """Its load test's baseline, unless that is ``run`` itself or no longer exists (deleted: the test still names
    it), else the latest completed run before ``run``. ``insist``: the baseline or :class:`InvalidInput`."""
    test = await ctx.get(LoadTest, f"/cloud/v6/load_tests/{run.test_id}")
    baseline, note = test.baseline_test_run_id, None
    if baseline is not None and baseline != run.id:
        try:
            await fetch_run(ctx, baseline)
            return Reference(baseline, "baseline", None, 2)
        except NotFound:
            note = f"the baseline #{baseline} of '{test.name}' no longer exists"
    if insist:
        why = note or f"the baseline of '{test.name}' " + ("is that run itself" if baseline == run.id else "is not set")
        raise InvalidInput(f"{why[0].upper()}{why[1:]}; compare with 'previous' or a run id.")
    return Reference(await previous_completed_run(ctx, run), "previous", note, 3 if note else 2)


@operation(
    name="get_test_run_metrics",
    title="Get a test run's headline metrics",
    group="runs",
    safety=Safety.READ,
    idempotent=True,
    endpoints=[Endpoint("GET", "/cloud/v5/test_runs/{id}/query_aggregate_k6", api="v5")],
    errors={404: NOT_FOUND},
    phrases=Phrases(
        verbs=(*SHOW, "how did", "how fast", "how slow"),
        nouns=(
            "metrics",
            "check pass rate",
            "pass rate",
            "checks",
            "numbers",
            "figures",
            "stats",
            "statistics",
            "results",
            "p95",
            "p99",
            "latency",
            "response time",
            "response times",
            "error rate",
            "http error rate",
            "http errors",
            "http failure rate",
            "failure rate",
            "errors",
            "request rate",
            "rps",
            "throughput",
            "checks",
            "check results",
            "performance",
            "http metrics",
            "run",
            "test run",
        ),
        examples={
            "metrics of run 1234": {"test_run_id": 1234},
            "what's the error rate on 1234?": {"test_run_id": 1234},
            "p95 of run 1234": {"test_run_id": 1234},
        },
        answers=METRIC_ANSWERS,
        template="metrics of {test_run_id}",
    ),
    description="""
    Get a run's p95 and p99 http_req_duration, request rate, failed-request share and check pass rates.
    """,
)
async def get_test_run_metrics(ctx: OpContext, args: TestRunInput) -> RunMetrics:
    async def query(key: str) -> MetricQueryResponse:
        q, metric = METRIC_QUERIES[key]
        return await ctx.get(MetricQueryResponse, aggregate_path(args.test_run_id, q, metric), api="v5")

    keys = list(METRIC_QUERIES)
    answers = dict(zip(keys, await asyncio.gather(*(query(k) for k in keys)), strict=True))

    def single(key: str) -> float | None:
        series = answers[key].data.result
        return series[0].last_value if series else None

    checks = [
        CheckResult(name=s.metric.get("check", "check"), pass_rate=value)
        for s in answers["checks"].data.result
        if (value := s.last_value) is not None
    ]
    return RunMetrics.of(
        args.test_run_id,
        p95_ms=single("p95"),
        p99_ms=single("p99"),
        rate=single("rate"),
        failed=single("failed"),
        checks=checks,
    )
