"""Date-time formatting and parsing in the API's ISO 8601 form (UTC, ``Z`` suffix)."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(moment: datetime | None, *, whole_seconds: bool = False) -> str | None:
    """Format an aware datetime as ``2024-06-01T19:00:00Z`` (milliseconds when non-zero).

    ``whole_seconds`` truncates (never rounds) to the second, as the API documentation's examples show.
    """
    if moment is None:
        return None
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    millis = moment.microsecond // 1000
    if millis and not whole_seconds:
        text += f".{millis:03d}"
    return text + "Z"


def parse_iso(text: str) -> datetime:
    """Parse an ISO 8601 date-time; naive values are taken as UTC. Raises ValueError."""
    value = text.strip()
    if not value:
        raise ValueError("empty date-time")
    if value.endswith(("z", "Z")):
        value = value[:-1] + "+00:00"
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def to_millis(moment: datetime) -> datetime:
    """Drop sub-millisecond precision so stored times round-trip through :func:`iso`."""
    return moment.replace(microsecond=moment.microsecond - moment.microsecond % 1000)
