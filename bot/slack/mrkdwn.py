"""Slack's text formatting, both ways.

Out: :func:`escape` for mrkdwn and plain_text, so text from the API or from users can never ping, link or
format by accident. In: :func:`incoming_text` turns what Slack sends for a message or a slash command back into
what the person typed.
"""

from __future__ import annotations

import re
from typing import Any

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_FORMATTING = re.compile(r"([*_~`])")
_ENTITY_AT_END = re.compile(r"&[a-z]{0,4}$")
ZERO_WIDTH_SPACE = "\u200b"


def escape(text: object) -> str:
    """Text from the API or a person, made inert for Slack: the one function every such text goes through.

    ``&``, ``<`` and ``>`` become entities, so ``<!channel>``, ``<@U1>`` or ``<https://x|y>`` stay plain
    text; ``*``, ``_``, ``~`` and `````` get a zero-width space in front, so ``*bold*``, ``_it_``, ``~s~`` and
    `` `code` `` do not format. (Slack has no backslash escape; the space is invisible.)
    """
    return _FORMATTING.sub(ZERO_WIDTH_SPACE + r"\1", str(text).translate(_ESCAPES))


def escape_entities(text: object) -> str:
    """Only ``&``, ``<`` and ``>``: for inside code spans and blocks, where nothing formats and a copy must
    give back exactly what is shown (a command to paste, a script)."""
    return str(text).translate(_ESCAPES)


def code(text: object) -> str:
    """Inline code: escaped, with backticks removed so the span cannot be broken out of."""
    return "`" + escape_entities(str(text).replace("`", "'")) + "`"


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


def plain_text(text: object, limit: int) -> str:
    """Text for a ``plain_text`` object: escaped like mrkdwn (one convention everywhere), at most ``limit``.

    A cut text ends with "…" and never in the middle of an ``&amp;`` entity.
    """
    value = escape(text)
    if len(value) > limit:
        value = _ENTITY_AT_END.sub("", value[: limit - 1]) + "…"
    return value


def plain(text: object, limit: int = 75, *, emoji: bool = True) -> dict[str, Any]:
    """A ``plain_text`` object (button labels, headers, dialog titles); see :func:`plain_text`."""
    return {"type": "plain_text", "text": plain_text(text, limit) or " ", "emoji": emoji}


# --------------------------------------------------------------------------- what people typed

_INCOMING = re.compile(r"<([^<>\n]*)>|&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}
_SPECIAL = {"here": "@here", "channel": "@channel", "everyone": "@everyone"}


def _unescape(text: str) -> str:
    return re.sub(r"&(amp|lt|gt);", lambda m: _ENTITIES[m.group(1)], text)


def _token(inner: str) -> str:
    """What the person typed for one ``<…>`` of Slack's formatting."""
    target, bar, label = inner.partition("|")
    label = _unescape(label)
    if target.startswith("@"):  # a user: <@U123|alice> or <@U123>
        return f"@{label or target[1:]}"
    if target.startswith("#"):  # a channel: <#C123|general> or <#C123>
        return f"#{label or target[1:]}"
    if target.startswith("!"):  # <!here>, <!subteam^S123|@team>, <!date^…|fallback>
        word, _, rest = target[1:].partition("^")
        if word in _SPECIAL:
            return _SPECIAL[word]
        if label:
            return label
        return f"@{rest.split('^')[0] if word == 'subteam' and rest else word}"
    if bar:  # a link the person wrote as text: <http://example.com|example.com>, <mailto:a@b.c|a@b.c>
        return label or _unescape(target)
    return _unescape(target)  # a bare link: <https://example.com/x?a=1&amp;b=2>


def incoming_text(text: object) -> str:
    """Slack's formatting of a message or slash command turned back into what the person typed.

    Slack sends ``&``, ``<`` and ``>`` as ``&amp;``, ``&lt;`` and ``&gt;``, and formats mentions, channels
    and links: ``<@U123|alice>`` → ``@alice``, ``<#C123|general>`` → ``#general``, ``<!here>`` → ``@here``,
    ``<https://example.com|example.com>`` → ``example.com`` (the label; a bare ``<https://…>`` → the URL).
    One pass, so an entity inside a label is decoded once and ``&amp;lt;`` stays the ``&lt;`` that was typed.
    """
    value = "" if text is None else str(text)

    def replace(match: re.Match[str]) -> str:
        if match.group(2) is not None:
            return _ENTITIES[match.group(2)]
        return _token(match.group(1))

    return _INCOMING.sub(replace, value)
