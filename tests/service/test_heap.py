"""bot/runtime.py full_collections_in_turn: full garbage collections on a timer, in the front-end's turn."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

from bot.runtime import full_collections_in_turn


async def test_full_collections_run_in_turn_and_the_thresholds_come_back() -> None:
    before = gc.get_threshold()
    turns = 0
    full = asyncio.Event()

    async def turn() -> None:
        nonlocal turns
        turns += 1

    def seen(phase: str, info: dict[str, Any]) -> None:
        if phase == "stop" and info["generation"] == 2 and turns:
            full.set()

    gc.callbacks.append(seen)
    try:
        async with full_collections_in_turn(turn, every=0.01):
            assert gc.get_threshold()[2] == 2**31 - 1  # no automatic full pass inside
            await asyncio.wait_for(full.wait(), 5)
        assert turns >= 1
    finally:
        gc.callbacks.remove(seen)
    assert gc.get_threshold() == before
