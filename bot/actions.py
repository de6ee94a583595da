"""One path for every request, whatever the front-end.

``request`` → policy check → reads run at once; run / stop / admin operations are prepared and stored as a
pending confirmation (the preview a person confirms); an ambiguous test name comes back as a choice.
``confirm`` → claimed exactly once by the requester, not expired → policy checked again → the operation
runs with the confirmation id as its idempotency key → the audit log records the decision and the result.
``cancel`` → recorded, nothing sent. Front-ends only translate text or clicks into these calls and render
the :class:`Outcome`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from bot import metrics
from bot.audit import AuditDecision, AuditLog
from bot.confirm import ClaimStatus, Confirmations, prepared_of
from bot.crash import crash_point
from bot.policy import Actor, Policy
from bot.store import Confirmation, utcnow
from tools.errors import AmbiguousLoadTest, Candidate, InvalidInput, K6BotError
from tools.outputs import BatchItem, BatchResult
from tools.registry import Operation, Prepared, Safety, Toolbox

log = logging.getLogger("k6bot.actions")

RESEND_HORIZON = timedelta(hours=1)
"""A start a crash left unrecorded is sent again (same idempotency key) only this long after the first send:
later, k6 Cloud may have forgotten the key, and a second paid run must not be the risk."""


class OutcomeKind(StrEnum):
    RESULT = "result"
    """The operation ran; ``result`` holds its output."""
    CONFIRM = "confirm"
    """A person must confirm ``prepared`` (stored as ``confirmation_id``)."""
    CHOOSE = "choose"
    """The test name was ambiguous: pick one of ``candidates``."""
    DENIED = "denied"
    """The policy does not allow it; nothing changed."""
    ERROR = "error"
    """Bad input or an API error; nothing changed (or the API refused)."""
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    REFUSED = "refused"
    """Someone other than the requester clicked; nothing changed."""
    ALREADY = "already"
    """The confirmation was already decided (double click, retry); nothing changed this time."""


@dataclass
class Outcome:
    kind: OutcomeKind
    message: str
    operation: Operation | None = None
    arguments: dict[str, Any] = field(default_factory=dict)
    result: BaseModel | None = None
    prepared: Prepared | None = None
    confirmation: Confirmation | None = None
    candidates: list[Candidate] = field(default_factory=list)
    error: K6BotError | None = None

    @property
    def confirmation_id(self) -> str | None:
        return self.confirmation.id if self.confirmation is not None else None

    @property
    def ok(self) -> bool:
        return self.kind in (OutcomeKind.RESULT, OutcomeKind.CONFIRM, OutcomeKind.CHOOSE)


class Actions:
    """Runs requests for every front-end under one policy, one confirmation store and one audit log."""

    def __init__(self, toolbox: Toolbox, *, policy: Policy, confirmations: Confirmations, audit: AuditLog) -> None:
        self.toolbox = toolbox
        self.policy = policy
        self.confirmations = confirmations
        self.audit = audit

    @property
    def registry(self):
        return self.toolbox.registry

    # ------------------------------------------------------------------ request

    async def request(
        self,
        actor: Actor,
        operation: str,
        arguments: Mapping[str, Any] | None = None,
        *,
        context: Mapping[str, Any] | None = None,
    ) -> Outcome:
        """Ask for an operation: run it (reads, small writes) or prepare it for confirmation."""
        return await self._counted(actor, operation, self._request(actor, operation, arguments, context=context))

    async def request_batch(
        self,
        actor: Actor,
        operation: str,
        items: Sequence[Mapping[str, Any]],
        *,
        context: Mapping[str, Any] | None = None,
    ) -> Outcome:
        """One operation for several targets ("abort all running tests"): one confirmation listing each target;
        on the yes each is re-checked, carried out and audited on its own."""
        return await self._counted(actor, operation, self._request_batch(actor, operation, items, context=context))

    async def confirm(self, actor: Actor, confirmation_id: str) -> Outcome:
        """The requester said yes: run the prepared operation once, after checking again."""
        return await self._counted(actor, None, self._confirm(actor, confirmation_id))

    async def cancel(self, actor: Actor, confirmation_id: str) -> Outcome:
        return await self._counted(actor, None, self._cancel(actor, confirmation_id))

    async def _counted(self, actor: Actor, operation: str | None, work: Awaitable[Outcome]) -> Outcome:
        """Count the outcome in ``k6bot_commands_total``; an unknown operation's name is not a label value."""
        try:
            outcome = await work
        except Exception:
            known = operation if operation is not None and operation in self.registry else "unknown"
            metrics.command(known, actor.frontend, "error")
            raise
        name = outcome.operation.name if outcome.operation is not None else "unknown"
        metrics.command(name, actor.frontend, _METRIC_OUTCOME[outcome.kind])
        return outcome

    async def _request(
        self,
        actor: Actor,
        operation: str,
        arguments: Mapping[str, Any] | None = None,
        *,
        context: Mapping[str, Any] | None = None,
    ) -> Outcome:
        """Ask for an operation: run it (reads, small writes) or prepare it for confirmation."""
        arguments = dict(arguments or {})
        try:
            op = self.registry[operation]
        except InvalidInput as exc:
            return Outcome(OutcomeKind.ERROR, str(exc), error=exc, arguments=arguments)
        denied = await self._denied(actor, op, [arguments])
        if denied is not None:
            return denied
        if not op.needs_confirmation:
            return await self._run(actor, op, arguments, confirmed=False)
        try:
            prepared = await self.toolbox.prepare(op.name, arguments)
        except AmbiguousLoadTest as exc:
            return Outcome(OutcomeKind.CHOOSE, str(exc), op, arguments, candidates=exc.candidates, error=exc)
        except K6BotError as exc:
            return Outcome(OutcomeKind.ERROR, str(exc), op, arguments, error=exc)
        confirmation = await self.confirmations.create(prepared, actor, context=context)
        await self._audit(actor, op, prepared.arguments, prepared.facts, "requested", confirmation_id=confirmation.id)
        return Outcome(
            OutcomeKind.CONFIRM,
            prepared.text(),
            op,
            prepared.arguments,
            prepared=prepared,
            confirmation=confirmation,
        )

    async def _request_batch(
        self,
        actor: Actor,
        operation: str,
        items: Sequence[Mapping[str, Any]],
        *,
        context: Mapping[str, Any] | None = None,
    ) -> Outcome:
        """One operation for several targets ("abort all running tests"): one confirmation listing each target;
        on the yes each is re-checked, carried out and audited on its own."""
        try:
            op = self.registry[operation]
        except InvalidInput as exc:
            return Outcome(OutcomeKind.ERROR, str(exc), error=exc)
        denied = await self._denied(actor, op, list(items))
        if denied is not None:
            return denied
        if not op.needs_confirmation:
            result = await self._run_batch(actor, op, [dict(i) for i in items], None)
            return Outcome(OutcomeKind.RESULT, result.text(), op, {"batch": list(items)}, result=result)
        prepared_items: list[Prepared] = []
        skipped: list[str] = []
        for item in items:
            try:
                prepared_items.append(await self.toolbox.prepare(op.name, item))
            except K6BotError as exc:  # e.g. that run finished meanwhile: leave it out, and say so
                skipped.append(f"Left out: {exc}")
        if not prepared_items:
            message = " ".join(skipped) or "Nothing to do."
            return Outcome(OutcomeKind.ERROR, message, op, {"batch": list(items)})
        prepared = Prepared.batch(prepared_items, title=op.title, notes=skipped)
        confirmation = await self.confirmations.create(prepared, actor, context=context)
        for each in prepared_items:
            await self._audit(actor, op, each.arguments, each.facts, "requested", confirmation_id=confirmation.id)
        return Outcome(
            OutcomeKind.CONFIRM,
            prepared.text(),
            op,
            prepared.arguments,
            prepared=prepared,
            confirmation=confirmation,
        )

    async def _denied(self, actor: Actor, op: Operation, targets: Sequence[Mapping[str, Any]]) -> Outcome | None:
        """The policy's no, audited for every target of anything but a read (nothing is sent)."""
        decision = self.policy.decide(actor, op.safety)
        if decision:
            return None
        if op.safety is not Safety.READ:
            for arguments in targets:
                await self._audit(actor, op, arguments, {}, "denied", detail=decision.reason)
        shown = dict(targets[0]) if len(targets) == 1 else {"batch": [dict(t) for t in targets]}
        return Outcome(OutcomeKind.DENIED, decision.reason, op, shown)

    async def _run_batch(
        self, actor: Actor, op: Operation, items: list[dict[str, Any]], confirmation: Confirmation | None
    ) -> BatchResult:
        results: list[BatchItem] = []
        for index, arguments in enumerate(items):
            key = f"{confirmation.id[:32]}-{index}" if confirmation is not None else None
            decision: AuditDecision = "confirmed" if confirmation is not None else "direct"
            try:
                result = await self.toolbox.execute(
                    op.name, arguments, confirmed=confirmation is not None, idempotency_key=key
                )
            except K6BotError as exc:
                results.append(BatchItem(arguments=arguments, ok=False, message=str(exc)))
                await self._audit(
                    actor,
                    op,
                    arguments,
                    {},
                    decision,
                    result="error",
                    detail=str(exc),
                    confirmation_id=confirmation.id if confirmation else None,
                )
                continue
            text = _text_of(result).splitlines()[0] if _text_of(result) else "done"
            results.append(BatchItem(arguments=arguments, ok=True, message=text))
            await self._audit(
                actor,
                op,
                arguments,
                {},
                decision,
                result="ok",
                detail=text,
                confirmation_id=confirmation.id if confirmation else None,
            )
        return BatchResult(operation=op.name, items=results)

    # ------------------------------------------------------------------ confirm / cancel

    async def _confirm(self, actor: Actor, confirmation_id: str) -> Outcome:
        """The requester said yes: run the prepared operation once, after checking again."""
        claim = await self.confirmations.claim(confirmation_id, actor)
        row = claim.confirmation
        if not claim.ok:
            return await self._not_claimed(actor, claim.status, row)
        assert row is not None
        op = self.registry[row.operation]
        prepared = prepared_of(row)
        decision = self.policy.decide(actor, op.safety)
        if not decision:
            await self.confirmations.mark(row.id, "denied")
            await self._audit(
                actor,
                op,
                row.arguments,
                prepared.facts,
                "denied",
                detail=decision.reason,
                confirmation_id=row.id,
            )
            return Outcome(OutcomeKind.DENIED, decision.reason, op, row.arguments, prepared=prepared, confirmation=row)
        if prepared.items:
            result = await self._run_batch(actor, op, [item.arguments for item in prepared.items], row)
            await self.confirmations.finish(row.id, ok=result.ok, result=result.model_dump(mode="json"))
            kind = OutcomeKind.RESULT if any(item.ok for item in result.items) else OutcomeKind.ERROR
            return Outcome(kind, result.text(), op, row.arguments, result=result, prepared=prepared, confirmation=row)
        return await self._run(actor, op, row.arguments, confirmed=True, confirmation=row, prepared=prepared)

    async def _cancel(self, actor: Actor, confirmation_id: str) -> Outcome:
        claim = await self.confirmations.cancel(confirmation_id, actor)
        row = claim.confirmation
        if not claim.ok:
            return await self._not_claimed(actor, claim.status, row)
        assert row is not None
        op = self.registry[row.operation]
        prepared = prepared_of(row)
        await self._audit(actor, op, row.arguments, prepared.facts, "cancelled", confirmation_id=row.id)
        return Outcome(
            OutcomeKind.CANCELLED,
            f"Cancelled: {prepared.confirmation}",
            op,
            row.arguments,
            prepared=prepared,
            confirmation=row,
        )

    async def _not_claimed(self, actor: Actor, status: ClaimStatus, row: Confirmation | None) -> Outcome:
        if status is ClaimStatus.NOT_FOUND or row is None:
            return Outcome(OutcomeKind.ERROR, "That confirmation does not exist (any more). Ask again.")
        op = self.registry[row.operation]
        prepared = prepared_of(row)
        if status is ClaimStatus.NOT_YOURS:
            who = row.actor_name or row.actor_id
            return Outcome(
                OutcomeKind.REFUSED,
                f"Only {who}, who asked for it, can confirm or cancel this.",
                op,
                row.arguments,
                prepared=prepared,
                confirmation=row,
            )
        if status is ClaimStatus.EXPIRED:
            await self._audit(actor, op, row.arguments, prepared.facts, "expired", confirmation_id=row.id)
            return Outcome(
                OutcomeKind.EXPIRED,
                "This confirmation expired, so nothing was done. Ask again to get a fresh one.",
                op,
                row.arguments,
                prepared=prepared,
                confirmation=row,
            )
        state = row.state
        message = {
            "confirmed": "Already confirmed; it is being done.",
            "done": "Already done.",
            "failed": "Already tried; it failed (see above). Ask again to retry.",
            "cancelled": "Already cancelled; nothing was done.",
            "expired": "This confirmation expired, so nothing was done. Ask again to get a fresh one.",
            "denied": "This was refused; nothing was done.",
        }.get(state, f"Already {state}.")
        return Outcome(OutcomeKind.ALREADY, message, op, row.arguments, prepared=prepared, confirmation=row)

    # ------------------------------------------------------------------ after a crash

    async def resume(self, row: Confirmation) -> Outcome:
        """Reconcile an intent a crash left open (claimed, or finished with its follow-up owed).

        Finished: its recorded outcome. Claimed but never sent (no ``sent_at``): certainly nothing happened,
        so it is closed as not done. Sent: a start is sent again with the same ``K6-Idempotency-Key``, so k6
        Cloud answers with the run the first attempt created (or starts the one that never arrived); any
        other operation's outcome cannot be told and is said to be unknown.
        """
        op = self.registry[row.operation]
        prepared = prepared_of(row)
        actor = Actor(frontend=row.frontend, id=row.actor_id, name=row.actor_name, channel=row.channel_id)  # type: ignore[arg-type]
        followup = bool(row.origin)
        if row.result is not None:
            outcome = self._recorded(op, row, prepared)
            if not await self.audit.has_outcome(row.id):  # the crash came between the result and its audit row
                await self._audit(
                    actor,
                    op,
                    row.arguments,
                    prepared.facts,
                    "confirmed",
                    result="ok" if outcome.kind is OutcomeKind.RESULT else "error",
                    detail=outcome.message.splitlines()[0] if outcome.message else "",
                    confirmation_id=row.id,
                )
            return outcome
        if row.sent_at is None:
            message = (
                f"Not done: k6bot stopped before sending this to k6 Cloud, so nothing was started or changed "
                f"({prepared.confirmation}). Ask again to do it."
            )
            return await self._close(actor, op, row, prepared, message, "not_sent", followup=followup)
        if op.name == "start_load_test" and utcnow() - row.sent_at <= RESEND_HORIZON:
            log.info("Reconciling confirmed start %s with its idempotency key after a restart", row.id)
            return await self._run(actor, op, row.arguments, confirmed=True, confirmation=row, prepared=prepared)
        message = (
            f"Unknown outcome: k6bot stopped while doing this ({prepared.confirmation}); check k6 Cloud "
            "before asking again."
        )
        return await self._close(actor, op, row, prepared, message, "unknown", followup=followup)

    async def _close(
        self,
        actor: Actor,
        op: Operation,
        row: Confirmation,
        prepared: Prepared,
        message: str,
        flag: str,
        *,
        followup: bool,
    ) -> Outcome:
        """Close a recovered intent as an error (``flag``: ``not_sent`` or ``unknown``), audited once."""
        await self.confirmations.finish(row.id, ok=False, result={"error": message, flag: True}, followup=followup)
        await self._audit(
            actor,
            op,
            row.arguments,
            prepared.facts,
            "confirmed",
            result="error",
            detail=message,
            confirmation_id=row.id,
        )
        return Outcome(OutcomeKind.ERROR, message, op, dict(row.arguments), prepared=prepared, confirmation=row)

    def _recorded(self, op: Operation, row: Confirmation, prepared: Prepared) -> Outcome:
        """The outcome a finished confirmation recorded, rebuilt for its follow-up."""
        stored = dict(row.result or {})
        if row.state == "done":
            try:
                result = op.output.model_validate(stored)
            except Exception:  # an older row: report it as done, plainly
                result = None
            if result is not None:
                return Outcome(
                    OutcomeKind.RESULT,
                    _text_of(result),
                    op,
                    dict(row.arguments),
                    result=result,
                    prepared=prepared,
                    confirmation=row,
                )
            return Outcome(OutcomeKind.RESULT, "Done.", op, dict(row.arguments), prepared=prepared, confirmation=row)
        message = str(stored.get("error") or "It failed.")
        return Outcome(OutcomeKind.ERROR, message, op, dict(row.arguments), prepared=prepared, confirmation=row)

    # ------------------------------------------------------------------ running

    async def _run(
        self,
        actor: Actor,
        op: Operation,
        arguments: Mapping[str, Any],
        *,
        confirmed: bool,
        confirmation: Confirmation | None = None,
        prepared: Prepared | None = None,
    ) -> Outcome:
        facts = prepared.facts if prepared else {}
        decision: AuditDecision = "confirmed" if confirmed else "direct"
        followup = confirmation is not None and bool(confirmation.origin)
        if confirmation is not None:
            crash_point("before_api_call")
            await self.confirmations.mark_sent(confirmation.id)
        try:
            result = await self.toolbox.execute(
                op.name,
                arguments,
                confirmed=confirmed,
                idempotency_key=confirmation.id if confirmation is not None else None,
            )
        except AmbiguousLoadTest as exc:
            return Outcome(OutcomeKind.CHOOSE, str(exc), op, dict(arguments), candidates=exc.candidates, error=exc)
        except K6BotError as exc:
            if confirmation is not None:
                await self.confirmations.finish(
                    confirmation.id, ok=False, result={"error": str(exc)}, followup=followup
                )
            if op.safety is not Safety.READ:
                await self._audit(
                    actor,
                    op,
                    arguments,
                    facts,
                    decision,
                    result="error",
                    detail=str(exc),
                    confirmation_id=confirmation.id if confirmation else None,
                )
            return Outcome(
                OutcomeKind.ERROR,
                str(exc),
                op,
                dict(arguments),
                prepared=prepared,
                confirmation=confirmation,
                error=exc,
            )
        text = _text_of(result)
        if confirmation is not None:
            crash_point("after_start_accepted")
            await self.confirmations.finish(
                confirmation.id, ok=True, result=result.model_dump(mode="json"), followup=followup
            )
            crash_point("after_intent_done")
        if op.safety is not Safety.READ:
            await self._audit(
                actor,
                op,
                arguments,
                facts,
                decision,
                result="ok",
                detail=text.splitlines()[0] if text else "",
                confirmation_id=confirmation.id if confirmation else None,
            )
        return Outcome(
            OutcomeKind.RESULT,
            text,
            op,
            dict(arguments),
            result=result,
            prepared=prepared,
            confirmation=confirmation,
        )

    async def _audit(
        self,
        actor: Actor,
        op: Operation,
        arguments: Mapping[str, Any],
        facts: Mapping[str, Any],
        decision: AuditDecision,
        *,
        result: str = "",
        detail: str = "",
        confirmation_id: str | None = None,
    ) -> None:
        await self.audit.decision(
            actor,
            op,
            decision,
            arguments=arguments,
            facts=facts,
            result=result,
            detail=detail,
            confirmation_id=confirmation_id,
        )


_METRIC_OUTCOME = {
    OutcomeKind.RESULT: "ok",
    OutcomeKind.CONFIRM: "pending",
    OutcomeKind.CHOOSE: "pending",
    OutcomeKind.DENIED: "denied",
    OutcomeKind.REFUSED: "denied",
    OutcomeKind.ERROR: "error",
    OutcomeKind.CANCELLED: "cancelled",
    OutcomeKind.EXPIRED: "expired",
    OutcomeKind.ALREADY: "duplicate",
}


def _text_of(result: BaseModel) -> str:
    text = getattr(result, "text", None)
    if callable(text):
        return str(text())
    from tools.describe import describe

    return describe(result)
