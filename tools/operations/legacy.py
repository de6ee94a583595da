"""The legacy v2 runs API (deprecated by Grafana; kept for what v6 does not offer, such as `public_id`)."""

from __future__ import annotations

from pydantic import Field

from tools.client import parse_model
from tools.errors import ApiError
from tools.models import LegacyRun, LegacyRunEnvelope, LegacyRunList, LegacyRunStatus
from tools.operations.common import TEST_RUN_ID, LoadTestInput, MaybeLoadTestRef, the_new_one
from tools.outputs import Output
from tools.phrasing import LIST, SHOW, Phrases
from tools.registry import Endpoint, Finder, InputModel, OpContext, Safety, operation

DEPRECATED = "v2 is no longer developed."
NOT_FOUND = "Test run {test_run_id} not found (legacy API)."


class LegacyRunResult(Output):
    message: str
    run: LegacyRun

    def text(self) -> str:
        r = self.run
        result = (
            {0: "passed", 1: "failed"}.get(-1 if r.result_status is None else r.result_status, "")
            if r.run_status == LegacyRunStatus.FINISHED
            else ""
        )
        return f"{self.message}\nRun {r.id} (test {r.test_id}): {r.run_status_name}{', ' + result if result else ''}."


class LegacyRuns(Output):
    items: list[LegacyRun]
    count: int | None = None

    def text(self) -> str:
        if not self.items:
            return "No runs."
        rows = [f"- run {r.id}: {r.run_status_name}, created {r.created}" for r in self.items]
        return "\n".join([f"{len(self.items)} run(s):", *rows])


class LegacyRunInput(InputModel):
    test_run_id: int = TEST_RUN_ID


@operation(
    name="legacy_start_load_test",
    title="Start a load test (legacy v2 API)",
    group="legacy",
    safety=Safety.RUN,
    idempotent=False,
    endpoints=[Endpoint("POST", "/loadtests/v2/tests/{id}/start-testrun", api="v2")],
    confirm="Start load test '{load_test_name}' (id {load_test_id}, project {project_id}) through the legacy v2 API?",
    errors={404: "Load test {load_test} not found."},
    deprecated=DEPRECATED,
    phrases=Phrases(
        verbs=("start", "run", "launch", "kick off", "trigger"),
        nouns=(
            "test",
            "load test",
            "v2",
            "legacy api",
            "v2 api",
            "api",
        ),
        requires=("legacy", "v2"),
        examples={"legacy start orders soak": {"load_test": "orders soak"}},
        template="legacy start {load_test}",
    ),
    description="""
    Start a load test via the legacy v2 API (never retried); costs VUH. Prefer start_load_test.
    """,
)
async def legacy_start_load_test(ctx: OpContext, args: LoadTestInput) -> LegacyRunResult:
    response = await ctx.send("POST", f"/loadtests/v2/tests/{args.load_test}/start-testrun", api="v2", idempotent=False)
    return _legacy_started(ctx, parse_model(LegacyRunEnvelope, response).run)


def _legacy_started(ctx: OpContext, run: LegacyRun) -> LegacyRunResult:
    return LegacyRunResult(message=f"Started '{ctx.facts.get('load_test_name')}': test run {run.id}.", run=run)


async def _legacy_runs(ctx: OpContext, load_test: int | str) -> list[LegacyRun]:
    return (await ctx.get(LegacyRunList, "/loadtests/v2/runs", params={"test_id": load_test}, api="v2")).runs


@legacy_start_load_test.reconcile("a run of load test '{load_test_name}'", "started")
async def _find_legacy_run(ctx: OpContext, args: LoadTestInput) -> Finder:
    """The v2 start has no idempotency key: a run of the test newer than the newest before is the one it made."""
    newest = max((r.id for r in await _legacy_runs(ctx, args.load_test)), default=0)

    async def find() -> LegacyRunResult | None:
        runs = [r for r in await _legacy_runs(ctx, args.load_test) if r.id > newest]
        run = the_new_one(runs, (), key=lambda r: r.id, what="runs")
        return None if run is None else _legacy_started(ctx, run)

    return find


