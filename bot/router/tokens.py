"""Splitting a cleaned text into tokens and finding what is certainly data in it: ids, URLs, dates, counts…

:func:`analyse` returns the tokens (with their character spans in the original text) and the *entities*
found in them. Entities are what no vocabulary word can be: a run id, a pasted URL, a date range, a cron
expression, ``key=value``. Which operation field each one fills is decided later, per operation, by the
parser; an entity no field of the chosen operation can take counts against that operation.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from bot.router import dates
from bot.router.recurrence import CRON_EXPR, find_recurrence


class Kind(StrEnum):
    RUN_ID = "run_id"
    TEST_ID = "test_id"
    PROJECT_ID = "project_id"
    SCHEDULE_ID = "schedule_id"
    ZONE_ID = "zone_id"
    LABEL_ID = "label_id"
    HASH = "hash"
    """``#1234``: an id of whatever the operation takes."""
    NUMBER = "number"
    COUNT = "count"
    RANGE = "range"
    POINT = "point"
    RECURRENCE = "recurrence"
    DURATION = "duration"
    QUOTED = "quoted"
    PAIR = "pair"
    URL = "url"
    NOTE = "note"
    """The text after a colon ("note 1234: looks good")."""
    ZONE_NAME = "zone_name"
    """A k6 load zone id: provider:country:city ("amazon:us:ashburn")."""


IDS = (Kind.RUN_ID, Kind.TEST_ID, Kind.PROJECT_ID, Kind.SCHEDULE_ID, Kind.ZONE_ID, Kind.LABEL_ID)


@dataclass
class Token:
    index: int
    text: str
    low: str
    start: int
    end: int
    kind: str
    """word | number | hash | clock | quoted | url | pair | punct"""


@dataclass
class Entity:
    kind: Kind
    value: Any
    tokens: tuple[int, ...]
    """Indices of the tokens it covers."""
    before: str | None = None
    """The word right before it ("with 1229", "to payments"), for fields that want one."""
    extra: dict[str, Any] = field(default_factory=dict)
    weak: bool = False
    """One ordinary word that may also be data ("monthly" VUH, "daily"): its words stay words for intents that
    cannot take it, and it never counts against them."""

    @property
    def first(self) -> int:
        return self.tokens[0] if self.tokens else -1


@dataclass
class Analysis:
    text: str
    tokens: list[Token]
    entities: list[Entity]
    now: datetime
    tz: tzinfo
    protected: frozenset[int] = frozenset()
    """Token indices that are a load test's name: words, never vocabulary or data."""

    def covered(self) -> set[int]:
        return {i for e in self.entities for i in e.tokens if e.kind is not Kind.NOTE and not e.weak}

    def words(self, indices: list[int] | tuple[int, ...]) -> str:
        """The original text from the first to the last of ``indices`` (as typed, spacing kept)."""
        if not indices:
            return ""
        first, last = self.tokens[min(indices)], self.tokens[max(indices)]
        return self.text[first.start : last.end]


_TOKEN = re.compile(
    r"(?P<url>https?://[^\s<>]+)"
    r"|(?P<quoted>\"[^\"]*\"|`[^`]*`|(?<![\w'])'[^'\n]+'(?![\w']))"
    r"|(?P<pair>[A-Za-z_][\w.-]*=(?:\{(?:[^{}]|\{[^{}]*\})*\}|\[[^\]]*\]|\"[^\"]*\"|'[^']*'|[^\s,;]+))"
    r"|(?P<zone>\b[a-z]{2,12}:[a-z]{2}:[a-z][\w-]*\b)"
    r"|(?P<date>\b\d{4}-\d{2}-\d{2}(?:[tT ]\d{2}:\d{2}(?::\d{2})?(?:[zZ]|[+-]\d{2}:?\d{2})?)?)"
    r"|(?P<hash>#\s?\d{1,12}\b)"
    r"|(?P<clock>\b\d{1,2}:\d{2}(?:\s?[ap]\.?m\.?)?)"
    r"|(?P<number>\b\d+(?:\.\d+)?(?!\w|:\d))"
    r"|(?P<word>[^\W_](?:[\w'&-]*[^\W_])?'?s?)"
    r"|(?P<punct>[:;,?!.()\[\]{}<>*&+/\\|-])"
)


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "word"
        value = match.group(0)
        tokens.append(Token(len(tokens), value, value.casefold(), match.start(), match.end(), kind))
    return tokens


