"""A person's yes before every run / stop / admin operation: elicitation when the client can ask, else a flag.

The flow of one call:

1. validate and resolve (``Toolbox.prepare``): the preview reads happen here, before anyone is asked;
   a test phrase that fits several tests becomes a choice among the candidates (or, without elicitation,
   an answer naming them) and never starts anything;
2. ask the person with the registry's confirmation sentence and the preview notes (last run, cost estimate…):
   on the classic protocol as an ``elicitation/create`` request in the middle of the call, on 2026-07-28 and
   later as an ``InputRequiredResult`` round whose sealed ``requestState`` carries the prepared request, so
   the answer applies to exactly what the person saw and the preview is not read again;
3. accept → ``Toolbox.execute(..., confirmed=True)`` (which re-checks the state before the one write);
   decline or cancel → nothing more is sent to k6 Cloud;
4. a client that cannot ask (no elicitation capability) gets the preview back and must call again with
   ``confirm: true`` — clients show the arguments of non-read-only tools to the person, so a person still
   approves the flag.

Every decision is written to the audit log.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any, Literal

from mcp.server.mcpserver import Context
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, ElicitRequest, ElicitRequestFormParams, ElicitResult, InputRequiredResult
from mcp_types.version import is_version_at_least
from pydantic import BaseModel, Field, ValidationError

from bot.idempotency import derive_key
from bot.policy import Actor
from tools.describe import describe
from tools.errors import AmbiguousLoadTest, InvalidInput, K6BotError
from tools.registry import Operation, Prepared, RefKind

from .results import CandidateOut, ConfirmOutcome, PreviewOut, outcome_result, structured
from .state import ServerState

log = logging.getLogger("k6bot.mcp")

INPUT_REQUIRED_VERSION = "2026-07-28"
CONFIRM_KEY = "k6bot_confirm"
CHOOSE_KEY = "k6bot_choose_load_test"
CONFIRM_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}
"""Nothing to fill in: the question is the message, and Accept / Decline is the answer."""

ElicitMode = Literal["sync", "rounds"]
ToolAnswer = CallToolResult | InputRequiredResult


def elicitation_mode(ctx: Context) -> ElicitMode | None:
    """How this client can be asked: mid-call request (classic), input-required rounds (2026-07-28+), or not."""
    try:
        capabilities = ctx.client_capabilities
    except ValueError:
        return None
    elicitation = capabilities.elicitation if capabilities is not None else None
    if elicitation is None or (elicitation.form is None and elicitation.url is not None):
        return None  # not declared, or URL mode only: a form cannot be shown
    version = ctx.protocol_version
    if version is not None and is_version_at_least(version, INPUT_REQUIRED_VERSION):
        return "rounds"
    return "sync" if ctx.session.can_send_request else None


def take_confirm_flag(op: Operation, arguments: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Split the MCP-only ``confirm`` argument from the operation's own arguments."""
    rest = dict(arguments)
    value = rest.pop("confirm", False)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        value = value.strip().lower() == "true"
    if value is None:
        value = False
    if not isinstance(value, bool):
        raise InvalidInput(f"Invalid arguments for {op.name}: 'confirm' must be true or false.", field="confirm")
    return rest, value


class RoundState(BaseModel):
    """What an input-required round carries to the next one (sealed and bound to the call by the SDK)."""

    v: Literal[1] = 1
    stage: Literal["choose", "confirm"]
    operation: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    prepared: dict[str, Any] | None = None
    candidates: list[CandidateOut] = Field(default_factory=list)
    ref_field: str | None = None
    question: str = ""
    sentence: str = ""
    idempotency_key: str | None = None


