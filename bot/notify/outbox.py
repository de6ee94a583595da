"""The outbox: Slack messages recorded in the database before they are sent, marked once Slack says ok.

Exactly once, step by step:

1. The watcher inserts a row per message with a deterministic ``dedupe_key`` (``finished:<run>:<channel>:
   <thread or top>``) in the same transaction that marks the run ``notified``. The unique key makes a
   second insert — a retry, another replica, a restarted process — a no-op (``ON CONFLICT DO NOTHING``).
2. A sender *claims* a due row with one conditional UPDATE (pending, due, not claimed by a live claim),
   so two senders never hold the same row; the claim lasts ``claim_seconds`` (longer than a send may take).
3. It calls Slack; on ``ok`` it marks the row ``sent`` with Slack's ``ts`` at once.
4. 429 → another attempt after ``Retry-After`` (seconds or an HTTP date; the sender pauses); 5xx, timeouts,
   network errors → exponential backoff with jitter (the policy of :mod:`tools.retry`, kept in ``next_attempt_at``); permanent Slack errors (``channel_not_found``, ``not_in_channel``,
   ``invalid_auth`` …) → ``failed`` with the error kept in ``last_error`` and logged, never retried.

The one window that cannot be closed: the process dies after Slack accepted a message and before step 3
committed (or a request times out after Slack posted it). Slack has no idempotency key for
``chat.postMessage``, so after the claim expires the message is sent again. The window is one local
database commit long.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from sqlalchemy import String, case, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.notify import metrics
from bot.notify.db import insert_ignore
from bot.notify.lease import is_dead_local
from bot.slack.webclient import ScrubbingWebClient
from bot.store import OutboxMessage, Store, WatchedRun, utcnow
from tools.outputs import Attachment
from tools.retry import Backoff, parse_retry_after

log = logging.getLogger("k6bot.notify.outbox")

TRANSIENT_ERRORS = frozenset(
    {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited", "team_not_ready"}
)
BLOCK_ERRORS = frozenset({"invalid_blocks", "invalid_blocks_format"})
ANNOUNCE_PREFIX = "announce:"
"""``announce:<confirmation>[:<run>]``: the channel announcement of a confirmed Slack click (bot/slack/followup)."""
LOSSY_PREFIXES = ("progress:", "chart:")
"""Progress updates of a start message and run charts may be dropped: few attempts (stale progress is skipped)."""
STALE_PREFIXES = ("progress:",)
CHART_METHOD = "k6bot.chart"
"""An outbox row that is not one Slack call: render the run's chart (``payload["test_run"]``) and upload it to
``payload["channel"]`` / ``payload["thread_ts"]`` with Slack's upload flow (``files_upload_v2``)."""
FOLLOW_WITH_CHART = "k6bot_chart_run"
"""In a run-finished payload (removed before sending): once Slack accepted the message, queue that run's chart
in its thread."""
LOSSY_MAX_ATTEMPTS = 3
LOSSY_MAX_AGE = timedelta(seconds=90)
MAX_RETRY_AFTER = 3600.0
"""A longer ``Retry-After`` is capped: the row is tried again within the hour."""


def make_slack_client(token: str, api_url: str, *, timeout: int = 15) -> AsyncWebClient:
    """An AsyncWebClient for the outbox: built-in retries off, because the outbox does the retrying.

    It scrubs secrets from what it sends (:class:`bot.slack.webclient.ScrubbingWebClient`).
    """
    return ScrubbingWebClient(token=token, base_url=api_url, timeout=timeout, retry_handlers=[])


