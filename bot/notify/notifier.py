"""The notifier: the watcher under a lease plus the outbox sender, as background tasks of one front-end.

Both ``k6bot serve`` and ``k6bot slack`` start one::

    notifier = Notifier(backend, store, bot=bot_settings, slack=slack_settings)
    await notifier.start()       # poll loop (only while holding the watcher lease) + outbox sender loop
    ...
    await notifier.check_run(run_id)   # the webhook: look at one run now
    ...
    await notifier.stop()        # cancels both loops, releases the lease, closes its Slack client

Every replica runs a sender (claims keep them from sending a row twice); only the lease holder polls.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.config import BotSettings, SlackSettings
from bot.notify import metrics
from bot.notify.lease import DbLease, mark_alive, mark_gone, new_instance_id
from bot.notify.outbox import Outbox, OutboxSender, make_slack_client
from bot.notify.watcher import PollReport, Watcher
from bot.store import Store, utcnow
from tools.errors import ConfigurationError
from tools.outputs import Attachment, attachments_of
from tools.registry import Toolbox

log = logging.getLogger("k6bot.notify")

LEASE_NAME = "watcher"
MIN_LEASE_SECONDS = 10.0
SENDER_IDLE_SECONDS = 1.0
"""How often an idle sender looks for rows queued by other replicas (its own watcher wakes it at once)."""
HOUSEKEEPING_EVERY = timedelta(hours=1)


class Notifier:
    """Watcher + lease + outbox sender for one process.

    ``backend``: a :class:`bot.runtime.Backend` (or a :class:`Toolbox`). ``slack_client``: an
    ``AsyncWebClient`` to send with; by default one is made from ``slack`` settings (``SLACK_BOT_TOKEN``,
    ``SLACK_API_URL``) with slack_sdk's own retries off — the outbox retries. ``bot`` gives
    ``K6BOT_POLL_SECONDS`` and ``K6BOT_NOTIFY_CHANNEL``.
    """

    def __init__(
        self,
        backend: Any,
        store: Store,
        slack_client: AsyncWebClient | None = None,
        bot: BotSettings | None = None,
        *,
        slack: SlackSettings | None = None,
        instance_id: str | None = None,
        retry_base: float = 1.0,
        retry_max: float = 300.0,
        claim_seconds: float = 60.0,
        send_timeout: float = 20.0,
        lease_seconds: float | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.toolbox: Toolbox = backend if isinstance(backend, Toolbox) else backend.toolbox
        self.store = store
        self.bot = bot or BotSettings()
        self.instance_id = instance_id or new_instance_id()
        self.clock = clock
        self._own_client = slack_client is None
        if slack_client is None:
            settings = slack or SlackSettings()
            if settings.bot_token is None:
                raise ConfigurationError(
                    "SLACK_BOT_TOKEN is not set: run-finished notifications need a Slack bot token."
                )
            slack_client = make_slack_client(settings.bot_token.get_secret_value(), settings.api_url)
        self.slack_client = slack_client
        self.poll_seconds = float(self.bot.poll_seconds)
        self._wake_sender = asyncio.Event()
        self.outbox = Outbox(store, clock=clock)
        self.watcher = Watcher(
            self.toolbox,
            store,
            notify_channel=self.bot.notify_channel,
            clock=clock,
            on_enqueue=self._wake_sender.set,
            insight=self.bot.notify_insight,
            charts=self.bot.notify_charts,
        )
        self.lease = DbLease(
            store,
            LEASE_NAME,
            self.instance_id,
            ttl_seconds=lease_seconds or max(MIN_LEASE_SECONDS, 3 * self.poll_seconds),
            clock=clock,
        )
        self.sender = OutboxSender(
            self.outbox,
            slack_client,
            holder=self.instance_id,
            retry_base=retry_base,
            retry_max=retry_max,
            claim_seconds=claim_seconds,
            send_timeout=send_timeout,
            clock=clock,
            charts=self._chart if self.bot.notify_charts else None,
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()
        self._poll_now = asyncio.Event()
        self._last_housekeeping: datetime | None = None
        self.started_at: datetime | None = None

    async def _chart(self, run_id: int) -> Attachment | None:
        """The run chart of ``chart_test_run`` (the registry's operation), or None when the run has no data."""
        result = await self.toolbox.execute("chart_test_run", {"test_run": run_id})
        return next((a for a in attachments_of(result) if a.is_image), None)

    # ------------------------------------------------------------------ lifecycle

    @property
    def running(self) -> bool:
        return bool(self._tasks) and not self._stopping.is_set()

    async def start(self) -> None:
        """Start the poll loop and the outbox sender loop in the background (returns at once)."""
        if self._tasks:
            return
        self._stopping.clear()
        self.started_at = self.clock()
        mark_alive(self.instance_id)
        released = await self.outbox.release_dead_claims()
        if released:
            log.info("Released %d outbox message(s) claimed by a process that is gone", released)
        # Before the front-end takes requests: state left by another k6 API (demo mode started again, another
        # stack) is dropped now, not at the first poll, after a run started from Slack was already recorded.
        await self.watcher.adopt_scope()
        self._tasks = [
            asyncio.create_task(self._poll_loop(), name="k6bot-watcher"),
            asyncio.create_task(self._send_loop(), name="k6bot-outbox"),
        ]
        log.info(
            "Notifier %s started: polling every %g s under the '%s' lease%s",
            self.instance_id,
            self.poll_seconds,
            LEASE_NAME,
            f", every run to {self.bot.notify_channel}" if self.bot.notify_channel else "",
        )

    async def stop(self, *, release: bool = True) -> None:
        """Stop both loops, give up the lease and close the Slack client this notifier made.

        ``release=False`` keeps the lease row as it is, as a crash would (tests of the hand-over).
        """
        self._stopping.set()
        self._poll_now.set()
        self._wake_sender.set()
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(Exception):
            if self.lease.held and release:
                await self.lease.release()
        metrics.LEASE_HELD.set(0)
        mark_gone(self.instance_id)
        if self._own_client:
            session = getattr(self.slack_client, "session", None)
            if session is not None and not session.closed:
                await session.close()

    async def __aenter__(self) -> Notifier:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ actions

    async def check_run(self, run_id: int) -> PollReport:
        """Look at one run at once (a webhook said it changed); the poll stays the fallback."""
        report = await self.watcher.check_run(run_id)
        if report.notified:
            self._wake_sender.set()
        return report

    async def poll_once(self) -> PollReport:
        """One watcher pass now, regardless of the lease (tests, or an operator's nudge)."""
        return await self.watcher.poll_once()

    async def send_once(self) -> int:
        """Deliver what is due now; returns how many messages went out."""
        return await self.sender.send_due()

    def poll_soon(self) -> None:
        """Make the poll loop run its next pass now instead of at the end of the interval."""
        self._poll_now.set()

    async def status(self) -> dict[str, Any]:
        """Health facts: lease, last poll, its age and error, outbox backlog."""
        now = self.clock()
        last = self.watcher.last_poll_at
        lease = None
        with contextlib.suppress(Exception):
            lease = await self.lease.current()
        backlog = await self.outbox.backlog()
        metrics.BACKLOG.set(backlog)
        return {
            "instance": self.instance_id,
            "running": self.running,
            "lease_held": self.lease.held,
            "lease_holder": lease[0] if lease else None,
            "last_poll_at": last.isoformat() if last else None,
            "last_poll_age_seconds": round((now - last).total_seconds(), 1) if last else None,
            "last_poll_error": self.watcher.last_error,
            "outbox_backlog": backlog,
            "poll_seconds": self.poll_seconds,
        }

    def healthy(self, status: dict[str, Any]) -> bool:
        """Running, and polling k6 Cloud successfully (or another replica holds the lease and polls).

        Unhealthy once this lease holder has had no successful poll for 4 intervals (at least 2 minutes):
        k6 Cloud unreachable, a bad token, or a stuck loop.
        """
        if not status["running"]:
            return False
        if not status["lease_held"]:
            return True
        limit = max(120.0, 4 * self.poll_seconds)
        age = status["last_poll_age_seconds"]
        if age is None:
            started = self.started_at or self.clock()
            return (self.clock() - started).total_seconds() < limit
        return bool(age < limit)

    # ------------------------------------------------------------------ loops

    async def _poll_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            started = loop.time()
            try:
                held = await self.lease.acquire()
                metrics.LEASE_HELD.set(1 if held else 0)
                if held:
                    await self.watcher.poll_once()
                    await self._housekeeping()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("Watcher poll failed: %s: %s", type(exc).__name__, exc)
            delay = max(0.0, self.poll_seconds - (loop.time() - started))
            self._poll_now.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._poll_now.wait(), delay)

    async def _send_loop(self) -> None:
        while not self._stopping.is_set():
            self._wake_sender.clear()
            try:
                await self.sender.send_due()
                delay = SENDER_IDLE_SECONDS
                next_due = await self.outbox.next_due_at()
                if next_due is not None:
                    delay = min(delay, max(0.0, (next_due - self.clock()).total_seconds()))
                paused = self.sender.paused_until
                if paused is not None:
                    delay = max(delay, (paused - self.clock()).total_seconds())
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("Outbox sender pass failed: %s: %s", type(exc).__name__, exc)
                delay = SENDER_IDLE_SECONDS
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake_sender.wait(), max(0.05, delay))

    async def _housekeeping(self) -> None:
        now = self.clock()
        if self._last_housekeeping is not None and now - self._last_housekeeping < HOUSEKEEPING_EVERY:
            return
        self._last_housekeeping = now
        try:
            forgotten = await self.watcher.prune()
            pruned = await self.outbox.prune()
        except Exception as exc:
            log.warning("Housekeeping failed: %s", exc)
            return
        if forgotten or pruned:
            log.info("Housekeeping: forgot %d finished run(s), %d old outbox message(s)", forgotten, pruned)