class ConfirmFlow:
    """Runs one run / stop / admin tool call from arguments to a result (or a question for the person)."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.toolbox = state.toolbox

    async def run(self, op: Operation, arguments: dict[str, Any], ctx: Context, actor: Actor) -> ToolAnswer:
        mode = elicitation_mode(ctx)
        if mode == "rounds" and ctx.request_state:
            return await self._resume(op, ctx, actor)
        arguments, confirm_flag = take_confirm_flag(op, arguments)
        try:
            prepared = await self.toolbox.prepare(op.name, arguments)
        except AmbiguousLoadTest as exc:
            return await self._ambiguous(op, arguments, exc, ctx, actor, mode)
        return await self._decide(op, prepared, ctx, actor, mode, confirm_flag)

    # ------------------------------------------------------------------ asking

    async def _decide(
        self,
        op: Operation,
        prepared: Prepared,
        ctx: Context,
        actor: Actor,
        mode: ElicitMode | None,
        confirm_flag: bool,
    ) -> ToolAnswer:
        question = prepared.text()
        if mode == "rounds":
            state = RoundState(
                stage="confirm",
                operation=op.name,
                prepared=prepared.model_dump(mode="json"),
                question=question,
                idempotency_key=uuid.uuid4().hex,
            )
            return _ask(CONFIRM_KEY, question, CONFIRM_SCHEMA, state)
        if mode == "sync":
            try:
                answer = await ctx.session.elicit_form(
                    message=question, requested_schema=CONFIRM_SCHEMA, related_request_id=ctx.request_id
                )
            except MCPError as exc:
                log.warning("Could not ask the person to confirm %s (%s); falling back to confirm: true", op.name, exc)
            else:
                return await self._answered(op, prepared, answer, actor, key=None)
        if confirm_flag:
            # derived, not random: the same confirmed call again from this session is the same write
            key = derive_key(op.name, prepared.arguments, self.state.scope(ctx, actor))
            return await self._execute(op, prepared, actor, via="confirm: true", key=key, repeatable=True)
        await self.state.record(actor, op, "requested", arguments=prepared.arguments, facts=prepared.facts)
        outcome = ConfirmOutcome(
            outcome="needs_confirmation",
            message=(
                f"Nothing was done yet: this needs the person's confirmation. Show them the preview; only if they "
                f"agree, call {op.name} again with the same arguments and confirm: true."
            ),
            preview=PreviewOut.of(prepared),
        )
        return outcome_result(outcome, f"{question}\n\n{outcome.message}")

    async def _answered(
        self, op: Operation, prepared: Prepared, answer: ElicitResult, actor: Actor, *, key: str | None
    ) -> ToolAnswer:
        content = answer.content or {}
        if answer.action == "accept" and content.get("confirm", True) is not False:
            return await self._execute(op, prepared, actor, via="elicitation", key=key)
        declined = answer.action != "cancel"
        await self.state.record(
            actor,
            op,
            "cancelled",
            arguments=prepared.arguments,
            facts=prepared.facts,
            detail="declined" if declined else "dismissed",
        )
        said = "declined" if declined else "dismissed the question"
        outcome = ConfirmOutcome(
            outcome="declined" if declined else "cancelled",
            message=f"The person {said}: “{prepared.confirmation}” — nothing was changed in k6 Cloud.",
            preview=PreviewOut.of(prepared),
        )
        return outcome_result(outcome)

    async def _execute(
        self, op: Operation, prepared: Prepared, actor: Actor, *, via: str, key: str | None, repeatable: bool = False
    ) -> ToolAnswer:
        key = key or uuid.uuid4().hex

        async def write() -> Any:
            return await self.toolbox.execute(op.name, prepared.arguments, confirmed=True, idempotency_key=key)

        try:
            if repeatable:
                result, repeat = await self.state.repeats.once(key, write)
            else:
                result, repeat = await write(), False
        except K6BotError as exc:
            await self.state.record(
                actor,
                op,
                "confirmed",
                arguments=prepared.arguments,
                facts=prepared.facts,
                result="error",
                detail=f"{via}: {exc}",
                confirmation_id=key,
            )
            raise
        await self.state.record(
            actor,
            op,
            "confirmed",
            arguments=prepared.arguments,
            facts=prepared.facts,
            result="ok",
            detail=f"{via}: repeat of an identical call, nothing new done" if repeat else via,
            confirmation_id=key,
        )
        text = describe(result)
        message = getattr(result, "message", None) or text.splitlines()[0]
        if repeat:
            message = f"Already done by an identical call moments ago; nothing new was started. {message}"
            text = f"{message}\n{text}"
        outcome = ConfirmOutcome(
            outcome="done",
            message=message,
            preview=PreviewOut.of(prepared),
            result=structured(result),
            repeat=repeat,
        )
        return outcome_result(outcome, text)

    # ------------------------------------------------------------------ ambiguous names

    async def _ambiguous(
        self,
        op: Operation,
        arguments: dict[str, Any],
        exc: AmbiguousLoadTest,
        ctx: Context,
        actor: Actor,
        mode: ElicitMode | None,
    ) -> ToolAnswer:
        candidates = [CandidateOut.of(c) for c in exc.candidates]
        ref_field = _ambiguous_field(op, arguments, exc.phrase)
        question = f"{exc} Choosing one does not run anything yet: you confirm it next."
        if mode == "rounds":
            state = RoundState(
                stage="choose",
                operation=op.name,
                arguments=arguments,
                candidates=candidates,
                ref_field=ref_field,
                question=question,
                sentence=str(exc),
            )
            return _ask(CHOOSE_KEY, question, _choice_schema(candidates), state)
        if mode == "sync":
            try:
                answer = await ctx.session.elicit_form(
                    message=question, requested_schema=_choice_schema(candidates), related_request_id=ctx.request_id
                )
            except MCPError as exc_:
                log.warning("Could not ask the person to choose a load test (%s)", exc_)
            else:
                return await self._chosen(op, arguments, ref_field, candidates, answer, ctx, actor, "sync", str(exc))
        return _ambiguous_result(str(exc), candidates, ref_field, chosen=False)

    async def _chosen(
        self,
        op: Operation,
        arguments: dict[str, Any],
        ref_field: str,
        candidates: list[CandidateOut],
        answer: ElicitResult,
        ctx: Context,
        actor: Actor,
        mode: ElicitMode,
        sentence: str,
    ) -> ToolAnswer:
        chosen = _choice(answer, candidates)
        if chosen is None:
            await self.state.record(
                actor, op, "cancelled", arguments=arguments, detail=f"no load test chosen ({answer.action})"
            )
            return _ambiguous_result(sentence, candidates, ref_field, chosen=True)
        prepared = await self.toolbox.prepare(op.name, {**arguments, ref_field: chosen})
        return await self._decide(op, prepared, ctx, actor, mode, False)

    # ------------------------------------------------------------------ later rounds (2026-07-28+)

    async def _resume(self, op: Operation, ctx: Context, actor: Actor) -> ToolAnswer:
        try:
            state = RoundState.model_validate(json.loads(ctx.request_state or ""))
        except (ValueError, ValidationError):
            state = None
        if state is None or state.operation != op.name:
            raise InvalidInput(f"That confirmation of {op.name} is no longer valid; call {op.name} again.")
        responses = ctx.input_responses or {}
        if state.stage == "choose":
            answer = responses.get(CHOOSE_KEY)
            if not isinstance(answer, ElicitResult):
                return _ask(CHOOSE_KEY, state.question, _choice_schema(state.candidates), state)
            return await self._chosen(
                op,
                state.arguments,
                state.ref_field or "load_test",
                state.candidates,
                answer,
                ctx,
                actor,
                "rounds",
                state.sentence,
            )
        answer = responses.get(CONFIRM_KEY)
        if not isinstance(answer, ElicitResult) or state.prepared is None:
            return _ask(CONFIRM_KEY, state.question, CONFIRM_SCHEMA, state)
        prepared = Prepared.model_validate(state.prepared)
        return await self._answered(op, prepared, answer, actor, key=state.idempotency_key)


def _ask(key: str, message: str, schema: dict[str, Any], state: RoundState) -> InputRequiredResult:
    request = ElicitRequest(params=ElicitRequestFormParams(message=message, requested_schema=schema))
    return InputRequiredResult(input_requests={key: request}, request_state=state.model_dump_json())


def _choice_schema(candidates: list[CandidateOut]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "load_test": {
                "type": "string",
                "title": "Load test",
                "description": "The load test you mean.",
                "oneOf": [{"const": str(c.id), "title": c.label()} for c in candidates],
            }
        },
        "required": ["load_test"],
    }


def _choice(answer: ElicitResult, candidates: list[CandidateOut]) -> int | None:
    if answer.action != "accept" or not answer.content:
        return None
    value = answer.content.get("load_test")
    ids = {c.id for c in candidates}
    try:
        chosen = int(str(value).strip())
    except ValueError:
        return None
    return chosen if chosen in ids else None


def _ambiguous_field(op: Operation, arguments: dict[str, Any], phrase: str) -> str:
    fields = [name for name, kind in op.ref_fields().items() if kind is RefKind.LOAD_TEST]
    for name in fields:
        if arguments.get(name) == phrase:
            return name
    return fields[0] if fields else "load_test"


def _ambiguous_result(sentence: str, candidates: list[CandidateOut], ref_field: str, *, chosen: bool) -> CallToolResult:
    lead = "No load test was chosen, so nothing was done. " if chosen else "Nothing was done. "
    outcome = ConfirmOutcome(
        outcome="ambiguous",
        message=f"{lead}{sentence} Ask the person which one, then call again with {ref_field} set to its id.",
        candidates=candidates,
    )
    lines = [outcome.message, *(f"- {c.label()}" for c in candidates)]
    return outcome_result(outcome, "\n".join(lines))
