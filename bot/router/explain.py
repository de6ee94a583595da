"""``k6bot explain TEXT``: what a text means, without doing it — the same understanding Slack and the terminal act on."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from bot.router.understand import Understanding, understand
from tools.registry import Toolbox

if TYPE_CHECKING:
    from bot.config import BotSettings
    from tools.config import K6CloudSettings


async def explain(
    text: object, toolbox: Toolbox, *, now: datetime | None = None, tz: tzinfo | None = None
) -> Understanding:
    """The understanding of ``text``: reads only what resolving its names needs; never writes."""
    return await understand(text, toolbox, now=now, tz=tz)


def describe(u: Understanding) -> str:
    """The explanation in words (what ``k6bot explain`` prints without ``--json``)."""
    data = u.as_json()
    if "error" in data:
        lines = [data["error"]]
        lines += [f"  - {choice}" for choice in data["choices"]]
        return "\n".join(lines)
    confirm = ", asks to confirm first" if data["needs_confirmation"] else ""
    head = f"{data['operation']} ({data['safety']}{confirm})"
    arguments = data["arguments"]
    items = arguments if isinstance(arguments, list) else [arguments]
    lines = [head + (f", {len(items)} times:" if isinstance(arguments, list) else ":")]
    for item in items:
        shown = ", ".join(f"{k}={json.dumps(v)}" for k, v in item.items()) or "(no arguments)"
        lines.append(f"  {shown}")
    if u.answer is not None:
        lines.append(f"  answers first: {u.answer.name}")
    return "\n".join(lines)


def run_explain(cloud: K6CloudSettings, bot: BotSettings, text: str, *, as_json: bool) -> int:
    """``k6bot explain``: 0 when the text is understood, 1 otherwise."""
    from bot.runtime import open_backend

    async def go() -> Understanding:
        async with open_backend(cloud, demo_speed=bot.demo_speed, announce=None) as backend:
            return await explain(text, backend.toolbox, tz=bot.tzinfo)

    understanding = asyncio.run(go())
    if as_json:
        sys.stdout.write(json.dumps(understanding.as_json(), ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(describe(understanding) + "\n")
    return 0 if understanding.understood else 1


__all__ = ["describe", "explain", "run_explain"]
