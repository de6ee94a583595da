"""Project operations: list, inspect, create, rename, delete, and per-project limits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field, model_validator

from tools.models import Project, ProjectLimits
from tools.operations.common import (
    Cursor,
    Limit,
    Listing,
    ProjectInput,
    ProjectRef,
    nonempty,
    page_of,
    the_new_one,
)
from tools.outputs import Done
from tools.phrasing import CREATE, DELETE, LIST, RENAME, SET, SHOW, Phrases, Say, Slot
from tools.registry import Endpoint, Finder, InputModel, OpContext, Safety, operation

NOT_FOUND = "Project {project} not found."


class ListProjectsInput(InputModel):
    name_search: str | None = Field(default=None, max_length=255, description="Only names containing this.")
    order_by: str = Field(
        default="name",
        pattern=r"^(created|name)( desc)?$",
        description="Optionally + ' desc'.",
    )
    limit: Limit = 50
    cursor: Cursor = None


@operation(
    name="list_projects",
    title="List projects",
    group="projects",
    safety=Safety.READ,
    idempotent=True,
    endpoints=[Endpoint("GET", "/cloud/v6/projects")],
    phrases=Phrases(
        verbs=(*LIST, "what", "which"),
        nouns=(
            "projects",
            "all projects",
            "every project",
            "each project",
            "all the projects",
            "sorted by name",
            "by name",
            "alphabetically",
        ),
        examples={"list projects": {}, "what projects are there": {}},
        template="list projects",
    ),
    description="""
    List the projects (id, name, whether it is the default).
    """,
)
async def list_projects(ctx: OpContext, args: ListProjectsInput) -> Listing[Project]:
    params = {"$orderby": args.order_by, "name_search": args.name_search}
    return await page_of(ctx, Project, "/cloud/v6/projects", limit=args.limit, cursor=args.cursor, params=params)


@operation(
    name="get_project",
    title="Get a project",
    group="projects",
    safety=Safety.READ,
    idempotent=True,
    endpoints=[Endpoint("GET", "/cloud/v6/projects/{id}")],
    phrases=Phrases(
        verbs=SHOW,
        nouns=(
            "project",
            "project details",
            "details",
            "info",
            "information",
        ),
        examples={"show project payments": {"project": "payments"}, "project 78": {"project": 78}},
        template="show project {project}",
        bare=True,
    ),
    description="""
    Get a project by id or name.
    """,
)
async def get_project(ctx: OpContext, args: ProjectInput) -> Project:
    resolved = ctx.resolved.get("project")
    return resolved if isinstance(resolved, Project) else await ctx.get(Project, f"/cloud/v6/projects/{args.project}")


class CreateProjectInput(InputModel):
    name: str = Field(min_length=1, max_length=255, description="Unique in the stack.")


@operation(
    name="create_project",
    title="Create a project",
    group="projects",
    safety=Safety.ADMIN,
    idempotent=False,
    endpoints=[Endpoint("POST", "/cloud/v6/projects")],
    confirm="Create project '{name}'?",
    errors={
        409: lambda v: (
            f"Cannot create project '{v['name']}': "
            + (v["api_message"] or "the name is taken, or the limit of 1000 projects is reached")
            + "."
        )
    },
    phrases=Phrases(
        verbs=CREATE,
        nouns=("project", "new project"),
        examples={
            "create project Mobile": {"name": "Mobile"},
            'make a new project called "Data Platform"': {"name": "Data Platform"},
        },
        template='create project "{name}"',
        needs_noun=True,
    ),
    description="""
    Create a project to group load tests.
    """,
)
async def create_project(ctx: OpContext, args: CreateProjectInput) -> Project:
    return await ctx.send_model(Project, "POST", "/cloud/v6/projects", idempotent=False, json={"name": args.name})


async def _projects_named(ctx: OpContext, name: str) -> list[Project]:
    return [p async for p in ctx.client.paginate(Project, "/cloud/v6/projects", {"name": name}) if p.name == name]


@create_project.reconcile("project '{name}'", "created")
async def _find_created_project(ctx: OpContext, args: CreateProjectInput) -> Finder:
    """Names are unique in a stack: a project of that name that was not there before is the one created."""
    before = {p.id for p in await _projects_named(ctx, args.name)}

    async def find() -> Project | None:
        return the_new_one(await _projects_named(ctx, args.name), before, key=lambda p: p.id, what="projects")

    return find


class UpdateProjectInput(InputModel):
    project: ProjectRef
    name: str = Field(min_length=1, max_length=255, description="New name.")


@operation(
    name="update_project",
    title="Rename a project",
    group="projects",
    safety=Safety.ADMIN,
    idempotent=True,
    endpoints=[Endpoint("PATCH", "/cloud/v6/projects/{id}")],
    confirm="Rename project '{project_name}' (id {project_id}) to '{name}'?",
    errors={404: NOT_FOUND, 409: "A project named '{name}' already exists."},
    phrases=Phrases(
        verbs=(*RENAME, *SET),
        nouns=(
            "project",
            "name",
        ),
        examples={"rename project payments to Billing": {"project": "payments", "name": "Billing"}},
        template='rename project {project} to "{name}"',
        needs_noun=True,
    ),
    description="""
    Rename a project (its tests and runs stay in it).
    """,
)
async def update_project(ctx: OpContext, args: UpdateProjectInput) -> Project:
    await ctx.send("PATCH", f"/cloud/v6/projects/{args.project}", json={"name": args.name}, idempotent=True)
    return await ctx.get(Project, f"/cloud/v6/projects/{args.project}")


@operation(
    name="delete_project",
    title="Delete a project",
    group="projects",
    safety=Safety.ADMIN,
    idempotent=True,
    destructive=True,
    endpoints=[Endpoint("DELETE", "/cloud/v6/projects/{id}")],
    confirm="Delete project '{project_name}' (id {project_id}) with all its load tests, runs and results?",
    errors={
        404: NOT_FOUND,
        409: lambda v: (
            f"Project '{v.get('project_name')}' cannot be deleted: "
            + (v["api_message"] or "a test is running in it (abort it first)")
            + "."
        ),
    },
    phrases=Phrases(
        verbs=DELETE,
        nouns=(
            "project",
            "for good",
            "permanently",
            "forever",
        ),
        examples={"delete project platform": {"project": "platform"}, "remove project 79": {"project": 79}},
        template="delete project {project}",
        needs_noun=True,
    ),
    description="""
    Delete a project with its load tests, runs and results, for good (not while a test runs).
    """,
)
async def delete_project(ctx: OpContext, args: ProjectInput) -> Done:
    await ctx.send("DELETE", f"/cloud/v6/projects/{args.project}", idempotent=True)
    return Done(message=f"Project '{ctx.facts.get('project_name')}' (id {args.project}) deleted.", id=args.project)


# --------------------------------------------------------------------------- limits


@operation(
    name="get_project_limits",
    title="Get a project's limits",
    group="projects",
    safety=Safety.READ,
    idempotent=True,
    endpoints=[Endpoint("GET", "/cloud/v6/projects/{id}/limits")],
    errors={404: NOT_FOUND},
    phrases=Phrases(
        verbs=(*SHOW, "how much", "how many", "how much vuh … left", "how much vuh … remaining", "how many vuh … left"),
        nouns=(
            "limits",
            "limit",
            "quota",
            "quotas",
            "vuh left",
            "budget",
            "vu limit",
            "vuh limit",
            "duration limit",
            "max duration",
            "max test duration",
            "maximum test duration",
            "test duration limit",
            "longest test",
            "vus limit",
            "monthly vuh",
            "vuh per month",
            "left this month",
            "remaining this month",
            "cap",
            "caps",
            "ceiling",
            "vus per test",
            "vus",
            "max vus",
            "max vus per test",
            "maximum vus",
            "max vuh",
            "per test",
            "allowed to use",
            "how long can",
        ),
        examples={"limits of payments": {"project": "payments"}, "show the limits of project 78": {"project": 78}},
        template="limits of project {project}",
    ),
    description="""
    Get a project's limits: VUH per month, VUs, browser VUs and duration per test.
    """,
)
async def get_project_limits(ctx: OpContext, args: ProjectInput) -> ProjectLimits:
    return await ctx.get(ProjectLimits, f"/cloud/v6/projects/{args.project}/limits")


class ListProjectLimitsInput(InputModel):
    project_ids: list[int] | None = Field(default=None, max_length=30, description="Only these projects.")
    limit: Limit = 50
    cursor: Cursor = None


@operation(
    name="list_project_limits",
    title="List the limits of all projects",
    group="projects",
    safety=Safety.READ,
    idempotent=True,
    endpoints=[Endpoint("GET", "/cloud/v6/project-limits")],
    phrases=Phrases(
        verbs=LIST,
        nouns=(
            "project limits",
            "limits of all projects",
            "all limits",
            "limits of every project",
            "quotas",
            "limits for every project",
            "limits for all projects",
            "every project's limits",
            "all project limits",
            "limits of each project",
            "limits all projects",
            "all projects limits",
            "all limits",
            "limits of all",
            "limits across all projects",
            "limits across every project",
            "limits across projects",
            "limits across the projects",
            "limits on all projects",
            "limits on every project",
            "limits for each project",
            "limits of projects",
            "limits for projects",
            "limits of the projects",
            "limits for the projects",
        ),
        examples={"list project limits": {}, "limits of all projects": {}},
        template="list project limits",
    ),
    description="""
    List the limits of every project (or of the given ones).
    """,
)
async def list_project_limits(ctx: OpContext, args: ListProjectLimitsInput) -> Listing[ProjectLimits]:
    params = {"project_id_in": args.project_ids}
    return await page_of(
        ctx, ProjectLimits, "/cloud/v6/project-limits", limit=args.limit, cursor=args.cursor, params=params
    )


class UpdateLimitsInput(InputModel):
    project: ProjectRef
    vuh_max_per_month: Annotated[
        int | None,
        Say(
            Slot.AMOUNT,
            words=(
                "max vuh per month",
                "vuh per month",
                "vuh a month",
                "monthly vuh",
                "vuh limit",
                "vuh cap",
                "max vuh",
                "vuh budget",
                "vuh",
            ),
        ),
    ] = Field(default=None, ge=1, description="VUH per month.")
    vu_max_per_test: Annotated[
        int | None,
        Say(
            Slot.AMOUNT,
            words=(
                "max vus per test",
                "maximum vus per test",
                "vu limit",
                "vus limit",
                "vu cap",
                "max vus",
                "maximum vus",
                "vus per test",
                "vus",
                "vu",
            ),
        ),
    ] = Field(default=None, ge=1, description="VUs per test.")
    vu_browser_max_per_test: Annotated[
        int | None,
        Say(Slot.AMOUNT, words=("max browser vus per test", "browser vu limit", "browser vus", "browser vu")),
    ] = Field(default=None, ge=1, description="Browser VUs per test.")
    duration_max_per_test: Annotated[
        int | None,
        Say(
            Slot.AMOUNT,
            words=(
                "max duration per test",
                "max test duration",
                "maximum test duration",
                "max duration",
                "maximum duration",
                "test duration limit",
                "duration limit",
                "duration per test",
                "test duration",
                "duration",
            ),
            seconds=True,
        ),
    ] = Field(default=None, ge=1, description="Seconds per test.")
    remove: Annotated[list[str], Say(Slot.REMOVALS)] = Field(
        default_factory=list,
        description="Limits to remove, e.g. ['vu_max_per_test'].",
    )

    @model_validator(mode="after")
    def _check(self) -> UpdateLimitsInput:
        names = {"vuh_max_per_month", "vu_max_per_test", "vu_browser_max_per_test", "duration_max_per_test"}
        unknown = set(self.remove) - names
        if unknown:
            raise ValueError(f"unknown limit(s) to remove: {', '.join(sorted(unknown))}")
        if not self.remove and all(getattr(self, n) is None for n in names):
            raise ValueError("give at least one limit to set or remove")
        return self

    def body(self) -> dict[str, Any]:
        body = nonempty(
            {
                "vuh_max_per_month": self.vuh_max_per_month,
                "vu_max_per_test": self.vu_max_per_test,
                "vu_browser_max_per_test": self.vu_browser_max_per_test,
                "duration_max_per_test": self.duration_max_per_test,
            }
        )
        body.update({name: None for name in self.remove})
        return body


def _limits_confirmation(values: Mapping[str, Any]) -> str:
    changes = [
        f"{name} = {values[name]}"
        for name in (
            "vuh_max_per_month",
            "vu_max_per_test",
            "vu_browser_max_per_test",
            "duration_max_per_test",
        )
        if values.get(name) is not None
    ] + [f"remove {name}" for name in values.get("remove", [])]
    return f"Change the limits of project '{values.get('project_name')}' (id {values.get('project_id')}): {', '.join(changes)}?"


@operation(
    name="update_project_limits",
    title="Change a project's limits",
    group="projects",
    safety=Safety.ADMIN,
    idempotent=True,
    endpoints=[Endpoint("PATCH", "/cloud/v6/projects/{id}/limits")],
    confirm=_limits_confirmation,
    errors={404: NOT_FOUND},
    phrases=Phrases(
        verbs=(
            *SET,
            "limit",
            "raise",
            "lower",
            "cap",
            "remove",
            "drop",
            "clear",
            "unset",
            "lift",
            "bump",
            "increase",
            "decrease",
            "up",
            "reduce",
        ),
        nouns=("limits", "limit", "quota", "vuh limit", "vu limit"),
        examples={"set limits of payments vu_max_per_test=500": {"project": "payments", "vu_max_per_test": 500}},
        template="set limits of {project}",
        needs_noun=True,
    ),
    description="""
    Set or remove a project's limits.
    """,
)
async def update_project_limits(ctx: OpContext, args: UpdateLimitsInput) -> ProjectLimits:
    await ctx.send("PATCH", f"/cloud/v6/projects/{args.project}/limits", json=args.body(), idempotent=True)
    return await ctx.get(ProjectLimits, f"/cloud/v6/projects/{args.project}/limits")
