"""When a schedule runs next: RFC 5545-style recurrence rules and 5-field cron expressions."""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

FREQUENCIES = ("HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY")
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_MAX_OCCURRENCES = 200_000
_CRON_SEARCH_DAYS = 366 * 5
_MONTH_NAMES = {name.upper(): i for i, name in enumerate(calendar.month_abbr) if name}
_DOW_NAMES = {"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6}


class CronError(ValueError):
    """An invalid cron expression or time zone."""


def next_run(
    starts: datetime, rule: dict[str, Any] | None, cron: dict[str, str] | None, now: datetime
) -> datetime | None:
    """The first occurrence after ``now``, or None when the schedule has expired."""
    if cron is not None:
        return next_cron_time(cron["schedule"], cron["time_zone"], max(now, starts - timedelta(microseconds=1)))
    if rule is None:
        return starts if starts > now else None
    for occurrence in rule_occurrences(starts, rule, now):
        if occurrence > now:
            return occurrence
    return None


def rule_occurrences(starts: datetime, rule: dict[str, Any], now: datetime) -> Iterator[datetime]:
    """Occurrences of a recurrence rule in order (skipping ahead cheaply where the step is fixed)."""
    interval = int(rule.get("interval") or 1)
    count = rule.get("count")
    until = rule.get("until")
    until_at = datetime.fromisoformat(until.replace("Z", "+00:00")) if isinstance(until, str) else None
    for index, occurrence in enumerate(_raw_occurrences(starts, rule["frequency"], interval, rule, now)):
        if index >= _MAX_OCCURRENCES or (until_at and occurrence > until_at):
            return
        if count is not None and _occurrence_number(index, occurrence, starts, rule, interval) >= count:
            return
        yield occurrence


def _occurrence_number(index: int, occurrence: datetime, starts: datetime, rule: dict[str, Any], step: int) -> int:
    """0-based number of an occurrence counted from ``starts`` (indexes skip ahead for fixed steps)."""
    if rule["frequency"] in ("HOURLY", "DAILY") and not rule.get("byday"):
        unit = timedelta(hours=step) if rule["frequency"] == "HOURLY" else timedelta(days=step)
        return round((occurrence - starts) / unit)
    return index


def _raw_occurrences(
    starts: datetime, frequency: str, interval: int, rule: dict[str, Any], now: datetime
) -> Iterator[datetime]:
    byday = [WEEKDAYS.index(day) for day in rule.get("byday") or []]
    if frequency in ("HOURLY", "DAILY") and not byday:
        step = timedelta(hours=interval) if frequency == "HOURLY" else timedelta(days=interval)
        skip = max(0, int((now - starts) / step) - 1)
        moment = starts + step * skip
        while True:
            yield moment
            moment += step
    elif frequency == "DAILY":
        moment = starts
        while True:
            if moment.weekday() in byday:
                yield moment
            moment += timedelta(days=interval)
    elif frequency == "WEEKLY":
        yield from _weekly(starts, interval, byday or [starts.weekday()])
    else:
        months = interval * (12 if frequency == "YEARLY" else 1)
        number = 0
        while True:
            yield _add_months(starts, months * number)
            number += 1


def _weekly(starts: datetime, interval: int, weekdays: list[int]) -> Iterator[datetime]:
    week_start = starts - timedelta(days=starts.weekday())
    while True:
        for weekday in sorted(set(weekdays)):
            moment = week_start + timedelta(days=weekday)
            if moment >= starts:
                yield moment
        week_start += timedelta(weeks=interval)


def _add_months(moment: datetime, months: int) -> datetime:
    """Add months, clamping to the last day of shorter months (March 31 → April 30)."""
    total = moment.month - 1 + months
    year, month = moment.year + total // 12, total % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def time_zone(name: str) -> tzinfo:
    """The tzinfo for an IANA zone name; raises CronError when unknown."""
    if name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CronError(f"unknown time zone {name!r}") from exc


def parse_cron(expression: str) -> tuple[set[int], set[int], set[int], set[int], set[int], bool, bool]:
    """Parse ``minute hour day-of-month month day-of-week``; raises CronError."""
    fields = expression.split()
    if len(fields) != 5:
        raise CronError("a cron expression has 5 fields: minute hour day-of-month month day-of-week")
    minutes = _cron_field(fields[0], 0, 59, {})
    hours = _cron_field(fields[1], 0, 23, {})
    days = _cron_field(fields[2], 1, 31, {})
    months = _cron_field(fields[3], 1, 12, _MONTH_NAMES)
    weekdays = {day % 7 for day in _cron_field(fields[4], 0, 7, _DOW_NAMES)}
    return minutes, hours, days, months, weekdays, fields[2] == "*", fields[4] == "*"


def next_cron_time(expression: str, zone_name: str, after: datetime) -> datetime | None:
    """The first time strictly after ``after`` matching the cron expression in ``zone_name``."""
    minutes, hours, days, months, weekdays, any_day, any_weekday = parse_cron(expression)
    zone = time_zone(zone_name)
    local = after.astimezone(zone)
    for offset in range(_CRON_SEARCH_DAYS):
        day = local.date() + timedelta(days=offset)
        if not _cron_day_matches(day, days, months, weekdays, any_day, any_weekday):
            continue
        for hour in sorted(hours):
            for minute in sorted(minutes):
                candidate = datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(UTC)
                if candidate > after:
                    return candidate
    return None


def _cron_day_matches(
    day: date, days: set[int], months: set[int], weekdays: set[int], any_day: bool, any_weekday: bool
) -> bool:
    if day.month not in months:
        return False
    day_ok = day.day in days
    weekday_ok = (day.weekday() + 1) % 7 in weekdays
    if any_day or any_weekday:
        return day_ok and weekday_ok
    return day_ok or weekday_ok


def _cron_field(text: str, low: int, high: int, names: dict[str, int]) -> set[int]:
    values: set[int] = set()
    for part in text.split(","):
        values |= _cron_part(part, low, high, names)
    return values


def _cron_part(part: str, low: int, high: int, names: dict[str, int]) -> set[int]:
    base, _, step_text = part.partition("/")
    try:
        step = int(step_text) if step_text else 1
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, last = base.split("-", 1)
            start, end = _cron_value(first, names), _cron_value(last, names)
        else:
            start = _cron_value(base, names)
            end = high if step_text else start
    except ValueError as exc:
        raise CronError(f"invalid cron field {part!r}") from exc
    if step < 1 or not low <= start <= end <= high:
        raise CronError(f"cron field {part!r} is out of range {low}-{high}")
    return set(range(start, end + 1, step))


def _cron_value(text: str, names: dict[str, int]) -> int:
    return names[text.upper()] if text.upper() in names else int(text)
