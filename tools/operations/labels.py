"""Label operations: the organization's label keys and the labels on projects."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import quote

from pydantic import BaseModel, Field, model_validator

from tools.errors import CannotTell
from tools.models import LabelKey, ProjectLabel, ProjectLabelSet
from tools.operations.common import ProjectInput, ProjectRef
from tools.outputs import Done, Output
from tools.phrasing import CREATE, DELETE, LIST, RENAME, SET, SHOW, Phrases, Say, Slot
from tools.registry import Endpoint, Finder, InputModel, OpContext, Safety, operation

LABEL_PATTERN = r"^[^\s'\";\\%]+$"
KEY_NOT_FOUND = "Label key {label_key_id} not found."


class LabelKeyList(Output):
    items: list[LabelKey]

    def text(self) -> str:
        if not self.items:
            return "No label keys."
        return "\n".join(
            [f"{len(self.items)} label key(s):"]
            + [f"- {k.key} (id {k.id}){': ' + k.description if k.description else ''}" for k in self.items]
        )


class ProjectLabelList(Output):
    project_id: int
    items: list[ProjectLabel]

    def text(self) -> str:
        labels = ", ".join(f"{label.key}={label.value}" for label in self.items) or "none"
        return f"Labels of project {self.project_id}: {labels}."


class ProjectLabelSetList(Output):
    project_id: int
    items: list[ProjectLabelSet]

    def text(self) -> str:
        labels = ", ".join(f"{label.key}={label.value}" for label in self.items) or "none"
        return f"Labels of project {self.project_id} are now: {labels}."


class _Keys(BaseModel):
    value: list[LabelKey]


class _Labels(BaseModel):
    value: list[ProjectLabel]


class _LabelSets(BaseModel):
    value: list[ProjectLabelSet]


class NoInput(InputModel):
    pass


@operation(
    name="list_label_keys",
    title="List label keys",
    group="labels",
    safety=Safety.READ,
    idempotent=True,
    endpoints=[Endpoint("GET", "/cloud/v6/labels")],
    phrases=Phrases(
        verbs=(*LIST, "what", "which"),
        nouns=("label keys", "labels", "keys", "label names"),
        examples={"list label keys": {}, "what labels are there": {}},
        template="list label keys",
    ),
    description="""
    List the organization's label keys.
    """,
)
async def list_label_keys(ctx: OpContext, args: NoInput) -> LabelKeyList:
    return LabelKeyList(items=(await ctx.get(_Keys, "/cloud/v6/labels")).value)


class NewLabelKey(InputModel):
    key: str = Field(min_length=1, max_length=64, pattern=LABEL_PATTERN, description="e.g. 'team'.")
    description: str | None = Field(default=None, min_length=1, max_length=255, description="What the key means.")


class CreateLabelKeysInput(InputModel):
    keys: Annotated[list[NewLabelKey], Say(Slot.PHRASE)] = Field(
        min_length=1, max_length=100, description="Keys to add."
    )


@operation(
    name="create_label_keys",
    title="Create label keys",
    group="labels",
    safety=Safety.ADMIN,
    idempotent=False,
    endpoints=[Endpoint("POST", "/cloud/v6/labels")],
    confirm=lambda v: "Create label key(s) " + ", ".join(f"'{k['key']}'" for k in v.get("keys", [])) + "?",
    errors={
        400: lambda v: f"k6 Cloud refused the label keys: {v['api_message'] or 'duplicate keys in the request'}.",
        409: lambda v: (
            "k6 Cloud refused the label keys: "
            + (v["api_message"] or "a key exists already, or the limit of 100 keys is reached")
            + "."
        ),
    },
    phrases=Phrases(
        verbs=CREATE,
        nouns=(
            "label key",
            "label keys",
            "new label key",
            "new label keys",
            "new label",
            "new key",
            "label",
            "labels",
            "key",
            "keys",
        ),
        examples={"add label key region": {"keys": [{"key": "region"}]}},
        template="add label key {keys}",
        needs_noun=True,
    ),
    description="""
    Add label keys to the organization (existing keys stay).
    """,
)
async def create_label_keys(ctx: OpContext, args: CreateLabelKeysInput) -> LabelKeyList:
    body = {"value": [k.model_dump(exclude_none=True) for k in args.keys]}
    return LabelKeyList(
        items=(await ctx.send_model(_Keys, "POST", "/cloud/v6/labels", idempotent=False, json=body)).value
    )


@create_label_keys.reconcile(
    lambda v: "label key(s) " + ", ".join(f"'{k['key']}'" for k in v.get("keys", [])), "created"
)
async def _find_created_keys(ctx: OpContext, args: CreateLabelKeysInput) -> Finder:
    """The keys asked for that were not there before: all of them (done), none (not done), some (cannot tell)."""
    wanted = {k.key for k in args.keys}
    before = {k.id for k in (await ctx.get(_Keys, "/cloud/v6/labels")).value}

    async def find() -> LabelKeyList | None:
        new = [k for k in (await ctx.get(_Keys, "/cloud/v6/labels")).value if k.key in wanted and k.id not in before]
        if not new:
            return None
        if {k.key for k in new} != wanted:
            raise CannotTell(f"k6 Cloud shows only some of the keys: {', '.join(sorted(k.key for k in new))}")
        return LabelKeyList(items=new)

    return find


class UpdateLabelKeyInput(InputModel):
    label_key_id: int = Field(ge=1, description="Label key id.")
    key: Annotated[str | None, Say(Slot.NAME, before=("to", "as key"))] = Field(
        default=None, min_length=1, max_length=64, pattern=LABEL_PATTERN, description="New key name."
    )
    description: Annotated[str | None, Say(Slot.NOTE, before=("as", "description", "saying"))] = Field(
        default=None, min_length=1, max_length=255, description="New description."
    )

    @model_validator(mode="after")
    def _something(self) -> UpdateLabelKeyInput:
        if self.key is None and self.description is None:
            raise ValueError("give key or description")
        return self


def _label_key_confirmation(values: Mapping[str, Any]) -> str:
    changes = []
    if values.get("key"):
        changes.append(f"rename it to '{values['key']}'")
    if values.get("description"):
        changes.append(f"describe it as '{values['description']}'")
    return f"Change label key {values.get('label_key_id')}: {' and '.join(changes)}?"


@operation(
    name="update_label_key",
    title="Change a label key",
    group="labels",
    safety=Safety.ADMIN,
    idempotent=True,
    endpoints=[Endpoint("PATCH", "/cloud/v6/labels/{id}")],
    confirm=_label_key_confirmation,
    errors={404: KEY_NOT_FOUND, 409: "A label key named '{key}' already exists."},
    phrases=Phrases(
        verbs=(*RENAME, *SET, "describe"),
        nouns=(
            "label key",
            "label",
            "key",
            "name",
        ),
        examples={"rename label key 3 to costcenter": {"label_key_id": 3, "key": "costcenter"}},
        template="rename {label_key_id} to {key}",
        needs_noun=True,
    ),
    description="""
    Rename a label key or change its description (admins only).
    """,
)
async def update_label_key(ctx: OpContext, args: UpdateLabelKeyInput) -> LabelKey:
    body = args.model_dump(include={"key", "description"}, exclude_none=True)
    return await ctx.send_model(LabelKey, "PATCH", f"/cloud/v6/labels/{args.label_key_id}", idempotent=True, json=body)


class LabelKeyInput(InputModel):
    label_key_id: int = Field(ge=1, description="Label key id.")


@operation(
    name="delete_label_key",
    title="Delete a label key",
    group="labels",
    safety=Safety.ADMIN,
    idempotent=True,
    destructive=True,
    endpoints=[Endpoint("DELETE", "/cloud/v6/labels/{id}")],
    confirm="Delete label key {label_key_id}? Every project label using it is removed too.",
    errors={404: KEY_NOT_FOUND},
    phrases=Phrases(
        verbs=DELETE,
        nouns=(
            "label key",
            "label",
            "key",
            "for good",
            "permanently",
            "forever",
        ),
        examples={"delete label key 3": {"label_key_id": 3}},
        template="delete {label_key_id}",
        needs_noun=True,
    ),
    description="""
    Delete a label key and every project label using it (admins only).
    """,
)
async def delete_label_key(ctx: OpContext, args: LabelKeyInput) -> Done:
    await ctx.send("DELETE", f"/cloud/v6/labels/{args.label_key_id}", idempotent=True)
    return Done(message=f"Label key {args.label_key_id} deleted.", id=args.label_key_id)


@operation(
    name="list_project_labels",
    title="List a project's labels",
    group="labels",
    safety=Safety.READ,
    idempotent=True,
    endpoints=[Endpoint("GET", "/cloud/v6/projects/{project_id}/labels")],
    errors={404: "Project {project} not found."},
    phrases=Phrases(
        verbs=tuple(dict.fromkeys((*SHOW, *LIST))),
        nouns=("labels", "project labels", "tags"),
        examples={"labels of payments": {"project": "payments"}, "show labels of project 78": {"project": 78}},
        template="labels of {project}",
    ),
    description="""
    List the labels (key=value) on a project.
    """,
)
async def list_project_labels(ctx: OpContext, args: ProjectInput) -> ProjectLabelList:
    labels = await ctx.get(_Labels, f"/cloud/v6/projects/{args.project}/labels")
    return ProjectLabelList(project_id=int(args.project), items=labels.value)


class LabelValue(InputModel):
    key: str = Field(min_length=1, max_length=64, pattern=LABEL_PATTERN, description="e.g. 'team'.")
    value: str = Field(min_length=1, max_length=64, pattern=LABEL_PATTERN, description="e.g. 'payments'.")


class SetProjectLabelsInput(InputModel):
    project: Annotated[ProjectRef, Say(Slot.PROJECT, before=("of", "for", "on", "in", "to", "from", None))]
    labels: list[LabelValue] = Field(max_length=30, description="All the labels the project should have.")


@operation(
    name="set_project_labels",
    title="Replace a project's labels",
    group="labels",
    safety=Safety.ADMIN,
    idempotent=True,
    destructive=True,
    endpoints=[Endpoint("PUT", "/cloud/v6/projects/{project_id}/labels")],
    confirm=lambda v: (
        f"Replace the labels of project '{v.get('project_name')}' (id {v.get('project_id')}) with "
        + (", ".join(f"{label['key']}={label['value']}" for label in v.get("labels", [])) or "no labels")
        + "?"
    ),
    errors={
        400: "Invalid label key or duplicate keys: {api_message}.",
        404: "Project {project} not found.",
        409: "Too many labels (30 per project, 500 pairs per organization).",
    },
    phrases=Phrases(
        verbs=(*SET, "label", "tag", "apply", "add", "put", "attach", "assign", "give"),
        nouns=("labels", "label", "tags"),
        examples={"set labels of payments to team=payments env=staging": {"project": "payments"}},
        template="set labels of {project} to {labels}",
        needs_noun=True,
    ),
    description="""
    Replace all labels on a project with the given key=value pairs.
    """,
)
async def set_project_labels(ctx: OpContext, args: SetProjectLabelsInput) -> ProjectLabelSetList:
    body = {"value": [label.model_dump() for label in args.labels]}
    result = await ctx.send_model(
        _LabelSets, "PUT", f"/cloud/v6/projects/{args.project}/labels", idempotent=True, json=body
    )
    return ProjectLabelSetList(project_id=int(args.project), items=result.value)


class RemoveProjectLabelInput(InputModel):
    project: ProjectRef
    key: Annotated[str, Say(Slot.LABEL_KEY_NAME)] = Field(
        min_length=1, max_length=64, pattern=LABEL_PATTERN, description="Key of the label to remove."
    )


@operation(
    name="delete_project_label",
    title="Remove a label from a project",
    group="labels",
    safety=Safety.ADMIN,
    idempotent=True,
    destructive=True,
    endpoints=[Endpoint("DELETE", "/cloud/v6/projects/{project_id}/labels/{key}")],
    confirm="Remove label '{key}' from project '{project_name}' (id {project_id})?",
    errors={404: "Project '{project_name}' has no label '{key}'."},
    phrases=Phrases(
        verbs=(*DELETE, "unlabel", "untag"),
        nouns=("label", "project label", "tag"),
        examples={"remove label team from payments": {"project": "payments", "key": "team"}},
        template="remove label {key} from {project}",
        needs_noun=True,
    ),
    description="""
    Remove one label from a project.
    """,
)
async def delete_project_label(ctx: OpContext, args: RemoveProjectLabelInput) -> Done:
    key = quote(args.key, safe="")  # the key pattern allows "/", "?" and "#": never let them reshape the URL
    await ctx.send("DELETE", f"/cloud/v6/projects/{args.project}/labels/{key}", idempotent=True)
    return Done(message=f"Label '{args.key}' removed from project {args.project}.", id=int(args.project))
