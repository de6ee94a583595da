"""Load test operations: find, list, inspect, create, change, move, delete, scripts, start, validate."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field, model_validator

from tools.client import parse_model
from tools.errors import (
    AmbiguousLoadTest,
    InvalidInput,
    K6BotError,
    NoMatchingLoadTest,
    NotAllowedNow,
    NotFound,
)
from tools.models import LoadTest, StartedTestRun, TestRun, ValidateOptionsResult
from tools.operations.common import (
    PROJECT_REF,
    Cursor,
    Limit,
    LoadTestInput,
    LoadTestRef,
    MaybeProjectRef,
    ProjectRef,
    the_new_one,
)
from tools.operations.test_runs import script_file
from tools.outputs import (
    Done,
    FoundTests,
    LoadTestList,
    LoadTestSummary,
    RunSummary,
    ScriptFile,
    StartedRun,
    TestMatch,
    decode_cursor,
    encode_cursor,
    human_duration,
    human_time,
    status_phrase,
    vuh_text,
)
from tools.phrasing import CREATE, DELETE, LIST, RENAME, SET, SHOW, Phrases, Say, Slot, Verb
from tools.registry import Endpoint, Finder, InputModel, OpContext, Preview, Safety, operation

TESTS = "/cloud/v6/load_tests"
NOT_FOUND = "Load test {load_test} not found."


def test_path(test_id: int | str, suffix: str = "") -> str:
    return f"{TESTS}/{test_id}{suffix}"


# --------------------------------------------------------------------------- find / list / get


class FindInput(InputModel):
    phrase: str = Field(min_length=1, max_length=300, description="Words naming the test.")
    project: MaybeProjectRef = None
    limit: int = Field(default=5, ge=1, le=50, description="Most candidates to return.")


@operation(
    name="find_load_tests",
    title="Find load tests by name",
    group="tests",
    safety=Safety.READ,
    idempotent=True,
    core=True,
    endpoints=[Endpoint("GET", "/cloud/v6/load_tests")],
    phrases=Phrases(
        verbs=(
            "find",
            "search",
            "search for",
            "look up",
            "lookup",
            "locate",
            "which test is",
            "is there a test",
            "search tests for",
            "search all tests for",
            "search all load tests for",
            "search through the tests for",
            "search load tests for",
            "search the tests for",
            "find tests for",
            "look for tests",
        ),
        nouns=(
            "tests about",
            "tests named",
            "tests called",
            "tests like",
            "tests matching",
            "test named",
            "test called",
            "in the name",
            "in its name",
            "in the title",
            "a test with",
            "test with",
            "tests with",
        ),
        examples={"find orders": {"phrase": "orders"}, "search for tests about checkout": {"phrase": "checkout"}},
        template="find {phrase}",
    ),
    description="""
    Find load tests whose names match a phrase ("orders soak"), best first, and whether one is a clear match.
    """,
)
async def find_load_tests(ctx: OpContext, args: FindInput) -> FoundTests:
    scope = args.project if isinstance(args.project, int) else None
    candidates = await ctx.catalog.find(args.phrase, project_id=scope, limit=args.limit)
    matches = [
        TestMatch(id=c.id, name=c.name, project_id=c.project_id, project_name=c.project_name, score=c.score)
        for c in candidates
    ]
    best: TestMatch | None = None
    ambiguous = False
    try:
        chosen = await ctx.catalog.resolve(args.phrase, project_id=scope)
        best = next((m for m in matches if m.id == chosen.id), None) or TestMatch(
            id=chosen.id, name=chosen.name, project_id=chosen.project_id, score=100.0
        )
    except AmbiguousLoadTest:
        ambiguous = True
    except NoMatchingLoadTest:
        pass
    return FoundTests(phrase=args.phrase, matches=matches, best=best, ambiguous=ambiguous)


class ListLoadTestsInput(InputModel):
    project: MaybeProjectRef = None
    name: Annotated[str | None, Say(Slot.VALUE)] = Field(
        default=None, max_length=300, description="Only the test of exactly this name."
    )
    order_by: str = Field(
        default="name",
        pattern=r"^(id|project_id|name|created|updated)( desc)?$",
        description="Sort field, optionally + ' desc'.",
    )
    limit: Limit = 20
    cursor: Cursor = None


@operation(
    name="list_load_tests",
    title="List load tests",
    group="tests",
    safety=Safety.READ,
    idempotent=True,
    core=True,
    endpoints=[
        Endpoint("GET", "/cloud/v6/load_tests"),
        Endpoint("GET", "/cloud/v6/projects/{id}/load_tests"),
    ],
    errors={404: "Project {project} not found."},
    phrases=Phrases(
        verbs=(*LIST, "what", "which"),
        nouns=(
            "tests",
            "load tests",
            "k6 tests",
            "all tests",
            "tests do we have",
            "tests are there",
            "load tests do we have",
            "tests we have",
            "load tests we have",
            "tests have we got",
            "load tests have we got",
        ),
        examples={
            "list tests": {},
            "list tests in payments": {"project": "payments"},
            "tests in project 78": {"project": 78},
        },
        template="list tests[ in {project}]",
    ),
    description="""
    List load tests of one project or all (id, name, project).
    """,
)
async def list_load_tests(ctx: OpContext, args: ListLoadTestsInput) -> LoadTestList:
    skip = int(decode_cursor(args.cursor).get("skip", 0))
    path = f"/cloud/v6/projects/{args.project}/load_tests" if args.project is not None else TESTS
    params = {"$top": args.limit, "$skip": skip, "$count": True, "$orderby": args.order_by, "name": args.name}
    page = await ctx.client.get_page(LoadTest, path, params)
    names = await ctx.catalog.display_project_names()
    next_cursor = encode_cursor({"skip": skip + len(page.value)}) if page.next_link and page.value else None
    return LoadTestList(
        items=[LoadTestSummary.from_test(t, names.get(t.project_id)) for t in page.value],
        next_cursor=next_cursor,
        total=page.count,
        project_id=args.project if isinstance(args.project, int) else None,
        project_name=ctx.facts.get("project_name"),
    )


@operation(
    name="get_load_test",
    title="Get a load test",
    group="tests",
    safety=Safety.READ,
    idempotent=True,
    endpoints=[Endpoint("GET", "/cloud/v6/load_tests/{id}")],
    phrases=Phrases(
        verbs=SHOW,
        nouns=(
            "test",
            "load test",
            "test details",
            "baseline",
            "details",
            "info",
            "information",
            "loadtest",
            "which project",
            "what project",
            "in which project",
        ),
        examples={
            "show test orders soak": {"load_test": "orders soak"},
            "describe test 501": {"load_test": 501},
        },
        template="show test {load_test}",
        bare=True,
    ),
    description="""
    Get a load test: id, name, project, baseline run, dates.
    """,
)
async def get_load_test(ctx: OpContext, args: LoadTestInput) -> LoadTest:
    # Always read it now: resolution may come from the catalog's cache, and a "show" must not be stale.
    resolved = ctx.resolved.get("load_test")
    test_id = resolved.id if isinstance(resolved, LoadTest) else args.load_test
    try:
        return await ctx.get(LoadTest, test_path(test_id))
    except NotFound:
        ctx.catalog.invalidate()
        raise NoMatchingLoadTest(f"No load test with id {test_id}.", phrase=str(args.load_test)) from None


# --------------------------------------------------------------------------- create / update / move / delete


class CreateLoadTestInput(InputModel):
    project: ProjectRef
    name: str = Field(min_length=1, max_length=300, description="Unique in the project.")
    script: Annotated[str | None, Say(Slot.NOTE)] = Field(
        default=None, max_length=5_000_000, description="k6 JavaScript source."
    )
    k6_version: int | None = Field(default=None, description="Major k6 version the test needs.")


@operation(
    name="create_load_test",
    title="Create a load test",
    group="tests",
    safety=Safety.ADMIN,
    idempotent=False,
    endpoints=[Endpoint("POST", "/cloud/v6/projects/{id}/load_tests")],
    confirm="Create load test '{name}' in project '{project_name}' (id {project_id})?",
    errors={
        404: "Project {project} not found.",
        409: "Project '{project_name}' already has a load test named '{name}'.",
        400: "k6 Cloud refused the new test '{name}': {api_message}.",
    },
    phrases=Phrases(
        verbs=CREATE,
        nouns=(
            "test",
            "load test",
            "loadtest",
        ),
        examples={'create test "Orders v3" in payments': {"name": "Orders v3", "project": "payments"}},
        template='create test "{name}" in {project}',
        needs_noun=True,
    ),
    description="""
    Create a load test in a project from a k6 script.
    """,
)
async def create_load_test(ctx: OpContext, args: CreateLoadTestInput) -> LoadTest:
    files: dict[str, Any] = {"name": (None, args.name)}
    if args.script is not None:
        files["script"] = ("script.js", args.script.encode(), "application/javascript")
    if args.k6_version is not None:
        files["k6_version"] = (None, str(args.k6_version))
    return await ctx.send_model(
        LoadTest, "POST", f"/cloud/v6/projects/{args.project}/load_tests", idempotent=False, files=files
    )


async def _tests_named(ctx: OpContext, project: int | str, name: str) -> list[LoadTest]:
    path = f"/cloud/v6/projects/{project}/load_tests"
    return [t async for t in ctx.client.paginate(LoadTest, path, {"name": name}) if t.name == name]


@create_load_test.reconcile("load test '{name}' in project '{project_name}'", "created")
async def _find_created_test(ctx: OpContext, args: CreateLoadTestInput) -> Finder:
    """Names are unique in a project: a test of that name that was not there before is the one created."""
    before = {t.id for t in await _tests_named(ctx, args.project, args.name)}

    async def find() -> LoadTest | None:
        found = await _tests_named(ctx, args.project, args.name)
        return the_new_one(found, before, key=lambda t: t.id, what="load tests")

    return find


class UpdateLoadTestInput(InputModel):
    load_test: LoadTestRef
    name: str | None = Field(default=None, min_length=1, max_length=300, description="New name.")
    baseline_test_run_id: Annotated[int | None, Say(Slot.RUN, before=("to", "as", None))] = Field(
        default=None, ge=1, description="Run to compare others against."
    )
    clear_baseline: Annotated[
        bool,
        Say(Slot.FLAG, words=("clear baseline", "remove baseline", "unset baseline", "no baseline", "drop baseline")),
    ] = Field(default=False, description="Remove the baseline run.")
    k6_version: int | None = Field(default=None, description="Major k6 version the test needs.")

    @model_validator(mode="after")
    def _something_to_change(self) -> UpdateLoadTestInput:
        if (
            self.name is None
            and self.baseline_test_run_id is None
            and not self.clear_baseline
            and self.k6_version is None
        ):
            raise ValueError("give at least one of name, baseline_test_run_id, clear_baseline, k6_version")
        if self.clear_baseline and self.baseline_test_run_id is not None:
            raise ValueError("baseline_test_run_id and clear_baseline contradict each other")
        return self


def _update_confirmation(values: Mapping[str, Any]) -> str:
    changes = []
    if values.get("name"):
        changes.append(f"rename it to '{values['name']}'")
    if values.get("baseline_test_run_id"):
        changes.append(f"set run {values['baseline_test_run_id']} as its baseline")
    if values.get("clear_baseline"):
        changes.append("remove its baseline")
    if values.get("k6_version") is not None:
        changes.append(f"require k6 v{values['k6_version']}")
    return f"Change load test '{values.get('load_test_name')}' (id {values.get('load_test_id')}): {', '.join(changes)}?"


@operation(
    name="update_load_test",
    title="Change a load test",
    group="tests",
    safety=Safety.ADMIN,
    idempotent=True,
    endpoints=[Endpoint("PATCH", "/cloud/v6/load_tests/{id}")],
    confirm=_update_confirmation,
    errors={404: NOT_FOUND, 409: "Another load test in this project is already named '{name}'."},
    phrases=Phrases(
        verbs=(*RENAME, *SET, "clear", "unset", "make", "use"),
        nouns=(
            "test",
            "load test",
            "baseline",
            "baseline run",
            "k6 version",
            "loadtest",
            "name",
        ),
        examples={
            "rename test orders smoke to Orders Smoke v2": {"load_test": "orders smoke", "name": "Orders Smoke v2"},
            "set the baseline of orders soak to run 1211": {"load_test": "orders soak", "baseline_test_run_id": 1211},
            "clear the baseline of orders soak": {"load_test": "orders soak", "clear_baseline": True},
        },
        template=(
            "rename test {load_test} to {name}",
            "set the baseline of {load_test} to {baseline_test_run_id}",
            "clear the baseline of {load_test}",
        ),
    ),
    description="""
    Rename a load test, set or clear its baseline run, or set its k6 version.
    """,
)
async def update_load_test(ctx: OpContext, args: UpdateLoadTestInput) -> LoadTest:
    body: dict[str, Any] = {}
    if args.name is not None:
        body["name"] = args.name
    if args.baseline_test_run_id is not None:
        body["baseline_test_run_id"] = args.baseline_test_run_id
    if args.clear_baseline:
        body["baseline_test_run_id"] = None
    if args.k6_version is not None:
        body["k6_version"] = args.k6_version
    await ctx.send("PATCH", test_path(args.load_test), json=body, idempotent=True)
    return await ctx.get(LoadTest, test_path(args.load_test))


class MoveLoadTestInput(InputModel):
    load_test: LoadTestRef
    to_project: ProjectRef = Field(description=PROJECT_REF)


@operation(
    name="move_load_test",
    title="Move a load test to another project",
    group="tests",
    safety=Safety.ADMIN,
    idempotent=True,
    endpoints=[Endpoint("PUT", "/cloud/v6/load_tests/{id}/move")],
    confirm="Move load test '{load_test_name}' (id {load_test_id}) and all its runs to project "
    "'{to_project_name}' (id {to_project_id})?",
    errors={
        404: "Load test {load_test} or project {to_project} not found.",
        409: "Project '{to_project_name}' already has a load test named '{load_test_name}'.",
    },
    phrases=Phrases(
        verbs=("move", "transfer", "relocate", "move … over", "shift … over", "transfer … over"),
        nouns=(
            "test",
            "load test",
            "loadtest",
        ),
        examples={"move orders smoke to payments": {"load_test": "orders smoke", "to_project": "payments"}},
        template="move {load_test} to {to_project}",
    ),
    description="""
    Move a load test, with its runs, to another project.
    """,
)
async def move_load_test(ctx: OpContext, args: MoveLoadTestInput) -> LoadTest:
    await ctx.send("PUT", test_path(args.load_test, "/move"), json={"project_id": args.to_project}, idempotent=True)
    return await ctx.get(LoadTest, test_path(args.load_test))


@operation(
    name="delete_load_test",
    title="Delete a load test",
    group="tests",
    safety=Safety.ADMIN,
    idempotent=True,
    destructive=True,
    endpoints=[Endpoint("DELETE", "/cloud/v6/load_tests/{id}")],
    confirm="Delete load test '{load_test_name}' (id {load_test_id}) with all its runs and results?",
    errors={
        404: NOT_FOUND,
        409: "'{load_test_name}' has a run in progress; abort it before deleting the test.",
    },
    phrases=Phrases(
        verbs=DELETE,
        nouns=(
            "test",
            "load test",
            "tests",
            "for good",
            "permanently",
            "forever",
            "loadtest",
        ),
        examples={
            "delete test orders smoke": {"load_test": "orders smoke"},
            "remove load test 502": {"load_test": 502},
        },
        template="delete test {load_test}",
    ),
    description="""
    Delete a load test with its script, runs and results, for good (not while it runs).
    """,
)
async def delete_load_test(ctx: OpContext, args: LoadTestInput) -> Done:
    await ctx.send("DELETE", test_path(args.load_test), idempotent=True)
    return Done(
        message=f"Load test '{ctx.facts.get('load_test_name')}' (id {args.load_test}) deleted.",
        id=args.load_test,
    )


@delete_load_test.preview
async def _preview_delete_test(ctx: OpContext, args: LoadTestInput) -> Preview:
    page = await ctx.client.get_page(
        TestRun, test_path(args.load_test, "/test_runs"), {"$count": True, "$top": 50, "$orderby": "created desc"}
    )
    _refuse_when_running(ctx, page.value)
    count = page.count if page.count is not None else len(page.value)
    return Preview(facts={"run_count": count}, notes=[f"It has {count} run(s); their results go with it."])


@delete_load_test.check
async def _check_delete_test(ctx: OpContext, args: LoadTestInput) -> None:
    page = await ctx.client.get_page(
        TestRun, test_path(args.load_test, "/test_runs"), {"$top": 50, "$orderby": "created desc"}
    )
    _refuse_when_running(ctx, page.value)


def _refuse_when_running(ctx: OpContext, runs: list[TestRun]) -> None:
    active = [r for r in runs if not r.is_finished]
    if active:
        listed = ", ".join(f"#{r.id} {r.status.replace('_', ' ')}" for r in active[:3])
        raise NotAllowedNow(
            f"'{ctx.facts.get('load_test_name')}' has a run in progress ({listed}); abort it before deleting the test."
        )


# --------------------------------------------------------------------------- scripts


class GetScriptInput(InputModel):
    load_test: LoadTestRef
    format: str = Field(
        default="any",
        pattern="^(any|javascript|archive)$",
        description="'javascript' or 'archive' refuses the other kind; 'any' takes either.",
    )


_ACCEPT = {
    "any": "text/javascript, application/x-tar",
    "javascript": "text/javascript",
    "archive": "application/x-tar",
}


@operation(
    name="get_load_test_script",
    title="Get a load test's script",
    group="tests",
    safety=Safety.READ,
    idempotent=True,
    endpoints=[Endpoint("GET", "/cloud/v6/load_tests/{id}/script")],
    errors={
        404: NOT_FOUND,
        406: "The script of '{load_test_name}' is not stored as {format}.",
    },
    phrases=Phrases(
        verbs=SHOW,
        nouns=(
            "script",
            "code",
            "source",
            "k6 script",
            "js",
            "loadtest",
        ),
        examples={
            "show script of orders soak test": {"load_test": "orders soak test"},
            "script of test 501": {"load_test": 501},
        },
        template="show script of {load_test}",
    ),
    description="""
    Get a load test's current script: k6 JavaScript, or a .tar archive as base64.
    """,
)
async def get_load_test_script(ctx: OpContext, args: GetScriptInput) -> ScriptFile:
    response = await ctx.send("GET", test_path(args.load_test, "/script"), idempotent=True, accept=_ACCEPT[args.format])
    content_type = response.headers.get("content-type", "application/octet-stream").split(";")[0]
    return script_file(response.content, content_type, load_test_id=int(args.load_test))


class UploadScriptInput(InputModel):
    load_test: LoadTestRef
    script: Annotated[str | None, Say(Slot.NOTE)] = Field(
        default=None, max_length=5_000_000, description="k6 JavaScript source."
    )
    archive_base64: str | None = Field(default=None, max_length=70_000_000, description="Or a k6 .tar archive, base64.")

    @model_validator(mode="after")
    def _exactly_one(self) -> UploadScriptInput:
        if (self.script is None) == (self.archive_base64 is None):
            raise ValueError("give exactly one of script or archive_base64")
        return self

    def payload(self) -> bytes:
        if self.script is not None:
            return self.script.encode()
        try:
            return base64.b64decode(self.archive_base64 or "", validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput("archive_base64 is not valid base64.", field="archive_base64") from None


@operation(
    name="upload_load_test_script",
    title="Replace a load test's script",
    group="tests",
    safety=Safety.ADMIN,
    idempotent=True,
    destructive=True,
    endpoints=[Endpoint("PUT", "/cloud/v6/load_tests/{id}/script")],
    confirm="Replace the script of load test '{load_test_name}' (id {load_test_id}) with the new one ({size} bytes)?",
    errors={404: NOT_FOUND, 400: "k6 Cloud refused the script for '{load_test_name}': {api_message}."},
    phrases=Phrases(
        verbs=("upload", "replace", "update", "push", "set"),
        nouns=("script", "code", "new script"),
        examples={"upload script to orders smoke: export default function () {}": {"load_test": "orders smoke"}},
        template="upload script to {load_test}: {script}",
    ),
    description="""
    Replace a load test's script with k6 JavaScript or a .tar archive, for its next runs.
    """,
)
async def upload_load_test_script(ctx: OpContext, args: UploadScriptInput) -> Done:
    payload = args.payload()
    await ctx.send(
        "PUT",
        test_path(args.load_test, "/script"),
        content=payload,
        idempotent=True,
        headers={"Content-Type": "application/octet-stream"},
    )
    return Done(
        message=f"Script of '{ctx.facts.get('load_test_name')}' replaced ({len(payload)} bytes).",
        id=int(args.load_test),
    )


@upload_load_test_script.preview
async def _preview_upload(ctx: OpContext, args: UploadScriptInput) -> Preview:
    return Preview(facts={"size": len(args.payload())})


# --------------------------------------------------------------------------- start


@operation(
    name="start_load_test",
    title="Start a load test",
    group="tests",
    safety=Safety.RUN,
    idempotent=False,
    core=True,
    endpoints=[Endpoint("POST", "/cloud/v6/load_tests/{id}/start")],
    confirm="Start load test '{load_test_name}' (id {load_test_id}, project {project_id})?",
    errors={
        404: "Load test {load_test} no longer exists.",
        400: "k6 Cloud refused to start '{load_test_name}': {api_message}.",
    },
    phrases=Phrases(
        verbs=(
            "start",
            "run",
            "kick off",
            "kickoff",
            "launch",
            "trigger",
            "execute",
            "fire up",
            "fire off",
            "fire",
            "kick … off",
            "fire … up",
            "fire … off",
            "begin",
            "go",
            Verb("rerun", via=Slot.RUN),
            Verb("re-run", via=Slot.RUN),
            Verb("run again", via=Slot.RUN),
            Verb("run … again", via=Slot.RUN),
            Verb("repeat", via=Slot.RUN),
            Verb("restart", via=Slot.RUN),
            Verb("re-start", via=Slot.RUN),
            Verb("relaunch", via=Slot.RUN),
            Verb("retry", via=Slot.RUN),
            "again",
            "get … going",
            "get … started",
            "kick start",
            "kickstart",
            "spin up",
            "spin … up",
        ),
        nouns=(
            "test",
            "load test",
            "again",
            "a run of",
            "new run",
            "loadtest",
        ),
        examples={
            "start orders soak test": {"load_test": "orders soak test"},
            "run checkout spike": {"load_test": "checkout spike"},
            "kick off 501": {"load_test": 501},
            "launch test 501": {"load_test": 501},
        },
        template="start {load_test}",
    ),
    description="""
    Start a load test in Grafana Cloud k6: a new run that sends real traffic and costs virtual-user hours (VUH).
    Words fitting several tests return the candidates. Follow it with wait_for_test_run.
    """,
)
async def start_load_test(ctx: OpContext, args: LoadTestInput) -> StartedRun:
    # the same key on every attempt (the client's retries): k6 Cloud starts one run at most
    ctx.idempotency_key = key = ctx.idempotency_key or str(uuid.uuid4())
    response = await ctx.send("POST", test_path(args.load_test, "/start"), idempotent=False, idempotency_key=key)
    return await _started(ctx, parse_model(StartedTestRun, response))


async def _started(ctx: OpContext, run: StartedTestRun) -> StartedRun:
    run = ctx.client.with_links(run)
    name = ctx.facts.get("load_test_name") or await ctx.catalog.display_name(run.test_id) or f"test {run.test_id}"
    return StartedRun(
        message=f"Started '{name}': test run {run.id}.",
        test_run=RunSummary.from_run(run, name),
        load_test_id=run.test_id,
        load_test_name=name,
        idempotency_key=ctx.idempotency_key,
    )


async def _latest_run_id(ctx: OpContext, load_test: int | str) -> int:
    """The newest run id of the test before the start: a run above it afterwards is one this start made."""
    page = await ctx.client.get_page(
        TestRun, test_path(load_test, "/test_runs"), {"$orderby": "created desc", "$top": 1}
    )
    return max((r.id for r in page.value), default=0)


@start_load_test.reconcile("a run of load test '{load_test_name}'", "started")
async def _find_started_run(ctx: OpContext, args: LoadTestInput) -> Finder:
    """When the key's retries are used up without an answer: the one run of the test newer than the newest before."""
    before = await _latest_run_id(ctx, args.load_test)

    async def find() -> StartedRun | None:
        page = await ctx.client.get_page(
            StartedTestRun, test_path(args.load_test, "/test_runs"), {"$orderby": "created desc", "$top": 20}
        )
        run = the_new_one([r for r in page.value if r.id > before], (), key=lambda r: r.id, what="runs")
        return None if run is None else await _started(ctx, run)

    return find


