"""``k6bot``'s entry point, and what every command shares before it runs: settings, logging, one-line failures.

Nothing here imports typer: ``k6bot mcp`` with no option — the command line MCP clients are configured with — is
started straight from :func:`main` (typer and click are ~35 ms of that start, which is counted against
``import mcp.server``); every other command line goes to :mod:`bot.cli`, whose ``mcp`` command calls the same
:func:`mcp_command`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.defaults import DEFAULT_HOST, MCP_HTTP_PORT, SERVE_PORT
from tools.errors import K6BotError

if TYPE_CHECKING:
    from bot.config import BotSettings, SlackSettings
    from tools.config import K6CloudSettings

_debug = False
"""Whether K6BOT_LOG_LEVEL=DEBUG: then what stops k6bot is shown with its traceback."""


def debugging() -> bool:
    return _debug or os.environ.get("K6BOT_LOG_LEVEL", "").strip().upper() == "DEBUG"


def setup(level: str | None = None) -> tuple[K6CloudSettings, BotSettings, SlackSettings]:
    """Read the settings (exit 2 with one line naming the variable when they do not validate), configure logging
    with every secret masked."""
    from bot.config import BotSettings, SlackSettings
    from bot.logs import configure_logging, secret_values
    from bot.scrub import database_password
    from tools.config import K6CloudSettings, SettingsError

    global _debug
    _debug = os.environ.get("K6BOT_LOG_LEVEL", "").strip().upper() == "DEBUG"
    try:
        cloud = K6CloudSettings()
        bot = BotSettings()
        slack = SlackSettings()
    except SettingsError as exc:  # names the variable: "K6_CLOUD_STACK_ID must be a number, got 'abc'"
        print(f"k6bot: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    _debug = bot.log_level == "DEBUG"
    configure_logging(
        level or bot.log_level,
        secret_values(
            cloud.token,
            bot.mcp_token,
            bot.webhook_secret,
            slack.bot_token,
            slack.signing_secret,
            slack.app_token,
            database_password(bot.database_url),
        ),
    )
    return cloud, bot, slack


def one_line(exc: BaseException) -> str:
    """What stopped k6bot, in one line: our errors' sentences as they are, anything else by type and message."""
    text = str(exc) if isinstance(exc, K6BotError) else f"{type(exc).__name__}: {exc}"
    return " ".join(text.split()) or type(exc).__name__


def fail(exc: BaseException) -> SystemExit:
    """Say what stopped the command in one line on stderr (its traceback too with DEBUG); the exit to raise."""
    if _debug:
        import traceback

        traceback.print_exception(exc)
    print(f"k6bot: {one_line(exc)}", file=sys.stderr)
    return SystemExit(1)


def check_listen(host: str, port: int) -> None:
    from bot.preflight import listen_problem

    problem = listen_problem(host, port)
    if problem:
        raise fail(K6BotError(problem))


def preflight(bot: BotSettings, host: str | None = None, port: int | None = None) -> None:
    """Port, policy file and database, before a server starts: a problem is one line, not a traceback."""
    import asyncio

    from bot.preflight import before_serving

    try:
        asyncio.run(before_serving(bot, host=host, port=port))
    except K6BotError as exc:
        raise fail(exc) from None


def serve_command(host: str = DEFAULT_HOST, port: int = SERVE_PORT) -> None:
    """``k6bot serve``: everything in one process (Slack HTTP, MCP at /mcp, webhook, /healthz, /metrics, the
    watcher)."""
    cloud, bot, slack_settings = setup()
    from bot.service import run_service

    preflight(bot, host, port)
    try:
        run_service(cloud, bot, slack_settings, host=host, port=port)
    except K6BotError as exc:
        raise fail(exc) from None


def plain_serve_options(args: list[str]) -> dict[str, str | int] | None:
    """The options of ``k6bot serve ARGS`` when they are only ``--host`` and ``--port`` (each at most once, as
    ``--host H`` or ``--host=H``; the port in decimal digits), as the Docker image's command line has them;
    None for anything else (``--help``, an unknown option, a port that is not a number…), which typer parses and,
    if need be, refuses with its own message."""
    options: dict[str, str | int] = {}
    rest = list(args)
    while rest:
        name, sep, value = rest.pop(0).partition("=")
        if name not in ("--host", "--port") or name[2:] in options:
            return None
        if not sep:
            if not rest:
                return None
            value = rest.pop(0)
        if name == "--port":
            if not (value.isascii() and value.isdigit()):
                return None
            options["port"] = int(value)
        else:
            if not value or value.startswith("-"):
                return None
            options["host"] = value
    return options


def mcp_command(
    transport: str = "stdio",
    host: str = DEFAULT_HOST,
    port: int = MCP_HTTP_PORT,
    toolsets: str | None = None,
    read_only: bool = False,
    allowed_hosts: str | None = None,
) -> None:
    """``k6bot mcp``: serve the MCP server (stdio by default, or streamable HTTP)."""
    cloud, bot, _slack = setup("WARNING" if transport == "stdio" else None)
    if transport.strip().lower() != "stdio":
        check_listen(host, port)
    from bot.mcp.run import run_mcp

    try:
        run_mcp(
            cloud,
            bot,
            transport=transport,
            host=host,
            port=port,
            toolsets=toolsets,
            read_only=read_only or bot.read_only,
            allowed_hosts=[h.strip() for h in (allowed_hosts or "").split(",") if h.strip()]
            + bot.mcp_allowed_host_list,
        )
    except K6BotError as exc:
        raise fail(exc) from None


def skip_httpx_cli() -> None:
    """Make ``import httpx`` skip httpx's own command-line client (``httpx._main``), which k6bot never runs.

    ``httpx/__init__`` imports ``httpx._main`` only to offer ``httpx.main``, and that loads rich and pygments
    (~7 MiB of ``k6bot serve``'s resident memory, ~60 ms of ``k6bot mcp``'s start). A ``None`` in ``sys.modules``
    makes that import raise ImportError, which httpx catches: ``httpx.main`` then only prints that the CLI's
    extras are missing. Nothing else changes — rich itself still imports where k6bot uses it (``k6bot chat``).
    Only before httpx's first import: afterwards it is too late, and nothing is changed.
    """
    if "httpx" not in sys.modules:
        sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]


def guarded(command: Callable[[], object]) -> None:
    """Run a whole command: Ctrl-C exits 130; what no command caught is still one line (the traceback with DEBUG)."""
    try:
        command()
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        if debugging():
            import traceback

            traceback.print_exception(exc)
        print(f"k6bot: {one_line(exc)}", file=sys.stderr)
        sys.exit(1)


def main() -> None:
    skip_httpx_cli()
    if sys.argv[1:] == ["mcp"]:  # what MCP clients run: nothing to parse, so no typer
        guarded(mcp_command)
        return
    if sys.argv[1:2] == ["serve"] and (options := plain_serve_options(sys.argv[2:])) is not None:
        # What a deployment runs, for as long as it runs: typer stays out of its resident memory (~1.5 MiB)
        guarded(lambda: serve_command(**options))  # type: ignore[arg-type]
        return
    from bot.cli import app

    guarded(app)
