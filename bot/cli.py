"""The `k6bot` command: mcp | slack | chat | simulator | serve | audit | doctor."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from bot.config import LISTEN_HOST, BotSettings, SlackSettings
from bot.logs import configure_logging, secret_values
from bot.scrub import database_password
from tools.config import K6CloudSettings
from tools.errors import K6BotError

app = typer.Typer(
    name="k6bot",
    help="Operate Grafana Cloud k6 load tests from your AI assistant (MCP), Slack or a terminal.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _setup(level: str | None = None) -> tuple[K6CloudSettings, BotSettings]:
    try:
        cloud = K6CloudSettings()
        bot = BotSettings()
        slack = SlackSettings()
    except Exception as exc:  # pydantic ValidationError: show which variable is wrong, not a traceback
        typer.echo(f"k6bot: invalid configuration: {exc}", err=True)
        raise typer.Exit(2) from None
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
    return cloud, bot


def _fail(exc: Exception) -> typer.Exit:
    typer.echo(f"k6bot: {exc}", err=True)
    return typer.Exit(1)


@app.command()
def mcp(
    transport: Annotated[str, typer.Option(help="stdio (default) or http (streamable HTTP at /mcp).")] = "stdio",
    host: Annotated[
        str, typer.Option(help="Address to bind for --transport http (this machine only by default).")
    ] = LISTEN_HOST,
    port: Annotated[int, typer.Option(help="Port for --transport http.")] = 8000,
    toolsets: Annotated[
        str | None,
        typer.Option(
            help="Toolsets: core (default), tests, runs, projects, schedules, load_zones, labels, account, legacy, all."
        ),
    ] = None,
    read_only: Annotated[bool, typer.Option("--read-only", help="List and allow read operations only.")] = False,
    allowed_hosts: Annotated[
        str | None, typer.Option(help="Extra Host/Origin values to accept over HTTP, comma-separated.")
    ] = None,
) -> None:
    """Serve the MCP server (stdio by default, or streamable HTTP)."""
    cloud, bot = _setup("WARNING" if transport == "stdio" else None)
    from bot.mcp import run_mcp

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
        raise _fail(exc) from None


@app.command()
def slack(
    mode: Annotated[str, typer.Option(help="socket (needs SLACK_APP_TOKEN) or http (POST /slack/events).")] = "socket",
    host: Annotated[
        str,
        typer.Option(help="Address to bind in http mode: this machine only by default; 0.0.0.0 for every interface."),
    ] = LISTEN_HOST,
    port: Annotated[int, typer.Option(help="Port in http mode.")] = 3000,
) -> None:
    """Run the Slack app (`/k6 …`)."""
    cloud, bot = _setup()
    from bot.slack.run import run_slack

    try:
        run_slack(cloud, bot, SlackSettings(), mode=mode, host=host, port=port)
    except K6BotError as exc:
        raise _fail(exc) from None


@app.command()
def chat(
    command: Annotated[str | None, typer.Option("--command", "-c", help="Run one command and exit.")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Confirm run/stop/admin commands without asking.")] = False,
) -> None:
    """Talk to k6 Cloud in the terminal (`list tests`, `start orders soak test`, `abort run 1234`)."""
    cloud, bot = _setup("WARNING")
    from bot.chat import run_chat

    try:
        code = run_chat(cloud, bot, command=command, assume_yes=yes)
    except K6BotError as exc:
        raise _fail(exc) from None
    raise typer.Exit(code)


@app.command()
def simulator(
    host: Annotated[str, typer.Option(help="Address to bind.")] = LISTEN_HOST,
    port: Annotated[int, typer.Option(help="Port to listen on (0 picks a free one).")] = 8080,
    token: Annotated[
        str | None, typer.Option(help="Only accept this API token (default: any non-empty token).")
    ] = None,
    stack_id: Annotated[int | None, typer.Option(help="Only accept this X-Stack-Id (default: any).")] = None,
    stack_url: Annotated[
        str | None, typer.Option(help="The simulated stack's URL (run links; /auth accepts only it with --stack-id).")
    ] = None,
    speed: Annotated[float, typer.Option(help="Clock speed: 600 makes a 30-minute run finish in seconds.")] = 1.0,
    demo: Annotated[bool, typer.Option("--demo/--no-demo", help="Start with sample projects, tests and runs.")] = True,
) -> None:
    """Serve the k6 Cloud API simulator over HTTP."""
    _setup()
    if speed < 0:
        raise _fail(ValueError("--speed must be 0 or more"))
    import contextlib

    from tools.simulator.cli import serve as serve_simulator

    with contextlib.suppress(KeyboardInterrupt):
        extra = {"stack_url": stack_url} if stack_url else {}
        asyncio.run(serve_simulator(host, port, token, stack_id, speed, demo, **extra))


@app.command()
def serve(
    host: Annotated[
        str, typer.Option(help="Address to bind: this machine only by default; 0.0.0.0 for every interface.")
    ] = LISTEN_HOST,
    port: Annotated[int, typer.Option(help="Port.")] = 8080,
) -> None:
    """Run everything in one process: Slack HTTP, MCP at /mcp, webhook, /healthz, /metrics and the watcher."""
    cloud, bot = _setup()
    from bot.service import run_service

    try:
        run_service(cloud, bot, SlackSettings(), host=host, port=port)
    except K6BotError as exc:
        raise _fail(exc) from None


@app.command()
def audit(
    n: Annotated[int, typer.Option("-n", help="How many entries, newest first.")] = 20,
) -> None:
    """Show the latest audit log entries (every attempted write, from every front-end)."""
    _cloud, bot = _setup("WARNING")
    from bot.audit import AuditLog, format_entry
    from bot.store import open_store

    async def show() -> None:
        store = await open_store(bot.sqlalchemy_url)
        try:
            entries = await AuditLog(store).recent(n)
        finally:
            await store.close()
        if not entries:
            typer.echo("The audit log is empty.")
        for entry in entries:
            typer.echo(format_entry(entry))

    asyncio.run(show())


@app.command()
def doctor() -> None:
    """Check the configuration and that k6 Cloud answers."""
    cloud, bot = _setup("WARNING")
    from bot.runtime import open_backend

    async def check() -> int:
        async with open_backend(cloud, demo_speed=bot.demo_speed) as backend:
            try:
                result = await backend.toolbox.execute("check_auth", {})
            except K6BotError as exc:
                typer.echo(f"✗ {backend.description}: {exc}")
                return 1
            typer.echo(f"✓ {backend.description}: {getattr(result, 'message', result)}")
            typer.echo(f"  database: {bot.sqlalchemy_url.split('://')[0]}")
            return 0

    raise typer.Exit(asyncio.run(check()))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