@operation(
    name="legacy_get_test_run",
    title="Get a test run (legacy v2 API)",
    group="legacy",
    safety=Safety.READ,
    idempotent=True,
    endpoints=[Endpoint("GET", "/loadtests/v2/runs/{id}", api="v2")],
    errors={404: NOT_FOUND},
    deprecated=DEPRECATED,
    phrases=Phrases(
        verbs=SHOW,
        nouns=(
            "run",
            "status",
            "test run",
            "details",
            "info",
            "v2",
            "legacy api",
            "v2 api",
            "api",
        ),
        requires=("legacy", "v2"),
        examples={"legacy status of run 1234": {"test_run_id": 1234}},
        template="legacy status of {test_run_id}",
        bare=True,
    ),
    description="""
    Get a test run via the legacy v2 API (numeric run_status, result_status, processing_status).
    """,
)
async def legacy_get_test_run(ctx: OpContext, args: LegacyRunInput) -> LegacyRunResult:
    envelope = await ctx.get(LegacyRunEnvelope, f"/loadtests/v2/runs/{args.test_run_id}", api="v2")
    return LegacyRunResult(message=f"Run {envelope.run.id}.", run=envelope.run)


class LegacyListInput(InputModel):
    load_test: MaybeLoadTestRef = Field(default=None, description="Id or name.")
    test_run_ids: list[int] | None = Field(default=None, max_length=100, description="Only these run ids.")


@operation(
    name="legacy_list_test_runs",
    title="List a test's runs (legacy v2 API)",
    group="legacy",
    safety=Safety.READ,
    idempotent=True,
    endpoints=[Endpoint("GET", "/loadtests/v2/runs", api="v2")],
    errors={404: "Load test {load_test} not found."},
    deprecated=DEPRECATED,
    phrases=Phrases(
        verbs=LIST,
        nouns=(
            "runs",
            "test runs",
            "v2",
            "legacy api",
            "v2 api",
            "api",
        ),
        requires=("legacy", "v2"),
        examples={"legacy runs of orders soak": {"load_test": "orders soak"}},
        template="legacy runs of {load_test}",
    ),
    description="""
    List a load test's runs via the legacy v2 API.
    """,
)
async def legacy_list_test_runs(ctx: OpContext, args: LegacyListInput) -> LegacyRuns:
    params: dict[str, object] = {}
    if args.load_test is not None:
        params["test_id"] = args.load_test
    if args.test_run_ids:
        params["ids[]"] = args.test_run_ids
    listing = await ctx.get(LegacyRunList, "/loadtests/v2/runs", params=params, api="v2")
    return LegacyRuns(items=listing.runs, count=listing.meta.get("count"))


@operation(
    name="legacy_stop_test_run",
    title="Stop a test run (legacy v2 API)",
    group="legacy",
    safety=Safety.STOP,
    idempotent=True,
    destructive=True,
    endpoints=[Endpoint("POST", "/loadtests/v2/runs/{id}/stop", api="v2")],
    confirm="Stop test run {test_run_id} through the legacy v2 API?",
    errors={404: NOT_FOUND, 409: "Run {test_run_id} is not running, so it cannot be stopped."},
    deprecated=DEPRECATED,
    phrases=Phrases(
        verbs=("stop", "abort", "cancel", "kill", "halt"),
        nouns=(
            "run",
            "test run",
            "v2",
            "legacy api",
            "v2 api",
            "api",
        ),
        requires=("legacy", "v2"),
        examples={"legacy stop run 1234": {"test_run_id": 1234}},
        template="legacy stop {test_run_id}",
    ),
    description="""
    Stop a running test run via the legacy v2 API. Prefer abort_test_run.
    """,
)
async def legacy_stop_test_run(ctx: OpContext, args: LegacyRunInput) -> LegacyRunResult:
    try:
        await ctx.send("POST", f"/loadtests/v2/runs/{args.test_run_id}/stop", api="v2", idempotent=True)
    except ApiError as exc:
        # A retried stop whose first attempt went through meets 409: the run is stopped, as asked.
        if exc.status != 409 or exc.attempts < 2:
            raise
        stopped = await ctx.get(LegacyRunEnvelope, f"/loadtests/v2/runs/{args.test_run_id}", api="v2")
        if stopped.run.run_status != LegacyRunStatus.ABORTED_BY_USER:
            raise
    envelope = await ctx.get(LegacyRunEnvelope, f"/loadtests/v2/runs/{args.test_run_id}", api="v2")
    return LegacyRunResult(message=f"Run {args.test_run_id} stopped.", run=envelope.run)