@start_load_test.preview
async def _preview_start(ctx: OpContext, args: LoadTestInput) -> Preview:
    """What helps decide: the last run (duration, result, cost), a cost estimate, runs already going."""
    notes: list[str] = []
    facts: dict[str, Any] = {}
    try:
        recent = await ctx.client.get_page(
            TestRun, test_path(args.load_test, "/test_runs"), {"$orderby": "created desc", "$top": 20}
        )
    except K6BotError as exc:  # decision facts are a help, never a reason to refuse the start
        return Preview(facts=facts, notes=[f"The previous runs could not be read ({exc}); no cost estimate."])
    active = [r for r in recent.value if not r.is_finished]
    finished = [r for r in recent.value if r.is_finished]
    if active:
        listed = ", ".join(f"#{r.id} {r.status.replace('_', ' ')}" for r in active[:3])
        notes.append(f"Already in progress for this test: {listed}.")
        facts["active_runs"] = len(active)
    if finished:
        last = finished[0]
        summary = RunSummary.from_run(last)
        facts.update(
            last_run_id=last.id,
            last_run_result=last.result,
            last_run_status=last.status,
            last_run_duration_seconds=summary.duration_seconds,
            last_run_vuh=summary.vuh,
        )
        notes.append(
            f"Last run #{last.id} ({human_time(last.created)}): {status_phrase(last.status, last.result)}, "
            f"{human_duration(summary.duration_seconds)}, {vuh_text(summary.vuh)}."
        )
        completed = next((r for r in finished if r.status == "completed" and r.vuh is not None), None)
        if completed is not None:
            facts["estimated_vuh"] = completed.vuh
            basis = "the last run" if completed is last else f"run #{completed.id}, the last one that completed"
            notes.append(f"Estimated cost of this run: about {vuh_text(completed.vuh)} (as {basis}).")
    else:
        notes.append("This test has not run before, so there is no cost estimate yet.")
    return Preview(facts=facts, notes=notes)


