"""A named lease in the database: one holder at a time, passed on when the holder stops renewing it.

Replicas of k6bot share one database; only the holder of the ``watcher`` lease polls k6 Cloud. The
lease is a row in ``leases`` taken and renewed with conditional statements (no lock is held between
calls), valid for a TTL of about three poll intervals, so a holder killed with ``kill -9`` loses it at
the latest a TTL later. A process restarted on the same host also recognises its dead predecessor
(same host name, process gone or its own pid with another instance id) and takes over at once.

The lease is about efficiency, not correctness: everything the watcher writes is conditional or
de-duplicated, so two pollers overlapping for a moment still send nothing twice.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update

from bot.notify.db import insert_ignore
from bot.store import Lease, Store, utcnow

log = logging.getLogger("k6bot.notify.lease")


_LIVE_HERE: set[str] = set()
"""Instance ids in use in this process (several notifiers may share one process, e.g. in tests)."""


def new_instance_id() -> str:
    """``host:pid:random`` — unique per process start, and telling which host and process held something."""
    return f"{socket.gethostname()[:120]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def mark_alive(instance_id: str) -> None:
    _LIVE_HERE.add(instance_id)


def mark_gone(instance_id: str) -> None:
    _LIVE_HERE.discard(instance_id)


def is_dead_local(instance_id: str) -> bool:
    """Whether ``instance_id`` names a process on this host that is certainly gone.

    True when its host is this host and either its pid no longer exists, or its pid is our own pid (a
    container restarted as pid 1 again) and no live notifier of this process uses it. Anything else: not
    known dead.
    """
    parts = instance_id.rsplit(":", 2)
    if len(parts) != 3:
        return False
    host, pid_text, _ = parts
    if host != socket.gethostname()[:120]:
        return False
    try:
        pid = int(pid_text)
    except ValueError:
        return False
    if pid == os.getpid():
        return instance_id not in _LIVE_HERE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class DbLease:
    """Acquire, renew and release the lease ``name`` for ``holder``."""

    def __init__(
        self,
        store: Store,
        name: str,
        holder: str,
        *,
        ttl_seconds: float,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.name = name
        self.holder = holder
        self.ttl = timedelta(seconds=ttl_seconds)
        self.clock = clock
        self.held = False

    async def acquire(self) -> bool:
        """Take the lease or renew it; True while this holder has it."""
        now = self.clock()
        expires = now + self.ttl
        async with self.store.session() as session:
            renewed = await session.execute(
                update(Lease)
                .where(Lease.name == self.name, or_(Lease.holder == self.holder, Lease.expires_at < now))
                .values(holder=self.holder, expires_at=expires)
            )
            if renewed.rowcount == 1:  # type: ignore[attr-defined]
                return self._set(True)
            if await insert_ignore(
                session, Lease, {"name": self.name, "holder": self.holder, "expires_at": expires}, ["name"]
            ):
                return self._set(True)
            current = (await session.execute(select(Lease.holder).where(Lease.name == self.name))).scalar()
        if current is not None and current != self.holder and is_dead_local(current):
            async with self.store.session() as session:
                stolen = await session.execute(
                    update(Lease)
                    .where(Lease.name == self.name, Lease.holder == current)
                    .values(holder=self.holder, expires_at=expires)
                )
            if stolen.rowcount == 1:  # type: ignore[attr-defined]
                log.info("Took over the %s lease from %s, a process on this host that is gone", self.name, current)
                return self._set(True)
        return self._set(False)

    async def release(self) -> None:
        """Give the lease up (on a clean stop), so another replica takes over at once."""
        async with self.store.session() as session:
            await session.execute(delete(Lease).where(Lease.name == self.name, Lease.holder == self.holder))
        self.held = False

    async def current(self) -> tuple[str, datetime] | None:
        """(holder, expires_at) of the lease, or None when nobody holds it."""
        async with self.store.session() as session:
            row = await session.get(Lease, self.name, populate_existing=True)
            return (row.holder, row.expires_at) if row is not None else None

    def _set(self, held: bool) -> bool:
        if held != self.held:
            log.info("%s the %s lease (%s)", "Holding" if held else "Not holding", self.name, self.holder)
        self.held = held
        return held