class Outbox:
    """The outbox table: enqueue (inside the caller's transaction), claim, mark."""

    def __init__(self, store: Store, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.clock = clock

    async def enqueue(
        self,
        session: AsyncSession,
        dedupe_key: str,
        payload: Mapping[str, Any],
        *,
        method: str = "chat.postMessage",
        not_before: datetime | None = None,
    ) -> bool:
        """Record a message in the caller's transaction; False when one with this key exists already."""
        values: dict[str, Any] = {
            "dedupe_key": dedupe_key[:300],
            "method": method,
            "payload": dict(payload),
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": not_before or self.clock(),
            "created_at": self.clock(),
        }
        return await insert_ignore(session, OutboxMessage, values, ["dedupe_key"])

    @staticmethod
    async def supersede(session: AsyncSession, key_prefix: str) -> int:
        """Drop pending messages whose key starts with ``key_prefix`` (e.g. a run's progress updates)."""
        result = await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.state == "pending", OutboxMessage.dedupe_key.startswith(key_prefix, autoescape=True))
            .values(state="superseded", claimed_until=None)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    @staticmethod
    async def retire_keys(session: AsyncSession, tag: str) -> int:
        """Free every recorded key (``finished:<run>:…``) for reuse, e.g. by a new k6 API that reuses run ids.

        Each key gets ``|retired@<tag>`` appended; nothing else changes: messages not yet sent are still
        sent, sent ones keep their history. Returns how many keys were retired.
        """
        marker = "|retired@"
        result = await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.dedupe_key.notlike(f"%{marker}%"))
            .values(dedupe_key=func.substr(OutboxMessage.dedupe_key, 1, 250, type_=String).concat(f"{marker}{tag}"))
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def due(self, limit: int = 20) -> list[OutboxMessage]:
        now = self.clock()
        async with self.store.session() as session:
            rows = await session.execute(
                select(OutboxMessage)
                .where(
                    OutboxMessage.state == "pending",
                    OutboxMessage.next_attempt_at <= now,
                    or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
                )
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                .limit(limit)
            )
            return list(rows.scalars())

    async def next_due_at(self) -> datetime | None:
        """When the next pending row may be sent: its next attempt, or when another sender's claim lapses."""
        ready_at = case(
            (OutboxMessage.claimed_until > OutboxMessage.next_attempt_at, OutboxMessage.claimed_until),
            else_=OutboxMessage.next_attempt_at,
        )
        async with self.store.session() as session:
            value = (await session.execute(select(func.min(ready_at)).where(OutboxMessage.state == "pending"))).scalar()
        if isinstance(value, str):  # SQLite hands back the raw text of a CASE over date-times
            value = datetime.fromisoformat(value)
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value

    async def claim(self, message_id: int, holder: str, seconds: float) -> bool:
        """Take the row for sending, atomically: True for exactly one claimer."""
        now = self.clock()
        async with self.store.session() as session:
            result = await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == message_id,
                    OutboxMessage.state == "pending",
                    OutboxMessage.next_attempt_at <= now,
                    or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
                )
                .values(claimed_by=holder, claimed_until=now + timedelta(seconds=seconds))
            )
            return result.rowcount == 1  # type: ignore[attr-defined]

    async def mark_sent(self, message_id: int, ts: str | None) -> None:
        async with self.store.session() as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id)
                .values(
                    state="sent",
                    slack_ts=ts,
                    sent_at=self.clock(),
                    attempts=OutboxMessage.attempts + 1,
                    claimed_until=None,
                    last_error=None,
                )
            )

    async def mark_retry(self, message_id: int, delay: float, error: str) -> None:
        async with self.store.session() as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id, OutboxMessage.state == "pending")
                .values(
                    attempts=OutboxMessage.attempts + 1,
                    next_attempt_at=self.clock() + timedelta(seconds=delay),
                    claimed_until=None,
                    last_error=error[:2000],
                )
            )

    async def mark_failed(self, message_id: int, error: str, *, state: str = "failed") -> None:
        async with self.store.session() as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id)
                .values(
                    state=state,
                    attempts=OutboxMessage.attempts + 1,
                    claimed_until=None,
                    last_error=error[:2000],
                )
            )

    async def replace_payload(self, message_id: int, payload: Mapping[str, Any]) -> None:
        async with self.store.session() as session:
            await session.execute(
                update(OutboxMessage).where(OutboxMessage.id == message_id).values(payload=dict(payload))
            )

    async def backlog(self) -> int:
        async with self.store.session() as session:
            return int(
                (
                    await session.execute(
                        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.state == "pending")
                    )
                ).scalar()
                or 0
            )

    async def release_dead_claims(self) -> int:
        """Free rows claimed by processes on this host that are gone (a ``kill -9``), so they go out now."""
        now = self.clock()
        async with self.store.session() as session:
            holders = (
                await session.execute(
                    select(OutboxMessage.claimed_by)
                    .where(
                        OutboxMessage.state == "pending",
                        OutboxMessage.claimed_until.is_not(None),
                        OutboxMessage.claimed_until >= now,
                    )
                    .distinct()
                )
            ).scalars()
            dead = [h for h in holders if h and is_dead_local(h)]
            if not dead:
                return 0
            result = await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.state == "pending", OutboxMessage.claimed_by.in_(dead))
                .values(claimed_until=None)
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def prune(self, older_than: timedelta = timedelta(days=7)) -> int:
        """Delete delivered / given-up rows older than ``older_than`` (their keys have done their job)."""
        cutoff = self.clock() - older_than
        async with self.store.session() as session:
            result = await session.execute(
                delete(OutboxMessage).where(
                    OutboxMessage.state != "pending",
                    OutboxMessage.created_at < cutoff,
                )
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def messages(self, *, state: str | None = None) -> list[OutboxMessage]:
        async with self.store.session() as session:
            query = select(OutboxMessage).order_by(OutboxMessage.id)
            if state is not None:
                query = query.where(OutboxMessage.state == state)
            return list((await session.execute(query)).scalars())


@dataclass
class SendResult:
    ok: bool
    ts: str | None = None
    error: str | None = None
    status: int | None = None
    retry_after: float | None = None
    transient: bool = False


class OutboxSender:
    """Delivers due outbox rows to Slack, one at a time, with retries and backoff."""

    def __init__(
        self,
        outbox: Outbox,
        slack: AsyncWebClient,
        *,
        holder: str,
        retry_base: float = 1.0,
        retry_max: float = 300.0,
        claim_seconds: float = 60.0,
        send_timeout: float = 20.0,
        give_up_after: timedelta = timedelta(hours=24),
        default_retry_after: float = 1.0,
        clock: Callable[[], datetime] = utcnow,
        charts: Callable[[int], Awaitable[Attachment | None]] | None = None,
    ) -> None:
        if send_timeout >= claim_seconds:
            raise ValueError("send_timeout must be shorter than claim_seconds, or two senders could overlap")
        self.outbox = outbox
        self.slack = slack
        self.holder = holder
        self.retry_base = retry_base
        self.retry_max = retry_max
        self._backoff = Backoff(base=retry_base, cap=retry_max)
        self.claim_seconds = claim_seconds
        self.send_timeout = send_timeout
        self.give_up_after = give_up_after
        self.default_retry_after = default_retry_after
        self.clock = clock
        self.charts = charts
        self.paused_until: datetime | None = None

    def backoff(self, attempts: int) -> float:
        """The wait after ``attempts`` failed sends (tools.retry's policy; the schedule lives in the row)."""
        return self._backoff.delay(attempts)

    async def send_due(self, limit: int = 20) -> int:
        """Send what is due now; returns how many messages were delivered."""
        if self.paused_until is not None and self.clock() < self.paused_until:
            return 0
        delivered = 0
        for row in await self.outbox.due(limit):
            if self.paused_until is not None and self.clock() < self.paused_until:
                break
            if await self.deliver(row):
                delivered += 1
        return delivered

    async def deliver(self, row: OutboxMessage) -> bool:
        """Claim, send and mark one row; True when Slack accepted it."""
        kind = metrics.kind_of(row.dedupe_key)
        lossy = row.dedupe_key.startswith(LOSSY_PREFIXES)
        if row.dedupe_key.startswith(STALE_PREFIXES) and self.clock() - row.created_at > LOSSY_MAX_AGE:
            await self.outbox.mark_failed(row.id, "stale progress update skipped", state="superseded")
            return False
        if not await self.outbox.claim(row.id, self.holder, self.claim_seconds):
            return False  # another sender has it
        payload = dict(row.payload)
        chart_run = payload.pop(FOLLOW_WITH_CHART, None)
        if row.method == CHART_METHOD:
            attachment = await self._chart(row, payload)
            if attachment is None:
                return False
            result = await self.upload(attachment, payload)
        else:
            result = await self.call(row.method, payload)
        if not result.ok and result.error in BLOCK_ERRORS and payload.get("blocks"):
            log.warning("Slack refused the blocks of %s (%s); sending the text only", row.dedupe_key, result.error)
            payload.pop("blocks", None)
            await self.outbox.replace_payload(row.id, payload)
            result = await self.call(row.method, payload)
        if result.ok:
            await self.outbox.mark_sent(row.id, result.ts)
            metrics.SENT.labels(kind).inc()
            if kind == "finished":
                await self._observe_delay(row.dedupe_key)
            if isinstance(chart_run, int) and self.charts is not None:
                await self._queue_chart(chart_run, payload, result.ts)
            if row.dedupe_key.startswith(ANNOUNCE_PREFIX):
                await self._link_announcement(row.dedupe_key, payload, result.ts)
            log.info("Sent %s (%s) ts=%s", row.dedupe_key, row.method, result.ts)
            return True
        attempts = row.attempts + 1
        error = result.error or "unknown_error"
        too_old = self.clock() - row.created_at > self.give_up_after
        if result.transient and not too_old and not (lossy and attempts >= LOSSY_MAX_ATTEMPTS):
            if result.retry_after is not None:
                delay = result.retry_after
                self.paused_until = self.clock() + timedelta(seconds=delay)
                metrics.RETRIED.labels("rate_limited").inc()
            else:
                delay = self.backoff(attempts)
                metrics.RETRIED.labels("server_error" if (result.status or 0) >= 500 else "network").inc()
            log.warning(
                "Slack %s for %s failed (%s, attempt %d); retrying in %.1f s",
                row.method,
                row.dedupe_key,
                error,
                attempts,
                delay,
            )
            await self.outbox.mark_retry(row.id, delay, error)
            return False
        why = "gave up after 24 h of retries" if too_old else "permanent Slack error"
        if lossy:
            why = "dropped: a progress update or a chart is not worth more attempts"
        log.error("Slack %s for %s failed: %s (%s); not retrying", row.method, row.dedupe_key, error, why)
        await self.outbox.mark_failed(row.id, error)
        metrics.FAILED.labels(kind, error[:60]).inc()
        return False

    async def _queue_chart(self, run_id: int, payload: Mapping[str, Any], ts: str | None) -> None:
        """The run's chart, in the thread of the message Slack just accepted (or the thread it was posted in).

        A separate row with its own key, so the chart is uploaded at most once per message; a crash between
        the message's commit and this one loses the chart, never the message.
        """
        thread = payload.get("thread_ts") or ts
        if not thread:
            return
        channel = str(payload.get("channel"))
        async with self.outbox.store.session() as session:
            await self.outbox.enqueue(
                session,
                f"chart:{run_id}:{channel}:{thread}",
                {"channel": channel, "thread_ts": thread, "test_run": run_id},
                method=CHART_METHOD,
            )

    async def _chart(self, row: OutboxMessage, payload: Mapping[str, Any]) -> Attachment | None:
        """Render the chart of a chart row; None (row settled or rescheduled) when there is nothing to upload."""
        run_id = payload.get("test_run")
        if self.charts is None or not isinstance(run_id, int):
            await self.outbox.mark_failed(row.id, "charts are off", state="superseded")
            return None
        try:
            attachment = await asyncio.wait_for(self.charts(run_id), self.send_timeout)
        except Exception as exc:  # the API, the drawing: a chart is a bonus, tried a few times
            error = f"chart: {type(exc).__name__}"
            if row.attempts + 1 >= LOSSY_MAX_ATTEMPTS:
                log.warning("No chart of run %d in its thread: %s", run_id, exc)
                await self.outbox.mark_failed(row.id, error)
            else:
                await self.outbox.mark_retry(row.id, self.backoff(row.attempts + 1), error)
            return None
        if attachment is None:
            await self.outbox.mark_failed(row.id, "no metrics to chart", state="superseded")
        return attachment

    async def upload(self, attachment: Attachment, payload: Mapping[str, Any]) -> SendResult:
        """One file into a conversation (its thread), classified like :meth:`call`."""
        response = await self._sent(
            self.slack.files_upload_v2(
                channel=payload["channel"],
                thread_ts=payload.get("thread_ts"),
                file=attachment.data,
                filename=attachment.filename,
                title=attachment.title or attachment.filename,
            )
        )
        if isinstance(response, SendResult):
            return response
        files = response.data.get("files") if isinstance(response.data, dict) else None
        first = files[0] if isinstance(files, list) and files and isinstance(files[0], dict) else {}
        return SendResult(True, ts=str(first.get("id") or "") or None, status=response.status_code)

    async def _link_announcement(self, dedupe_key: str, payload: Mapping[str, Any], ts: str | None) -> None:
        """The announcement of a started run is out: it becomes the run's start message, which the watcher
        updates with progress and answers in the thread of."""
        parts = dedupe_key.split(":")
        if len(parts) < 3 or not parts[2].isdigit() or not ts:
            return
        async with self.outbox.store.session() as session:
            await session.execute(
                update(WatchedRun)
                .where(
                    WatchedRun.run_id == int(parts[2]),
                    WatchedRun.channel_id == payload.get("channel"),
                    WatchedRun.message_ts.is_(None),
                )
                .values(message_ts=ts)
            )

    async def _observe_delay(self, dedupe_key: str) -> None:
        """``k6bot_notification_delay_seconds``: from the run's end to now (Slack just accepted the message)."""
        try:
            run_id = int(dedupe_key.split(":")[1])
            async with self.outbox.store.session() as session:
                ended = await session.scalar(select(WatchedRun.finished_at).where(WatchedRun.run_id == run_id))
        except Exception:  # a metric must never fail a delivery
            log.debug("No run end for %s", dedupe_key, exc_info=True)
            return
        if ended is not None:
            if ended.tzinfo is None:
                ended = ended.replace(tzinfo=UTC)
            metrics.NOTIFY_DELAY.observe(max(0.0, (self.clock() - ended).total_seconds()))

    async def call(self, method: str, payload: dict[str, Any]) -> SendResult:
        """One Slack Web API call, classified (never raises for Slack or network trouble)."""
        response = await self._sent(self.slack.api_call(method, json=payload))
        if isinstance(response, SendResult):
            return response
        data = response.data if isinstance(response.data, dict) else {}
        return SendResult(True, ts=str(data.get("ts") or "") or None, status=response.status_code)

    async def _sent(self, request: Awaitable[AsyncSlackResponse]) -> AsyncSlackResponse | SendResult:
        """Slack's answer within ``send_timeout``, or the failure classified (Slack's error, or the network)."""
        try:
            return await asyncio.wait_for(request, self.send_timeout)
        except SlackApiError as exc:
            return _classify(exc, self.default_retry_after)
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            return SendResult(False, error=f"network: {type(exc).__name__}", transient=True)


def _classify(exc: SlackApiError, default_retry_after: float) -> SendResult:
    response = exc.response
    status = getattr(response, "status_code", None)
    data = getattr(response, "data", None)
    error = data.get("error") if isinstance(data, dict) else None
    error = str(error or (f"http_{status}" if status else "unknown_error"))
    if status == 429 or error == "ratelimited":
        headers = getattr(response, "headers", None) or {}
        retry_after = _retry_after(headers.get("Retry-After") or headers.get("retry-after"), default_retry_after)
        return SendResult(False, error=error, status=status, retry_after=retry_after, transient=True)
    transient = (status is not None and status >= 500) or error in TRANSIENT_ERRORS
    return SendResult(False, error=error, status=status, transient=transient)


def _retry_after(value: str | None, default: float) -> float:
    seconds = parse_retry_after(value)
    return default if seconds is None else min(seconds, MAX_RETRY_AFTER)


__all__ = ["Outbox", "OutboxSender", "SendResult", "make_slack_client"]
