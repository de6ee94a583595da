"""What must hold before a k6bot server starts, checked up front so a failure is one clear line.

``k6bot serve`` and ``k6bot slack`` call :func:`before_serving` before uvicorn or Socket Mode start (a failure
inside uvicorn's startup would be a long traceback); ``k6bot doctor`` reports the same checks one by one.
"""

from __future__ import annotations

import errno
import socket

from bot.config import BotSettings
from bot.policy import Policy
from bot.store import open_store
from tools.errors import ConfigurationError

_WHY = {
    errno.EADDRINUSE: "the port is in use (another k6bot, or another program): choose another --port",
    errno.EADDRNOTAVAIL: "this machine has no such address: use 127.0.0.1, 0.0.0.0 or one of its own with --host",
    errno.EACCES: "not allowed (ports below 1024 need privileges): choose a --port above 1023",
}


def listen_problem(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be listened on (one sentence), or None when it can (checked by binding it)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror:
        return f"Cannot listen on {host}:{port}: unknown host name; use an address such as 127.0.0.1 or 0.0.0.0."
    family, kind, proto, _name, address = infos[0]
    try:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            probe.bind(address)
    except OSError as exc:
        why = _WHY.get(exc.errno or 0, exc.strerror or type(exc).__name__)
        return f"Cannot listen on {host}:{port}: {why}."
    return None


def load_policy(bot: BotSettings) -> Policy:
    """The policy file, read now: a broken one stops the start (and is named), it is never half-applied."""
    return Policy.load(bot.policy_file, read_only=bot.read_only)


async def open_database(url: str) -> None:
    """Open and migrate the database once, then close it (raises ``DatabaseUnavailable``, one line)."""
    store = await open_store(url)
    await store.close()


async def before_serving(bot: BotSettings, *, host: str | None = None, port: int | None = None) -> None:
    """Everything a server needs before it starts; raises a K6BotError whose text is the one line to print."""
    if host is not None and port is not None:
        problem = listen_problem(host, port)
        if problem:
            raise ConfigurationError(problem)
    load_policy(bot)
    await open_database(bot.sqlalchemy_url)
