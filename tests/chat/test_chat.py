"""`k6bot chat`: one command (-c), --yes, the y/N prompt, exit codes, demo mode."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from bot.chat import run_chat
from bot.config import BotSettings
from tests.conftest import TEST_STACK, TEST_TOKEN, assert_no_secrets, make_settings
from tools.config import K6CloudSettings
from tools.simulator import Simulator

START = r"/cloud/v6/load_tests/\d+/start"
DEMO_TESTS = [
    "Orders API Soak Test",
    "Orders API Smoke",
    "Checkout Spike",
    "Payments Gateway Load",
    "Login Auth Flow",
    "Search Stress Test",
    "Storefront Browser Journey",
    "Inventory Service Baseline",
    "Refunds API Load",
    "Notifications Webhook Test",
]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("K6_CLOUD_", "K6BOT_", "SLACK_"))}
    env.update({"K6BOT_DATABASE_URL": str(tmp_path / "k6bot.db"), "XDG_STATE_HOME": str(tmp_path)})
    env.update(extra)
    return env


def _k6bot(tmp_path: Path, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", *args],
        env=_env(tmp_path, **env),
        cwd=tmp_path,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert_no_secrets(done.stdout, done.stderr, where="k6bot chat's output")
    return done


def test_list_tests_with_no_token_runs_on_the_demo_simulator(tmp_path: Path) -> None:
    result = _k6bot(tmp_path, "-c", "list tests")
    assert result.returncode == 0, result.stderr
    for name in DEMO_TESTS:
        assert name in result.stdout
    assert "demo mode" in result.stderr
    assert "demo mode" not in result.stdout


def test_start_with_yes_starts_once_against_the_api(tmp_path: Path, sim: Simulator, sim_url: str) -> None:
    env = {"K6_CLOUD_TOKEN": TEST_TOKEN, "K6_CLOUD_STACK_ID": str(TEST_STACK), "K6_CLOUD_API_URL": sim_url}
    result = _k6bot(tmp_path, "-c", "start orders soak test", "--yes", **env)
    assert result.returncode == 0, result.stderr
    assert sim.count("POST", START) == 1
    assert sim.count("POST", r"/cloud/v6/load_tests/501/start") == 1
    assert "Start load test 'Orders API Soak Test'" in result.stdout
    assert "test run" in result.stdout and "demo mode" not in result.stderr
    # and the audit log has it
    audit = subprocess.run(
        [sys.executable, "-m", "bot.cli", "audit"], env=_env(tmp_path), cwd=tmp_path, capture_output=True, text=True
    )
    assert "terminal:" in audit.stdout and "start_load_test" in audit.stdout


def test_without_yes_and_without_a_terminal_nothing_starts(tmp_path: Path, sim: Simulator, sim_url: str) -> None:
    env = {"K6_CLOUD_TOKEN": TEST_TOKEN, "K6_CLOUD_STACK_ID": str(TEST_STACK), "K6_CLOUD_API_URL": sim_url}
    result = _k6bot(tmp_path, "-c", "start orders soak test", stdin="y\n", **env)
    assert result.returncode != 0
    assert sim.count("POST", START) == 0
    assert "--yes" in result.stderr


def test_a_typo_in_the_verb_is_forgiven_but_still_asks_first(tmp_path: Path) -> None:
    result = _k6bot(tmp_path, "-c", "strat orders soak test")
    assert result.returncode == 1  # no terminal to say yes on: nothing is started
    assert "Start load test 'Orders API Soak Test'" in result.stdout
    assert "Traceback" not in result.stderr


def test_garbage_gets_help_and_fails(tmp_path: Path) -> None:
    result = _k6bot(tmp_path, "-c", "frobnicate the gizmo")
    assert result.returncode == 1
    assert "didn't understand" in result.stderr and "help" in result.stderr
    assert "Traceback" not in result.stderr


# --------------------------------------------------------------------------- in-process (faster)


def _run(cloud: K6CloudSettings, command: str | None, stdin: str = "", yes: bool = False, **bot: object):
    out, err = io.StringIO(), io.StringIO()
    settings = BotSettings(_env_file=None, **bot)  # type: ignore[call-arg]
    code = run_chat(cloud, settings, command, yes, stdin=io.StringIO(stdin), stdout=out, stderr=err)
    assert_no_secrets(out.getvalue(), err.getvalue(), where="the terminal chat")
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def cloud(sim_url: str) -> K6CloudSettings:
    return make_settings(sim_url)


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "k6bot.db")


def test_interactive_yes_starts(cloud: K6CloudSettings, sim: Simulator, db: str) -> None:
    code, out, _ = _run(cloud, None, "start orders soak test\ny\nquit\n", database_url=db)
    assert code == 0
    assert sim.count("POST", START) == 1
    assert "Go ahead? [y/N] y" in out
    assert "Started 'Orders API Soak Test'" in out


@pytest.mark.parametrize("answer", ["n", "", "maybe", None])
def test_interactive_anything_but_yes_starts_nothing(cloud, sim, db, answer: str | None) -> None:
    script = "start orders soak test\n" + ("" if answer is None else answer + "\n")
    code, _out, err = _run(cloud, None, script, database_url=db)
    assert sim.count("POST", START) == 0
    assert "nothing was done" in err
    assert code == 1


def test_interactive_choice_then_confirmation(cloud, sim, db) -> None:
    code, out, _ = _run(cloud, None, "start orders\n2\ny\nexit\n", database_url=db)
    assert code == 0
    assert "1. Orders API Smoke" in out and "2. Orders API Soak Test" in out
    assert sim.count("POST", r"/cloud/v6/load_tests/501/start") == 1


def test_an_ambiguous_name_in_one_command_fails_with_the_candidates(cloud, sim, db) -> None:
    code, out, err = _run(cloud, "start orders", yes=True, database_url=db)
    assert code == 1
    assert "Orders API Smoke" in out and "Orders API Soak Test" in out
    assert "id" in err
    assert sim.count("POST", START) == 0


def test_help_and_quit(cloud, db) -> None:
    code, out, _ = _run(cloud, None, "help\nquit\n", database_url=db)
    assert code == 0
    assert "start orders soak test" in out and "abort run 1234" in out and "list tests" in out


def test_read_only_mode_refuses_with_a_reason(cloud, sim, db) -> None:
    code, _, err = _run(cloud, "abort run 1234", yes=True, database_url=db, read_only=True)
    assert code == 1
    assert "read-only" in err
    assert sim.count("POST", r".*") == 0


def test_an_api_error_is_a_sentence_and_exit_1(cloud, db) -> None:
    code, _, err = _run(cloud, "status of run 999999", database_url=db)
    assert code == 1
    assert "not found" in err.lower()


def test_abort_with_yes(cloud, sim, db) -> None:
    code, out, _ = _run(cloud, "abort run #1234", yes=True, database_url=db)
    assert code == 0
    assert sim.count("POST", r"/cloud/v6/test_runs/1234/abort") == 1
    assert "aborted" in out


def test_reads_print_tables_and_plain_text(cloud, db) -> None:
    code, out, _ = _run(cloud, "runs of orders soak test", database_url=db)
    assert code == 0
    assert "1234" in out and "Orders API Soak Test" in out
    code, out, _ = _run(cloud, "show script of orders soak test", database_url=db)
    assert code == 0
    assert "export default function" in out or "export const options" in out


def test_a_chart_is_written_to_the_chart_dir_and_its_path_printed(cloud, db, tmp_path: Path) -> None:
    charts = tmp_path / "charts"
    code, out, err = _run(cloud, "chart run 1224", database_url=db, chart_dir=str(charts))
    assert code == 0, err
    png = charts / "k6-run-1224.png"
    assert f"Chart: {png}" in out
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") and png.stat().st_size > 10_000
    assert "p95 http_req_duration" in out and any(c in out for c in "▁▂▃▄▅▆▇█")  # the inline sparkline


def test_without_a_chart_dir_the_chart_goes_to_a_temporary_directory(cloud, db) -> None:
    code, out, err = _run(cloud, "graph of 1224", database_url=db)
    assert code == 0, err
    [line] = [line for line in out.splitlines() if line.startswith("Chart: ")]
    path = Path(line.removeprefix("Chart: "))
    try:
        assert path.name == "k6-run-1224.png" and path.parent.name.startswith("k6bot-charts-")
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        path.unlink()
        path.parent.rmdir()


def test_a_chart_dir_that_cannot_be_written_is_said_and_the_text_still_shown(cloud, db, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    code, out, err = _run(cloud, "chart run 1224", database_url=db, chart_dir=str(blocker))
    assert "Could not write k6-run-1224.png" in err and "Chart: " not in out
    assert "p95 http_req_duration" in out and blocker.read_text() == "not a directory"
    assert code == 0


def test_rich_markup_in_names_is_printed_as_is(cloud, sim, db) -> None:
    sim.add_load_test(77, "[bold red]not markup[/] <!channel>")
    code, out, _ = _run(cloud, "list tests", database_url=db)
    assert code == 0
    assert "[bold red]not markup[/] <!channel>" in out


def test_subscribe_is_for_slack(cloud, db) -> None:
    code, _, err = _run(cloud, "subscribe", database_url=db)
    assert code == 1
    assert "Slack" in err


def _control(url: str, path: str, body: dict[str, object]) -> Any:
    """A call to the simulator's control endpoints (``/_sim/…``), as another process would make it."""
    request = urllib.request.Request(
        url + path, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_names_with_rich_markup_are_printed_literally(tmp_path: Path, sim_url: str) -> None:
    project = _control(sim_url, "/_sim/projects", {"name": "[/red] <!here> proj"})
    test = _control(sim_url, "/_sim/load_tests", {"project_id": project["id"], "name": "[bold red]boom[/] [/x] test"})
    _control(sim_url, f"/_sim/load_tests/{test['id']}/runs", {"n": 2})
    env = {"K6_CLOUD_TOKEN": TEST_TOKEN, "K6_CLOUD_STACK_ID": str(TEST_STACK), "K6_CLOUD_API_URL": sim_url}

    listed = _k6bot(tmp_path, "-c", f"list tests in {project['id']}", **env)
    assert listed.returncode == 0, listed.stderr
    assert "Load tests in [/red] <!here> proj" in listed.stdout
    assert "[bold red]boom[/] [/x] test" in listed.stdout
    assert "Traceback" not in listed.stderr

    runs = _k6bot(tmp_path, "-c", "runs of boom", **env)
    assert runs.returncode == 0, runs.stderr
    assert "Test runs of [bold red]boom[/] [/x] test, newest first" in runs.stdout
    assert "Traceback" not in runs.stderr


def test_after_an_ambiguous_read_the_advice_is_that_read_with_an_id(cloud, sim, db) -> None:
    code, out, err = _run(cloud, "runs of orders", database_url=db)
    assert code == 1
    assert "Orders API Smoke" in out and "Orders API Soak Test" in out
    assert "e.g. list runs of test 502" in err or "e.g. list runs of test 501" in err
    assert "start" not in err


# --------------------------------------------------------------------------- the command language in the terminal


def test_a_missing_argument_is_asked_for_at_the_prompt(cloud, sim, db) -> None:
    code, out, _ = _run(cloud, None, "start\n1\ny\nquit\n", database_url=db)
    assert "Which load test?" in out and "1. Orders API Soak Test" in out
    assert code == 0
    assert sim.count("POST", r"/cloud/v6/load_tests/501/start") == 1


def test_the_missing_test_can_be_typed_by_name(cloud, sim, db) -> None:
    code, _out, _ = _run(cloud, None, "start\ncheckout spike\ny\nquit\n", database_url=db)
    assert code == 0
    assert sim.count("POST", r"/cloud/v6/load_tests/503/start") == 1


def test_a_question_prints_its_answer_first(cloud, db) -> None:
    code, out, _ = _run(cloud, "is 1234 done yet?", database_url=db)
    assert code == 0
    assert out.startswith("No — run 1234 is running for"), out


def test_abort_all_running_tests_asks_once_and_aborts_each(cloud, sim, db) -> None:
    going = sorted(r["id"] for r in sim.list_runs() if r["status"] in ("created", "queued", "initializing", "running"))
    code, out, _ = _run(cloud, None, "abort all running tests\ny\nquit\n", database_url=db)
    assert code == 0
    assert out.count("Go ahead?") == 1
    aborted = sorted(
        int(r.path.split("/")[4]) for r in sim.requests if r.method == "POST" and r.path.endswith("/abort")
    )
    assert aborted == going and len(going) >= 2


def test_references_need_no_ids(cloud, sim, db) -> None:
    code, out, _ = _run(cloud, "abort the soak", yes=True, database_url=db)
    assert code == 0
    assert sim.count("POST", r"/cloud/v6/test_runs/1234/abort") == 1
    code, out, _ = _run(cloud, "show me the last run of orders soak", database_url=db)
    assert code == 0 and "run 1234" in out.casefold()
