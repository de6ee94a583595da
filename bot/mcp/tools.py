"""Registry operations → MCP tools. No tool is written out by hand: each one is derived from its Operation.

name, title, description, input schema (the operation's pydantic input model, plus ``confirm`` for run / stop /
admin tools), output schema (the operation's output model, or the confirmation wrapper around it),
annotations (from the safety class) and the confirmation all come from the registry.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, FuncMetadata
from mcp_types import CallToolResult, ToolAnnotations
from pydantic import model_validator

from bot import metrics
from bot.policy import Actor, Policy
from bot.router.text import refuse_control_characters
from bot.scrub import remember_settings
from tools.errors import InvalidInput, K6BotError
from tools.operations.common import NOT_A_BOOLEAN
from tools.registry import Operation, Safety

from .confirm import ConfirmFlow, ToolAnswer
from .results import confirm_output_schema, error_result, model_result, scrubbed
from .schemas import input_schema, output_schema
from .state import ServerState

log = logging.getLogger("k6bot.mcp")

CONFIRM_NOTE = "Needs `confirm`."
"""Said in every run / stop / admin tool; the flow itself is in the server instructions and the ``confirm`` field."""


def tool_description(op: Operation) -> str:
    """The operation's description for a model, plus how confirmation works and any deprecation."""
    paragraphs = [" ".join(line.strip() for line in block.splitlines()) for block in op.description.split("\n\n")]
    text = "\n".join(p for p in paragraphs if p)
    if op.needs_confirmation:
        text += "\n" + CONFIRM_NOTE
    if op.deprecated:
        text += f"\nDeprecated: {op.deprecated}"
    return text


def tool_annotations(op: Operation) -> ToolAnnotations:
    """All four hints set explicitly, from the registry's safety class.

    The title is the tool's own top-level ``title`` (clients prefer it to ``annotations.title``), not repeated here.
    """
    hints = op.hints
    return ToolAnnotations(
        read_only_hint=hints.read_only,
        destructive_hint=hints.destructive,
        idempotent_hint=hints.idempotent,
        open_world_hint=hints.open_world,
    )


def tool_output_schema(op: Operation) -> dict[str, Any]:
    return confirm_output_schema(op) if op.needs_confirmation else output_schema(op.output)


class RawArguments(ArgModelBase):
    """Hands the tool the arguments exactly as sent; the operation's own model validates them."""

    arguments: dict[str, Any]

    @model_validator(mode="before")
    @classmethod
    def _wrap(cls, data: Any) -> Any:
        return {"arguments": dict(data) if isinstance(data, dict) else {}}


def build_tool(op: Operation, calls: ToolCalls) -> Tool:
    async def call(arguments: dict[str, Any], ctx: Context) -> ToolAnswer:
        return await calls.call(op, arguments, ctx)

    call.__name__ = op.name
    return Tool(
        fn=call,
        name=op.name,
        title=op.title,
        description=tool_description(op),
        parameters=input_schema(op.input, confirm=op.needs_confirmation),
        fn_metadata=FuncMetadata(arg_model=RawArguments, output_schema=tool_output_schema(op)),
        is_async=True,
        context_kwarg="ctx",
        annotations=tool_annotations(op),
    )


