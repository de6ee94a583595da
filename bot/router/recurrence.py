"""Schedules as people say them: "every night at 2am", "weekdays at 9:30", "every 6 hours", "0 2 * * 1-5".

:func:`find_recurrence` returns the k6 Cloud recurrence rule (``frequency``, ``interval``, ``byday``,
``count``, ``until``) and the first start (the next occurrence after now, in the person's time zone), or a
cron expression with its time zone. The confirmation shows it back in words (tools.describe).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, tzinfo
from typing import Any

from bot.router.dates import _CLOCK, _NUM, _WEEKDAY, WEEKDAYS, _number, _weekday_index, find_point, parse_clock

CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
WORKDAYS = ("MO", "TU", "WE", "TH", "FR")

_CRON_FIELD = r"(?:\*|\d{1,2}(?:-\d{1,2})?)(?:/\d{1,2})?(?:,(?:\*|\d{1,2}(?:-\d{1,2})?)(?:/\d{1,2})?)*"
_CRON_DOW = (
    r"(?:"
    + _CRON_FIELD
    + r"|(?:mon|tue|wed|thu|fri|sat|sun)(?:-(?:mon|tue|wed|thu|fri|sat|sun))?(?:,(?:mon|tue|wed|thu|fri|sat|sun))*)"
)
CRON_EXPR = _CRON_FIELD + r"\s+" + _CRON_FIELD + r"\s+" + _CRON_FIELD + r"\s+" + _CRON_FIELD + r"\s+" + _CRON_DOW
"""Five cron fields: minute hour day-of-month month day-of-week."""
CRON = re.compile(r"(?:\bcron\s+)?(?P<q>['\"`]?)(?P<expr>" + CRON_EXPR + r")(?P=q)(?=\s|$)")
_TIME = r"(?:\s+(?:at|@)\s+(?P<t>" + _CLOCK + r"|\d{1,2}(?!\d)))?"
_DAYS = r"(?P<days>" + _WEEKDAY + r"s?(?:\s*(?:,|and|&|\+)\s*" + _WEEKDAY + r"s?)*)"
_PART = r"(?P<part>night|evening|morning|afternoon)"
_PATTERNS: tuple[tuple[str, str], ...] = (
    (
        "every_n",
        r"\bevery\s+(?P<n>" + _NUM + r")\s+(?P<u>hours?|hrs?|h|days?|weeks?|months?)\b"
        r"(?:\s+on\s+" + _DAYS + r")?" + _TIME,
    ),
    (
        "workdays",
        r"\b(?:every\s+|on\s+)?(?:weekdays?|workdays?|work\s+days|business\s+days|mon(?:day)?\s*-\s*fri(?:day)?)"
        r"(?:\s+(?:at|@)\s+(?P<t>" + _CLOCK + r"|\d{1,2}(?!\d)))?(?:\s+(?:in\s+the\s+)?" + _PART + r")?",
    ),
    ("weekends", r"\b(?:every\s+|on\s+)?weekends?" + _TIME),
    ("days", r"\b(?:every|each|on)\s+" + _DAYS + r"(?:\s+(?:night|evening|morning|afternoon))?" + _TIME),
    ("days_plural", r"\b(?P<days>(?:mon|tues|wednes|thurs|fri|satur|sun)days)" + _TIME),
    ("daily_part", r"\b(?:every|each)\s+" + _PART + _TIME),
    ("nightly", r"\b(?P<word>nightly|daily|hourly|weekly|monthly|every\s+(?:day|hour|week|month))\b" + _TIME),
)
_COMPILED = tuple((name, re.compile(pattern)) for name, pattern in _PATTERNS)
_COUNT = re.compile(r"\b(?:for\s+)?(?P<n>" + _NUM + r")\s+times\b")
_UNTIL = re.compile(r"\buntil\s+(?P<d>\d{4}-\d{2}-\d{2})\b")
_PART_HOURS = {"night": 2, "morning": 9, "afternoon": 14, "evening": 19}
_AT_TIME = re.compile(r"\b(?:at|@)\s+(?P<t>" + _CLOCK + r"|\d{1,2}(?![\d:]))")
"""A time of day said apart from the recurrence ("a nightly run of the soak at 1am")."""


@dataclass
class Recurrence:
    start: int
    end: int
    rule: dict[str, Any] | None = None
    cron: dict[str, str] | None = None
    starts: datetime | None = None
    spans: list[tuple[int, int]] = field(default_factory=list)
    """Every span of the text this recurrence consumed (the rule, a count, an until)."""


def _zone_name(tz: tzinfo) -> str:
    key = getattr(tz, "key", None)
    if isinstance(key, str):
        return key
    name = tz.tzname(None) or "UTC"
    return "UTC" if name in ("UTC", "GMT", "+00:00") else name


def find_cron(text: str, tz: tzinfo) -> Recurrence | None:
    match = CRON.search(text)
    if not match:
        return None
    return Recurrence(
        match.start(),
        match.end(),
        cron={"schedule": match.group("expr"), "time_zone": _zone_name(tz)},
        spans=[match.span()],
    )


def _clock_for(text: str | None, part: str | None) -> time | None:
    if text:
        if text.isdigit():
            hour = int(text)
            if part in ("evening", "afternoon") and hour < 12:
                hour += 12
            if part == "night" and 6 < hour < 12:
                hour += 12  # "every night at 11" is 23:00; "every night at 2" is 02:00
            return time(hour, 0) if hour < 24 else None
        return parse_clock(text)
    if part:
        return time(_PART_HOURS[part], 0)
    return None


def _days_of(text: str) -> list[str]:
    words = re.split(r"\s*(?:,|and|&|\+)\s*", text.strip())
    codes = []
    for word in words:
        word = word.strip().rstrip("s") if word.strip() not in WEEKDAYS else word.strip()
        if not word:
            continue
        try:
            codes.append(CODES[_weekday_index(word if word in WEEKDAYS else word[:3])])
        except (KeyError, ValueError):
            continue
    return list(dict.fromkeys(codes))


def _next_at(now: datetime, clock: time, days: list[str] | None = None) -> datetime:
    """The next moment after ``now`` at ``clock`` on one of ``days`` (any day when None)."""
    for offset in range(0, 8):
        day = now.date() + timedelta(days=offset)
        if days and CODES[day.weekday()] not in days:
            continue
        at = datetime.combine(day, clock, tzinfo=now.tzinfo)
        if at > now:
            return at
    return datetime.combine(now.date() + timedelta(days=7), clock, tzinfo=now.tzinfo)


def find_recurrence(text: str, now: datetime, tz: tzinfo) -> Recurrence | None:
    """The recurrence in ``text`` (lower-cased), with its first start; a cron expression counts too."""
    now = now.astimezone(tz)
    cron = find_cron(text, tz)
    if cron is not None:
        point = find_point(text[: cron.start] + " " * (cron.end - cron.start) + text[cron.end :], now, tz)
        cron.starts = point.at if point else now.replace(second=0, microsecond=0) + timedelta(minutes=1)
        if point:
            cron.spans.append(point.span)
        return cron
    for name, pattern in _COMPILED:
        match = pattern.search(text)
        if not match:
            continue
        found = _rule(name, match, now)
        if found is None:
            continue
        rule, starts = found
        recurrence = Recurrence(match.start(), match.end(), rule=rule, starts=starts, spans=[match.span()])
        if not match.groupdict().get("t") and not match.groupdict().get("part"):
            _time_apart(text, name, match, recurrence, now)
        _limits(text, recurrence, tz)
        return recurrence
    return None


def _limits(text: str, recurrence: Recurrence, tz: tzinfo) -> None:
    assert recurrence.rule is not None
    count = _COUNT.search(text)
    if count:
        recurrence.rule["count"] = _number(count.group("n"))
        recurrence.spans.append(count.span())
    until = _UNTIL.search(text)
    if until:
        day = datetime.fromisoformat(until.group("d")).date()
        recurrence.rule["until"] = datetime.combine(day, time(23, 59), tzinfo=tz).isoformat()
        recurrence.spans.append(until.span())


def _time_apart(text: str, name: str, match: re.Match[str], recurrence: Recurrence, now: datetime) -> None:
    """ "a nightly run of the soak at 1am": the time of day said after the test's name is the recurrence's."""
    assert recurrence.rule is not None
    for at in _AT_TIME.finditer(text):
        if match.start() < at.end() and at.start() < match.end():
            continue
        night = "night" if name == "nightly" and "night" in match.group(0) else None
        clock = _clock_for(at.group("t"), night)
        if clock is None:
            continue
        recurrence.starts = _next_at(now, clock, recurrence.rule.get("byday"))
        recurrence.spans.append(at.span())
        return


def _rule(name: str, match: re.Match[str], now: datetime) -> tuple[dict[str, Any], datetime] | None:
    groups = match.groupdict()
    part = groups.get("part")
    clock = _clock_for(groups.get("t"), part)
    if groups.get("t") and clock is None:
        return None

    def rule(frequency: str, interval: int = 1, byday: list[str] | None = None) -> dict[str, Any]:
        return {"frequency": frequency, "interval": interval, "byday": byday, "until": None, "count": None}

    if name == "every_n":
        n = _number(groups["n"])
        unit = groups["u"]
        if n < 1:
            return None
        if unit.startswith("h"):
            start = (clock and _next_at(now, clock)) or (
                now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
            )
            return rule("HOURLY", n), start
        frequency = {"d": "DAILY", "w": "WEEKLY", "m": "MONTHLY"}[unit[0]]
        days = _days_of(groups["days"]) if groups.get("days") else None
        if frequency == "WEEKLY" and days:
            return rule(frequency, n, days), _next_at(now, clock or time(9, 0), days)
        return rule(frequency, n), _next_at(now, clock or time(0, 0))
    if name == "workdays":
        return rule("WEEKLY", 1, list(WORKDAYS)), _next_at(now, clock or time(9, 0), list(WORKDAYS))
    if name == "weekends":
        days = ["SA", "SU"]
        return rule("WEEKLY", 1, days), _next_at(now, clock or time(9, 0), days)
    if name in ("days", "days_plural"):
        days = _days_of(groups["days"])
        if not days:
            return None
        return rule("WEEKLY", 1, days), _next_at(now, clock or time(9, 0), days)
    if name == "daily_part":
        return rule("DAILY"), _next_at(now, clock or time(_PART_HOURS[part or "night"], 0))
    word = groups["word"].split()[-1]
    if word in ("hourly", "hour"):
        start = (clock and _next_at(now, clock)) or (
            now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        )
        return rule("HOURLY"), start
    if word in ("nightly",):
        return rule("DAILY"), _next_at(now, clock or time(2, 0))
    if word in ("daily", "day"):
        return rule("DAILY"), _next_at(now, clock or time(0, 0))
    if word in ("weekly", "week"):
        return rule("WEEKLY", 1, [CODES[now.weekday()]]), _next_at(now, clock or time(9, 0), [CODES[now.weekday()]])
    return rule("MONTHLY"), _next_at(now, clock or time(9, 0))


__all__ = ["CODES", "Recurrence", "find_cron", "find_recurrence"]
