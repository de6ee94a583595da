"""Input field types and helpers shared by the operation declarations."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AliasChoices, BaseModel, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from tools.errors import CannotTell
from tools.outputs import Output, decode_cursor, encode_cursor
from tools.registry import InputModel, OpContext, RefKind

T = TypeVar("T", bound=BaseModel)
Item = TypeVar("Item")

NOT_A_BOOLEAN = "must be a number, not true or false"


def _not_a_boolean(value: Any) -> Any:
    """JSON ``true`` is not run 1: without this, pydantic's lax mode reads a boolean as 0 or 1."""
    if isinstance(value, bool):
        raise PydanticCustomError("not_a_boolean", NOT_A_BOOLEAN)
    return value


NotABoolean = BeforeValidator(_not_a_boolean)
"""For ids and references: a boolean is refused (numbers and numeric strings are not affected)."""

LOAD_TEST_REF = "Id, name or words naming it."
PROJECT_REF = "Id or name."
ONLY_LOAD_TEST = "Only this one: id or words naming it."
ONLY_PROJECT = "Only this one: id or name."
PAGE_SIZE = "Page size."
NEXT_PAGE = "next_cursor of the last page."
EXPLAINED_ONCE = (LOAD_TEST_REF, PROJECT_REF, ONLY_LOAD_TEST, ONLY_PROJECT, PAGE_SIZE, NEXT_PAGE)
"""Descriptions shared by many fields: MCP's server instructions explain them once, so its schemas leave them out
(the docs and the registry keep them on every field)."""

LoadTestRef = Annotated[
    Annotated[int, Field(ge=1)] | Annotated[str, Field(min_length=1, max_length=300)],
    NotABoolean,
    RefKind.LOAD_TEST,
    Field(description=LOAD_TEST_REF),
]

MaybeLoadTestRef = Annotated[
    Annotated[int, Field(ge=1)] | Annotated[str, Field(min_length=1, max_length=300)] | None,
    NotABoolean,
    RefKind.LOAD_TEST,
    Field(description=ONLY_LOAD_TEST),
]

ProjectRef = Annotated[
    Annotated[int, Field(ge=1)] | Annotated[str, Field(min_length=1, max_length=255)],
    NotABoolean,
    RefKind.PROJECT,
    Field(description=PROJECT_REF),
]

MaybeProjectRef = Annotated[
    Annotated[int, Field(ge=1)] | Annotated[str, Field(min_length=1, max_length=255)] | None,
    NotABoolean,
    RefKind.PROJECT,
    Field(description=ONLY_PROJECT),
]

TEST_RUN_ID = Field(
    ge=1,
    description="Test run id.",
    validation_alias=AliasChoices("test_run_id", "run_id", "test_run", "id"),
)
TEST_RUN_ID.metadata.append(NotABoolean)  # a FieldInfo used as a default keeps its metadata's validators
"""The default of every ``test_run_id: int`` field: its constraints, aliases and the boolean check."""

Limit = Annotated[
    int,
    Field(ge=1, le=1000, description=PAGE_SIZE),
    NotABoolean,
]

Cursor = Annotated[
    str | None,
    Field(max_length=4000, description=NEXT_PAGE),
]


class TestRunInput(InputModel):
    test_run_id: int = TEST_RUN_ID


class LoadTestInput(InputModel):
    load_test: LoadTestRef


class ProjectInput(InputModel):
    project: ProjectRef


class PageInput(InputModel):
    limit: Limit = 20
    cursor: Cursor = None


class Listing(Output, Generic[T]):
    """A page of items with a cursor for the next page."""

    items: list[T]
    next_cursor: str | None = Field(default=None)
    total: int | None = None

    def text(self) -> str:
        if not self.items:
            return "Nothing found."
        lines = [f"{len(self.items)} of {self.total if self.total is not None else '?'}:"]
        for item in self.items:
            data = item.model_dump()
            label = data.get("name") or data.get("key") or data.get("k6_load_zone_id") or ""
            ident = data.get("id", data.get("project_id", data.get("key_id")))
            lines.append(f"- {label} (id {ident})" if label else f"- id {ident}")
        if self.next_cursor:
            lines.append("(more: call again with the next_cursor)")
        return "\n".join(lines)


async def page_of(
    ctx: OpContext,
    model: type[T],
    path: str,
    *,
    limit: int,
    cursor: str | None,
    params: dict[str, Any] | None = None,
) -> Listing[T]:
    """One page of a v6 list as a :class:`Listing`, with an opaque skip cursor."""
    skip = int(decode_cursor(cursor).get("skip", 0))
    page = await ctx.client.get_page(model, path, {**(params or {}), "$top": limit, "$skip": skip, "$count": True})
    next_cursor = encode_cursor({"skip": skip + len(page.value)}) if page.next_link and page.value else None
    return Listing[model](items=page.value, next_cursor=next_cursor, total=page.count)  # type: ignore[valid-type]


def nonempty(data: dict[str, Any]) -> dict[str, Any]:
    """Drop unset (None) values from a request body."""
    return {k: v for k, v in data.items() if v is not None}


def the_new_one(
    items: Iterable[Item], before: Collection[int], *, key: Callable[[Item], int], what: str
) -> Item | None:
    """For a reconciliation (see ``Operation.reconcile``): the one item not among the ids ``before`` the write,
    None when there is none (nothing was done), :class:`CannotTell` when there are several (not ours to claim)."""
    new = [item for item in items if key(item) not in before]
    if len(new) > 1:
        ids = ", ".join(str(key(item)) for item in new[:5])
        raise CannotTell(f"k6 Cloud shows {len(new)} new {what} since the attempt started ({ids}), not one")
    return new[0] if new else None
