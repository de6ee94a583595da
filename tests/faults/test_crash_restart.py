"""`kill -9` at each named point of a Slack start (preview → Confirm → API → record → announce → watch → notify),
then a restart: every run is started exactly once (none when nothing was sent), announced once, watched once,
notified once, and the preview always ends in a final state.

The process is a real ``k6bot serve`` with Slack on, against the simulator over HTTP and the fake Slack; the
crash is ``K6BOT_CRASH_AT=<point>`` (``os._exit(137)`` there, like a SIGKILL), the restart runs without it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from bot.crash import POINTS
from bot.store import AuditEntry, Confirmation, OutboxMessage, WatchedRun
from tests.conftest import E2E_SIGNING_SECRET
from tests.fakes.slack import FakeSlack, SlackCall
from tests.faults.conftest import ROWS, FaultRow
from tests.notify.conftest import finished_posts
from tests.service.conftest import ServeProcess, signed_post
from tests.service.test_restart import query
from tools.simulator import Simulator

CHANNEL = "C0LOADTEST"
USER = "U0MARIA"
START_PATH = r"/cloud/v6/load_tests/\d+/start"


def slash(server: ServeProcess, slack: FakeSlack, text: str) -> int:
    form = {
        "command": "/k6",
        "text": text,
        "user_id": USER,
        "user_name": "maria",
        "channel_id": CHANNEL,
        "channel_name": "load-tests",
        "team_id": "T0FAKE",
        "response_url": slack.response_url("command"),
        "trigger_id": "1.2.3",
    }
    return signed_post(server, urlencode(form).encode())


def click_confirm(server: ServeProcess, slack: FakeSlack, confirmation_id: str) -> int:
    payload = {
        "type": "block_actions",
        "user": {"id": USER, "username": "maria", "name": "maria", "team_id": "T0FAKE"},
        "api_app_id": "A0K6BOT",
        "container": {
            "type": "message",
            "message_ts": "1700000000.000100",
            "channel_id": CHANNEL,
            "is_ephemeral": True,
        },
        "trigger_id": "4.5.6",
        "team": {"id": "T0FAKE", "domain": "fake"},
        "channel": {"id": CHANNEL, "name": "load-tests"},
        "response_url": slack.response_url("click"),
        "actions": [
            {
                "action_id": "k6bot_confirm",
                "block_id": "k6bot_confirmation",
                "value": confirmation_id,
                "type": "button",
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    return signed_post(server, urlencode({"payload": json.dumps(payload)}).encode())


def confirm_button(call: SlackCall) -> str:
    for block in call.args.get("blocks") or []:
        for element in block.get("elements", []) or []:
            if element.get("action_id") == "k6bot_confirm":
                return str(element["value"])
    raise AssertionError(f"no Confirm button in {call.text}")


def announcements(slack: FakeSlack) -> list[SlackCall]:
    said = "started *Orders API Soak Test*"
    posted = [c for c in slack.successful("chat.postMessage") if said in c.text]
    through_url = [
        c for c in slack.successful("response_url") if c.args.get("response_type") == "in_channel" and said in c.text
    ]
    return posted + through_url


def preview(slack: FakeSlack) -> str:
    """What the preview shows now: its last replacement ('preview' when never replaced)."""
    replaced = [c for c in slack.successful("response_url") if c.args.get("replace_original") is True]
    if not replaced:
        return "preview"
    last = replaced[-1]
    if any(b.get("type") == "actions" for b in last.args.get("blocks") or []):
        return "buttons"
    if "Working on it" in last.text:
        return "working"
    if "Started 'Orders API Soak Test'" in last.text:
        return "started"
    if "Not done" in last.text and "nothing was started" in last.text:
        return "not started"
    return "other: " + last.text[:200]


@pytest.mark.parametrize("point", sorted(POINTS))
def test_kill_9_at_each_point_of_a_slack_start_then_restart_delivers_everything_exactly_once(
    frozen_sim: Simulator,
    slack: FakeSlack,
    serve_env: dict[str, str],
    run_serve: Callable[..., ServeProcess],
    point: str,
) -> None:
    env = {**serve_env, "SLACK_SIGNING_SECRET": E2E_SIGNING_SECRET, "K6BOT_INTENT_GRACE_SECONDS": "0.5"}
    before = set(frozen_sim.run_ids())
    first = run_serve({**env, "K6BOT_CRASH_AT": point})
    first.wait_healthy()

    assert slash(first, slack, "start orders soak test") == 200
    (shown,) = slack.wait_for("response_url", 1)
    cid = confirm_button(shown)
    assert click_confirm(first, slack, cid) == 200
    assert first.proc.wait(20) == 137, first.log()[-3000:]
    assert f"Crash point {point} reached" in first.log()
    started_before_restart = sorted(set(frozen_sim.run_ids()) - before)
    assert len(started_before_restart) == (0 if point == "before_api_call" else 1)

    second = run_serve(env)
    second.wait_healthy()

    def delivered() -> bool:
        rows = query(env, select(Confirmation.followup).where(Confirmation.id == cid))
        return rows == ["delivered"]

    second.wait_until(delivered, what=f"the follow-up of {cid} delivered")
    created = sorted(set(frozen_sim.run_ids()) - before)
    expected_runs = 0 if point == "before_api_call" else 1
    state = preview(slack)
    audited = query(
        env, select(AuditEntry).where(AuditEntry.confirmation_id == cid, AuditEntry.decision == "confirmed")
    )

    notified: list[SlackCall] = []
    watched: list[WatchedRun] = []
    if created:
        run_id = created[0]
        watched = query(env, select(WatchedRun).where(WatchedRun.run_id == run_id))
        second.wait_until(
            lambda: (
                bool(watched) and query(env, select(WatchedRun.message_ts).where(WatchedRun.run_id == run_id)) != [None]
            ),
            what="the announcement linked to the run",
        )
        frozen_sim.finish_run(run_id)
        second.wait_until(lambda: len(finished_posts(slack, run_id, CHANNEL)) >= 1, what=f"run {run_id} notified")
        second.wait_polls(3)  # several polls after the notification: still one
        notified = finished_posts(slack, run_id, CHANNEL)
        watched = query(env, select(WatchedRun).where(WatchedRun.run_id == run_id))
    announced = announcements(slack)
    expected_final = "not started" if point == "before_api_call" else "started"

    where = "Slack start, kill -9 + restart"
    fault = f"kill -9 at {point}"
    ok = (len(created), len(announced), len(notified), state) == (
        expected_runs,
        expected_runs,
        expected_runs,
        expected_final,
    )
    outcome = "ok" if ok else f"preview {state}"
    ROWS.append(FaultRow(fault, where, outcome, expected_runs, len(created)))
    ROWS.append(FaultRow(fault, where, outcome, expected_runs, len(announced), counted="announcements"))
    ROWS.append(FaultRow(fault, where, outcome, expected_runs, len(watched), counted="watched"))
    ROWS.append(FaultRow(fault, where, outcome, expected_runs, len(notified), counted="notifications"))
    ROWS.append(FaultRow(fault, where, outcome, 1, int(state == expected_final), counted="preview final"))
    ROWS.append(FaultRow(fault, where, outcome, 1, len(audited), counted="audit rows"))

    assert len(created) == expected_runs, slack.summary()
    assert len(announced) == expected_runs, slack.summary()
    assert state == expected_final, slack.summary()
    assert len(audited) == 1, audited
    assert audited[0].result == ("error" if point == "before_api_call" else "ok")
    if created:
        (row,) = watched
        assert (row.origin, row.channel_id, row.starter_id) == ("slack", CHANNEL, USER)
        assert row.message_ts is not None
        (note,) = notified
        assert note.args.get("thread_ts") == row.message_ts  # in the announcement's thread
        assert announced[0].args.get("channel") == CHANNEL
        keys = query(env, select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.like("announce:%")))
        assert keys == [f"announce:{cid}:{created[0]}"]
    else:
        assert frozen_sim.count("POST", START_PATH) == 0
    # the start a crash left unrecorded is sent again with the same K6-Idempotency-Key: k6 Cloud answers with
    # the run it made, nothing new
    assert frozen_sim.count("POST", START_PATH) == {"before_api_call": 0, "after_start_accepted": 2}.get(point, 1)
    assert len(slack.successful("chat.postMessage")) == 2 * expected_runs  # the announcement, the notification
