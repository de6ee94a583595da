"""Load zone operations: where load comes from, and who may use private zones."""

from __future__ import annotations

from pydantic import BaseModel, Field

from tools.models import AllowedProject, LoadZone
from tools.operations.common import ProjectInput, ProjectRef
from tools.outputs import Output
from tools.phrasing import LIST, SET, SHOW, Phrases
from tools.registry import Endpoint, InputModel, OpContext, Safety, operation


class LoadZoneList(Output):
    items: list[LoadZone]

    def text(self) -> str:
        if not self.items:
            return "No load zones."
        rows = [
            f"- {z.name} ({z.k6_load_zone_id}, id {z.id}){'' if z.public else ', private'}"
            f"{'' if z.available else ', unavailable'}"
            for z in self.items
        ]
        return "\n".join([f"{len(self.items)} load zone(s):", *rows])


class AllowedProjectList(Output):
    load_zone_id: int
    items: list[AllowedProject]

    def text(self) -> str:
        names = ", ".join(f"{p.name} (id {p.id})" for p in self.items) or "no project"
        return f"Load zone {self.load_zone_id} may be used by: {names}."


class AllowedZoneList(Output):
    project_id: int
    items: list[LoadZone]

    def text(self) -> str:
        names = ", ".join(f"{z.name} ({z.k6_load_zone_id})" for z in self.items) or "no private zone"
        return f"Project {self.project_id} may use: {names}."


class _Envelope(BaseModel):
    value: list[LoadZone]


class _ProjectsEnvelope(BaseModel):
    value: list[AllowedProject]


class ListZonesInput(InputModel):
    k6_load_zone_id: str | None = Field(
        default=None, max_length=200, description="Only this zone, e.g. 'amazon:us:ashburn'."
    )


@operation(
    name="list_load_zones",
    title="List load zones",
    group="load_zones",
    safety=Safety.READ,
    idempotent=True,
    endpoints=[Endpoint("GET", "/cloud/v6/load_zones")],
    phrases=Phrases(
        verbs=(*LIST, "what", "which", "where can"),
        nouns=(
            "load zones",
            "zones",
            "regions",
            "locations",
            "load zone",
            "zone",
            "available zones",
            "available",
            "can we pick from",
            "we can pick",
            "i can pick",
            "to pick from",
            "to choose from",
            "can we use",
            "can i use",
            "we can use",
            "run tests from",
            "run from",
            "run load from",
            "generate load from",
            "send load from",
            "run tests in",
            "test from",
        ),
        examples={"list load zones": {}, "what load zones are available": {}},
        template="list load zones",
    ),
    description="""
    List the load zones tests can run from (public regions and private zones).
    """,
)
async def list_load_zones(ctx: OpContext, args: ListZonesInput) -> LoadZoneList:
    envelope = await ctx.get(_Envelope, "/cloud/v6/load_zones", params={"k6_load_zone_id": args.k6_load_zone_id})
    return LoadZoneList(items=envelope.value)


class ZoneInput(InputModel):
    load_zone_id: int = Field(ge=1, description="Load zone id.")


@operation(
    name="get_load_zone_allowed_projects",
    title="List a private load zone's projects",
    group="load_zones",
    safety=Safety.READ,
    idempotent=True,
    endpoints=[Endpoint("GET", "/cloud/v6/load_zones/{id}/allowed_projects")],
    errors={404: "Load zone {load_zone_id} not found."},
    phrases=Phrases(
        verbs=(
            *SHOW,
            "who can use",
            "which projects can use",
            "who may use",
            "which projects may use",
            "what projects can use",
            "what projects may use",
            "which projects are allowed to use",
            "what projects are allowed to use",
            "which projects have access to",
            "which projects are allowed on",
            "what projects are allowed on",
            "which projects are allowed in",
            "who is allowed on",
            "who is allowed to use",
            "who's allowed to use",
            "who is allowed to use",
            "who can use",
            "who has access to",
        ),
        nouns=("allowed projects", "projects allowed", "projects of zone", "projects that may use"),
        examples={"allowed projects of zone 100": {"load_zone_id": 100}},
        template="allowed projects of {load_zone_id}",
    ),
    description="""
    List the projects allowed to use a private load zone.
    """,
)
async def get_load_zone_allowed_projects(ctx: OpContext, args: ZoneInput) -> AllowedProjectList:
    envelope = await ctx.get(_ProjectsEnvelope, f"/cloud/v6/load_zones/{args.load_zone_id}/allowed_projects")
    return AllowedProjectList(load_zone_id=args.load_zone_id, items=envelope.value)


class SetZoneProjectsInput(InputModel):
    load_zone_id: int = Field(ge=1, description="Load zone id.")
    project_ids: list[int] = Field(max_length=1000, description="All project ids allowed.")


