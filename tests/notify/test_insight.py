"""Run-finished messages carry the verdict: vs baseline / previous, every crossed threshold, the failing checks.

The figures in the message must be the ones the registry's own operations compute for the same run, and a slow or
broken insight must not hold the basic message back.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import update

from bot.notify.notifier import Notifier
from bot.notify.subscriptions import Subscriptions
from bot.slack.mrkdwn import escape
from bot.store import OutboxMessage, Store
from tests.fakes.slack import FakeSlack
from tests.notify.conftest import finished_posts
from tests.notify.test_watcher import CHANNEL, cycle
from tools.analysis.thresholds import crossed
from tools.operations.compare import RunComparison
from tools.operations.investigate import Investigation
from tools.registry import Toolbox
from tools.simulator import Simulator
from tools.simulator.faults import Fault

SOAK_RUNNING = 1234  # demo: Orders API Soak Test, baseline 1211 (p95 398 ms); 1234's p95 is 474 ms
CHECKOUT_SPIKE = 503  # demo: a test whose script crosses a tagged sub-metric threshold


async def subscribed(make_notifier: Callable[..., Notifier], store: Store, **options: Any) -> Notifier:
    """A notifier for a channel subscribed to every run, past its first (baseline) poll."""
    notifier = make_notifier(**options)
    await Subscriptions(store).subscribe(CHANNEL)
    await cycle(notifier)
    return notifier


def shown(text: str) -> str:
    """``text`` as it appears in a recorded Slack call: mrkdwn-escaped, then JSON-encoded."""
    return json.dumps(escape(text), ensure_ascii=False)[1:-1]


async def test_soak_run_is_told_against_its_baseline_with_the_operations_own_numbers(
    frozen_sim: Simulator,
    store: Store,
    slack: FakeSlack,
    sim_toolbox: Toolbox,
    make_notifier: Callable[..., Notifier],
) -> None:
    notifier = await subscribed(make_notifier, store)
    frozen_sim.finish_run(SOAK_RUNNING, result="passed")
    await cycle(notifier, polls=2)
    posts = finished_posts(slack, SOAK_RUNNING, CHANNEL)
    assert len(posts) == 1
    comparison = await sim_toolbox.execute("compare_test_runs", {"test_run": SOAK_RUNNING})
    assert isinstance(comparison, RunComparison)
    assert comparison.against_kind == "baseline" and comparison.against_id == 1211
    line = comparison.headline()
    assert "vs baseline #1211" in line and line.endswith(comparison.overall.value)
    assert shown(line) in posts[0].text
    assert escape(line) in posts[0].args["text"]  # the plain fallback says it too


async def test_failed_run_lists_every_crossed_threshold_and_the_failing_checks(
    frozen_sim: Simulator,
    store: Store,
    slack: FakeSlack,
    sim_toolbox: Toolbox,
    make_notifier: Callable[..., Notifier],
) -> None:
    notifier = await subscribed(make_notifier, store)
    run_id = frozen_sim.start_run(CHECKOUT_SPIKE)["id"]
    await cycle(notifier)
    frozen_sim.clock.advance(120)
    frozen_sim.finish_run(run_id, result="failed")
    await cycle(notifier, polls=2)
    posts = finished_posts(slack, run_id, CHANNEL)
    assert len(posts) == 1
    found = await sim_toolbox.execute("investigate_test_run", {"test_run": run_id})
    assert isinstance(found, Investigation)
    bad = crossed(found.thresholds)
    assert bad, found.text()
    assert "Thresholds crossed:" in posts[0].text
    for verdict in bad:
        assert shown(verdict.threshold) in posts[0].text
    for check in found.checks.failing:
        assert shown(check) in posts[0].text


async def test_the_headline_figures_come_from_the_investigation_without_asking_again(
    frozen_sim: Simulator,
    store: Store,
    slack: FakeSlack,
    sim_toolbox: Toolbox,
    make_notifier: Callable[..., Notifier],
) -> None:
    """investigate_test_run queries p95, p99, rate, failed and checks itself (for the run and its baseline in one
    request each): the message shows those figures and the per-run headline queries are not sent as well."""
    notifier = await subscribed(make_notifier, store)
    frozen_sim.finish_run(SOAK_RUNNING, result="passed")
    frozen_sim.clear_requests()
    await cycle(notifier, polls=2)
    posts = finished_posts(slack, SOAK_RUNNING, CHANNEL)
    assert len(posts) == 1
    assert frozen_sim.count("GET", rf"/cloud/v5/test_runs/{SOAK_RUNNING}/query_aggregate_k6.*") == 2  # breakdowns only
    found = await sim_toolbox.execute("investigate_test_run", {"test_run": SOAK_RUNNING})
    metrics = await sim_toolbox.execute("get_test_run_metrics", {"test_run_id": SOAK_RUNNING})
    assert isinstance(found, Investigation)
    assert found.run_metrics().model_dump(exclude={"checks"}) == metrics.model_dump(exclude={"checks"})
    assert sorted(found.run_metrics().checks, key=lambda c: c.name) == sorted(metrics.checks, key=lambda c: c.name)
    assert metrics.http_req_duration_p95_ms is not None
    assert f"{metrics.http_req_duration_p95_ms:,.0f} ms" in posts[0].text


async def test_broken_insight_leaves_the_basic_message_whole(
    frozen_sim: Simulator, store: Store, slack: FakeSlack, make_notifier: Callable[..., Notifier]
) -> None:
    notifier = await subscribed(make_notifier, store)
    frozen_sim.faults.add(Fault(path=r"/cloud/v6/test_runs/\d+/script", status=500, times=None))
    frozen_sim.faults.add(Fault(path=r"/cloud/v6/load_tests/\d+$", status=500, times=None))
    frozen_sim.finish_run(SOAK_RUNNING, result="passed")
    await cycle(notifier, polls=2)
    posts = finished_posts(slack, SOAK_RUNNING, CHANNEL)
    assert len(posts) == 1
    assert "p95 http_req_duration" in posts[0].text  # the API's figures are there
    assert "vs baseline" not in posts[0].text and "Thresholds crossed" not in posts[0].text


async def test_a_slow_insight_is_left_out_after_its_timeout_and_the_basic_message_goes_out(
    frozen_sim: Simulator, store: Store, slack: FakeSlack, make_notifier: Callable[..., Notifier]
) -> None:
    notifier = await subscribed(make_notifier, store)
    notifier.watcher.insight_timeout = 0.3  # 5 s in the product
    # investigate reads the run's script first; the basic message never does
    frozen_sim.faults.add(Fault(path=r"/cloud/v6/test_runs/\d+/script", kind="latency", delay=1.5, times=None))
    frozen_sim.finish_run(SOAK_RUNNING, result="passed")
    await cycle(notifier, polls=2)
    posts = finished_posts(slack, SOAK_RUNNING, CHANNEL)
    assert len(posts) == 1
    assert "p95 http_req_duration" in posts[0].text
    assert "vs baseline" not in posts[0].text


PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


async def test_the_run_chart_goes_into_the_thread_of_the_notification_once(
    frozen_sim: Simulator, store: Store, slack: FakeSlack, make_notifier: Callable[..., Notifier]
) -> None:
    notifier = await subscribed(make_notifier, store, charts=True)
    frozen_sim.finish_run(SOAK_RUNNING, result="passed")
    await cycle(notifier, polls=4)  # the message, then its chart, then nothing more
    assert len(finished_posts(slack, SOAK_RUNNING, CHANNEL)) == 1
    (sent,) = [m for m in await notifier.outbox.messages(state="sent") if m.dedupe_key.startswith("finished:1234:")]
    assert len(slack.shared) == 1
    where, data = next(iter(slack.shared.values())), next(iter(slack.uploads.values()))
    assert where["channel_id"] == CHANNEL
    assert sent.slack_ts and where["thread_ts"] == sent.slack_ts  # in the thread of the run-finished message
    assert data.startswith(PNG_MAGIC) and len(data) > 10_000
    assert [c.method for c in slack.calls if c.method.startswith("files.")] == [
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    ]
    assert not slack.calls_of("files.upload")  # the retired method is never used


async def test_a_failing_upload_never_touches_the_message_and_is_given_up(
    frozen_sim: Simulator, store: Store, slack: FakeSlack, make_notifier: Callable[..., Notifier]
) -> None:
    notifier = await subscribed(make_notifier, store, charts=True)
    slack.fail("files.getUploadURLExternal", times=10, status=500)
    frozen_sim.finish_run(SOAK_RUNNING, result="passed")
    for _ in range(8):
        await cycle(notifier)
        async with store.session() as session:  # let the backoff's retries fall due now
            await session.execute(update(OutboxMessage).values(next_attempt_at=datetime(2000, 1, 1)))
    assert len(finished_posts(slack, SOAK_RUNNING, CHANNEL)) == 1
    assert slack.shared == {}
    attempts = slack.calls_of("files.getUploadURLExternal")
    assert 1 <= len(attempts) <= 3  # a few tries, then dropped: a chart is a bonus
    assert await notifier.outbox.messages(state="pending") == []


async def test_charts_off_uploads_nothing(
    frozen_sim: Simulator, store: Store, slack: FakeSlack, make_notifier: Callable[..., Notifier]
) -> None:
    notifier = await subscribed(make_notifier, store, charts=False)
    frozen_sim.finish_run(SOAK_RUNNING, result="passed")
    await cycle(notifier, polls=3)
    assert len(finished_posts(slack, SOAK_RUNNING, CHANNEL)) == 1
    assert not [c for c in slack.calls if c.method.startswith("files.")]
