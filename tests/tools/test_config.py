"""Settings that do not validate are named by their environment variable, in one line each."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import BotSettings, SlackSettings
from tools.config import K6CloudSettings, NamedSettings, SettingsError

SETTINGS: list[type[NamedSettings]] = [K6CloudSettings, BotSettings, SlackSettings]


@pytest.mark.parametrize(
    ("variable", "value", "line"),
    [
        ("K6_CLOUD_STACK_ID", "abc", "K6_CLOUD_STACK_ID must be a number, got 'abc'"),
        ("K6_CLOUD_STACK_ID", "0", "K6_CLOUD_STACK_ID must be at least 1, got '0'"),
        ("K6_CLOUD_TIMEOUT", "1000", "K6_CLOUD_TIMEOUT must be at most 600, got '1000'"),
        ("K6_CLOUD_MAX_RETRIES", "lots", "K6_CLOUD_MAX_RETRIES must be a number, got 'lots'"),
        ("K6_CLOUD_API_URL", "api.k6.io", "K6_CLOUD_API_URL must start with http:// or https://, got 'api.k6.io'"),
        ("K6_CLOUD_STACK_URL", "mystack", "K6_CLOUD_STACK_URL must be the stack's address, e.g. https://mystack"),
        ("K6BOT_READ_ONLY", "maybe", "K6BOT_READ_ONLY must be 1 or 0 (true/false, yes/no, on/off), got 'maybe'"),
        ("K6BOT_POLL_SECONDS", "0", "K6BOT_POLL_SECONDS must be more than 0, got '0'"),
        ("K6BOT_CONFIRM_TTL_SECONDS", "soon", "K6BOT_CONFIRM_TTL_SECONDS must be a number, got 'soon'"),
        ("K6BOT_DEMO_SPEED", "-1", "K6BOT_DEMO_SPEED must be more than 0, got '-1'"),
        ("K6BOT_LOG_LEVEL", "LOUD", "K6BOT_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got 'LOUD'"),
        ("SLACK_API_URL", "slack.com/api", "SLACK_API_URL must start with http:// or https://, got 'slack.com/api'"),
    ],
)
def test_a_bad_value_is_named_by_its_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, line: str
) -> None:
    monkeypatch.setenv(variable, value)
    settings = next(s for s in SETTINGS if variable.startswith(str(s.model_config.get("env_prefix"))))
    with pytest.raises(SettingsError) as caught:
        settings()
    assert str(caught.value).startswith(line)
    assert caught.value.problems == [str(caught.value)] and "\n" not in str(caught.value)


@pytest.mark.parametrize("settings", SETTINGS, ids=lambda s: s.__name__)
def test_every_number_and_switch_names_its_variable(
    settings: type[NamedSettings], monkeypatch: pytest.MonkeyPatch
) -> None:
    checked = 0
    for field, info in settings.model_fields.items():
        if not any(kind in str(info.annotation) for kind in ("int", "float", "bool")):
            continue
        variable = settings.env_name(field)
        with monkeypatch.context() as patch:
            patch.setenv(variable, "not-a-value")
            with pytest.raises(SettingsError) as caught:
                settings()
        assert str(caught.value).startswith(f"{variable} must be "), str(caught.value)
        checked += 1
    assert checked or settings is SlackSettings


def test_several_bad_values_are_all_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("K6_CLOUD_STACK_ID", "abc")
    monkeypatch.setenv("K6_CLOUD_TIMEOUT", "-5")
    with pytest.raises(SettingsError) as caught:
        K6CloudSettings()
    assert caught.value.problems == [
        "K6_CLOUD_STACK_ID must be a number, got 'abc'",
        "K6_CLOUD_TIMEOUT must be more than 0, got '-5'",
    ]


def test_the_cli_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "K6_CLOUD_STACK_ID": "abc", "XDG_STATE_HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", "-c", "list tests"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.decode() == "k6bot: K6_CLOUD_STACK_ID must be a number, got 'abc'\n"
