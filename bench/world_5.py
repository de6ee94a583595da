"""World 5: a stack of its own for held-out set 5, built on an EMPTY simulator through HTTP.

Issue 10 is checked against an independent fake of the API with its own names and runs; sets 1–4 all run
against the demo (tools/simulator/demo.py). This world shares no name, id or project with the demo, so set 5
(bench/phrasings_heldout_5.yaml) measures what such a checker measures.

    async with httpx.AsyncClient(base_url=url) as control:
        facts = await build(control)          # reset (empty), clock frozen at WORLD_NOW, then the world

Everything goes over HTTP: ``/_sim`` control endpoints (reset, clock/set, clock/speed, projects, load_tests,
load_tests/{id}/runs, load_zones) and the public v6 API for what it can do itself (limits, label keys and
project labels, schedules). The clock is frozen (speed 0) at :data:`WORLD_NOW`, so building twice gives the same
ids and the same run states.

The world (ids as built on an empty simulator; :func:`build` returns them, by key):

- projects: Storefront (default; labels tier=gold, owner=web-team), Media Platform (owner=media-eng,
  region=eu-west; limits 2000 VUs, 4 h), Identity (tier=silver, owner=iam; private zone "Identity private zone"
  ``iam-plz-us-east``)
- load tests: Cart Checkout Peak (fails now), Cart Checkout Smoke, Product Search Baseline (queued run),
  Promo Banner Spike (created run), Video Transcode Soak (running run; a user aborted the one before),
  Thumbnail Resize Stress (aborted by a threshold), Playback Manifest Load (processing metrics),
  User Profile API Smoke (initializing run), Login SSO Ramp (script error; a system abort before it),
  Password Reset Flow (no runs)
- schedules: Cart Checkout Smoke daily at 07:00, Video Transcode Soak cron ``0 3 * * 0`` (deactivated),
  User Profile API Smoke hourly
- label keys: tier, owner, region
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

WORLD_NOW = "2026-11-24T15:30:00Z"
"""The frozen instant of world 5 (a Tuesday afternoon)."""
TOKEN, STACK = "bench", 1000
V6 = "/cloud/v6"
HOUR, DAY = 3600.0, 86400.0

PROJECTS = (("storefront", "Storefront", True), ("media", "Media Platform", False), ("identity", "Identity", False))
TESTS = (
    ("cart_peak", "storefront", "Cart Checkout Peak", "failed"),
    ("cart_smoke", "storefront", "Cart Checkout Smoke", "passed"),
    ("search", "storefront", "Product Search Baseline", "passed"),
    ("promo", "storefront", "Promo Banner Spike", "passed"),
    ("transcode", "media", "Video Transcode Soak", "passed"),
    ("thumbnail", "media", "Thumbnail Resize Stress", "threshold_abort"),
    ("playback", "media", "Playback Manifest Load", "passed"),
    ("profile", "identity", "User Profile API Smoke", "passed"),
    ("sso", "identity", "Login SSO Ramp", "error"),
    ("password", "identity", "Password Reset Flow", "passed"),
)
# test key, run key (None: history), n, body of POST /_sim/load_tests/{id}/runs
RUNS: tuple[tuple[str, str | None, int, dict[str, Any]], ...] = (
    ("cart_peak", None, 4, {"spacing_s": 2 * DAY, "ago_s": 3 * DAY}),
    ("cart_smoke", None, 5, {"spacing_s": DAY, "ago_s": HOUR}),
    ("search", None, 3, {"spacing_s": DAY, "ago_s": DAY}),
    ("promo", None, 2, {"spacing_s": DAY, "ago_s": 3 * DAY}),
    ("transcode", None, 3, {"spacing_s": 3 * DAY, "ago_s": 2 * DAY}),
    ("thumbnail", None, 2, {"spacing_s": DAY, "ago_s": 4 * DAY}),
    ("playback", None, 2, {"spacing_s": 2 * DAY, "ago_s": DAY}),
    ("profile", None, 6, {"spacing_s": 12 * HOUR, "ago_s": 1800}),
    ("sso", "sso_system", 1, {"status": "aborted", "reason": "system", "ago_s": DAY}),
    ("transcode", "transcode_user_abort", 1, {"status": "aborted", "reason": "user", "ago_s": 20 * HOUR}),
    ("thumbnail", "thumbnail_threshold", 1, {"status": "aborted", "reason": "threshold", "result": "failed",
                                             "ago_s": 6 * HOUR}),
    ("sso", "sso_error", 1, {"status": "aborted", "reason": "script_error", "ago_s": 3 * HOUR}),
    ("cart_peak", "cart_peak_failed", 1, {"result": "failed", "ago_s": 2 * HOUR}),
    ("playback", "playback_processing", 1, {"status": "processing_metrics"}),
    ("transcode", "transcode_running", 1, {"status": "running"}),
    ("profile", "profile_initializing", 1, {"status": "initializing"}),
    ("search", "search_queued", 1, {"status": "queued"}),
    ("promo", "promo_created", 1, {"status": "created"}),
)  # fmt: skip
LABEL_KEYS = (("tier", "Service tier"), ("owner", "Team that owns the project"), ("region", None))
PROJECT_LABELS = {
    "storefront": {"tier": "gold", "owner": "web-team"},
    "media": {"owner": "media-eng", "region": "eu-west"},
    "identity": {"tier": "silver", "owner": "iam"},
}
PRIVATE_ZONE_ID = 300
PRIVATE_ZONE: dict[str, Any] = {
    "id": PRIVATE_ZONE_ID,
    "name": "Identity private zone",
    "k6_load_zone_id": "iam-plz-us-east",
}


@dataclass(frozen=True)
class World:
    """The ids the phrasings' expectations need, by key (see the module docstring)."""

    projects: dict[str, int] = field(default_factory=dict)
    tests: dict[str, int] = field(default_factory=dict)
    runs: dict[str, int] = field(default_factory=dict)
    history: dict[str, list[int]] = field(default_factory=dict)
    schedules: dict[str, int] = field(default_factory=dict)
    label_keys: dict[str, int] = field(default_factory=dict)
    zone: int = PRIVATE_ZONE_ID


