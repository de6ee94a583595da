"""Carrying out what a text means, the same way for every chat front-end (Slack, terminal).

The text is understood once (:func:`bot.router.understand.understand`); operations go through
:class:`bot.actions.Actions` (policy, confirmation, audit); k6bot's own commands (``help``, ``subscribe``,
``unsubscribe``, ``subscriptions``, ``audit``, ``watch``) are handled here under the same policy. The answer
is a :class:`Reply` in plain data; each front-end renders it (Block Kit, rich).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from enum import StrEnum
from typing import Any

from bot.actions import Actions, Outcome, OutcomeKind
from bot.audit import AuditLog, format_entry
from bot.notify.subscriptions import Subscriptions
from bot.notify.watchlist import Watchlist
from bot.policy import Actor
from bot.router.commands import BOT_COMMAND_SPECS, BOT_SAFETY, BotCommand, Command, CommandKind
from bot.router.help import Help, help_entries
from bot.router.parse import parse_off_loop
from bot.router.text import refuse_control_characters
from bot.router.understand import Meaning, Understanding, understand
from bot.store import Subscription
from tools.errors import AmbiguousLoadTest, Candidate, K6BotError
from tools.models import TestRun
from tools.outputs import RunSummary, status_phrase
from tools.phrasing import Answer

log = logging.getLogger("k6bot.router")


class ReplyKind(StrEnum):
    RESULT = "result"
    CONFIRM = "confirm"
    CHOOSE = "choose"
    ASK = "ask"
    """A required argument is missing: ``text`` asks for it, ``candidates`` are the choices at hand."""
    DENIED = "denied"
    ERROR = "error"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    REFUSED = "refused"
    ALREADY = "already"
    HELP = "help"
    NOT_UNDERSTOOD = "not_understood"
    INFO = "info"


_SUCCESS = {ReplyKind.RESULT, ReplyKind.CONFIRM, ReplyKind.CHOOSE, ReplyKind.HELP, ReplyKind.INFO}


@dataclass
class Reply:
    """What to show for one request. ``text`` is plain (front-ends escape it for their medium)."""

    kind: ReplyKind
    text: str
    command: Command | None = None
    outcome: Outcome | None = None
    help: Help | None = None
    lines: list[str] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    suggestions: tuple[str, ...] = ()
    summary: RunSummary | None = None
    """For a single run: its summary with the test's name (``get_test_run`` returns the bare API object)."""
    answer: str | None = None
    """The direct answer to a question ("No — running for 12m of ~30m."), shown first."""
    fills: str | None = None
    """For a choice or a question: the argument the picked candidate fills."""

    @property
    def ok(self) -> bool:
        """Whether the request went as asked (a preview or a choice is fine; a denial or an error is not)."""
        return self.kind in _SUCCESS

    @classmethod
    def of(cls, outcome: Outcome, command: Command | None = None) -> Reply:
        return cls(
            ReplyKind(outcome.kind.value),
            outcome.message,
            command=command,
            outcome=outcome,
            candidates=list(outcome.candidates),
            fills="load_test" if outcome.candidates else None,
        )