class ToolCalls:
    """Runs a tool call: refusals, validation, reads and small writes directly, the rest through confirmation."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        remember_settings(getattr(state.toolbox.client, "settings", None))
        self.confirm = ConfirmFlow(state)
        self._schemas: dict[str, dict[str, Any]] = {}

    async def call(self, op: Operation, arguments: dict[str, Any], ctx: Context) -> ToolAnswer:
        """Every answer leaves through here, scrubbed of secrets (an API error may echo the token), and counted."""
        visible = op.name in self.state.visible
        try:
            answer = scrubbed(await self._call(op, arguments, ctx))
        except BaseException:
            metrics.command(op.name, "mcp", "error")
            raise
        metrics.command(op.name, "mcp", _metric_outcome(answer, visible=visible, confirm=op.needs_confirmation))
        return answer

    async def _call(self, op: Operation, arguments: dict[str, Any], ctx: Context) -> ToolAnswer:
        actor = self.state.actor(ctx)
        try:
            if op.name not in self.state.visible:
                return await self._refuse(op, arguments, actor)
            arguments = self._pre_parse(op, arguments)
            self._check_edges(op, arguments)
            if op.needs_confirmation:
                return await self.confirm.run(op, arguments, ctx, actor)
            return await self._direct(op, arguments, ctx, actor)
        except K6BotError as exc:
            return error_result(str(exc))
        except Exception:
            log.exception("Unexpected error in the MCP tool %s", op.name)
            return error_result(
                f"k6bot could not complete {op.name} because of an unexpected internal error; "
                "the details are in k6bot's log."
            )

    async def _direct(self, op: Operation, arguments: dict[str, Any], ctx: Context, actor: Actor) -> ToolAnswer:
        async def progress(done: float, total: float | None, message: str) -> None:
            try:
                await ctx.report_progress(done, total, message)
            except Exception:  # a client that went away must not fail the operation
                log.debug("Could not send a progress notification for %s", op.name, exc_info=True)

        if op.safety is Safety.READ:
            return model_result(await self.state.toolbox.execute(op.name, arguments, progress=progress))
        try:
            result = await self.state.toolbox.execute(op.name, arguments, progress=progress)
        except K6BotError as exc:
            await self.state.record(actor, op, "direct", arguments=arguments, result="error", detail=str(exc))
            raise
        await self.state.record(actor, op, "direct", arguments=arguments, result="ok")
        return model_result(result)

    async def _refuse(self, op: Operation, arguments: dict[str, Any], actor: Actor) -> ToolAnswer:
        if self.state.read_only and op.safety is not Safety.READ:
            reason = Policy(read_only=True).decide(actor, op.safety).reason
            sentence = f"{reason} {op.name} is not available (a {op.safety.value} operation)."
        else:
            wider = ",".join(dict.fromkeys([*self.state.toolsets, op.group]))
            sentence = (
                f"{op.name} is not enabled on this server: it is in the '{op.group}' toolset and this server offers "
                f"{', '.join(self.state.toolsets)}. Start k6bot mcp with --toolsets {wider} "
                "(or K6BOT_TOOLSETS) to use it."
            )
        if op.safety is not Safety.READ:
            await self.state.record(actor, op, "denied", arguments=arguments, detail=sentence)
        return error_result(sentence)

    def _pre_parse(self, op: Operation, arguments: dict[str, Any]) -> dict[str, Any]:
        """Lists and objects some clients send as JSON text become JSON again (strings stay strings)."""
        properties = self._schema(op).get("properties", {})
        parsed = dict(arguments)
        for key, value in arguments.items():
            if not isinstance(value, str) or key not in properties:
                continue
            kinds = _types(properties[key])
            if "string" in kinds or not kinds & {"array", "object"}:
                continue
            try:
                decoded = json.loads(value)
            except ValueError:
                continue
            if isinstance(decoded, list | dict):
                parsed[key] = decoded
        return parsed

    def _check_edges(self, op: Operation, arguments: dict[str, Any]) -> None:
        """What pydantic's lax mode would let through: ``true`` as a number, control characters in a name.

        A boolean where the schema wants an integer (or a list of them) is refused, as is a test or project
        name that hides control characters (it would be resolved to a real test). Raises InvalidInput.
        """
        properties = self._schema(op).get("properties", {})
        for key, value in arguments.items():
            schema = properties.get(key)
            if schema is None:
                continue
            kinds = _all_types(schema)
            values = value if isinstance(value, list) else [value]
            if "integer" in kinds and "boolean" not in kinds and any(isinstance(v, bool) for v in values):
                raise InvalidInput(f"Invalid arguments for {op.name}: '{key}' {NOT_A_BOOLEAN}.", field=key)
        for key in op.ref_fields():
            value = arguments.get(key)
            refusal = refuse_control_characters(value) if isinstance(value, str) else None
            if refusal is not None:
                raise InvalidInput(f"Invalid arguments for {op.name}: '{key}': {refusal}", field=key)

    def _schema(self, op: Operation) -> dict[str, Any]:
        if op.name not in self._schemas:
            self._schemas[op.name] = input_schema(op.input, confirm=op.needs_confirmation)
        return self._schemas[op.name]


_CONFIRM_OUTCOMES = {"done": "ok", "declined": "cancelled", "cancelled": "cancelled"}


def _metric_outcome(answer: ToolAnswer, *, visible: bool, confirm: bool) -> str:
    """ok / pending / denied / cancelled / error for ``k6bot_commands_total``."""
    if isinstance(answer, CallToolResult):
        if answer.is_error:
            return "error" if visible else "denied"
        outcome = (answer.structured_content or {}).get("outcome") if confirm else None
        return _CONFIRM_OUTCOMES.get(outcome, "pending") if isinstance(outcome, str) else "ok"
    return "pending"  # a question for the person (confirm, or which test)


def _types(schema: dict[str, Any]) -> set[str]:
    kinds: set[str] = set()
    kind = schema.get("type")
    if isinstance(kind, str):
        kinds.add(kind)
    elif isinstance(kind, list):
        kinds.update(k for k in kind if isinstance(k, str))
    for option in schema.get("anyOf", []) + schema.get("oneOf", []):
        if isinstance(option, dict):
            kinds |= _types(option)
    return kinds


def _all_types(schema: Any) -> set[str]:
    """Every JSON type a property's schema mentions, nested ones too (``items``, ``anyOf``…)."""
    if isinstance(schema, list):
        return set().union(*(_all_types(item) for item in schema)) if schema else set()
    if not isinstance(schema, dict):
        return set()
    kinds = _types(schema)
    for value in schema.values():
        if isinstance(value, dict | list):
            kinds |= _all_types(value)
    return kinds
