"""The operation registry: every k6 Cloud operation declared once, and the toolbox that runs them.

An :class:`Operation` says everything a front-end needs: a stable snake_case name, a title, a description
written for people and models, the pydantic input model (field descriptions, bounds), the output model,
the safety class, whether repeating it is harmless, whether it destroys something, the API endpoints it
uses, the confirmation sentence and the sentences for the API errors it can meet. Front-ends (MCP, Slack,
terminal) derive their tools, commands, help and confirmations from it and never restate an operation.

:class:`Toolbox` runs operations for every front-end the same way:

1. validate the arguments against the input model (a clear :class:`InvalidInput`, nothing sent);
2. resolve references — a load test or project given by name becomes one id, or raises
   :class:`AmbiguousLoadTest` / :class:`NoMatchingLoadTest`;
3. for run / stop / admin operations, :meth:`Toolbox.prepare` builds the preview a person confirms
   (the confirmation sentence plus facts that help decide), and :meth:`Toolbox.execute` refuses to act
   without ``confirmed=True``; after the confirmation it re-checks the state (the run is still running,
   the test still exists) before the one write;
4. API errors get the operation's own sentence ("Run 1234 is not running, so it cannot be aborted.");
5. a write declared with :meth:`Operation.reconcile` is reconciled after an ambiguous failure (the answer lost,
   a 5xx, an unreadable 2xx: ``possibly_processed``): the object this attempt created is looked up and returned
   as the result; only a confirmed "nothing happened" raises :class:`NotDone`, anything else
   :class:`OutcomeUnknown`.
"""

from __future__ import annotations

import inspect
import re
import string
import typing
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from rapidfuzz import process

from tools.client import ApiFlavour, K6CloudClient, parse_model
from tools.errors import ApiError, ApiUnavailable, InvalidInput, K6BotError, NotDone, OutcomeUnknown
from tools.phrasing import Phrases
from tools.resolve import LoadTestCatalog
from tools.toolsets import check_toolsets

M = TypeVar("M", bound=BaseModel)


class Safety(StrEnum):
    """What an operation can cost or break; decides confirmation, permissions and MCP annotations."""

    READ = "read"
    """Reads only."""
    WRITE = "write"
    """Small reversible changes (a note, a star); no confirmation."""
    RUN = "run"
    """Starts load, costs money (VUH) and sends traffic to the systems under test."""
    STOP = "stop"
    """Stops a running test."""
    ADMIN = "admin"
    """Creates, changes or deletes tests, scripts, projects, schedules, limits or labels."""

    @property
    def needs_confirmation(self) -> bool:
        return self in (Safety.RUN, Safety.STOP, Safety.ADMIN)


class RefKind(StrEnum):
    """Marks an input field whose value may name a thing instead of giving its id."""

    LOAD_TEST = "load_test"
    PROJECT = "project"


@dataclass(frozen=True)
class Endpoint:
    """One HTTP endpoint of the API an operation uses."""

    method: str
    path: str
    api: ApiFlavour = "v6"

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class Hints:
    """Tool annotations as MCP defines them, derived from the safety class."""

    read_only: bool
    destructive: bool
    idempotent: bool
    open_world: bool


ProgressReporter = Callable[[float, float | None, str], Awaitable[None]]


class Preview(BaseModel):
    """What an operation's preview adds to the confirmation: template facts and notes that help decide."""

    facts: dict[str, Any] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)


class Prepared(BaseModel):
    """A resolved, checked request waiting for a person's yes (or, for reads, ready to run)."""

    model_config = ConfigDict(frozen=True)

    operation: str
    title: str
    safety: Safety
    arguments: dict[str, Any] = Field(description="Validated arguments, with names resolved to ids.")
    confirmation: str = Field(description="The question a person answers, e.g. \"Start load test 'X' (id 1)?\"")
    notes: list[str] = Field(default_factory=list, description="Facts that help decide (last run, cost).")
    facts: dict[str, Any] = Field(default_factory=dict)
    needs_confirmation: bool
    items: list[Prepared] = Field(
        default_factory=list, description="For one operation on several targets: each target's own preview."
    )

    def text(self) -> str:
        lines = [self.confirmation, *(f"• {note}" for note in self.notes)]
        return "\n".join(lines)

    @classmethod
    def batch(cls, items: Sequence[Prepared], *, title: str, notes: Sequence[str] = ()) -> Prepared:
        """One confirmation for the same operation on several targets, listing each."""
        first = items[0]
        return cls(
            operation=first.operation,
            title=first.title,
            safety=first.safety,
            arguments={"batch": [item.arguments for item in items]},
            confirmation=f"{title} — {len(items)} in all?",
            notes=[item.confirmation.rstrip("?") for item in items] + list(notes),
            needs_confirmation=first.needs_confirmation,
            items=list(items),
        )


