"""The audit log: every attempt at a write, from any front-end — who, what, target, decision, result, when."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select

from bot.policy import Actor
from bot.scrub import map_strings, scrub
from bot.store import AuditEntry, Store
from tools.outputs import human_time
from tools.registry import Operation

log = logging.getLogger("k6bot.audit")

AuditDecision = Literal["requested", "confirmed", "cancelled", "denied", "expired", "direct"]
"""``direct``: a write that needs no confirmation (a note, a star) and was simply done."""

MAX_ARGUMENT_CHARS = 300
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def storable(text: str) -> str:
    """Text any database can store, fit to show: lone surrogates (valid in JSON, not in UTF-8) become U+FFFD,
    secrets ``***``. An audit row is never lost to what someone typed."""
    return scrub(_LONE_SURROGATE.sub("\ufffd", text))


def _compact(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """Arguments fit for the log: long values (scripts, archives) are replaced by their size."""
    compact: dict[str, Any] = {}
    for key, value in arguments.items():
        if isinstance(value, str) and len(value) > MAX_ARGUMENT_CHARS:
            compact[key] = f"<{len(value)} characters>"
        else:
            compact[key] = value
    return compact


def describe_target(arguments: Mapping[str, Any], facts: Mapping[str, Any]) -> str:
    """A short human description of what an operation acts on."""
    parts = []
    if facts.get("load_test_name") and facts.get("load_test_id"):
        parts.append(f"load test '{facts['load_test_name']}' ({facts['load_test_id']})")
    elif arguments.get("load_test") is not None:
        parts.append(f"load test {arguments['load_test']}")
    if arguments.get("test_run_id") is not None:
        parts.append(f"run {arguments['test_run_id']}")
    if facts.get("project_name") and not parts:
        parts.append(f"project '{facts['project_name']}' ({facts.get('project_id')})")
    for key in ("schedule_id", "label_key_id", "load_zone_id"):
        if arguments.get(key) is not None:
            parts.append(f"{key.removesuffix('_id').replace('_', ' ')} {arguments[key]}")
    if not parts and arguments.get("name"):
        parts.append(f"'{arguments['name']}'")
    return ", ".join(parts)[:500]


class AuditLog:
    """Writes and reads the audit trail in the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def decision(
        self,
        actor: Actor,
        operation: Operation,
        decision: AuditDecision,
        *,
        arguments: Mapping[str, Any],
        facts: Mapping[str, Any] | None = None,
        result: str = "",
        detail: str = "",
        confirmation_id: str | None = None,
    ) -> None:
        """Record a decision about ``operation``; a failing store is logged and never fails the action itself."""
        try:
            await self.record(
                actor,
                operation=operation.name,
                safety=operation.safety.value,
                decision=decision,
                result=result,
                detail=detail,
                target=describe_target(arguments, facts or {}),
                arguments=arguments,
                confirmation_id=confirmation_id,
            )
        except Exception:
            log.warning("Could not write the audit entry for %s (%s)", operation.name, decision, exc_info=True)

    async def record(
        self,
        actor: Actor,
        *,
        operation: str,
        safety: str,
        decision: AuditDecision,
        result: str = "",
        detail: str = "",
        target: str = "",
        arguments: Mapping[str, Any] | None = None,
        confirmation_id: str | None = None,
        channel: str | None = None,
    ) -> AuditEntry:
        entry = AuditEntry(
            frontend=actor.frontend,
            actor_id=storable(actor.id),
            actor_name=storable(actor.name) if actor.name else actor.name,
            channel_id=storable(channel or actor.channel or "") or None,
            operation=storable(operation),
            safety=safety,
            target=storable(target)[:500],
            arguments=map_strings(_compact(arguments or {}), storable),
            decision=decision,
            result=storable(result),
            detail=storable(detail)[:2000],
            confirmation_id=storable(confirmation_id) if confirmation_id else confirmation_id,
        )
        async with self.store.session() as session:
            session.add(entry)
        return entry

    async def has_outcome(self, confirmation_id: str) -> bool:
        """Whether the outcome of the confirmation ``confirmation_id`` is recorded (after a crash it may not be)."""
        query = select(AuditEntry.id).where(
            AuditEntry.confirmation_id == confirmation_id,
            AuditEntry.decision == "confirmed",
            AuditEntry.result != "",
        )
        async with self.store.session() as session:
            return (await session.execute(query.limit(1))).first() is not None

    async def recent(self, limit: int = 20, *, since: datetime | None = None) -> list[AuditEntry]:
        """The latest entries, newest first."""
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(max(1, min(limit, 1000)))
        if since is not None:
            query = query.where(AuditEntry.at >= since)
        async with self.store.session() as session:
            return list((await session.execute(query)).scalars())


def format_entry(entry: AuditEntry) -> str:
    """One audit entry as a plain line (front-ends escape it for their medium)."""
    who = entry.actor_name or entry.actor_id
    outcome = f" → {entry.result}" if entry.result else ""
    detail = f" ({entry.detail})" if entry.detail else ""
    target = f" {entry.target}" if entry.target else ""
    return f"{human_time(entry.at)} · {entry.frontend}:{who} · {entry.operation}{target} · {entry.decision}{outcome}{detail}"
