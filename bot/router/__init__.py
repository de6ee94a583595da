"""The command language shared by Slack and the terminal: text → registry operation or bot command.

``parse(text)`` is pure (no API, no I/O) and never raises; ``understand(text, toolbox)`` resolves names and
references with read requests only; :mod:`bot.router.dispatch` carries it out through
:class:`bot.actions.Actions` (and the bot's own commands) for any front-end. The vocabulary comes from the
registry's declarations (``Phrases``) and :mod:`bot.router.commands`.
"""

from bot.router.commands import BOT_SAFETY, BotCommand, Command, CommandKind
from bot.router.help import HelpEntry, help_entries
from bot.router.parse import Parse, parse
from bot.router.render import say_command
from bot.router.understand import Meaning, Understanding, understand

__all__ = [
    "BOT_SAFETY",
    "BotCommand",
    "Command",
    "CommandKind",
    "HelpEntry",
    "Meaning",
    "Parse",
    "Understanding",
    "help_entries",
    "parse",
    "say_command",
    "understand",
]
