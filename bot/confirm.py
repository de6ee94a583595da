"""Pending confirmations: a prepared run / stop / admin request waiting for its requester's yes.

Stored in the database so any replica can handle the click. A confirmation is claimed with one conditional
UPDATE, so a double click, a Slack retry or two replicas racing can never run the operation twice; its id
is the start's ``K6-Idempotency-Key``, so even a crash between the API call and recording its result cannot
start a second run when the click is repeated.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, func, or_, select, update

from bot import metrics
from bot.policy import Actor
from bot.store import Confirmation, Store, utcnow
from tools.registry import Prepared

STALE_CLAIM = timedelta(seconds=90)
"""A claim that produced no result after this long (its process died) may be claimed again by the requester."""


class ClaimStatus(StrEnum):
    OK = "ok"
    NOT_FOUND = "not_found"
    NOT_YOURS = "not_yours"
    EXPIRED = "expired"
    ALREADY_DECIDED = "already_decided"


@dataclass(frozen=True)
class Claim:
    status: ClaimStatus
    confirmation: Confirmation | None = None

    @property
    def ok(self) -> bool:
        return self.status is ClaimStatus.OK


class Confirmations:
    """Create, claim, cancel and finish confirmations."""

    def __init__(self, store: Store, *, ttl_seconds: float = 600.0, clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.ttl = timedelta(seconds=ttl_seconds)
        self.clock = clock

    async def create(
        self, prepared: Prepared, actor: Actor, *, context: Mapping[str, Any] | None = None
    ) -> Confirmation:
        now = self.clock()
        row = Confirmation(
            id=uuid.uuid4().hex,
            operation=prepared.operation,
            arguments=dict(prepared.arguments),
            prepared=prepared.model_dump(mode="json"),
            frontend=actor.frontend,
            actor_id=actor.id,
            actor_name=actor.name,
            channel_id=actor.channel,
            state="pending",
            created_at=now,
            expires_at=now + self.ttl,
            context=dict(context or {}),
        )
        async with self.store.session() as session:
            session.add(row)
        return row

    async def get(self, confirmation_id: str) -> Confirmation | None:
        async with self.store.session() as session:
            return await session.get(Confirmation, confirmation_id)

    async def claim(self, confirmation_id: str, actor: Actor) -> Claim:
        """Take the confirmation for execution, exactly once."""
        return await self._decide(confirmation_id, actor, "confirmed")

    async def cancel(self, confirmation_id: str, actor: Actor) -> Claim:
        return await self._decide(confirmation_id, actor, "cancelled")

    async def _decide(self, confirmation_id: str, actor: Actor, new_state: str) -> Claim:
        row = await self.get(confirmation_id)
        if row is None:
            return Claim(ClaimStatus.NOT_FOUND)
        if row.actor_id != actor.id:
            return Claim(ClaimStatus.NOT_YOURS, row)
        now = self.clock()
        if row.state == "pending" and row.expires_at <= now:
            await self._set_state(confirmation_id, "pending", "expired")
            metrics.CONFIRMATIONS_EXPIRED.inc()
            refreshed = await self.get(confirmation_id)
            return Claim(ClaimStatus.EXPIRED, refreshed)
        stale = and_(
            Confirmation.state == "confirmed",
            Confirmation.result.is_(None),
            Confirmation.decided_at < now - STALE_CLAIM,
        )
        claimable = Confirmation.state == "pending"
        if new_state == "confirmed":
            claimable = or_(claimable, stale)
        async with self.store.session() as session:
            updated = await session.execute(
                update(Confirmation)
                .where(Confirmation.id == confirmation_id, Confirmation.actor_id == actor.id, claimable)
                .where(or_(Confirmation.state != "pending", Confirmation.expires_at > now))
                .values(state=new_state, decided_at=now)
            )
        refreshed = await self.get(confirmation_id)
        if updated.rowcount == 1:  # type: ignore[attr-defined]
            return Claim(ClaimStatus.OK, refreshed)
        if refreshed is not None and refreshed.state == "pending" and refreshed.expires_at <= now:
            metrics.CONFIRMATIONS_EXPIRED.inc()
            return Claim(ClaimStatus.EXPIRED, refreshed)
        return Claim(ClaimStatus.ALREADY_DECIDED, refreshed)

    async def _set_state(self, confirmation_id: str, old: str, new: str) -> None:
        async with self.store.session() as session:
            await session.execute(
                update(Confirmation)
                .where(Confirmation.id == confirmation_id, Confirmation.state == old)
                .values(state=new, decided_at=self.clock())
            )

    async def finish(
        self, confirmation_id: str, *, ok: bool, result: Mapping[str, Any], followup: bool = False
    ) -> None:
        """Record the outcome of an executed confirmation; ``followup``: its Slack follow-up is now owed."""
        values: dict[str, Any] = {"state": "done" if ok else "failed", "result": dict(result)}
        if followup:
            values["followup"] = "pending"
        async with self.store.session() as session:
            await session.execute(update(Confirmation).where(Confirmation.id == confirmation_id).values(**values))

    # ------------------------------------------------------------------ durable intents (Slack clicks)

    async def record_origin(self, confirmation_id: str, actor_id: str, origin: Mapping[str, Any]) -> bool:
        """Where the click came from and is answered, stored before the claim; only on a pending row of its
        requester (a forged or late click changes nothing). True when recorded."""
        async with self.store.session() as session:
            updated = await session.execute(
                update(Confirmation)
                .where(
                    Confirmation.id == confirmation_id,
                    Confirmation.actor_id == actor_id,
                    Confirmation.state == "pending",
                )
                .values(origin=dict(origin))
            )
        return bool(updated.rowcount == 1)  # type: ignore[attr-defined]

    async def mark_sent(self, confirmation_id: str) -> None:
        """The API call is about to go out: from now on a crash leaves an outcome to reconcile, not "nothing"."""
        async with self.store.session() as session:
            await session.execute(
                update(Confirmation).where(Confirmation.id == confirmation_id).values(sent_at=self.clock())
            )

    async def mark_delivered(self, confirmation_id: str) -> None:
        """The announcement, the watch and the preview's final state are delivered."""
        async with self.store.session() as session:
            await session.execute(
                update(Confirmation)
                .where(Confirmation.id == confirmation_id, Confirmation.followup == "pending")
                .values(followup="delivered")
            )

    async def unfinished(self, *, before: datetime) -> list[Confirmation]:
        """Slack intents decided before ``before`` that a crash left open: claimed but never finished, or
        finished with their follow-up still owed."""
        async with self.store.session() as session:
            rows = await session.execute(
                select(Confirmation)
                .where(
                    Confirmation.frontend == "slack",
                    Confirmation.decided_at.is_not(None),
                    Confirmation.decided_at < before,
                    or_(
                        and_(Confirmation.state == "confirmed", Confirmation.result.is_(None)),
                        Confirmation.followup == "pending",
                    ),
                )
                .order_by(Confirmation.decided_at)
            )
            return [row for row in rows.scalars() if row.origin]

    async def take_over(self, row: Confirmation) -> bool:
        """Take an unfinished intent for reconciling, exactly once among replicas (its ``decided_at`` moves)."""
        async with self.store.session() as session:
            updated = await session.execute(
                update(Confirmation)
                .where(Confirmation.id == row.id, Confirmation.decided_at == row.decided_at)
                .values(decided_at=self.clock())
            )
        return bool(updated.rowcount == 1)  # type: ignore[attr-defined]

    async def mark(self, confirmation_id: str, state: str) -> None:
        """Set a final state that is not an execution (e.g. "denied" after a failed re-check)."""
        async with self.store.session() as session:
            await session.execute(update(Confirmation).where(Confirmation.id == confirmation_id).values(state=state))


async def count_pending(store: Store, *, now: datetime | None = None) -> int:
    """Confirmations still waiting for their requester's yes (not expired); sets ``k6bot_confirmations_pending``."""
    moment = now or utcnow()
    async with store.session() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(Confirmation)
            .where(Confirmation.state == "pending", Confirmation.expires_at > moment)
        )
    metrics.CONFIRMATIONS_PENDING.set(int(count or 0))
    return int(count or 0)


def prepared_of(row: Confirmation) -> Prepared:
    return Prepared.model_validate(row.prepared)