class Dispatcher:
    """Runs understood requests for one front-end's actors."""

    def __init__(
        self,
        actions: Actions,
        *,
        subscriptions: Subscriptions | None = None,
        audit: AuditLog | None = None,
        watchlist: Watchlist | None = None,
        tz: tzinfo | None = None,
        pause: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """``pause``: awaited before parsing a text (CPU work), e.g. to let a front-end's acknowledgements go
        first (``bot.slack.intake.Priority.turn``)."""
        self.actions = actions
        self.pause = pause
        self.subscriptions = subscriptions
        self.audit = audit or actions.audit
        self.watchlist = watchlist
        self.tz = tz

    @property
    def policy(self):
        return self.actions.policy

    async def take_turn(self) -> None:
        """Before CPU work for a front-end: let its ``pause`` hold it back (at once without one)."""
        if self.pause is not None:
            await self.pause()

    async def understand(self, text: str) -> Understanding:
        return await understand(text, self.actions.toolbox, tz=self.tz)

    async def handle_text(self, actor: Actor, text: str, *, context: Mapping[str, Any] | None = None) -> Reply:
        refusal = refuse_control_characters(text)
        if refusal is not None:  # before anything is resolved: such text is not what it looks like
            return Reply(ReplyKind.ERROR, refusal)
        await self.take_turn()
        parsed = await parse_off_loop(text, tz=self.tz, registry=self.actions.registry)
        fit = parsed.understood
        if fit is not None and not self.policy.decide(actor, fit.intent.safety):
            # refused before any name is looked up: a denial reads nothing and changes nothing
            kind = CommandKind.BOT if fit.intent.kind is CommandKind.BOT else CommandKind.OPERATION
            plain = {k: v for k, v in fit.values.items() if isinstance(v, str | int | float | bool | list)}
            return await self.handle(actor, Command(kind, fit.intent.name, plain, text=parsed.text), context=context)
        understanding = await understand(text, self.actions.toolbox, tz=self.tz, parsed=parsed)
        return await self.handle_understanding(actor, understanding, context=context)

    async def handle_understanding(
        self, actor: Actor, u: Understanding, *, context: Mapping[str, Any] | None = None
    ) -> Reply:
        """Carry out what a text was understood to mean; never raises for bad input or API errors."""
        command = u.command()
        if u.meaning is Meaning.UNKNOWN:
            return Reply(
                ReplyKind.NOT_UNDERSTOOD,
                u.message or "I didn't understand that.",
                command,
                suggestions=tuple(u.suggestions),
            )
        if u.meaning is Meaning.ERROR:
            return Reply(ReplyKind.ERROR, u.message, command, suggestions=tuple(u.suggestions))
        if u.meaning in (Meaning.CHOOSE, Meaning.ASK):
            kind = ReplyKind.CHOOSE if u.meaning is Meaning.CHOOSE else ReplyKind.ASK
            denied = self._denied_early(actor, command)
            if denied is not None:
                return denied
            return Reply(kind, u.message, command, candidates=u.candidates, fills=u.fills)
        if u.meaning is Meaning.BATCH:
            outcome = await self.actions.request_batch(actor, u.name, u.batch, context=context)
            return Reply.of(outcome, command)
        return await self.handle(actor, command, context=context, answer=u.answer)

    def _denied_early(self, actor: Actor, command: Command) -> Reply | None:
        """Before asking which one: say at once when the person may not do it at all."""
        safety = command.safety(self.actions.registry)
        if safety is None:
            return None
        decision = self.policy.decide(actor, safety)
        return None if decision else Reply(ReplyKind.DENIED, decision.reason, command)

    async def handle(
        self,
        actor: Actor,
        command: Command,
        *,
        context: Mapping[str, Any] | None = None,
        answer: Answer | None = None,
    ) -> Reply:
        """Carry out ``command`` (arguments already resolved) for ``actor``; never raises for bad input or API errors."""
        if command.kind is CommandKind.UNKNOWN:
            return Reply(
                ReplyKind.NOT_UNDERSTOOD,
                command.message or "I didn't understand that.",
                command=command,
                suggestions=command.suggestions,
            )
        if command.kind is CommandKind.OPERATION:
            outcome = await self.actions.request(actor, command.name, command.arguments, context=context)
            reply = Reply.of(outcome, command)
            if isinstance(outcome.result, TestRun):
                reply.summary = await self._summary(outcome.result)
                reply.text = reply.summary.text()
            if answer is not None and outcome.result is not None and outcome.kind is OutcomeKind.RESULT:
                reply.answer = _answer(answer, outcome.result)
            return reply
        handler = {
            BotCommand.HELP: self._help,
            BotCommand.SUBSCRIPTIONS: self._subscriptions,
            BotCommand.SUBSCRIBE: self._subscribe,
            BotCommand.UNSUBSCRIBE: self._unsubscribe,
            BotCommand.AUDIT: self._audit,
            BotCommand.WATCH: self._watch,
        }.get(BotCommand(command.name))
        assert handler is not None
        denied = await self._check(actor, command)
        if denied is not None:
            return denied
        try:
            return await handler(actor, command, context or {})
        except K6BotError as exc:
            return Reply(ReplyKind.ERROR, str(exc), command=command)

    async def confirm(self, actor: Actor, confirmation_id: str) -> Reply:
        return Reply.of(await self.actions.confirm(actor, confirmation_id))

    async def cancel(self, actor: Actor, confirmation_id: str) -> Reply:
        return Reply.of(await self.actions.cancel(actor, confirmation_id))

    async def _summary(self, run: TestRun) -> RunSummary:
        return RunSummary.from_run(run, await self.actions.toolbox.catalog.display_name(run.test_id))

    # ------------------------------------------------------------------ bot commands

    async def _check(self, actor: Actor, command: Command) -> Reply | None:
        safety = BOT_SAFETY[command.name]
        decision = self.policy.decide(actor, safety)
        if decision:
            return None
        if safety.value != "read":
            await self._record(actor, command, "denied", detail=decision.reason)
        return Reply(ReplyKind.DENIED, decision.reason, command=command)

    async def _help(self, actor: Actor, command: Command, context: Mapping[str, Any]) -> Reply:
        allowed = self.policy.allowed_classes(actor)
        found = help_entries(allowed, command.arguments.get("topic"))
        return Reply(ReplyKind.HELP, found.text(), command=command, help=found)

    def _no_channel(self, command: Command) -> Reply:
        return Reply(
            ReplyKind.ERROR,
            "Subscriptions belong to a Slack channel: use this command in Slack, in the channel that should hear "
            "about finished runs.",
            command=command,
        )

    async def _subscriptions(self, actor: Actor, command: Command, context: Mapping[str, Any]) -> Reply:
        channel = actor.channel
        if channel is None or self.subscriptions is None:
            return self._no_channel(command)
        rows = await self.subscriptions.of_channel(channel)
        if not rows:
            return Reply(
                ReplyKind.INFO,
                "This channel has no subscriptions. `subscribe` posts every finished run here.",
                command=command,
            )
        lines = [_subscription_line(row) for row in rows]
        return Reply(ReplyKind.INFO, "This channel hears about:", command=command, lines=lines)

    async def _resolve(self, actor: Actor, command: Command) -> tuple[int | None, str | None, Reply | None]:
        ref = command.arguments.get("load_test")
        if ref is None:
            return None, None, None
        try:
            test = await self.actions.toolbox.catalog.resolve(ref)
        except AmbiguousLoadTest as exc:
            return (
                None,
                None,
                Reply(ReplyKind.CHOOSE, str(exc), command=command, candidates=list(exc.candidates), fills="load_test"),
            )
        return test.id, test.name, None

    async def _subscribe(self, actor: Actor, command: Command, context: Mapping[str, Any]) -> Reply:
        channel = actor.channel
        if channel is None or self.subscriptions is None:
            return self._no_channel(command)
        test_id, test_name, choice = await self._resolve(actor, command)
        if choice is not None:
            return choice
        failures = bool(command.arguments.get("failures_only"))
        _row, new = await self.subscriptions.subscribe(
            channel, load_test_id=test_id, load_test_name=test_name, failures_only=failures, created_by=actor.id
        )
        if test_id is not None:
            what = f"failed runs of '{test_name}'" if failures else f"runs of '{test_name}' when they finish"
        else:
            what = "every failed run" if failures else "every run when it finishes"
        text = (
            f"Subscribed: this channel hears about {what}." if new else f"Updated: this channel now hears about {what}."
        )
        await self._record(actor, command, "direct", result="ok", detail=text, target=_target(test_id, test_name))
        return Reply(ReplyKind.INFO, text, command=command)

    async def _unsubscribe(self, actor: Actor, command: Command, context: Mapping[str, Any]) -> Reply:
        """``unsubscribe <test>`` removes that test's subscription; plain ``unsubscribe`` removes them all."""
        channel = actor.channel
        if channel is None or self.subscriptions is None:
            return self._no_channel(command)
        test_id, test_name, choice = await self._resolve(actor, command)
        if choice is not None:
            return choice
        removed = await self.subscriptions.remove(channel, load_test_id=test_id)
        lines = [_subscription_line(row) for row in removed]
        if test_id is not None:
            text = (
                f"Unsubscribed from runs of '{test_name}'."
                if removed
                else f"This channel was not subscribed to runs of '{test_name}'. "
                "`subscriptions` lists what it is subscribed to."
            )
            lines = []
        elif removed:
            text = f"Unsubscribed: this channel no longer hears about finished runs. Removed {len(removed)}:"
        else:
            text = "This channel had no subscriptions; nothing was removed."
        if removed:
            detail = text if not lines else f"{text} {'; '.join(lines)}"
            target = _target(test_id, test_name) if test_id is not None else "every subscription of the channel"
            await self._record(actor, command, "direct", result="ok", detail=detail, target=target)
        return Reply(ReplyKind.INFO, text, command=command, lines=lines)

    async def _audit(self, actor: Actor, command: Command, context: Mapping[str, Any]) -> Reply:
        limit = int(command.arguments.get("limit") or 10)
        entries = await self.audit.recent(limit)
        if not entries:
            return Reply(ReplyKind.INFO, "The audit log is empty.", command=command)
        return Reply(
            ReplyKind.INFO,
            f"The latest {len(entries)} audit entries, newest first:",
            command=command,
            lines=[format_entry(e) for e in entries],
        )

    async def _watch(self, actor: Actor, command: Command, context: Mapping[str, Any]) -> Reply:
        """ "tell me when 1234 finishes": in Slack the watcher posts here when it does; elsewhere, wait for it."""
        run_id = int(command.arguments["test_run_id"])
        if actor.channel is None or self.watchlist is None:
            acts_as = BOT_COMMAND_SPECS[command.name].acts_as or "wait_for_test_run"
            wait = Command(CommandKind.OPERATION, acts_as, {"test_run_id": run_id}, text=command.text)
            return await self.handle(actor, wait, context=context)
        outcome = await self.actions.request(actor, "get_test_run", {"test_run_id": run_id})
        if not isinstance(outcome.result, TestRun):
            return Reply.of(outcome, command)
        run = outcome.result
        name = await self.actions.toolbox.catalog.display_name(run.test_id)
        label = f"run {run.id} of '{name}'" if name else f"run {run.id}"
        if run.is_finished:
            text = f"{label[0].upper()}{label[1:]} has already finished: {status_phrase(run.status, run.result)}."
            reply = Reply(ReplyKind.INFO, text, command=command)
            reply.summary = RunSummary.from_run(run, name)
            return reply
        await self.watchlist.watch(
            run.id,
            load_test_id=run.test_id,
            load_test_name=name,
            origin="slack",
            channel_id=actor.channel,
            thread_ts=context.get("thread_ts"),
            starter_id=actor.id,
            status=run.status,
            estimated_duration=run.estimated_duration,
        )
        return Reply(ReplyKind.INFO, f"I'll post here when {label} finishes.", command=command)

    async def _record(
        self, actor: Actor, command: Command, decision: Any, *, result: str = "", detail: str = "", target: str = ""
    ) -> None:
        try:
            await self.audit.record(
                actor,
                operation=command.name,
                safety=BOT_SAFETY[command.name].value,
                decision=decision,
                result=result,
                detail=detail,
                target=target,
                arguments={k: v for k, v in command.arguments.items() if v is not None},
            )
        except Exception:  # the audit must never turn a done action into a reported failure
            log.exception("Could not write the audit entry for %s", command.name)


def _answer(answer: Answer, result: Any) -> str | None:
    try:
        return answer.say(result)
    except Exception:  # an answer is a nicety; the full result still shows
        log.exception("Could not answer %r", answer.name)
        return None


def _target(test_id: int | None, test_name: str | None) -> str:
    return f"load test '{test_name}' ({test_id})" if test_id is not None else "every run"


def _subscription_line(row: Subscription) -> str:
    what = (
        f"runs of '{row.load_test_name or row.load_test_id}' (id {row.load_test_id})"
        if row.load_test_id is not None
        else "every run"
    )
    return what + (", failures only" if row.failures_only else "")


__all__ = ["Dispatcher", "OutcomeKind", "Reply", "ReplyKind"]
