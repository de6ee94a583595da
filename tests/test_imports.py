"""What k6bot loads to start: `k6bot --help` and `k6bot mcp` (until `initialize` is answered) stay light, and an
idle `k6bot serve` holds only what Slack, the watcher and the webhook use (its resident memory is mostly code).

Each check runs a fresh interpreter and reads its ``sys.modules``: a module-level import of SQLAlchemy, Slack,
aiohttp, matplotlib, httpx or the registry on these paths fails here (bench/bench_start.py has the timings).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.launch import plain_serve_options
from bot.mcp import build_server
from bot.mcp.run import front_instructions
from tools.errors import InvalidInput
from tools.registry import Toolbox, get_registry
from tools.toolsets import TOOLSETS, hidden_toolsets

REPO = Path(__file__).resolve().parents[1]

NEVER_AT_IMPORT = ("sqlalchemy", "matplotlib", "slack_bolt", "slack_sdk", "aiohttp", "httpx", "alembic")
"""What no start path may load before it needs it."""

NOT_FOR_HELP = (*NEVER_AT_IMPORT, "mcp", "uvicorn", "rich", "pydantic_settings", "asyncio", "tools.registry")
"""The MCP SDK (which loads uvicorn itself) neither."""
NOT_BEFORE_INITIALIZE = (
    *NEVER_AT_IMPORT,
    "rich",
    "yaml",
    "rapidfuzz",
    "tools.registry",
    "tools.client",
    "tools.simulator",
    "bot.store",
    "bot.audit",
    "bot.mcp.server",
    "bot.router",
)

NOT_AT_SERVE_IDLE = (
    "mcp",
    "alembic",
    "mako",
    "rich",
    "pygments",
    "httpx._main",
    "matplotlib",
    "bot.mcp.server",
    "sqlalchemy.dialects.postgresql",
    "typer",
    "bot.cli",
    "yaml",
)
"""An idle `k6bot serve` (MCP on, database current) loads the MCP SDK on the first /mcp request, Alembic only to
upgrade, and never httpx's command-line client (rich, pygments) nor matplotlib before a chart is drawn; on SQLite,
not SQLAlchemy's PostgreSQL dialect (~2 MiB); started as the Docker image starts it (`k6bot serve --host H
--port P`), not typer (~1.5 MiB); without a policy file, not yaml (~1 MiB)."""

DUMP_AT_EXIT = """
import atexit, json, os, sys
atexit.register(lambda: open(os.environ["K6BOT_TEST_MODULES"], "w").write(json.dumps(sorted(n for n, m in sys.modules.items() if m))))
"""

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}

TOOLS_LIST = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}

RUN_CLI = """
import json, sys
sys.argv = ["k6bot", *sys.argv[2:]]
from bot.launch import main  # the `k6bot` console script
code = 0
try:
    main()
except SystemExit as exc:
    code = exc.code
with open(MODULES, "w") as out:  # a None entry is a module made unimportable (httpx._main), not one loaded
    json.dump(sorted(name for name, module in sys.modules.items() if module is not None), out)
sys.exit(code)
"""


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("K6_CLOUD_", "K6BOT_", "SLACK_"))}
    env.update(XDG_STATE_HOME=str(tmp_path / "state"), K6BOT_DATABASE_URL=str(tmp_path / "k6bot.db"))
    env.update(extra)
    return env


def run_cli(
    tmp_path: Path, *args: str, messages: tuple[dict[str, object], ...] = (), **extra: str
) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """``k6bot ARGS`` in a fresh interpreter: what it printed, and every module it had loaded at the end.

    ``messages`` go to its stdin, and stdin stays open until every request among them has its answer on stdout
    (as an MCP client keeps it open); then it is closed, which ends ``k6bot mcp``.
    """
    modules = tmp_path / "modules.json"
    proc = subprocess.Popen(
        [sys.executable, "-c", f"MODULES = {str(modules)!r}\n" + RUN_CLI, "-", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env_for(tmp_path, **extra),
        cwd=tmp_path,
    )
    assert proc.stdin is not None and proc.stdout is not None
    waiting = {m["id"] for m in messages if "id" in m}
    lines = []
    try:
        proc.stdin.writelines(json.dumps(m) + "\n" for m in messages)
        proc.stdin.flush()
        while waiting and (line := proc.stdout.readline()):
            lines.append(line)
            waiting.discard(json.loads(line).get("id"))
        out, err = proc.communicate(timeout=120)  # closes stdin
    finally:
        proc.kill()
    done = subprocess.CompletedProcess(proc.args, proc.returncode, "".join(lines) + out, err)
    return done, set(json.loads(modules.read_text()))


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(n for n in names if n in modules or any(m.startswith(n + ".") for m in modules))


def test_import_bot_cli_loads_no_heavy_module(tmp_path: Path) -> None:
    code = "import json, sys; import bot.cli; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env_for(tmp_path), cwd=REPO, check=True
    )
    modules = set(json.loads(done.stdout))
    assert "bot.cli" in modules and "typer" in modules
    assert loaded(modules, NOT_FOR_HELP) == []


def test_help_loads_neither_the_settings_nor_the_servers(tmp_path: Path) -> None:
    done, modules = run_cli(tmp_path, "--help")
    assert done.returncode == 0, done.stderr
    assert "Usage: k6bot" in done.stdout and "mcp" in done.stdout and "doctor" in done.stdout
    assert loaded(modules, NOT_FOR_HELP) == []


def test_mcp_answers_initialize_before_it_loads_the_tools_the_backend_or_the_database(tmp_path: Path) -> None:
    done, modules = run_cli(tmp_path, "mcp", messages=(INITIALIZE,))
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout.splitlines()[0])
    assert answer["id"] == 1 and answer["result"]["serverInfo"]["name"] == "k6bot"
    assert "DEMO MODE" in answer["result"]["instructions"]
    assert "mcp.server" in modules and "bot.mcp.run" in modules
    assert loaded(modules, NOT_BEFORE_INITIALIZE) == []
    assert (
        loaded(modules, ("typer", "bot.cli")) == []
    )  # `k6bot mcp` has nothing for typer to parse (click: mcp.server loads it)
    assert not (tmp_path / "k6bot.db").exists()  # the database is opened with the tools, not before


def test_mcp_lists_tools_after_initialize(tmp_path: Path) -> None:
    initialized = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    done, modules = run_cli(tmp_path, "mcp", messages=(INITIALIZE, initialized, TOOLS_LIST))
    assert done.returncode == 0, done.stderr
    answers = {a["id"]: a for a in map(json.loads, done.stdout.splitlines())}
    names = {tool["name"] for tool in answers[2]["result"]["tools"]}
    assert names == {op.name for op in get_registry().select(["core"])}
    assert "tools.registry" in modules and "bot.store" in modules
    assert (tmp_path / "k6bot.db").exists()
    assert "k6bot is in demo mode" in done.stderr


def test_an_idle_serve_loads_neither_the_mcp_sdk_nor_alembic_nor_rich(tmp_path: Path) -> None:
    from tests.conftest import E2E_SIGNING_SECRET
    from tests.fakes.slack import FakeSlack
    from tests.service.conftest import ServeProcess

    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(DUMP_AT_EXIT)  # sys.modules when the process ends, after SIGTERM
    modules = tmp_path / "modules.json"
    with FakeSlack() as slack:
        env = env_for(
            tmp_path,
            SLACK_BOT_TOKEN=slack.bot_token,
            SLACK_SIGNING_SECRET=E2E_SIGNING_SECRET,
            SLACK_API_URL=slack.api_url,
            K6BOT_TEST_MODULES=str(modules),
        )
        upgrade = subprocess.run(
            [sys.executable, "-m", "bot.cli", "db", "upgrade"], env=env, cwd=REPO, capture_output=True, text=True
        )
        assert upgrade.returncode == 0, upgrade.stderr  # the database is current, as at every start but the first
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(hook), env.get("PYTHONPATH")]))
        server = ServeProcess(env, tmp_path / "serve.log")
        try:
            parts = server.wait_healthy()["parts"]
        finally:
            server.stop()
    assert parts["mcp"] == "on" and parts["slack"] == "on", parts
    assert server.proc.returncode == 0, server.log()
    loaded_at_exit = set(json.loads(modules.read_text()))
    assert "bot.service" in loaded_at_exit and "slack_bolt" in loaded_at_exit and "httpx" in loaded_at_exit
    assert loaded(loaded_at_exit, NOT_AT_SERVE_IDLE) == []


@pytest.mark.parametrize(
    ("args", "options"),
    [
        ([], {}),
        (["--host", "0.0.0.0", "--port", "8080"], {"host": "0.0.0.0", "port": 8080}),
        (["--port=9000", "--host=127.0.0.1"], {"host": "127.0.0.1", "port": 9000}),
        (["--help"], None),
        (["--port", "eighty"], None),
        (["--port", "-1"], None),
        (["--port"], None),
        (["--host", "--port", "80"], None),
        (["--host", "a", "--host", "b"], None),
        (["--verbose"], None),
    ],
)
def test_only_a_plain_serve_command_line_skips_typer(args: list[str], options: dict[str, object] | None) -> None:
    assert plain_serve_options(args) == options


def test_the_docker_image_serves_without_typer() -> None:
    cmd = [line for line in (REPO / "Dockerfile").read_text().splitlines() if line.startswith("CMD ")][-1]
    argv = json.loads(cmd.removeprefix("CMD "))
    assert argv[:2] == ["k6bot", "serve"] and plain_serve_options(argv[2:]) is not None


def test_serve_with_anything_else_is_typers(tmp_path: Path) -> None:
    """`--help` and a bad option still get typer's help and typer's refusal (exit 2), nothing started."""
    done, modules = run_cli(tmp_path, "serve", "--help")
    assert done.returncode == 0, done.stderr
    assert "--port" in done.stdout and "Run everything in one process" in done.stdout
    assert "bot.service" not in modules
    done, modules = run_cli(tmp_path, "serve", "--port", "eighty")
    assert done.returncode == 2 and "Invalid value for '--port'" in done.stderr, done.stderr
    assert "bot.service" not in modules


def test_httpx_without_its_cli_still_works(tmp_path: Path) -> None:
    code = (
        "import sys; from bot.cli import skip_httpx_cli; skip_httpx_cli(); import httpx; "
        "print(httpx.Request('GET', 'http://x/a').url.path, 'rich' in sys.modules, 'pygments' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env_for(tmp_path), cwd=REPO, check=True
    )
    assert done.stdout.split() == ["/a", "False", "False"]


def test_a_database_that_cannot_be_opened_fails_tools_list_then_the_exit(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    done, _ = run_cli(
        tmp_path,
        "mcp",
        messages=(INITIALIZE, TOOLS_LIST),
        K6BOT_DATABASE_URL=str(tmp_path / "a-file" / "k6bot.db"),
    )
    answers = {a["id"]: a for a in map(json.loads, done.stdout.splitlines())}
    assert "result" in answers[1]
    assert "File exists" in answers[2]["error"]["message"]
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1].startswith("k6bot: FileExistsError:")
    assert "Traceback" not in done.stderr


def test_the_toolset_table_is_the_registrys() -> None:
    groups = get_registry().groups()
    assert sorted(TOOLSETS) == sorted(groups)
    assert all(any(not op.core for op in ops) for ops in groups.values())  # each can be enabled on its own


@pytest.mark.parametrize(
    ("toolsets", "read_only", "demo"),
    [
        (["core"], False, False),
        (["tests", "runs"], True, True),
        (["all"], False, True),
        (["core", "labels"], True, False),
    ],
)
def test_the_instructions_at_initialize_are_the_built_servers(
    toolbox: Toolbox, toolsets: list[str], read_only: bool, demo: bool
) -> None:
    built = build_server(toolbox, toolsets=toolsets, read_only=read_only, demo=demo)
    assert front_instructions(toolsets=toolsets, read_only=read_only, demo=demo) == built.instructions


def test_an_unknown_toolset_is_refused_without_the_registry() -> None:
    with pytest.raises(InvalidInput, match=r"Unknown toolset\(s\): nope\. Known: all, core, account, labels"):
        hidden_toolsets(["core", "nope"])
    assert hidden_toolsets(["all"]) == []
