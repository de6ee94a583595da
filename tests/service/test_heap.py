"""bot/runtime.py full_collections_in_turn: full garbage collections on a timer, in the front-end's turn, each
followed by release_free_heap (glibc's malloc_trim)."""

from __future__ import annotations

import asyncio
import gc
import platform
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.runtime import _find_malloc_trim, full_collections_in_turn, release_free_heap


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


def _glibc() -> bool:
    return sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


def _rss_anon_kib() -> int:
    return int(Path("/proc/self/status").read_text().split("RssAnon:")[1].split()[0])


def _freed_blocks_in_the_heap() -> tuple[bytes, int]:
    """~20 MB of 2,000-byte objects (malloc's, not pymalloc's: above 512 bytes) freed again, with one block
    allocated after them so that the freed pages sit below the top of the heap, where free() leaves them
    resident; the live block and the anonymous RSS with the freed ones still resident."""
    blocks = [bytes(2000) for _ in range(10_000)]
    keep = bytes(2000)
    del blocks
    return keep, _rss_anon_kib()


@pytest.mark.skipif(not _glibc(), reason="malloc_trim is glibc's")
def test_release_free_heap_gives_freed_pages_back() -> None:
    _keep, resident = _freed_blocks_in_the_heap()
    assert release_free_heap() is True
    assert _rss_anon_kib() < resident - 10 * 1024  # most of the ~20 MB went back


@pytest.mark.skipif(not _glibc(), reason="malloc_trim is glibc's")
async def test_each_timed_full_collection_gives_freed_pages_back() -> None:
    _keep, resident = _freed_blocks_in_the_heap()
    turns = 0
    trimmed = asyncio.Event()

    async def turn() -> None:  # the timer's loop: turn, collect, trim; so the second turn follows one trim
        nonlocal turns
        turns += 1
        if turns == 2:
            trimmed.set()

    async with full_collections_in_turn(turn, every=0.01):
        await asyncio.wait_for(trimmed.wait(), 5)
    assert _rss_anon_kib() < resident - 10 * 1024


def test_without_malloc_trim_nothing_is_called_and_nothing_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """Elsewhere than Linux (macOS, Windows) there is no malloc_trim to look up: False, no error."""
    monkeypatch.setattr(sys, "platform", "darwin")
    _find_malloc_trim.cache_clear()
    try:
        assert release_free_heap() is False
    finally:
        _find_malloc_trim.cache_clear()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a C library without malloc_trim, on Linux")
def test_a_c_library_without_malloc_trim_is_no_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    """musl (Alpine) has no malloc_trim: the symbol lookup fails, and the trim is skipped."""
    import ctypes

    class NoTrim:
        def __init__(self, _name: object) -> None:
            pass

        def __getattr__(self, name: str) -> object:
            raise AttributeError(name)

    monkeypatch.setattr(ctypes, "CDLL", NoTrim)
    _find_malloc_trim.cache_clear()
    try:
        assert release_free_heap() is False
    finally:
        _find_malloc_trim.cache_clear()