@operation(
    name="set_load_zone_allowed_projects",
    title="Set a private load zone's projects",
    group="load_zones",
    safety=Safety.ADMIN,
    idempotent=True,
    destructive=True,
    endpoints=[Endpoint("PUT", "/cloud/v6/load_zones/{id}/allowed_projects")],
    confirm="Allow exactly projects {project_ids} to use load zone {load_zone_id} (replacing the current list)?",
    errors={404: "Load zone {load_zone_id} or one of the projects not found."},
    phrases=Phrases(
        verbs=("allow", *SET, "restrict"),
        nouns=(
            "allowed projects",
            "projects",
            "zone",
            "load zone",
        ),
        examples={"set allowed projects of zone 100 to 78, 79": {"load_zone_id": 100, "project_ids": [78, 79]}},
        template="set allowed projects of {load_zone_id} to {project_ids}",
        needs_noun=True,
    ),
    description="""
    Replace the projects allowed to use a private load zone.
    """,
)
async def set_load_zone_allowed_projects(ctx: OpContext, args: SetZoneProjectsInput) -> AllowedProjectList:
    envelope = await ctx.send_model(
        _ProjectsEnvelope,
        "PUT",
        f"/cloud/v6/load_zones/{args.load_zone_id}/allowed_projects",
        idempotent=True,
        json={"value": [{"id": pid} for pid in args.project_ids]},
    )
    return AllowedProjectList(load_zone_id=args.load_zone_id, items=envelope.value)


@operation(
    name="get_project_allowed_load_zones",
    title="List a project's private load zones",
    group="load_zones",
    safety=Safety.READ,
    idempotent=True,
    endpoints=[Endpoint("GET", "/cloud/v6/projects/{id}/allowed_load_zones")],
    errors={404: "Project {project} not found."},
    phrases=Phrases(
        verbs=(
            *dict.fromkeys((*SHOW, *LIST)),
            "which",
            "where can",
            "can … run from",
            "can … use",
            "may … use",
            "can … run in",
            "what zones is … allowed to run in",
            "which zones is … allowed to run in",
            "what zones is … allowed",
            "which zones is … allowed",
            "what load zones is … allowed",
            "which load zones is … allowed",
            "what regions is … allowed",
            "which regions is … allowed",
            "is … allowed",
            "is … allowed to use",
            "is … allowed to run in",
            "is … allowed in",
            "are … allowed",
        ),
        nouns=(
            "allowed load zones",
            "allowed zones",
            "private zones",
            "zones of project",
            "load zones of project",
            "private load zones",
            "private zone",
            "any private zone",
            "load zones",
            "zones",
            "load zone",
            "regions",
            "can use",
            "may use",
            "is allowed to use",
            "can run from",
            "can run in",
        ),
        examples={"allowed load zones of platform": {"project": "platform"}},
        template="allowed load zones of {project}",
    ),
    description="""
    List the private load zones a project may run tests from.
    """,
)
async def get_project_allowed_load_zones(ctx: OpContext, args: ProjectInput) -> AllowedZoneList:
    envelope = await ctx.get(_Envelope, f"/cloud/v6/projects/{args.project}/allowed_load_zones")
    return AllowedZoneList(project_id=int(args.project), items=envelope.value)


class SetProjectZonesInput(InputModel):
    project: ProjectRef
    load_zone_ids: list[int] = Field(max_length=1000, description="All load zone ids allowed.")


@operation(
    name="set_project_allowed_load_zones",
    title="Set a project's private load zones",
    group="load_zones",
    safety=Safety.ADMIN,
    idempotent=True,
    destructive=True,
    endpoints=[Endpoint("PUT", "/cloud/v6/projects/{id}/allowed_load_zones")],
    confirm="Let project '{project_name}' (id {project_id}) use exactly load zones {load_zone_ids} (replacing the current list)?",
    errors={404: "Project {project} or one of the load zones not found."},
    phrases=Phrases(
        verbs=(
            *SET,
            "restrict",
            "restrict … to",
            "limit … to",
            "lock … to",
            "let",
            "give … access to",
            "grant … access to",
            "allow … to use",
            "allow … to run in",
            "allow … to run from",
            "let … use",
            "let … run in",
            "let … run from",
        ),
        nouns=(
            "allowed load zones",
            "allowed zones",
            "zones",
            "zone",
            "load zone",
        ),
        examples={"set allowed load zones of platform to 100": {"project": "platform", "load_zone_ids": [100]}},
        template="set allowed load zones of {project} to {load_zone_ids}",
        needs_noun=True,
    ),
    description="""
    Replace the private load zones a project may run tests from.
    """,
)
async def set_project_allowed_load_zones(ctx: OpContext, args: SetProjectZonesInput) -> AllowedZoneList:
    envelope = await ctx.send_model(
        _Envelope,
        "PUT",
        f"/cloud/v6/projects/{args.project}/allowed_load_zones",
        idempotent=True,
        json={"value": [{"id": zid} for zid in args.load_zone_ids]},
    )
    return AllowedZoneList(project_id=int(args.project), items=envelope.value)
