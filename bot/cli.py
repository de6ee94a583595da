"""The `k6bot` command: mcp | slack | chat | explain | simulator | serve | audit | doctor | db.

Whatever stops a command is one line on stderr (``k6bot: …``) and a non-zero exit code; the traceback only
with ``K6BOT_LOG_LEVEL=DEBUG``. Settings that do not validate exit with 2, everything else with 1.
"""

from __future__ import annotations

from typing import Annotated

import typer

from bot.defaults import DEFAULT_HOST, MCP_HTTP_PORT, SERVE_PORT, SLACK_HTTP_PORT
from bot.launch import check_listen, fail, guarded, mcp_command, preflight, serve_command, setup, skip_httpx_cli
from tools.errors import K6BotError

# What a command needs is imported inside it (settings, pydantic, asyncio, the servers, SQLAlchemy, Slack,
# matplotlib): `k6bot --help` and `k6bot mcp` load only what they use. tests/test_imports.py guards this.

app = typer.Typer(
    name="k6bot",
    help="Operate Grafana Cloud k6 load tests from your AI assistant (MCP), Slack or a terminal.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: rich's help renderer alone costs more than all the rest of `--help`
)


@app.command()
def mcp(
    transport: Annotated[str, typer.Option(help="stdio (default) or http (streamable HTTP at /mcp).")] = "stdio",
    host: Annotated[str, typer.Option(help="Address to bind for --transport http.")] = DEFAULT_HOST,
    port: Annotated[int, typer.Option(help="Port for --transport http.")] = MCP_HTTP_PORT,
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
    mcp_command(transport, host, port, toolsets, read_only, allowed_hosts)


@app.command()
def slack(
    mode: Annotated[str, typer.Option(help="socket (needs SLACK_APP_TOKEN) or http (POST /slack/events).")] = "socket",
    host: Annotated[
        str,
        typer.Option(
            help="Address to bind in http mode (0.0.0.0: every interface; the default suits a proxy on this machine)."
        ),
    ] = DEFAULT_HOST,
    port: Annotated[int, typer.Option(help="Port in http mode.")] = SLACK_HTTP_PORT,
) -> None:
    """Run the Slack app (`/k6 …`)."""
    cloud, bot, slack_settings = setup()
    from bot.slack.run import check_slack_settings, run_slack

    try:
        check_slack_settings(slack_settings, mode)
    except K6BotError as exc:
        raise fail(exc) from None
    http = mode.strip().lower() == "http"
    preflight(bot, host if http else None, port if http else None)
    try:
        run_slack(cloud, bot, slack_settings, mode=mode, host=host, port=port)
    except K6BotError as exc:
        raise fail(exc) from None


@app.command(short_help="Talk to k6 Cloud in the terminal (`list tests`, `abort run 1234`).")
def chat(
    command: Annotated[str | None, typer.Option("--command", "-c", help="Run one command and exit.")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Confirm run/stop/admin commands without asking.")] = False,
) -> None:
    """Talk to k6 Cloud in the terminal (`list tests`, `start orders soak test`, `abort run 1234`)."""
    cloud, bot, _slack = setup("WARNING")
    from bot.chat import run_chat

    try:
        code = run_chat(cloud, bot, command=command, assume_yes=yes)
    except K6BotError as exc:
        raise fail(exc) from None
    raise typer.Exit(code)


@app.command(short_help="Say what a text means, without doing it.")
def explain(
    text: Annotated[str, typer.Argument(help="What you would type in Slack or the terminal.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Say what a text means, without doing it (reads only what resolving its names needs)."""
    cloud, bot, _slack = setup("WARNING")
    from bot.router.explain import run_explain

    try:
        code = run_explain(cloud, bot, text, as_json=as_json)
    except K6BotError as exc:
        raise fail(exc) from None
    raise typer.Exit(code)


@app.command()
def simulator(
    host: Annotated[str, typer.Option(help="Address to bind.")] = DEFAULT_HOST,
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
    setup()
    check_listen(host, port)
    if speed < 0:
        raise fail(ValueError("--speed must be 0 or more"))
    import asyncio
    import contextlib

    from tools.simulator.cli import serve as serve_simulator

    with contextlib.suppress(KeyboardInterrupt):
        extra = {"stack_url": stack_url} if stack_url else {}
        asyncio.run(serve_simulator(host, port, token, stack_id, speed, demo, **extra))


@app.command(short_help="Run everything in one process (Slack, MCP, webhook, /metrics).")
def serve(
    host: Annotated[
        str, typer.Option(help="Address to bind (0.0.0.0: every interface, as the Docker image does).")
    ] = DEFAULT_HOST,
    port: Annotated[int, typer.Option(help="Port.")] = SERVE_PORT,
) -> None:
    """Run everything in one process: Slack HTTP, MCP at /mcp, webhook, /healthz, /metrics and the watcher."""
    serve_command(host, port)


@app.command(short_help="Show the latest audit log entries (every attempted write).")
def audit(
    n: Annotated[int, typer.Option("-n", help="How many entries, newest first.")] = 20,
) -> None:
    """Show the latest audit log entries (every attempted write, from every front-end)."""
    _cloud, bot, _slack = setup("WARNING")
    import asyncio

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

    try:
        asyncio.run(show())
    except K6BotError as exc:
        raise fail(exc) from None


@app.command(short_help="Check everything a deployment needs; exit code 1 on any ✗.")
def doctor(
    slack_mode: Annotated[
        str | None,
        typer.Option(help="socket or http; default: socket when SLACK_APP_TOKEN is set, http otherwise."),
    ] = None,
    host: Annotated[
        str, typer.Option(help="The address `k6bot serve` / `slack --mode http` will bind.")
    ] = DEFAULT_HOST,
    port: Annotated[int, typer.Option(help="The port it will bind.")] = SERVE_PORT,
) -> None:
    """Check everything a deployment needs, one line each with the fix; exit code 1 on any ✗."""
    import asyncio

    from bot.doctor import Doctor
    from bot.logs import configure_logging

    doctor = Doctor.from_environment(slack_mode=slack_mode, host=host, port=port)
    configure_logging("ERROR", doctor.secrets())
    checks = asyncio.run(doctor.run())
    for check in checks:
        typer.echo(check.line())
    raise typer.Exit(1 if any(c.failed for c in checks) else 0)


db_app = typer.Typer(
    help="k6bot's database: its schema revision, and upgrading it (k6bot also upgrades it at start).",
    short_help="k6bot's database: its schema revision, and upgrading it.",
    no_args_is_help=True,
)
app.add_typer(db_app, name="db")


@db_app.command("upgrade", short_help="Create or upgrade the schema to the newest revision.")
def db_upgrade() -> None:
    """Create or upgrade the schema to the newest revision (keeps every row; safe with replicas running)."""
    _cloud, bot, _slack = setup()
    import asyncio

    from bot.store import Store

    async def upgrade() -> str:
        store = Store(bot.sqlalchemy_url)
        try:
            before = await store.schema()
            now = await store.migrate()
        finally:
            await store.close()
        if before.at_head:
            done = "nothing to do"
        elif before.current is None and before.legacy_version is not None:
            done = f"adopted from the pre-Alembic schema version {before.legacy_version}, every row kept"
        elif before.current is None:
            done = "created"
        else:
            done = f"upgraded from revision {before.current}"
        return f"k6bot's database {store.shown_url}: revision {now} (head), {done}."

    try:
        typer.echo(asyncio.run(upgrade()))
    except K6BotError as exc:
        raise fail(exc) from None


@db_app.command("current", short_help="Print the schema revision; exit code 1 when not the newest.")
def db_current() -> None:
    """Print the database's schema revision and whether it is the newest (exit code 1 when it is not)."""
    _cloud, bot, _slack = setup("WARNING")
    import asyncio

    from bot.store import Store

    async def current() -> tuple[str, bool]:
        store = Store(bot.sqlalchemy_url)
        try:
            state = await store.schema()
        finally:
            await store.close()
        return f"k6bot's database {store.shown_url}: {state.describe()}", state.at_head

    try:
        line, at_head = asyncio.run(current())
    except K6BotError as exc:
        raise fail(exc) from None
    typer.echo(line)
    raise typer.Exit(0 if at_head else 1)


def main() -> None:
    """``python -m bot.cli``: the same as the ``k6bot`` command (bot.launch.main)."""
    skip_httpx_cli()
    guarded(app)


if __name__ == "__main__":
    main()
