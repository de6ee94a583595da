"""Named crash points for fault tests: ``K6BOT_CRASH_AT=<point>`` makes the process die there like ``kill -9``.

Only the fault suite sets the variable; unset (always, in production) every point is a no-op. The exit is
``os._exit(137)``: no cleanup, no flushing of anything but the log line, exactly what a SIGKILL leaves.
"""

from __future__ import annotations

import logging
import os
import sys

log = logging.getLogger("k6bot.crash")

ENV = "K6BOT_CRASH_AT"
POINTS: dict[str, str] = {
    "before_api_call": "the intent is recorded (the confirmation claimed); nothing was sent to k6 Cloud",
    "after_start_accepted": "k6 Cloud accepted the start; k6bot has not recorded the run yet",
    "after_intent_done": "the run is recorded on the intent; no announcement, watch or final preview yet",
    "after_announce_enqueued": "the announcement is in the outbox and the run on the watchlist; not sent yet",
}


def crash_point(name: str) -> None:
    """Die here when ``K6BOT_CRASH_AT`` names this point."""
    if name not in POINTS:
        raise ValueError(f"unknown crash point {name!r}")
    if os.environ.get(ENV) == name:
        log.warning("Crash point %s reached: exiting with 137 (%s)", name, ENV)
        for handler in logging.getLogger().handlers:
            handler.flush()
        sys.stderr.flush()
        os._exit(137)
