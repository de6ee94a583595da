"""What a confirmed Slack click owes once the operation ran, delivered exactly once, also after a crash.

The intent is the confirmation row (:mod:`bot.confirm`): where the click came from (``origin``: channel,
preview message, response_url) is stored before the claim, ``sent_at`` just before the API call, the result
after it with ``followup = 'pending'``. Then, step by step, each step safe to repeat:

1. the preview is replaced by its final state (through the click's response_url; replacing twice is harmless);
2. a started run goes on the watchlist (a second ``watch`` of the same run changes nothing), and the channel
   announcement goes into the outbox under ``announce:<confirmation>[:<run>]`` (a second enqueue is a no-op);
3. the announcement is sent at once by this process (the notifier's outbox sender takes it over when Slack
   rate-limits it or this process dies); when Slack accepts it, its ``ts`` becomes the watched run's start
   message (the watcher updates it with progress and replies in its thread);
4. ``followup = 'delivered'``.

At start-up, :meth:`FollowUps.start_recovery` finds the intents a crash left open (decided before this process
started) and, once they are :data:`GRACE_SECONDS` old (when the process that took them is certainly gone; else
:data:`bot.confirm.STALE_CLAIM`, as for a repeated click), reconciles each (:meth:`bot.actions.Actions.resume`) and delivers
what it still owes. Only one replica takes each one (:meth:`bot.confirm.Confirmations.take_over`).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

from bot.actions import Actions
from bot.confirm import STALE_CLAIM, Confirmations
from bot.crash import crash_point
from bot.notify.lease import is_dead_local, mark_alive, new_instance_id
from bot.notify.outbox import ANNOUNCE_PREFIX, Outbox, OutboxSender
from bot.notify.watchlist import Watchlist
from bot.router.dispatch import Reply, ReplyKind
from bot.slack import blocks
from bot.slack.respond import Responder
from bot.store import Confirmation, OutboxMessage, Store, utcnow
from tools.outputs import StartedRun

log = logging.getLogger("k6bot.slack.followup")

GRACE_SECONDS = 5.0
"""An open intent younger than this may still be in the hands of a live replica: it is left alone until then."""
LIVE_SEND_ATTEMPTS = 3
"""Sends of the announcement by the process that ran the click; later ones are the notifier's."""
LIVE_SEND_WAIT = 5.0
"""The longest wait (seconds) before one of those sends; a longer Retry-After is left to the notifier."""


def announce_key(confirmation_id: str, run_id: int | None) -> str:
    return f"{ANNOUNCE_PREFIX}{confirmation_id}" + (f":{run_id}" if run_id is not None else "")


def origin_of(body: dict[str, Any], channel: str | None) -> dict[str, Any]:
    """Where a click came from and is answered (stored on the intent before the claim)."""
    container = body.get("container") or {}
    message = body.get("message") or {}
    return {
        "channel_id": channel,
        "response_url": body.get("response_url") or None,
        "message_ts": container.get("message_ts") or message.get("ts"),
        "thread_ts": container.get("thread_ts") or message.get("thread_ts"),
    }