class ConfirmationRequired(K6BotError):
    """A run / stop / admin operation was asked to execute without a person's confirmation."""

    def __init__(self, prepared: Prepared) -> None:
        super().__init__(f"{prepared.confirmation} This needs a confirmation before it runs.")
        self.prepared = prepared


@dataclass
class OpContext:
    """What an operation's handler works with."""

    client: K6CloudClient
    catalog: LoadTestCatalog
    idempotency_key: str | None = None
    progress: ProgressReporter | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    """Plain values for sentences: resolved names and ids, preview facts."""
    resolved: dict[str, BaseModel] = field(default_factory=dict)
    """The objects reference fields resolved to (the LoadTest for ``load_test``, the Project for ``project``)."""

    async def report(self, progress: float, total: float | None, message: str) -> None:
        if self.progress is not None:
            await self.progress(progress, total, message)

    def get(
        self, model: type[M], path: str, *, params: Mapping[str, Any] | None = None, api: ApiFlavour = "v6"
    ) -> Coroutine[Any, Any, M]:
        """``await ctx.get(Model, path)``: the client's own coroutine, not one more wrapped around it."""
        return self.client.get_model(model, path, api=api, params=params)

    async def send(
        self,
        method: str,
        path: str,
        *,
        idempotent: bool,
        api: ApiFlavour = "v6",
        json: Any = None,
        content: bytes | None = None,
        files: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        accept: str | None = "application/json",
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        return await self.client.request(
            method,
            path,
            api=api,
            json=json,
            content=content,
            files=files,
            data=data,
            params=params,
            accept=accept,
            headers=headers,
            idempotent=idempotent,
            idempotency_key=idempotency_key,
        )

    async def send_model(self, model: type[M], method: str, path: str, *, idempotent: bool, **kwargs: Any) -> M:
        response = await self.send(method, path, idempotent=idempotent, **kwargs)
        return parse_model(model, response)


Handler = Callable[[OpContext, Any], Awaitable[BaseModel]]
PreviewFn = Callable[[OpContext, Any], Awaitable[Preview]]
CheckFn = Callable[[OpContext, Any], Awaitable[None]]
Template = str | Callable[[Mapping[str, Any]], str]
Finder = Callable[[], Awaitable[BaseModel | None]]
"""After an ambiguous failure of a write: the object this attempt made, as the operation's result; None when
k6 Cloud shows nothing was done; raises (:class:`~tools.errors.CannotTell`, any K6BotError) when it cannot tell."""
ReconcileFn = Callable[[OpContext, Any], Awaitable[Finder]]
"""Called right before the write: notes what exists (the newest run id, the ids of same-named projects…) and
returns the :data:`Finder` that looks for what is new since then."""

LOST_ANSWER = "k6 Cloud's answer was lost; k6bot checked that it was {done}"


@dataclass(frozen=True)
class Reconciler:
    """How an operation without an idempotent retry finds out what an ambiguous attempt did."""

    before: ReconcileFn
    what: Template
    """The thing, for sentences: "project '{name}'", "a run of load test '{load_test_name}'"."""
    done: str
    """The past participle: "created", "started"."""


class InputModel(BaseModel):
    """Base of operation inputs: unknown arguments are an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


@dataclass
class Operation:
    """One operation of the k6 Cloud API (or a composite of several calls), declared once."""

    name: str
    title: str
    description: str
    group: str
    input: type[InputModel]
    output: type[BaseModel]
    safety: Safety
    idempotent: bool
    destructive: bool
    handler: Handler
    endpoints: tuple[Endpoint, ...] = ()
    confirm: Template | None = None
    errors: Mapping[int, Template] = field(default_factory=dict)
    core: bool = False
    deprecated: str | None = None
    previewer: PreviewFn | None = None
    checker: CheckFn | None = None
    reconciler: Reconciler | None = None
    phrases: Phrases = field(default_factory=Phrases)
    """How people ask for it in chat (verbs, nouns, examples): the command language is derived from these."""
    _ref_cache: dict[str, RefKind] | None = field(default=None, init=False, repr=False, compare=False)

    # -- declarations that read well next to the handler -------------------------------

    def preview(self, fn: PreviewFn) -> PreviewFn:
        """Register the function that gathers facts for the confirmation (decorator)."""
        self.previewer = fn
        return fn

    def check(self, fn: CheckFn) -> CheckFn:
        """Register the re-check run right before the write, after the person confirmed (decorator)."""
        self.checker = fn
        return fn

    def reconcile(self, what: Template, done: str) -> Callable[[ReconcileFn], ReconcileFn]:
        """Register how an ambiguous failure of this write is reconciled (decorator).

        The decorated function runs right before the write and returns the :data:`Finder` run after an
        ambiguous failure. ``what`` and ``done`` make the sentences: "Project 'X' was not created: …".
        """

        def register(fn: ReconcileFn) -> ReconcileFn:
            self.reconciler = Reconciler(before=fn, what=what, done=done)
            return fn

        return register

    # -- derived -------------------------------------------------------------------------

    @property
    def summary(self) -> str:
        """The one-line description: the first sentence of the first paragraph."""
        paragraph = " ".join(self.description.strip().split("\n\n")[0].split())
        sentences = _SENTENCE_END.split(paragraph, maxsplit=1)
        return sentences[0].strip()

    @property
    def needs_confirmation(self) -> bool:
        return self.safety.needs_confirmation

    @property
    def hints(self) -> Hints:
        return Hints(
            read_only=self.safety is Safety.READ,
            destructive=self.destructive,
            idempotent=self.idempotent,
            open_world=self.safety is Safety.RUN,
        )

    def ref_fields(self) -> dict[str, RefKind]:
        """Input fields that may hold a name to resolve (e.g. ``load_test``)."""
        return dict(self._refs())

    def _refs(self) -> dict[str, RefKind]:
        """:meth:`ref_fields`, read from the input model once (it does not change): every call looks."""
        if self._ref_cache is None:
            refs: dict[str, RefKind] = {}
            for name, info in self.input.model_fields.items():
                for meta in info.metadata:
                    if isinstance(meta, RefKind):
                        refs[name] = meta
            self._ref_cache = refs
        return self._ref_cache

    def parse(self, arguments: Mapping[str, Any] | BaseModel | None) -> InputModel:
        """Validate arguments against the input model, or raise :class:`InvalidInput` (nothing is sent)."""
        if type(arguments) is not dict:
            if isinstance(arguments, self.input):
                return arguments
            if isinstance(arguments, BaseModel):
                arguments = arguments.model_dump(exclude_unset=True)
            arguments = dict(arguments or {})
        try:  # the model never changes its input: a plain dict is validated as it is, not copied
            return self.input.model_validate(arguments)
        except ValidationError as exc:
            raise InvalidInput(_validation_sentence(self.name, exc), field=_first_field(exc)) from None

    def confirmation_text(self, values: Mapping[str, Any]) -> str:
        if self.confirm is None:
            return f"{self.title}?"
        return render(self.confirm, values)


_SENTENCE_END = re.compile(r"(?<!e\.g)(?<!i\.e)(?<=[.!?])\s+(?=[A-Z(])")


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


def render(template: Template, values: Mapping[str, Any]) -> str:
    """Fill a sentence template from arguments and facts; a missing value shows as '?' rather than failing."""
    if callable(template):
        return template(values)
    return string.Formatter().vformat(template, (), _Blank(values))


def _first_field(exc: ValidationError) -> str | None:
    errors = exc.errors()
    if not errors or not errors[0].get("loc"):
        return None
    return str(errors[0]["loc"][0])


def _validation_sentence(operation: str, exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:3]:
        loc = ".".join(str(p) for p in error.get("loc", ()) if not isinstance(p, int) or True)
        kind = error.get("type", "")
        if kind == "extra_forbidden":
            parts.append(f"unknown argument '{loc}'")
        elif kind == "missing":
            parts.append(f"'{loc}' is required")
        else:
            got = error.get("input")
            shown = f" (got {got!r})" if got is not None and not isinstance(got, dict | list) else ""
            message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
            # a check of the whole input (a model validator) has no field to name
            parts.append(f"'{loc}': {message}{shown}" if loc else message)
    more = f" (+{len(exc.errors()) - 3} more)" if len(exc.errors()) > 3 else ""
    return f"Invalid arguments for {operation}: " + "; ".join(parts) + more + "."


class Registry:
    """All operations by name, in declaration order."""

    def __init__(self) -> None:
        self._ops: dict[str, Operation] = {}

    def add(self, op: Operation) -> Operation:
        if op.name in self._ops:
            raise ValueError(f"operation {op.name!r} is declared twice")
        self._ops[op.name] = op
        return op

    def operation(
        self,
        *,
        name: str,
        title: str,
        group: str,
        safety: Safety,
        idempotent: bool,
        destructive: bool = False,
        endpoints: Sequence[Endpoint] = (),
        confirm: Template | None = None,
        errors: Mapping[int, Template] | None = None,
        core: bool = False,
        deprecated: str | None = None,
        phrases: Phrases | None = None,
        description: str,
    ) -> Callable[[Handler], Operation]:
        """Declare an operation from its handler; input and output models come from its annotations."""

        def declare(handler: Handler) -> Operation:
            hints = typing.get_type_hints(handler)
            params = list(inspect.signature(handler).parameters)
            input_model = hints[params[1]]
            output_model = hints["return"]
            op = Operation(
                name=name,
                title=title,
                description=inspect.cleandoc(description),
                group=group,
                input=input_model,
                output=output_model,
                safety=safety,
                idempotent=idempotent,
                destructive=destructive,
                handler=handler,
                endpoints=tuple(endpoints),
                confirm=confirm,
                errors=dict(errors or {}),
                core=core,
                deprecated=deprecated,
                phrases=phrases or Phrases(),
            )
            return self.add(op)

        return declare

    def __getitem__(self, name: str) -> Operation:
        try:
            return self._ops[name]
        except KeyError:
            close = process.extractOne(name, list(self._ops))
            hint = f" Did you mean '{close[0]}'?" if close and close[1] >= 60 else ""
            raise InvalidInput(f"Unknown operation '{name}'.{hint}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._ops

    def __iter__(self) -> Iterator[Operation]:
        return iter(self._ops.values())

    def __len__(self) -> int:
        return len(self._ops)

    def names(self) -> list[str]:
        return list(self._ops)

    def groups(self) -> dict[str, list[Operation]]:
        grouped: dict[str, list[Operation]] = {}
        for op in self:
            grouped.setdefault(op.group, []).append(op)
        return grouped

    def select(self, toolsets: Sequence[str] | None = None, *, read_only: bool = False) -> list[Operation]:
        """Operations in the given toolsets (``None`` or ``["core"]`` → the core set; ``["all"]`` → all)."""
        wanted = {t.strip().lower() for t in (toolsets or ["core"]) if t.strip()}
        check_toolsets(wanted, known=self.groups())
        chosen = [op for op in self if "all" in wanted or op.group in wanted or ("core" in wanted and op.core)]
        if read_only:
            chosen = [op for op in chosen if op.safety is Safety.READ]
        return chosen


REGISTRY = Registry()
operation = REGISTRY.operation


def get_registry() -> Registry:
    """The registry with every operation declared (importing the declarations on first use)."""
    import tools.operations  # noqa: F401 - registers the operations

    return REGISTRY


class Toolbox:
    """Runs registry operations against one k6 Cloud client, the same way for every front-end."""

    def __init__(
        self,
        client: K6CloudClient,
        *,
        registry: Registry | None = None,
        catalog: LoadTestCatalog | None = None,
    ):
        self.client = client
        self.registry = registry or get_registry()
        self.catalog = catalog or LoadTestCatalog(client)

    def operation(self, name: str) -> Operation:
        return self.registry[name]

    def _context(self, **kwargs: Any) -> OpContext:
        return OpContext(client=self.client, catalog=self.catalog, **kwargs)

    async def _resolve(self, op: Operation, args: InputModel, ctx: OpContext) -> InputModel:
        """Replace names in reference fields by ids and record what they resolved to in ``ctx.facts``."""
        refs = op._refs()
        if not refs:
            return args
        updates: dict[str, Any] = {}
        project_scope = getattr(args, "project", None)
        for field_name, kind in refs.items():
            value = getattr(args, field_name)
            if value is None:
                continue
            if kind is RefKind.PROJECT:
                project = await self.catalog.resolve_project(value)
                ctx.resolved[field_name] = project
                updates[field_name] = project.id
                ctx.facts[f"{field_name}_id"] = project.id
                ctx.facts[f"{field_name}_name"] = project.name
                if field_name == "project":
                    project_scope = project.id
        for field_name, kind in refs.items():
            value = getattr(args, field_name)
            if value is None or kind is not RefKind.LOAD_TEST:
                continue
            scope = project_scope if isinstance(project_scope, int) else None
            test = await self.catalog.resolve(value, project_id=scope)
            updates[field_name] = test.id
            ctx.resolved[field_name] = test
            ctx.facts.update(load_test_id=test.id, load_test_name=test.name, project_id=test.project_id)
        return args.model_copy(update=updates) if updates else args

    async def prepare(self, name: str, arguments: Mapping[str, Any] | BaseModel | None = None) -> Prepared:
        """Validate, resolve and preview an operation without changing anything."""
        op = self.registry[name]
        ctx = self._context()
        args = await self._resolve(op, op.parse(arguments), ctx)
        return await self._preview(op, args, ctx)

    async def _preview(self, op: Operation, args: InputModel, ctx: OpContext) -> Prepared:
        """The preview of resolved arguments: the previewer's facts and the confirmation sentence."""
        notes: list[str] = []
        if op.previewer is not None:
            try:
                preview = await op.previewer(ctx, args)
            except ApiError as exc:
                raise self._explain(op, exc, args, ctx) from None
            ctx.facts.update(preview.facts)
            notes = preview.notes
        values = {**args.model_dump(), **ctx.facts}
        return Prepared(
            operation=op.name,
            title=op.title,
            safety=op.safety,
            arguments=args.model_dump(mode="json"),
            confirmation=op.confirmation_text(values),
            notes=notes,
            facts=_json_facts(ctx.facts),
            needs_confirmation=op.needs_confirmation,
        )

    async def execute(
        self,
        name: str,
        arguments: Mapping[str, Any] | BaseModel | None = None,
        *,
        confirmed: bool = False,
        idempotency_key: str | None = None,
        progress: ProgressReporter | None = None,
    ) -> BaseModel:
        """Run an operation. Run / stop / admin operations need ``confirmed=True`` (a person said yes).

        ``idempotency_key`` makes a start retry-safe; pass the confirmation's id so a repeated click or
        a retried request can never start a second run.
        """
        op = self.registry[name]
        if idempotency_key is not None and not 1 <= len(idempotency_key) <= 36:
            raise InvalidInput("An idempotency key must be 1 to 36 characters long.")
        ctx = self._context(idempotency_key=idempotency_key, progress=progress)
        args = op.parse(arguments)
        if op._refs():
            args = await self._resolve(op, args, ctx)
        if op.needs_confirmation and not confirmed:
            raise ConfirmationRequired(await self._preview(op, args, ctx))
        try:
            if op.checker is not None:
                await op.checker(ctx, args)
            finder = await op.reconciler.before(ctx, args) if op.reconciler is not None else None
        except ApiError as exc:
            raise self._explain(op, exc, args, ctx) from None
        try:
            result = await op.handler(ctx, args)
        except (ApiError, ApiUnavailable) as exc:
            if isinstance(exc, ApiError):
                exc = self._explain(op, exc, args, ctx)
            if finder is None or op.reconciler is None or not exc.possibly_processed:
                raise exc from None
            result = await self._reconcile(op.reconciler, exc, finder, {**args.model_dump(), **ctx.facts})
        if op.safety is Safety.ADMIN:
            self.catalog.invalidate()
        return result

    async def _reconcile(
        self, how: Reconciler, exc: ApiError | ApiUnavailable, finder: Finder, values: Mapping[str, Any]
    ) -> BaseModel:
        """After an ambiguous failure: what the attempt made, or :class:`NotDone` / :class:`OutcomeUnknown`."""
        what = render(how.what, values)
        failure = str(exc).strip().rstrip(".")
        attempts = getattr(exc, "attempts", 1)
        try:
            found = await finder()
        except K6BotError as why:
            self.catalog.invalidate()
            raise OutcomeUnknown(
                f"It is not known whether {what} was {how.done}: the request failed after it may have reached "
                f"k6 Cloud ({failure}), and "
                f"k6bot could not find out ({str(why).strip().rstrip('.')}). Check in k6 Cloud before trying again.",
                attempts=attempts,
            ) from None
        if found is None:
            raise NotDone(
                f"{what[:1].upper()}{what[1:]} was not {how.done}: the request failed ({failure}), and "
                f"k6 Cloud shows that nothing was {how.done}. It is safe to try again.",
                attempts=attempts,
            ) from None
        note = render(LOST_ANSWER, {"done": how.done})
        message = getattr(found, "message", None)
        if isinstance(message, str) and note not in message:
            found = found.model_copy(update={"message": f"{message.rstrip().rstrip('.')} ({note})."})
        return found

    @staticmethod
    def _explain(op: Operation, exc: ApiError, args: InputModel, ctx: OpContext) -> ApiError:
        template = op.errors.get(exc.status)
        if template is not None:
            reason = (exc.api_message or "").strip().rstrip(".")  # templates end their own sentence
            exc.sentence = render(template, {**args.model_dump(), **ctx.facts, "api_message": reason})
        return exc


def _json_facts(facts: Mapping[str, Any]) -> dict[str, Any]:
    """Facts that are plain data (drops helper objects such as the resolved LoadTest model)."""
    return {k: v for k, v in facts.items() if isinstance(v, str | int | float | bool | type(None))}