def headers(token: str = TOKEN, stack_id: int = STACK) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "X-Stack-Id": str(stack_id)}


async def _post(
    control: httpx.AsyncClient, path: str, body: dict[str, Any], headers: dict[str, str] | None = None
) -> Any:
    response = await control.post(path, json=body, headers=headers)
    response.raise_for_status()
    return response.json() if response.content else None


async def build(control: httpx.AsyncClient, *, token: str = TOKEN, stack_id: int = STACK) -> World:
    """Reset the simulator to empty and build world 5 at :data:`WORLD_NOW`, clock frozen; returns its ids."""
    api = headers(token, stack_id)
    await _post(control, "/_sim/reset", {"demo": False})
    await _post(control, "/_sim/clock/speed", {"speed": 0})
    await _post(control, "/_sim/clock/set", {"now": WORLD_NOW})
    world = World()
    for key, name, is_default in PROJECTS:
        world.projects[key] = (await _post(control, "/_sim/projects", {"name": name, "is_default": is_default}))["id"]
    for key, project, name, outcome in TESTS:
        body = {"project_id": world.projects[project], "name": name, "outcome": outcome}
        world.tests[key] = (await _post(control, "/_sim/load_tests", body))["id"]
    for test, run_key, count, body in RUNS:
        made = await _post(control, f"/_sim/load_tests/{world.tests[test]}/runs", {"n": count, **body})
        ids = [run["id"] for run in made]
        if run_key is None:
            world.history[test] = ids
        else:
            world.runs[run_key] = ids[0]
    media = world.projects["media"]
    response = await control.patch(
        f"{V6}/projects/{media}/limits", json={"vu_max_per_test": 2000, "duration_max_per_test": 14400}, headers=api
    )
    response.raise_for_status()
    keys = await _post(
        control, f"{V6}/labels", {"value": [{"key": k, "description": d} for k, d in LABEL_KEYS]}, headers=api
    )
    world.label_keys.update({item["key"]: item["id"] for item in keys["value"]})
    for project, labels in PROJECT_LABELS.items():
        body = {"value": [{"key": key, "value": value} for key, value in labels.items()]}
        response = await control.put(f"{V6}/projects/{world.projects[project]}/labels", json=body, headers=api)
        response.raise_for_status()
    await _post(control, "/_sim/load_zones", {**PRIVATE_ZONE, "project_ids": [world.projects["identity"]]})
    schedules: tuple[tuple[str, dict[str, Any]], ...] = (
        ("cart_smoke", {"starts": "2026-11-25T07:00:00Z", "recurrence_rule": {"frequency": "DAILY", "interval": 1}}),
        ("transcode", {"starts": "2026-11-29T03:00:00Z", "cron": {"schedule": "0 3 * * 0", "time_zone": "UTC"}}),
        ("profile", {"starts": "2026-11-24T16:00:00Z", "recurrence_rule": {"frequency": "HOURLY", "interval": 1}}),
    )
    for test, body in schedules:
        made = await _post(control, f"{V6}/load_tests/{world.tests[test]}/schedule", body, headers=api)
        world.schedules[test] = made["id"]
    await _post(control, f"{V6}/schedules/{world.schedules['transcode']}/deactivate", {}, headers=api)
    return world
