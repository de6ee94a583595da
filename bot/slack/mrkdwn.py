"""Escaping for Slack mrkdwn: text from the API or from users can never ping, link or format by accident."""

from __future__ import annotations

import re

_CONTROL = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_FORMATTING = re.compile(r"([*_~`])")


def escape(text: object) -> str:
    """Escape ``&``, ``<`` and ``>`` as Slack requires, so ``<!channel>`` or ``<@U1>`` stay plain text."""
    return str(text).translate(_CONTROL)


def escape_all(text: object) -> str:
    """Also neutralise mrkdwn formatting characters (``*bold*``, ``_it_``, ``~s~``, `` `code` ``) with a zero-width space."""
    return _FORMATTING.sub("\u200b\\1", escape(text))


def code(text: object) -> str:
    """Inline code: escaped, with backticks removed so the span cannot be broken out of."""
    return "`" + escape(str(text).replace("`", "'")) + "`"


def mention(user_id: str) -> str:
    """A user mention from a Slack user id (ids are validated so nothing else can be injected)."""
    if not re.fullmatch(r"[UW][A-Z0-9]{2,30}", user_id):
        return escape(user_id)
    return f"<@{user_id}>"


def link(url: str, label: object) -> str:
    """A link whose label is escaped; only http(s) URLs become links."""
    if not re.fullmatch(r"https?://[^\s<>|]+", url):
        return escape(label)
    return f"<{url}|{escape(str(label).replace('|', '¦'))}>"