# Ids named with their kind: "run 1234", "test run #1234", "run id 1234", "test 501", "project 78", …
_ID_NUMBER = r"(?:\s+(?:id|number|num|no\.?|nr\.?))?"
"""Between a kind and its id: "run number 1234", "schedule no. 4", "project id 78"."""
_ID_WORDS: tuple[tuple[Kind, str], ...] = (
    (Kind.RUN_ID, r"(?:test[\s-]*)?run" + _ID_NUMBER),
    (Kind.SCHEDULE_ID, r"schedule" + _ID_NUMBER),
    (Kind.PROJECT_ID, r"project" + _ID_NUMBER),
    (Kind.ZONE_ID, r"(?:load\s+)?zone" + _ID_NUMBER),
    (Kind.LABEL_ID, r"label(?:\s+key)?" + _ID_NUMBER),
    (Kind.TEST_ID, r"(?:load[\s-]*)?test" + _ID_NUMBER),
)
_ID_PATTERNS = tuple(
    (kind, re.compile(r"\b" + words + r"\s*(?:#\s*)?(?P<id>\d{1,12})\b(?![:.]\d)")) for kind, words in _ID_WORDS
)
_COUNT = re.compile(
    r"\b(?:last|latest|newest|recent|most\s+recent|top|first|previous|past)\s+(?P<n>\d{1,4})\b(?!\s*(?:[:.]\d|%))"
    r"|\b(?P<m>\d{1,4})\s+(?:most\s+recent\s+|latest\s+|last\s+|newest\s+|recent\s+|previous\s+)?"
    r"(?=(?:(?:test|load)\s+)?(?:runs|tests|entries|items|results|schedules|projects|zones|labels)\b)"
)
_DURATION = re.compile(
    r"\b(?:for|up\s+to|at\s+most|timeout(?:\s+of)?|max(?:imum)?)\s+(?P<d>\d+\s*(?:h(?:ours?|rs?)?|m(?:in(?:ute)?s?)?|s(?:ec(?:ond)?s?)?)"
    r"(?:\s*\d+\s*(?:m(?:in(?:ute)?s?)?|s(?:ec(?:ond)?s?)?))?)\b"
)
_BARE_DURATION = re.compile(
    r"\b(?P<d>\d+\s*(?:hours?|hrs?|minutes?|mins?|seconds?|secs?)|\d+h(?:\d+m)?|\d+m|\d+s)\b"
    r"(?!\s+(?:ago|before|earlier))"
)
"""A duration said without "for" ("wait 5 minutes for 1236"): weak, so a field must want it."""
CRON_ONLY = re.compile(r"\s*" + CRON_EXPR + r"\s*")
K6_URL = re.compile(r"(?:/a/k6-app|(?<=\d))/(?P<what>runs|tests|projects)/(?P<id>\d{1,12})\b")


_POSSESSIVE_DATE = re.compile(r"\b(today|yesterday|tonight|tomorrow|week|month|weekend|night|morning)'s\b")
""""yesterday's runs": the date, without the possessive."""


def _tokens_in(tokens: list[Token], start: int, end: int) -> tuple[int, ...]:
    """The tokens inside a span (a possessive "yesterday's" is inside the span of "yesterday")."""
    return tuple(
        t.index for t in tokens if t.start >= start and (t.end <= end or (t.end == end + 2 and t.low.endswith("'s")))
    )


def _before(tokens: list[Token], first: int) -> str | None:
    for index in range(first - 1, -1, -1):
        token = tokens[index]
        if token.kind == "punct":
            continue
        return token.low if token.kind == "word" else None
    return None