# --------------------------------------------------------------------------- validate options


class ValidateOptionsInput(InputModel):
    options: dict[str, Any] = Field(
        description="k6 options, e.g. {'vus': 50, 'duration': '30m', 'cloud': {'projectID': 77}}."
    )
    project: MaybeProjectRef = None
    k6_dependencies: dict[str, str] | None = Field(
        default=None, description="Version constraints, e.g. {'k6': '>=v0.52'}."
    )
    is_local_execution: Annotated[bool, Say(Slot.FLAG, words=("local execution", "locally", "local"))] = Field(
        default=False, description="True for `k6 cloud run --local-execution`."
    )


@operation(
    name="validate_options",
    title="Check k6 options and estimate their cost",
    group="tests",
    safety=Safety.READ,
    idempotent=True,
    endpoints=[Endpoint("POST", "/cloud/v6/validate_options")],
    errors={400: "k6 Cloud cannot run these options: {api_message}."},
    phrases=Phrases(
        verbs=(
            "validate",
            "check",
            "dry run",
            "dry-run",
            "estimate",
            "how much would",
            "cost of",
            "check if",
            "check whether",
            "how many vuh would",
            "how much would",
            "would",
            "how many vuh",
            "how much vuh",
            "what would … cost",
        ),
        nouns=(
            "options",
            "config",
            "cost",
            "vuh",
            "cost",
            "vuh",
            "ok",
            "okay",
            "valid",
            "fit",
            "within limits",
        ),
        examples={'validate options options={"vus": 10, "duration": "5m"}': {"options": {"vus": 10, "duration": "5m"}}},
        template="validate options options={options}",
    ),
    description="""
    Check that k6 options can run in Grafana Cloud (limits, zones, versions) and get their VUH cost, starting
    nothing.
    """,
)
async def validate_options(ctx: OpContext, args: ValidateOptionsInput) -> ValidateOptionsResult:
    body: dict[str, Any] = {"options": args.options, "is_local_execution": args.is_local_execution}
    if args.project is not None:
        body["project_id"] = args.project
    if args.k6_dependencies is not None:
        body["k6_dependencies"] = args.k6_dependencies
    return await ctx.send_model(ValidateOptionsResult, "POST", "/cloud/v6/validate_options", idempotent=True, json=body)
