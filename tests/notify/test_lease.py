"""The watcher lease: one holder at a time, passed on when the holder dies or lets go."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys

import pytest

from bot.notify.lease import DbLease, is_dead_local, new_instance_id
from bot.store import Store
from tests.notify.conftest import DATABASES, ManualClock


@pytest.mark.parametrize("db_url", DATABASES, indirect=True)
async def test_one_holder_at_a_time_and_expiry_passes_it_on(store: Store) -> None:
    clock = ManualClock()
    a = DbLease(store, "watcher", "host-a:1:aaaa", ttl_seconds=10, clock=clock)
    b = DbLease(store, "watcher", "host-b:2:bbbb", ttl_seconds=10, clock=clock)
    results = await asyncio.gather(a.acquire(), b.acquire())
    assert sorted(results) == [False, True]
    holder, other = (a, b) if a.held else (b, a)
    clock.advance(5)
    assert await holder.acquire() is True  # renewed
    assert await other.acquire() is False
    clock.advance(11)  # the holder stopped renewing (killed): the lease lapses
    assert await other.acquire() is True
    assert await holder.acquire() is False
    await other.release()
    assert await holder.acquire() is True  # a clean stop hands over at once
    assert (await holder.current())[0] == holder.holder


async def test_a_dead_process_on_this_host_loses_the_lease_at_once(store: Store) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    dead = f"{socket.gethostname()}:{child.pid}:dead0000"
    assert is_dead_local(dead)
    assert not is_dead_local(new_instance_id().replace(f":{os.getpid()}:", f":{os.getppid()}:"))
    assert not is_dead_local("some-other-host:1:abcd")
    old = DbLease(store, "watcher", dead, ttl_seconds=3600)
    assert await old.acquire() is True
    restarted = DbLease(store, "watcher", new_instance_id(), ttl_seconds=3600)
    assert await restarted.acquire() is True
    foreign = DbLease(store, "other", "some-other-host:1:abcd", ttl_seconds=3600)
    assert await foreign.acquire() is True
    assert await DbLease(store, "other", new_instance_id(), ttl_seconds=3600).acquire() is False