def analyse(
    text: str, now: datetime, tz: tzinfo, *, protect: Callable[[list[Token]], set[int]] | None = None
) -> Analysis:
    """Tokens and entities of ``text`` (already cleaned: see bot.router.text). ``protect`` names the tokens that
    are a load test's name (bot.router.names): no entity is read from them."""
    tokens = tokenize(text)
    low = _POSSESSIVE_DATE.sub(lambda m: m.group(1) + "  ", text.casefold())  # same length: spans stay right
    entities: list[Entity] = []
    protected = protect(tokens) if protect is not None else set()
    taken: set[int] = set(protected)

    def add(kind: Kind, value: Any, indices: tuple[int, ...], **extra: Any) -> Entity | None:
        indices = tuple(i for i in indices if i not in taken)
        if not indices:
            return None
        entity = Entity(kind, value, indices, _before(tokens, indices[0]), dict(extra))
        entities.append(entity)
        taken.update(indices)
        return entity

    # token-level data: URLs, quoted text, key=value
    for token in tokens:
        if token.kind == "url":
            # the most specific part of the path: ".../tests/501/runs/1234" is run 1234
            found = next(reversed(list(K6_URL.finditer(urlsplit(token.text).path))), None)
            kind = {"runs": Kind.RUN_ID, "tests": Kind.TEST_ID, "projects": Kind.PROJECT_ID}.get(
                found.group("what") if found else "", Kind.URL
            )
            add(kind, int(found.group("id")) if found else token.text, (token.index,), url=True)
        elif token.kind == "zone":
            add(Kind.ZONE_NAME, token.low, (token.index,))
        elif token.kind == "quoted":
            inner = token.text[1:-1].strip()
            if CRON_ONLY.fullmatch(inner.casefold()):
                continue  # a quoted cron expression is a schedule, found below
            add(Kind.QUOTED, inner, (token.index,))
        elif token.kind == "pair":
            key, _, value = token.text.partition("=")
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            add(Kind.PAIR, (key, value), (token.index,))

    # schedules, then dates (a recurrence's "at 2" is not a separate point in time)
    recurrence = find_recurrence(low, now, tz)
    if recurrence is not None:
        indices = tuple(i for start, end in recurrence.spans for i in _tokens_in(tokens, start, end))
        entity = add(Kind.RECURRENCE, recurrence, indices)
        if entity is not None and len(indices) == 1:
            entity.weak = True
    for span in dates.find_ranges(low, now, tz):
        add(Kind.RANGE, span, _tokens_in(tokens, span.start, span.end))
    point = dates.find_point(low, now, tz)
    if point is not None:
        add(Kind.POINT, point.at, _tokens_in(tokens, point.start, point.end))
    for duration in _DURATION.finditer(low):
        seconds = dates.parse_duration(duration.group("d"))
        if seconds:
            add(Kind.DURATION, seconds, _tokens_in(tokens, *duration.span()))
    for duration in _BARE_DURATION.finditer(low):
        seconds = dates.parse_duration(duration.group("d"))
        entity = add(Kind.DURATION, seconds, _tokens_in(tokens, *duration.span())) if seconds else None
        if entity is not None:
            entity.weak = True

    # ids with their kind, counts, #ids, bare numbers
    for kind, pattern in _ID_PATTERNS:
        for match in pattern.finditer(low):
            indices = _tokens_in(tokens, *match.span())
            if taken.intersection(indices):
                continue
            add(kind, int(match.group("id")), indices)
    for match in _COUNT.finditer(low):
        start, end = match.span("n") if match.group("n") else match.span("m")
        number = _tokens_in(tokens, start, end)
        words = _tokens_in(tokens, match.start(), max(end, match.end()))  # "5 most recent runs": the words too
        if number and not taken.intersection(number):
            add(Kind.COUNT, int(match.group("n") or match.group("m")), words)
    for token in tokens:
        if token.index in taken:
            continue
        if token.kind == "hash":
            add(Kind.HASH, int(token.text.lstrip("#").strip()), (token.index,))
        elif token.kind == "number" and token.text.isdigit():
            add(Kind.NUMBER, int(token.text), (token.index,))

    # the text after a colon is a note, when an operation wants one (not a clock time or a URL)
    for token in tokens:
        if token.kind == "punct" and token.text == ":" and token.index + 1 < len(tokens):
            rest = text[token.end :].strip()
            if rest:
                entities.append(
                    Entity(Kind.NOTE, rest, tuple(range(token.index, len(tokens))), _before(tokens, token.index))
                )
            break
    entities.sort(key=lambda e: e.first)
    return Analysis(text, tokens, entities, now, tz, frozenset(protected))


__all__ = ["IDS", "Analysis", "Entity", "Kind", "Token", "analyse", "tokenize"]
