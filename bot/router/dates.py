"""Dates and times in what people type: "today", "since monday", "last 7 days", "2026-11-20", "tomorrow at 2am".

Every function takes the text (already lower-cased and cleaned), the current time and the time zone the
person means, and returns what it found with the character span it covers, so the parser can mark those
words as understood. Ranges are half-open ``[since, until)``; either end may be open (None).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY_SHORT = {day[:3]: index for index, day in enumerate(WEEKDAYS)} | {
    "tues": 1,
    "weds": 2,
    "thur": 3,
    "thurs": 3,
}
MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
}
UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400, "month": 30 * 86400}

_NUM = r"(?:\d{1,3}|" + "|".join(NUMBER_WORDS) + r")"
_UNIT = r"(?:min(?:ute)?s?|mins?|h(?:ou)?rs?|hours?|days?|weeks?|wks?|months?)"
_WEEKDAY_FULL = r"(?:" + "|".join(WEEKDAYS) + r")"
_WEEKDAY = r"(?:" + "|".join(WEEKDAYS) + r"|mon|tue|tues|wed|weds|thu|thur|thurs|fri|sat|sun)"
_MONTH = r"(?:" + "|".join(MONTHS) + r"|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)"
_ISO_DATE = r"\d{4}-\d{2}-\d{2}"
_ISO_DATETIME = r"\d{4}-\d{2}-\d{2}[t ]\d{2}:\d{2}(?::\d{2})?(?:z|[+-]\d{2}:?\d{2})?"
_CLOCK = r"(?:(?:\d{1,2})(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)|\d{1,2}:\d{2}|noon|midnight)"

# One day, as people name it. Order matters: longer forms first. Bare weekday abbreviations ("sun", "sat")
# could be words of a test name, so they count only after "since", "before", "on", "last"...
_DAY_FORMS = (
    r"" + _ISO_DATE + r"|today|yesterday|tomorrow|the\s+day\s+before\s+yesterday|"
    r"(?:last|this|next)\s+" + _WEEKDAY + r"|"
    r"" + _NUM + r"\s+days?\s+ago|"
    r"" + _MONTH + r"\.?\s+\d{1,2}(?:st|nd|rd|th)?(?:,?\s+\d{4})?|"
    r"\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH + r"\.?(?:\s+\d{4})?"
)
DAY = r"(?:" + _DAY_FORMS + r"|" + _WEEKDAY_FULL + r")"
DAY_AFTER_WORD = r"(?:" + _DAY_FORMS + r"|" + _WEEKDAY + r")"


@dataclass(frozen=True)
class Found:
    start: int
    end: int
    since: datetime | None = None
    until: datetime | None = None
    at: datetime | None = None

    @property
    def span(self) -> tuple[int, int]:
        return self.start, self.end


def _number(text: str) -> int:
    return int(text) if text.isdigit() else NUMBER_WORDS[text]


def _unit_seconds(unit: str) -> int:
    if unit.startswith("mi"):
        return UNIT_SECONDS["minute"]
    if unit.startswith("h"):
        return UNIT_SECONDS["hour"]
    if unit.startswith("d"):
        return UNIT_SECONDS["day"]
    if unit.startswith("w"):
        return UNIT_SECONDS["week"]
    return UNIT_SECONDS["month"]


def _midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=tz)


def _weekday_index(word: str) -> int:
    word = word.strip(".")
    if word in WEEKDAYS:
        return WEEKDAYS.index(word)
    return _WEEKDAY_SHORT[word[:5] if word[:5] in _WEEKDAY_SHORT else word[:3]]


def _month_index(word: str) -> int:
    word = word.strip(".")
    for index, name in enumerate(MONTHS):
        if name.startswith(word[:3]):
            return index + 1
    raise ValueError(word)


def parse_day(text: str, now: datetime) -> date | None:
    """The calendar day ``text`` names (past-leaning: "monday" is the latest monday, today included)."""
    today = now.date()
    text = " ".join(text.split())
    if re.fullmatch(_ISO_DATE, text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            return None
    if text == "today":
        return today
    if text == "yesterday":
        return today - timedelta(days=1)
    if text == "tomorrow":
        return today + timedelta(days=1)
    if text == "the day before yesterday":
        return today - timedelta(days=2)
    match = re.fullmatch(r"(" + _NUM + r")\s+days?\s+ago", text)
    if match:
        return today - timedelta(days=_number(match.group(1)))
    match = re.fullmatch(r"(?:(last|this|next)\s+)?(" + _WEEKDAY + r")", text)
    if match:
        which, word = match.groups()
        index = _weekday_index(word)
        back = (today.weekday() - index) % 7
        if which == "next":
            ahead = (index - today.weekday()) % 7 or 7
            return today + timedelta(days=ahead)
        if which == "last" and back == 0:
            back = 7
        return today - timedelta(days=back)
    match = re.fullmatch(
        r"(?:(" + _MONTH + r")\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?|"
        r"(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(" + _MONTH + r")\.?(?:\s+(\d{4}))?)",
        text,
    )
    if match:
        month_word = match.group(1) or match.group(5)
        day_text = match.group(2) or match.group(4)
        year_text = match.group(3) or match.group(6)
        try:
            month = _month_index(month_word)
            year = int(year_text) if year_text else today.year
            found = date(year, month, int(day_text))
        except ValueError:
            return None
        if not year_text and found > today:  # "dec 20" said on dec 3 means last year's
            found = found.replace(year=found.year - 1)
        return found
    return None


def parse_clock(text: str) -> time | None:
    """ "2am", "2 am", "14:30", "9:30pm", "noon", "midnight" → a time of day."""
    text = text.replace(".", "").replace(" ", "")
    if text == "noon":
        return time(12, 0)
    if text == "midnight":
        return time(0, 0)
    match = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?(am|pm)?", text)
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    suffix = match.group(3)
    if suffix == "pm" and hour < 12:
        hour += 12
    elif suffix == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


_RANGE_PATTERNS: tuple[tuple[str, str], ...] = (
    ("between", r"\bbetween\s+(?P<a>" + DAY_AFTER_WORD + r")\s+and\s+(?P<b>" + DAY_AFTER_WORD + r")\b"),
    (
        "fromto",
        r"\bfrom\s+(?P<a>" + DAY_AFTER_WORD + r")\s+(?:to|until|till|through)\s+(?P<b>" + DAY_AFTER_WORD + r")\b",
    ),
    (
        "rolling",
        r"\b(?:in\s+|over\s+|during\s+|within\s+|for\s+)?(?:the\s+)?(?:last|past|previous)\s+(?P<n>"
        + _NUM
        + r")\s+(?P<u>"
        + _UNIT
        + r")\b",
    ),
    (
        "rolling1",
        r"\b(?:in|over|during|within)\s+(?:the\s+)?(?:last|past)\s+(?P<u>hour|day|week|month|24\s*h(?:ours)?)\b",
    ),
    ("past1", r"\b(?:the\s+)?past\s+(?P<u>hour|day|week|month)\b"),
    ("calendar", r"\b(?P<which>this|last|previous)\s+(?P<u>week|month)\b"),
    ("since_time", r"\b(?:since|after)\s+(?P<t>" + _CLOCK + r")(?!\s*(?:" + DAY + r"))"),
    ("since_iso", r"\b(?:since|after|from|starting)\s+(?P<iso>" + _ISO_DATETIME + r")"),
    ("before_iso", r"\b(?:before|until|till)\s+(?P<iso>" + _ISO_DATETIME + r")"),
    ("since", r"\b(?:since|after|starting)\s+(?:the\s+)?(?P<a>" + DAY_AFTER_WORD + r")\b"),
    ("ago", r"\b(?P<n>" + _NUM + r")\s+(?P<u>" + _UNIT + r")\s+ago\b"),
    ("before", r"\b(?:before|until|till|up\s+to|prior\s+to)\s+(?P<b>" + DAY_AFTER_WORD + r")\b"),
    ("on_word", r"\b(?:on|from|of|for)\s+(?P<d>" + DAY_AFTER_WORD + r")\b"),
    ("on", r"\b(?P<d>" + DAY + r")\b"),
    ("tonight", r"\b(?:this\s+morning|this\s+afternoon|this\s+evening|tonight|last\s+night|overnight)\b"),
)
_RANGES = tuple((name, re.compile(pattern)) for name, pattern in _RANGE_PATTERNS)


def find_ranges(text: str, now: datetime, tz: tzinfo) -> list[Found]:
    """Date ranges named in ``text``, left to right, not overlapping."""
    now = now.astimezone(tz)
    found: list[Found] = []
    taken: list[tuple[int, int]] = []
    for name, pattern in _RANGES:
        for match in pattern.finditer(text):
            span = match.span()
            if any(span[0] < end and start < span[1] for start, end in taken):
                continue
            result = _range(name, match, now, tz)
            if result is None:
                continue
            since, until = result
            found.append(Found(span[0], span[1], since=since, until=until))
            taken.append(span)
    found.sort(key=lambda f: f.start)
    return found


def _day_range(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    return _midnight(day, tz), _midnight(day + timedelta(days=1), tz)


def _range(
    name: str, match: re.Match[str], now: datetime, tz: tzinfo
) -> tuple[datetime | None, datetime | None] | None:
    groups = match.groupdict()
    if name in ("between", "fromto"):
        a, b = parse_day(groups["a"], now), parse_day(groups["b"], now)
        if a is None or b is None:
            return None
        first, last = sorted((a, b))
        return _midnight(first, tz), _midnight(last + timedelta(days=1), tz)
    if name == "rolling":
        start = now - timedelta(seconds=_number(groups["n"]) * _unit_seconds(groups["u"]))
        return start.replace(second=0, microsecond=0), None
    if name in ("rolling1", "past1"):
        unit = groups["u"]
        seconds = 86400 if unit.startswith("24") else _unit_seconds(unit)
        return (now - timedelta(seconds=seconds)).replace(second=0, microsecond=0), None
    if name == "calendar":
        today = now.date()
        if groups["u"] == "week":
            monday = today - timedelta(days=today.weekday())
            if groups["which"] == "this":
                return _midnight(monday, tz), None
            return _midnight(monday - timedelta(days=7), tz), _midnight(monday, tz)
        first = today.replace(day=1)
        if groups["which"] == "this":
            return _midnight(first, tz), None
        previous = (first - timedelta(days=1)).replace(day=1)
        return _midnight(previous, tz), _midnight(first, tz)
    if name in ("since_iso", "before_iso"):
        try:
            at = datetime.fromisoformat(groups["iso"].upper().replace("Z", "+00:00").replace(" ", "T"))
        except ValueError:
            return None
        at = at if at.tzinfo else at.replace(tzinfo=tz)
        return (at, None) if name == "since_iso" else (None, at)
    if name == "since_time":
        clock = parse_clock(groups["t"])
        if clock is None:
            return None
        at = datetime.combine(now.date(), clock, tzinfo=tz)
        return (at if at <= now else at - timedelta(days=1)), None
    if name == "since":
        day = parse_day(groups["a"], now)
        if day is not None and day > now.date():
            return None
        return (_midnight(day, tz), None) if day is not None else None
    if name == "ago":
        seconds = _number(groups["n"]) * _unit_seconds(groups["u"])
        if seconds >= 86400:  # "3 days ago": that day
            return _day_range((now - timedelta(seconds=seconds)).date(), tz)
        return now - timedelta(seconds=seconds), None
    if name == "before":
        day = parse_day(groups["b"], now)
        return (None, _midnight(day, tz)) if day is not None else None
    if name in ("on", "on_word"):
        day = parse_day(groups["d"], now)
        if day is None or day > now.date():
            return None
        if day == now.date():  # today: nothing was created after now anyway
            return _midnight(day, tz), None
        return _day_range(day, tz)
    if name == "tonight":
        word = match.group(0)
        today = now.date()
        if "last night" in word or word == "overnight":
            return datetime.combine(today - timedelta(days=1), time(18), tzinfo=tz), _midnight(today, tz) + timedelta(
                hours=6
            )
        begins = {"morning": time(0), "afternoon": time(12), "evening": time(17)}.get(word.split()[-1], time(17))
        return datetime.combine(today, begins, tzinfo=tz), None
    return None


_POINT = re.compile(
    r"\b(?:(?:starting|from|on|at)\s+)?(?P<iso>" + _ISO_DATETIME + r")\b|"
    r"\b(?:(?:starting|from|on)\s+)?(?P<day>today|tomorrow|tonight|" + _ISO_DATE + r"|(?:next\s+)?" + _WEEKDAY + r")"
    r"(?:\s+(?:at\s+)?(?P<clock1>" + _CLOCK + r"|\d{1,2}))?\b|"
    r"\bat\s+(?P<clock2>"
    + _CLOCK
    + r"|\d{1,2}(?!\d))(?:\s+(?P<day2>today|tomorrow|tonight|(?:next\s+)?"
    + _WEEKDAY
    + r"))?|"
    r"\bin\s+(?P<n>" + _NUM + r")\s+(?P<u>" + _UNIT + r")\b"
)


def find_point(text: str, now: datetime, tz: tzinfo) -> Found | None:
    """A future point in time ("tomorrow at 2am", "at 14:30", "in 2 hours", an ISO date-time), or None."""
    now = now.astimezone(tz)
    for match in _POINT.finditer(text):
        at = _point(match, now, tz)
        if at is not None:
            return Found(match.start(), match.end(), at=at)
    return None


def _point(match: re.Match[str], now: datetime, tz: tzinfo) -> datetime | None:
    groups = match.groupdict()
    if groups["iso"]:
        try:
            value = datetime.fromisoformat(groups["iso"].upper().replace("Z", "+00:00").replace(" ", "T"))
        except ValueError:
            return None
        return value if value.tzinfo else value.replace(tzinfo=tz)
    if groups["n"]:
        return now + timedelta(seconds=_number(groups["n"]) * _unit_seconds(groups["u"]))
    day_word = groups["day"] or groups["day2"]
    clock_text = groups["clock1"] or groups["clock2"]
    evening = day_word == "tonight"
    clock = parse_clock(clock_text) if clock_text else None
    if clock_text and clock is None:
        return None
    if clock is not None and evening and clock.hour < 12:
        clock = time(clock.hour + 12, clock.minute)
    if day_word in (None, "tonight") or day_word == "today":
        day = now.date()
    elif day_word == "tomorrow":
        day = now.date() + timedelta(days=1)
    elif re.fullmatch(_ISO_DATE, day_word):
        day = date.fromisoformat(day_word)
    else:
        index = _weekday_index(day_word.split()[-1])
        day = now.date() + timedelta(days=(index - now.weekday()) % 7 or 7)
    if clock is None:
        if day_word is None:
            return None
        clock = time(9, 0) if not evening else time(20, 0)
    at = datetime.combine(day, clock, tzinfo=tz)
    if at <= now and day_word is None:
        at += timedelta(days=1)  # "at 2am" said at 3pm: tomorrow
    return at


def parse_duration(text: str) -> float | None:
    """ "10 minutes", "10m", "1h30m", "90s", "2 hours" → seconds."""
    text = text.strip().replace(" ", "")
    match = re.fullmatch(r"(?:(\d+)h(?:ours?|rs?)?)?(?:(\d+)m(?:in(?:ute)?s?)?)?(?:(\d+)s(?:ec(?:ond)?s?)?)?", text)
    if match and any(match.groups()):
        hours, minutes, seconds = (int(g or 0) for g in match.groups())
        return float(hours * 3600 + minutes * 60 + seconds)
    return None
