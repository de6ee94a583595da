"""The watcher: finds run transitions with list requests and turns finished runs into outbox messages.

One poll (:meth:`Watcher.poll_once`):

1. One list walk, ``GET /cloud/v6/test_runs?created_after=<cursor>`` page by page until no ``@nextLink``
   — not one request per run. The cursor lives in ``k6bot_meta`` (``watcher.cursor``) so a restart
   resumes where the last poll was: a run that finished while k6bot was down is still in the walk.
   It stays at least 24 h (of the API's clock, not ours) behind the newest run — at the ``created`` of the
   oldest run still going when that is earlier — and it never moves back. The day of look-back catches
   runs that show up in the list late, or already finished with a ``created`` in the past (paging through
   a day of runs is cheap; every run already seen is a row lookup).
2. Every run in the walk has a ``watched_runs`` row (``origin="seen"`` unless someone asked for it), so
   the watcher knows which runs it has seen and in which status. A run seen for the first time already
   finished is *new* — created and finished since the last poll, e.g. while k6bot was down — and is
   notified; only at the very first poll (no cursor yet) are such runs the baseline and stay quiet.
3. A run that reached ``completed`` / ``aborted`` and is not yet ``notified``: one transaction marks it
   ``notified`` (conditionally — if another replica got there first, nothing happens) and inserts one
   outbox row per destination with a deterministic ``dedupe_key``. Metrics come from the v5 aggregate
   endpoint first; when they fail the message goes out without them.
4. Runs started from Slack get their start message updated in place (status, elapsed / expected) at most
   every 30 s while they go on, through the outbox as lossy ``chat.update`` messages.

Unfinished rows that the walk did not contain (deleted runs, clock skew) are fetched one by one.

The state belongs to one k6 API: its URL and stack (``watcher.scope`` in ``k6bot_meta``). Another API —
demo mode started again (a new simulator on a new port, the same run ids), a test double restarted — has
other runs under the same ids and another clock, so the watcher starts afresh, as at its very first poll:
no cursor, no ``watched_runs`` rows, and the outbox keys retired (messages not yet sent still go out). The
same happens when the API turns out to be another one behind the same address: a run k6bot notified comes
back with another ``created``, or the cursor is ahead of the API's newest run.

Destinations of a finished run, each at most once per channel:

* runs started from Slack: a reply in the thread of the start message mentioning the starter;
* each channel with a matching subscription (all runs, or this test; ``failures_only`` → only failed,
  error or aborted runs): a top-level message;
* ``K6BOT_NOTIFY_CHANNEL``: every run, top-level.

A channel that gets the thread reply does not get a second, top-level message; the reply is sent with
``reply_broadcast`` instead, so the channel still sees it once ("Also send to channel").
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update

from bot.notify import metrics
from bot.notify.db import insert_ignore, meta_delete, meta_get, meta_set
from bot.notify.messages import (
    RunInsight,
    is_failure,
    progress_message,
    run_finished_message,
    start_message_finished,
)
from bot.notify.outbox import FOLLOW_WITH_CHART, Outbox
from bot.notify.subscriptions import Subscriptions
from bot.store import Store, Subscription, WatchedRun, utcnow
from tools.errors import NotFound
from tools.models import LoadTest, TestRun
from tools.operations.investigate import Investigation
from tools.outputs import RunMetrics
from tools.registry import Toolbox

log = logging.getLogger("k6bot.notify.watcher")

RUNS_PATH = "/cloud/v6/test_runs"
CURSOR_KEY = "watcher.cursor"
SCOPE_KEY = "watcher.scope"
LOOKBACK = timedelta(hours=24)
"""How far (in the API's clock) behind the newest run the cursor stays, from the very first poll on."""
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
PAGE_SIZE = 1000
MAX_PAGES = 1000
SAME_MOMENT = timedelta(milliseconds=1)
"""Two ``created`` values of one run closer than this are the same (storage may round)."""
MAX_FOLLOW = timedelta(days=3)
"""A run still unfinished this long after newer runs were created is given up on (stuck in the API)."""
PROGRESS_EVERY = timedelta(seconds=30)
KEEP_ROWS = timedelta(days=2)
ACTIVE_STATUSES = frozenset({"queued", "initializing", "running", "processing_metrics"})


def api_scope(client: Any) -> str:
    """Which k6 API (and stack) the watcher's state belongs to: the API URL and the configured stack."""
    settings = client.settings
    stack = settings.stack_id if settings.stack_id is not None else (settings.stack_url or "-")
    return f"{str(settings.api_url).rstrip('/')} stack {stack}"


@dataclass
class Destination:
    channel: str
    thread_ts: str | None = None
    mention: str | None = None
    broadcast: bool = False

    def dedupe_key(self, run_id: int) -> str:
        return f"finished:{run_id}:{self.channel}:{self.thread_ts or 'top'}"


@dataclass
class PollReport:
    """What one poll (or one webhook check) did."""

    listed: int = 0
    new: int = 0
    transitions: int = 0
    notified: list[int] = field(default_factory=list)
    progress: int = 0
    fetched: int = 0
    cursor: datetime | None = None


def destinations(
    run: TestRun,
    row: WatchedRun | None,
    subscriptions: Iterable[Subscription],
    notify_channel: str | None,
) -> list[Destination]:
    """Where the run-finished message of ``run`` goes (see the module docstring)."""
    found: list[Destination] = []
    thread: Destination | None = None
    if row is not None and row.channel_id:
        thread_ts = row.thread_ts or row.message_ts
        thread = Destination(row.channel_id, thread_ts, mention=row.starter_id)
        found.append(thread)
    channels: list[str] = []
    if notify_channel:
        channels.append(notify_channel)
    failure = is_failure(run)
    for sub in subscriptions:
        if sub.load_test_id is not None and sub.load_test_id != run.test_id:
            continue
        if sub.failures_only and not failure:
            continue
        channels.append(sub.channel_id)
    for channel in dict.fromkeys(channels):
        if thread is not None and channel == thread.channel:
            thread.broadcast = thread.thread_ts is not None
            continue
        found.append(Destination(channel))
    return found


class Watcher:
    """Polls k6 Cloud for run transitions and queues the notifications (see the module docstring)."""

    def __init__(
        self,
        toolbox: Toolbox,
        store: Store,
        *,
        notify_channel: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        on_enqueue: Callable[[], None] | None = None,
        metrics_timeout: float = 15.0,
        insight: bool = True,
        insight_timeout: float = 5.0,
        charts: bool = False,
    ) -> None:
        self.toolbox = toolbox
        self.client = toolbox.client
        self.store = store
        self.notify_channel = notify_channel
        self.clock = clock
        self.on_enqueue = on_enqueue
        self.metrics_timeout = metrics_timeout
        self.insight = insight
        self.insight_timeout = insight_timeout
        self.charts = charts
        self.subscriptions = Subscriptions(store)
        self.outbox = Outbox(store, clock=clock)
        self._lock = asyncio.Lock()
        self.last_poll_at: datetime | None = None
        self.last_error: str | None = None

    # ------------------------------------------------------------------ public

    async def cursor(self) -> datetime | None:
        async with self.store.session() as session:
            text = await meta_get(session, CURSOR_KEY)
        return datetime.fromisoformat(text) if text else None

    @property
    def scope(self) -> str:
        """The k6 API and stack this watcher polls (see :func:`api_scope`)."""
        return api_scope(self.client)

    async def adopt_scope(self) -> bool:
        """Make the stored state this API's: start afresh if it belongs to another one. True when it did.

        The notifier calls it at start, before the front-end takes requests; every poll checks it again.
        """
        async with self._lock:
            return await self._adopt_scope()

    async def poll_once(self) -> PollReport:
        """One pass: list walk, transitions, notifications, progress. Safe to run on several replicas."""
        async with self._lock:
            started = time.monotonic()
            try:
                report = await self._poll()
            except Exception as exc:
                metrics.POLL_DURATION.observe(time.monotonic() - started)
                self.last_error = f"{type(exc).__name__}: {exc}"
                metrics.POLLS.labels("error").inc()
                raise
            metrics.POLL_DURATION.observe(time.monotonic() - started)
            self.last_error = None
            self.last_poll_at = self.clock()
            metrics.POLLS.labels("ok").inc()
            metrics.LAST_POLL.set(self.last_poll_at.timestamp())
            return report

    async def check_run(self, run_id: int) -> PollReport:
        """Look at one run now (a webhook said something happened) with the same logic as a poll."""
        async with self._lock:
            await self._adopt_scope()
            cursor = await self.cursor()
            if cursor is None:  # no baseline yet: a full first poll is the check
                return await self._poll()
            report = PollReport(cursor=cursor)
            run = await self._fetch(run_id, "webhook")
            if run is None:
                return report
            report.fetched = 1
            rows = await self._rows([run_id])
            subs = await self.subscriptions.all()
            await self._observe(run, rows.get(run_id), subs, fresh=run.created >= cursor, report=report)
            return report

    async def prune(self) -> int:
        """Forget finished runs created well before the cursor (the outbox keys keep their own history)."""
        cursor = await self.cursor()
        if cursor is None:
            return 0
        async with self.store.session() as session:
            result = await session.execute(
                delete(WatchedRun).where(WatchedRun.notified.is_(True), WatchedRun.created_at < cursor - KEEP_ROWS)
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ the poll

    async def _poll(self) -> PollReport:
        await self._adopt_scope()
        now = self.clock()
        cursor = await self.cursor()
        list_from = cursor if cursor is not None else await self._initial_cursor(now)
        listed = await self._walk(list_from)
        rows = await self._rows(listed)
        if cursor is not None and (foreign := await self._foreign(list_from, listed, rows)) is not None:
            await self._reset(foreign)
            cursor = None
            list_from = await self._initial_cursor(now)
            listed = await self._walk(list_from)
            rows = await self._rows(listed)
        first = cursor is None
        report = PollReport(listed=len(listed))
        newest = max((r.created for r in listed.values()), default=None)
        extra: dict[int, TestRun] = {}
        for row in await self._open_rows():
            if row.run_id in listed:
                continue
            rows[row.run_id] = row
            if newest is not None and row.created_at < newest - MAX_FOLLOW:
                log.warning("Run %d is still %s after %s; no longer following it", row.run_id, row.status, MAX_FOLLOW)
                await self._close(row.run_id)
                continue
            fetched = await self._fetch(row.run_id, "missing")
            report.fetched += 1
            if fetched is None:
                log.info("Run %d no longer exists; no longer following it", row.run_id)
                await self._close(row.run_id)
                continue
            extra[fetched.id] = fetched
        subs = await self.subscriptions.all()
        everything = sorted([*listed.values(), *extra.values()], key=lambda r: (r.created, r.id))
        for run in everything:
            fresh = not first and run.created >= list_from
            await self._observe(run, rows.get(run.id), subs, fresh=fresh, report=report)
        report.cursor = self._next_cursor(list_from, listed.values())
        async with self.store.session() as session:
            await meta_set(session, CURSOR_KEY, report.cursor.isoformat())
        if report.notified or report.transitions or report.new:
            log.info(
                "Poll: %d listed, %d new, %d transitions, notified %s",
                report.listed,
                report.new,
                report.transitions,
                report.notified or "none",
            )
        return report

    async def _walk(self, list_from: datetime) -> dict[int, TestRun]:
        """Every run created at or after ``list_from``: one list, page by page until no ``@nextLink``."""
        metrics.POLL_REQUESTS.inc()
        listed: dict[int, TestRun] = {}
        offset = 0
        for _ in range(MAX_PAGES):
            page = await self.client.get_page(
                TestRun, RUNS_PATH, {"created_after": list_from, "$top": PAGE_SIZE, "$skip": offset}
            )
            fresh = [run for run in page.value if run.id not in listed]
            listed.update((run.id, run) for run in page.value)
            if not page.next_link or not page.value or not fresh:  # the last guard: a pager that never ends
                break
            offset += len(page.value)
        return listed

    async def _initial_cursor(self, now: datetime) -> datetime:
        """Where the very first walk starts: a day before the newest run, in the API's own clock.

        Following the API's clock keeps a k6 Cloud (or a test double) whose clock differs from ours from
        putting every new run before the cursor. An empty stack starts from the beginning of time: every
        run that appears later is new.
        """
        newest = await self._newest_created()
        if newest is None:
            return EPOCH
        return min(now, newest) - LOOKBACK

    async def _newest_created(self) -> datetime | None:
        """The ``created`` of the API's newest run (None for an empty stack): the first and the last run of
        the list, two small requests."""
        first = await self.client.get_page(TestRun, RUNS_PATH, {"$count": True, "$top": 1})
        seen = [run.created for run in first.value]
        if first.count is not None and first.count > 1:
            last = await self.client.get_page(TestRun, RUNS_PATH, {"$skip": first.count - 1, "$top": 1})
            seen += [run.created for run in last.value]
        return max(seen, default=None)

    # ------------------------------------------------------------------ whose state

    async def _adopt_scope(self) -> bool:
        scope = self.scope
        async with self.store.session() as session:
            recorded = await meta_get(session, SCOPE_KEY)
            if recorded is None:  # a new database, or one from before scopes were recorded: ours
                await meta_set(session, SCOPE_KEY, scope)
        if recorded is None or recorded == scope:
            return False
        await self._reset(f"the k6 API changed from {recorded} to {scope}")
        return True

    async def _foreign(
        self, list_from: datetime, listed: dict[int, TestRun], rows: dict[int, WatchedRun]
    ) -> str | None:
        """Why the stored state cannot be this API's, when the API at the same address is another one."""
        for run in listed.values():
            row = rows.get(run.id)
            if row is not None and row.notified and abs(row.created_at - run.created) > SAME_MOMENT:
                return (
                    f"run {run.id} of this API was created {run.created.isoformat()}, the run {run.id} "
                    f"k6bot knew {row.created_at.isoformat()}"
                )
        if not listed and list_from > EPOCH:
            newest = await self._newest_created()
            if newest is None or newest < list_from:
                where = f"its newest run is from {newest.isoformat()}" if newest else "it has no runs"
                return f"the cursor ({list_from.isoformat()}) is ahead of this API: {where}"
        return None

    async def _reset(self, reason: str) -> None:
        """Start afresh for this API (see the module docstring), in one transaction."""
        async with self.store.session() as session:
            forgotten = await session.execute(delete(WatchedRun))
            await meta_delete(session, CURSOR_KEY)
            retired = await Outbox.retire_keys(session, f"{self.clock():%Y%m%dT%H%M%S%f}")
            await meta_set(session, SCOPE_KEY, self.scope)
        log.warning(
            "The watcher's state belonged to another k6 API (%s): starting afresh, as at a first start "
            "(forgot %d run(s), retired %d outbox key(s); runs already finished stay quiet)",
            reason,
            int(forgotten.rowcount or 0),  # type: ignore[attr-defined]
            retired,
        )

    @staticmethod
    def _next_cursor(list_from: datetime, runs: Iterable[TestRun]) -> datetime:
        runs = list(runs)
        if not runs:
            return list_from
        newest = max(r.created for r in runs)
        candidate = newest - LOOKBACK
        still_going = [r.created for r in runs if not r.is_finished and r.created >= newest - MAX_FOLLOW]
        if still_going:
            candidate = min(candidate, min(still_going))
        return max(list_from, candidate)

    async def _rows(self, run_ids: Iterable[int]) -> dict[int, WatchedRun]:
        ids = list(run_ids)
        found: dict[int, WatchedRun] = {}
        async with self.store.session() as session:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                rows = await session.execute(select(WatchedRun).where(WatchedRun.run_id.in_(chunk)))
                found.update((row.run_id, row) for row in rows.scalars())
        return found

    async def _open_rows(self) -> list[WatchedRun]:
        async with self.store.session() as session:
            rows = await session.execute(select(WatchedRun).where(WatchedRun.notified.is_(False)))
            return list(rows.scalars())

    async def _close(self, run_id: int) -> None:
        async with self.store.session() as session:
            await session.execute(update(WatchedRun).where(WatchedRun.run_id == run_id).values(notified=True))

    async def _fetch(self, run_id: int, reason: str) -> TestRun | None:
        metrics.RUN_FETCHES.labels(reason).inc()
        try:
            return await self.client.get_model(TestRun, f"{RUNS_PATH}/{run_id}")
        except NotFound:
            return None

    # ------------------------------------------------------------------ one run

    async def _observe(
        self,
        run: TestRun,
        row: WatchedRun | None,
        subs: list[Subscription],
        *,
        fresh: bool,
        report: PollReport,
    ) -> None:
        if row is None:
            if run.is_finished and not fresh:
                await self._insert(run, subs, notified=True)  # baseline: finished before we were watching
                return
            inserted = await self._insert(run, subs, notified=False)
            if inserted:
                report.new += 1
                metrics.TRANSITIONS.labels(run.status).inc()
                log.debug("New run %d (test %d): %s", run.id, run.test_id, run.status)
                if run.is_finished:
                    await self._finish(run, None, subs, report)
                return
            row = (await self._rows([run.id])).get(run.id)  # another replica inserted it just now
            if row is None:
                return
        if row.notified:
            return
        if row.status != run.status:
            report.transitions += 1
            metrics.TRANSITIONS.labels(run.status).inc()
            log.info("Run %d: %s → %s", run.id, row.status, run.status)
        if run.is_finished:
            await self._finish(run, row, subs, report)
            return
        if row.status != run.status or row.result != run.result or row.created_at != run.created:
            async with self.store.session() as session:
                await session.execute(
                    update(WatchedRun)
                    .where(WatchedRun.run_id == run.id, WatchedRun.notified.is_(False))
                    .values(status=run.status, result=run.result, created_at=run.created)
                )
        if self._progress_due(run, row):
            await self._progress(run, row, report)

    async def _insert(self, run: TestRun, subs: list[Subscription], *, notified: bool) -> bool:
        wanted = bool(self.notify_channel) or any(s.load_test_id in (None, run.test_id) for s in subs)
        values: dict[str, Any] = {
            "run_id": run.id,
            "load_test_id": run.test_id,
            "origin": "subscription" if wanted else "seen",
            "status": run.status,
            "result": run.result,
            "estimated_duration": float(run.estimated_duration) if run.estimated_duration else None,
            "finished_at": run.ended if run.is_finished else None,
            "notified": notified,
            "created_at": run.created,
        }
        async with self.store.session() as session:
            return await insert_ignore(session, WatchedRun, values, ["run_id"])

    async def _finish(self, run: TestRun, row: WatchedRun | None, subs: list[Subscription], report: PollReport) -> None:
        planned = destinations(run, row, subs, self.notify_channel)
        name = await self._test_name(run, row)
        run_metrics, insight = await self._figures(run) if planned else (None, None)
        async with self.store.session() as session:
            claimed = await session.execute(
                update(WatchedRun)
                .where(WatchedRun.run_id == run.id, WatchedRun.notified.is_(False))
                .values(
                    notified=True,
                    status=run.status,
                    result=run.result,
                    finished_at=run.ended or self.clock(),
                    created_at=run.created,
                    load_test_name=name,
                )
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return  # another replica (or an earlier pass) handled this run
            fresh_row = await session.get(WatchedRun, run.id, populate_existing=True)
            targets = destinations(run, fresh_row, subs, self.notify_channel)
            for target in targets:
                message = run_finished_message(
                    run, test_name=name, metrics=run_metrics, starter_id=target.mention, insight=insight
                )
                payload: dict[str, Any] = {
                    "channel": target.channel,
                    **message,
                    "unfurl_links": False,
                    "unfurl_media": False,
                }
                if target.thread_ts:
                    payload["thread_ts"] = target.thread_ts
                    if target.broadcast:
                        payload["reply_broadcast"] = True
                if self.charts and run_metrics is not None and run_metrics.http_req_rate is not None:
                    payload[FOLLOW_WITH_CHART] = run.id  # the sender queues the chart once Slack has the message
                await self.outbox.enqueue(session, target.dedupe_key(run.id), payload)
            if fresh_row is not None and fresh_row.origin == "slack" and fresh_row.channel_id and fresh_row.message_ts:
                await Outbox.supersede(session, f"progress:{run.id}:")
                final = start_message_finished(run, test_name=name, starter_id=fresh_row.starter_id)
                await self.outbox.enqueue(
                    session,
                    f"final:{run.id}",
                    {"channel": fresh_row.channel_id, "ts": fresh_row.message_ts, **final},
                    method="chat.update",
                )
        report.notified.append(run.id)
        metrics.FINISHED.labels("notified" if targets else "nobody").inc()
        if targets:
            log.info(
                "Run %d of %s finished (%s, %s): queued for %s",
                run.id,
                name or run.test_id,
                run.status,
                run.result,
                ", ".join(t.channel + (" (thread)" if t.thread_ts else "") for t in targets),
            )
        self._wake()

    def _progress_due(self, run: TestRun, row: WatchedRun) -> bool:
        if row.origin != "slack" or not row.channel_id or not row.message_ts:
            return False
        if run.status not in ACTIVE_STATUSES:
            return False
        last = row.progress_updated_at
        return last is None or self.clock() - last >= PROGRESS_EVERY

    async def _progress(self, run: TestRun, row: WatchedRun, report: PollReport) -> None:
        now = self.clock()
        name = await self._test_name(run, row)
        message = progress_message(run, test_name=name, starter_id=row.starter_id)
        async with self.store.session() as session:
            due = await session.execute(
                update(WatchedRun)
                .where(
                    WatchedRun.run_id == run.id,
                    WatchedRun.notified.is_(False),
                    (WatchedRun.progress_updated_at.is_(None))
                    | (WatchedRun.progress_updated_at <= now - PROGRESS_EVERY),
                )
                .values(progress_updated_at=now)
            )
            if due.rowcount != 1:  # type: ignore[attr-defined]
                return
            await self.outbox.enqueue(
                session,
                f"progress:{run.id}:{now:%Y%m%dT%H%M%S%f}",
                {"channel": row.channel_id, "ts": row.message_ts, **message},
                method="chat.update",
            )
        report.progress += 1
        self._wake()

    async def _test_name(self, run: TestRun, row: WatchedRun | None) -> str | None:
        if row is not None and row.load_test_name:
            return row.load_test_name
        name = await self.toolbox.catalog.display_name(run.test_id)
        if name is not None:
            return name
        try:  # not in the catalog (created since it was read): ask for this one test
            test = await self.client.get_model(LoadTest, f"/cloud/v6/load_tests/{run.test_id}")
            return test.name
        except Exception as exc:
            log.warning("Could not read the name of load test %d: %s", run.test_id, exc)
            return None

    async def _figures(self, run: TestRun) -> tuple[RunMetrics | None, RunInsight | None]:
        """The headline metrics and the insight. The investigation makes the very queries the metrics need
        (p95, p99, rate, failed, checks), so its figures are used; only without it are they read on their own
        (five requests fewer per finished run; the basic message still never depends on the insight)."""
        insight = await self._insight(run)
        if insight is not None:
            return insight.investigation.run_metrics(), insight
        return await self._metrics(run.id), None

    async def _metrics(self, run_id: int) -> RunMetrics | None:
        try:
            result = await asyncio.wait_for(
                self.toolbox.execute("get_test_run_metrics", {"test_run_id": run_id}), self.metrics_timeout
            )
        except Exception as exc:  # metrics are a bonus: never block the notification on them
            log.warning("Metrics of run %d are not available (%s); notifying without them", run_id, exc)
            return None
        return result if isinstance(result, RunMetrics) else None

    async def _insight(self, run: TestRun) -> RunInsight | None:
        """``investigate_test_run``: every threshold judged, the checks, the verdict against the baseline /
        previous run — a bonus like the metrics, computed beside them within ``insight_timeout`` and left out
        when it fails or is late, so the basic message is never held back by more than that."""
        if not self.insight:
            return None
        try:
            found = await asyncio.wait_for(
                self.toolbox.execute("investigate_test_run", {"test_run": run.id}), self.insight_timeout
            )
        except Exception as exc:
            log.info("No insight for run %d in the notification (%s)", run.id, exc)
            return None
        return RunInsight(found) if isinstance(found, Investigation) else None

    def _wake(self) -> None:
        if self.on_enqueue is not None:
            self.on_enqueue()
