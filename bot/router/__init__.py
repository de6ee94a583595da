"""The command router shared by Slack and the terminal: text → registry operation or bot command.

``route(text)`` is pure (no API, no I/O) and never raises; :mod:`bot.router.dispatch` carries a routed
command through :class:`bot.actions.Actions` (and the bot's own commands) for any front-end.
"""

from bot.router.grammar import (
    BOT_SAFETY,
    RULES,
    BotCommand,
    Command,
    CommandKind,
    Rule,
    route,
    suggest,
    with_test_id,
)
from bot.router.help import HelpEntry, help_entries

__all__ = [
    "BOT_SAFETY",
    "RULES",
    "BotCommand",
    "Command",
    "CommandKind",
    "HelpEntry",
    "Rule",
    "help_entries",
    "route",
    "suggest",
    "with_test_id",
]