class FollowUps:
    """Delivers the follow-up of confirmed clicks; :meth:`recover` finishes what a crash left open."""

    def __init__(
        self,
        store: Store,
        confirmations: Confirmations,
        watchlist: Watchlist,
        sender_client: AsyncWebClient,
        *,
        grace_seconds: float = GRACE_SECONDS,
    ) -> None:
        self.store = store
        self.confirmations = confirmations
        self.watchlist = watchlist
        self.outbox = Outbox(store)
        self.holder = new_instance_id()
        mark_alive(self.holder)  # a notifier of this process must not take this sender's claims for dead
        self.sender = OutboxSender(self.outbox, sender_client, holder=self.holder)
        self.grace = timedelta(seconds=grace_seconds)
        self.started_at = utcnow()
        self.recovering: asyncio.Task[int] | None = None
        self.sleep = asyncio.sleep

    # ------------------------------------------------------------------ delivering

    async def deliver(
        self, row: Confirmation, reply: Reply, user: str, responder: Responder, *, channel: str | None
    ) -> None:
        """The final preview, then (after a success) the watch and the announcement; each at most once."""
        await responder.replace(blocks.decided(reply, user))
        outcome = reply.outcome
        if reply.kind is ReplyKind.RESULT and outcome is not None:
            where = row.channel_id or channel
            message = blocks.announcement(outcome, user)
            result = outcome.result
            started = result if isinstance(result, StartedRun) else None
            if started is not None:
                facts = outcome.prepared.facts if outcome.prepared else {}
                estimate = facts.get("last_run_duration_seconds")
                try:
                    await self.watchlist.watch(
                        started.test_run.id,
                        load_test_id=started.load_test_id,
                        load_test_name=started.load_test_name,
                        origin="slack",
                        channel_id=where,
                        thread_ts=None,  # the announcement is a top-level message; the watcher replies in its thread
                        message_ts=None,  # set when Slack accepts the announcement (the outbox sender, on ``announce:`` keys)
                        starter_id=user,
                        estimated_duration=float(estimate) if isinstance(estimate, int | float) else None,
                    )
                except Exception:
                    log.exception("Could not add run %s to the watchlist", started.test_run.id)
            if where:
                key = announce_key(row.id, started.test_run.id if started else None)
                payload = {"channel": where, "unfurl_links": False, "unfurl_media": False, **message.payload()}
                async with self.store.session() as session:
                    await self.outbox.enqueue(session, key, payload)
                crash_point("after_announce_enqueued")
                state = await self._send_now(key)
                if state == "failed":  # not a member of a private channel, or a DM: the response_url can post
                    await responder.in_channel(message)
            else:
                await responder.in_channel(message)
        await self.confirmations.mark_delivered(row.id)

    async def _send_now(self, key: str) -> str:
        """Send the outbox row ``key`` from this process, a few times at most; its state afterwards."""
        for _ in range(LIVE_SEND_ATTEMPTS):
            row = await self._outbox_row(key)
            if row is None or row.state != "pending":
                return row.state if row is not None else "missing"
            wait = (row.next_attempt_at - utcnow()).total_seconds()
            if wait > LIVE_SEND_WAIT:
                break
            if wait > 0:
                await self.sleep(wait)
            self.sender.paused_until = None
            await self.sender.deliver(row)
        row = await self._outbox_row(key)
        state = row.state if row is not None else "missing"
        if state == "pending":
            log.info("The announcement %s waits in the outbox; the notifier sends it", key)
        return state

    async def _outbox_row(self, key: str) -> OutboxMessage | None:
        async with self.store.session() as session:
            return (await session.execute(select(OutboxMessage).where(OutboxMessage.dedupe_key == key))).scalar()

    # ------------------------------------------------------------------ after a crash

    async def start_recovery(self, actions: Actions, client: AsyncWebClient) -> int:
        """Look for intents a crash left open; reconcile them in the background (:meth:`recover`). How many."""
        if self.recovering is not None:
            return 0
        try:
            rows = await self.confirmations.unfinished(before=self.started_at)
        except Exception:
            log.exception("Could not read the open intents")
            return 0
        if rows:
            log.info("%d confirmed Slack request(s) left open by a previous k6bot: reconciling", len(rows))
            self.recovering = asyncio.create_task(self.recover(rows, actions, client), name="k6bot-intent-recovery")
        return len(rows)

    async def recover(self, rows: list[Confirmation], actions: Actions, client: AsyncWebClient) -> int:
        """Reconcile and deliver each open intent once it is old enough; how many this process finished."""
        done = 0
        for row in rows:
            try:
                if await self._recover_one(row, actions, client):
                    done += 1
            except Exception:
                log.exception("Could not reconcile confirmation %s", row.id)
        return done

    async def _recover_one(self, row: Confirmation, actions: Actions, client: AsyncWebClient) -> bool:
        assert row.decided_at is not None
        holder = (row.origin or {}).get("holder")
        # a process certainly gone (this host, its pid gone) is waited for only the grace; one that may be alive
        # elsewhere as long as a repeated click would (bot.confirm.STALE_CLAIM): it may still be on it
        patience = self.grace if isinstance(holder, str) and is_dead_local(holder) else max(self.grace, STALE_CLAIM)
        wait = (row.decided_at + patience - utcnow()).total_seconds()
        if wait > 0:
            await self.sleep(wait)
        if not await self.confirmations.take_over(row):
            return False  # another replica has it, or it moved on
        fresh = await self.confirmations.get(row.id)
        if fresh is None:
            return False
        outcome = await actions.resume(fresh)
        fresh = await self.confirmations.get(row.id) or fresh
        origin = fresh.origin or {}
        responder = Responder(
            client,
            response_url=origin.get("response_url"),
            channel_id=origin.get("channel_id") or fresh.channel_id,
            user_id=fresh.actor_id,
        )
        reply = Reply.of(outcome)
        await self.deliver(fresh, reply, fresh.actor_id, responder, channel=origin.get("channel_id"))
        log.info("Confirmation %s reconciled after a restart: %s", fresh.id, outcome.kind.value)
        return True
