"""The project's promises to a newcomer: the README's commands are the ones CI runs, every setting is documented."""

from __future__ import annotations

import re
from pathlib import Path

from bot.config import BotSettings, SlackSettings
from tools.config import K6CloudSettings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def quick_start_commands() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_the_quick_start_is_exactly_two_commands() -> None:
    commands = quick_start_commands()
    assert len(commands) == 2, commands
    assert "k6bot chat" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert quick_start_commands()[1] in ci.splitlines()


def test_every_setting_is_documented() -> None:
    for settings, prefix in ((K6CloudSettings, "K6_CLOUD_"), (BotSettings, "K6BOT_"), (SlackSettings, "SLACK_")):
        for name in settings.model_fields:
            variable = prefix + name.upper()
            assert f"`{variable}`" in README, f"{variable} is not in the README's settings table"


def test_the_cli_offers_what_the_readme_promises() -> None:
    from typer.testing import CliRunner

    from bot.cli import app

    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("mcp", "slack", "chat", "simulator", "serve", "audit", "doctor"):
        assert command in result.output


def test_every_file_the_readme_and_the_manifest_point_to_exists() -> None:
    manifest = (ROOT / "manifest.yaml").read_text(encoding="utf-8")
    for text in (README, manifest):
        linked = re.findall(r"\]\(([^)#:\s]+)\)", text)  # [label](relative/path)
        named = re.findall(r"\b((?:docs|bench|\.ci)/[\w./-]*\w|[\w-]+\.md)\b", text)  # docs/x.md, README.md
        for path in [*linked, *named]:
            assert (ROOT / path).exists(), f"{path} does not exist"
    assert "README.md" in manifest and "## Slack" in README


def test_the_docker_example_names_the_mcp_allowed_hosts() -> None:
    docker = README.split("### Docker", 1)[1].split("\n### ", 1)[0]
    assert "K6BOT_MCP_ALLOWED_HOSTS" in docker


def test_the_readme_says_what_unsubscribe_does() -> None:
    from bot.router import help_entries

    usages = {entry.usage for entry in help_entries(None).entries}
    assert "unsubscribe" in usages
    assert "| `/k6 unsubscribe [test]` | stop (all of this channel's subscriptions, or only that test's) |" in README


def test_the_readme_mcp_client_snippets_are_well_formed() -> None:
    import json
    import shlex

    claude = next(line for line in README.splitlines() if line.startswith("claude mcp add k6bot"))
    words = shlex.split(claude)
    assert words[:4] == ["claude", "mcp", "add", "k6bot"]  # the name before -e, which takes several values
    assert words.index("-e") > words.index("k6bot") and words[-3:] == ["--", "k6bot", "mcp"]
    snippets = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", README, flags=re.S)]
    for snippet in snippets:
        used = set(re.findall(r"\$\{input:([\w-]+)\}", json.dumps(snippet)))
        declared = {entry["id"] for entry in snippet.get("inputs", [])}
        assert used <= declared, f"undeclared inputs {used - declared} in {snippet}"
    assert any("k6bot-token" in json.dumps(s.get("inputs", [])) for s in snippets)
