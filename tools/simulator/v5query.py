"""The v5 metrics query language: OData-style call arguments, metric selectors and query expressions.

- Arguments: ``query='histogram_quantile(0.95) by (name)',metric='http_req_duration{status="200"}',step=5,
  start=2022-11-23T10:03:00Z,test_run_ids=[1,2]`` — strings in single quotes (a quote inside is doubled),
  lists in brackets, other values bare.
- Selector: ``metric{label="v",other!="v",x=~"re",y!~"re"}`` (regular expressions are fully anchored, as in
  Prometheus); in a value ``\\"``, ``\\\\``, ``\\n``, ``\\t`` are escapes, other backslashes stay for
  the regex (``"2\\d\\d"``).
- Query: ``<method>[(<number>)] [by (<label>,...)]``, optionally wrapped in a cross-label aggregator:
  ``sum(max by (instance_id))``, ``max by (name) (histogram_quantile(0.95) by (name,status))``.

Every parse failure raises :class:`QueryError` (the routes answer it with a 400 error body).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from .errors import invalid
from .timeutil import parse_iso

#: The methods of each metric type; a method of another type gives an empty result (not an error).
METHODS: dict[str, tuple[str, ...]] = {
    "trend": (
        "histogram_quantile",
        "histogram_avg",
        "histogram_min",
        "histogram_max",
        "histogram_stddev",
        "histogram_count_increase",
        "histogram_count_value",
    ),
    "counter": ("increase", "rate", "value", "cumrate", "max_rate"),
    "rate": (
        "ratio",
        "increase_nz",
        "increase_z",
        "increase_total",
        "rate_nz",
        "rate_z",
        "rate_total",
        "value_nz",
        "value_z",
        "value_total",
    ),
    "gauge": ("last", "min", "max", "avg", "last_time"),
}
ALL_METHODS = tuple(sorted({name for names in METHODS.values() for name in names}))
AGGREGATORS = ("sum", "avg", "min", "max", "count")
_WITH_ARGUMENT = {"histogram_quantile": "a quantile between 0 and 1", "max_rate": "a window in seconds"}
_LABEL = r"[A-Za-z_][A-Za-z0-9_]*"
_METRIC_NAME = re.compile(r"[A-Za-z_:][\w:.\-]*")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_INT_LIST = re.compile(r"\[\s*(?:\d+\s*(?:,\s*\d+\s*)*)?\]")


class QueryError(ValueError):
    """A malformed argument, selector or query (``target`` names the argument)."""

    def __init__(self, message: str, target: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.target = target


@contextmanager
def bad_request() -> Iterator[None]:
    """Turn a :class:`QueryError` into the API's 400 error (aimed at the argument)."""
    try:
        yield
    except QueryError as exc:
        raise invalid(exc.message, exc.target) from exc


# --------------------------------------------------------------------------- call arguments


def parse_arguments(text: str, allowed: tuple[str, ...]) -> dict[str, str | list[int]]:
    """``query='rate',metric='http_reqs',test_run_ids=[1,2]`` → ``{"query": "rate", ...}``.

    Quoted values come back unquoted (``''`` → ``'``), lists as ints, bare values as written.
    """
    values: dict[str, str | list[int]] = {}
    for part in _split_top_level(text.strip()) if text.strip() else []:
        name, equals, raw = part.partition("=")
        name = name.strip()
        if not equals or not re.fullmatch(r"[A-Za-z_]\w*", name):
            raise QueryError(f"'{part.strip()}' is not name=value; arguments look like query='...',metric='...'.")
        if name not in allowed:
            raise QueryError(f"Unknown argument '{name}'; this endpoint takes {', '.join(allowed)}.", name)
        if name in values:
            raise QueryError(f"The argument '{name}' is given twice.", name)
        values[name] = _argument_value(name, raw.strip())
    return values


def _argument_value(name: str, raw: str) -> str | list[int]:
    if raw.startswith("'"):
        if len(raw) < 2 or not raw.endswith("'") or "'" in raw[1:-1].replace("''", ""):
            raise QueryError(f"The value of '{name}' is not a closed single-quoted string.", name)
        return raw[1:-1].replace("''", "'")
    if raw.startswith("["):
        if not _INT_LIST.fullmatch(raw):
            raise QueryError(f"'{name}' must be a list of ids like [1,2,3].", name)
        return [int(item) for item in re.findall(r"\d+", raw)]
    if not raw:
        raise QueryError(f"The argument '{name}' has no value.", name)
    return raw


def _split_top_level(text: str) -> list[str]:
    """Split on commas outside quotes and brackets."""
    parts: list[str] = []
    depth, quoted, start = 0, False, 0
    for index, char in enumerate(text):
        if char == "'":
            quoted = not quoted  # a doubled quote toggles twice
        elif quoted:
            continue
        elif char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    if quoted:
        raise QueryError("A single-quoted value is not closed.")
    parts.append(text[start:])
    return parts


def string_argument(values: dict[str, str | list[int]], name: str, *, required: bool = False) -> str | None:
    value = values.get(name)
    if value is None:
        if required:
            raise QueryError(f"The '{name}' argument is required, e.g. {name}='...'.", name)
        return None
    if not isinstance(value, str) or not value.strip():
        raise QueryError(f"'{name}' must be a non-empty string.", name)
    return value


def time_argument(values: dict[str, str | list[int]], name: str) -> datetime | None:
    """An ISO 8601 date-time argument (``start=2022-11-23T10:03:00Z``, quoted or not)."""
    value = values.get(name)
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return parse_iso(value)
    except ValueError:
        raise QueryError(f"'{name}' must be an ISO 8601 date-time like 2022-11-23T10:03:00Z.", name) from None


def number_argument(values: dict[str, str | list[int]], name: str, *, minimum: float) -> float | None:
    value = values.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not _NUMBER.fullmatch(value) or float(value) < minimum:
        raise QueryError(f"'{name}' must be a number of at least {minimum:g}.", name)
    return float(value)


def ids_argument(values: dict[str, str | list[int]], name: str) -> list[int] | None:
    value = values.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not value:
        raise QueryError(f"'{name}' must be a non-empty list of ids like [1,2,3].", name)
    return value


# --------------------------------------------------------------------------- selectors


@dataclass(frozen=True)
class Matcher:
    """One label matcher of a selector."""

    label: str
    operator: str  # = != =~ !~
    value: str

    def matches(self, labels: dict[str, str]) -> bool:
        actual = labels.get(self.label, "")
        if self.operator == "=":
            return actual == self.value
        if self.operator == "!=":
            return actual != self.value
        found = _compiled(self.value).fullmatch(actual) is not None
        return found if self.operator == "=~" else not found


@dataclass(frozen=True)
class Selector:
    """``metric{matchers}``."""

    metric: str
    matchers: tuple[Matcher, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        return all(matcher.matches(labels) for matcher in self.matchers)


_ESCAPED = {"\\": "\\", "n": "\n", "t": "\t", "r": "\r"}
_MATCHER = re.compile(rf"\s*({_LABEL})\s*(=~|!~|!=|=)\s*")


def parse_selector(text: str, target: str = "metric") -> Selector:
    """``http_req_duration{status="200",name!~"health.*"}`` → :class:`Selector`."""
    source = text.strip()
    name_match = _METRIC_NAME.match(source)
    metric = name_match.group() if name_match else ""
    rest = source[len(metric) :].strip()
    matchers: list[Matcher] = []
    if rest:
        if not (rest.startswith("{") and rest.endswith("}")):
            raise QueryError(f"'{text}' is not a selector like metric{{label=\"value\"}}.", target)
        matchers = _parse_matchers(rest[1:-1], text, target)
    named = [m for m in matchers if m.label == "__name__" and m.operator == "="]
    if not metric and named:
        metric = named[0].value
        matchers = [m for m in matchers if m is not named[0]]
    if not metric:
        raise QueryError(f"'{text}' names no metric.", target)
    return Selector(metric, tuple(matchers))


def _parse_matchers(body: str, text: str, target: str) -> list[Matcher]:
    matchers: list[Matcher] = []
    position = 0
    while position < len(body):
        if not body[position:].strip():
            break
        head = _MATCHER.match(body, position)
        if head is None:
            raise QueryError(f"'{text}': expected label=\"value\" at '{body[position:].strip()[:30]}'.", target)
        value, position = _quoted_value(body, head.end(), text, target)
        if head.group(2) in ("=~", "!~"):
            _compiled(value, text, target)
        matchers.append(Matcher(head.group(1), head.group(2), value))
        rest = body[position:].lstrip()
        if rest.startswith(","):
            position = len(body) - len(rest) + 1
        elif rest:
            raise QueryError(f"'{text}': expected ',' between label matchers.", target)
        else:
            break
    return matchers


def _quoted_value(body: str, start: int, text: str, target: str) -> tuple[str, int]:
    if start >= len(body) or body[start] not in "\"'`":
        raise QueryError(f"'{text}': label values must be quoted, e.g. name=\"login\".", target)
    quote = body[start]
    out: list[str] = []
    index = start + 1
    while index < len(body):
        char = body[index]
        if char == "\\" and quote != "`" and index + 1 < len(body):
            following = body[index + 1]
            # \" \\ \n \t are escapes; any other backslash belongs to the (regex) value, as in 2\d\d.
            out.append(_ESCAPED.get(following, following if following == quote else "\\" + following))
            index += 2
            continue
        if char == quote:
            return "".join(out), index + 1
        out.append(char)
        index += 1
    raise QueryError(f"'{text}': a label value is not closed.", target)


def _compiled(pattern: str, text: str = "", target: str = "metric") -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise QueryError(
            f"'{text or pattern}': '{pattern}' is not a valid regular expression ({exc}).", target
        ) from None


# --------------------------------------------------------------------------- query expressions


@dataclass(frozen=True)
class Query:
    """A parsed query: ``method(argument) by (by)``, optionally inside ``outer by (outer_by) (...)``."""

    method: str
    argument: float | None = None
    by: tuple[str, ...] = ()
    outer: str | None = None
    outer_by: tuple[str, ...] = ()

    def fits(self, metric_type: str) -> bool:
        """Whether the method belongs to the metric's type (otherwise the result is empty)."""
        return self.method in METHODS.get(metric_type, ())


_BY = re.compile(rf"\s*by\s*\(\s*((?:{_LABEL}\s*(?:,\s*{_LABEL}\s*)*)?)\s*\)\s*")
_HEAD = re.compile(r"\s*([A-Za-z_]\w*)\s*")


def parse_query(text: str) -> Query:
    """Parse a query expression (see the module docstring)."""
    source = text.strip()
    head = _HEAD.match(source)
    if head is None:
        raise QueryError(f"'{text}' is not a query like histogram_quantile(0.95) or ratio by (check).", "query")
    name = head.group(1)
    if name in AGGREGATORS and _wraps(source[head.end() :]):
        return _outer(name, source[head.end() :], text)
    return _inner(source, text)


def _wraps(rest: str) -> bool:
    """Whether an aggregator name is followed by ``(`` or ``by (...) (`` (an aggregation, not a method)."""
    by = _BY.match(rest)
    after = rest[by.end() :] if by else rest
    return after.lstrip().startswith("(")


def _outer(name: str, rest: str, text: str) -> Query:
    by = _BY.match(rest)
    outer_by = _labels(by.group(1)) if by else ()
    rest = rest[by.end() :] if by else rest
    rest = rest.strip()
    closing = _matching_paren(rest, text)
    inner_text, tail = rest[1:closing], rest[closing + 1 :]
    if tail.strip():
        trailing = _BY.fullmatch(tail)
        if trailing is None or by:
            raise QueryError(f"'{text}': unexpected '{tail.strip()}' after the aggregation.", "query")
        outer_by = _labels(trailing.group(1))
    inner = _inner(inner_text.strip(), text)
    return Query(inner.method, inner.argument, inner.by, name, outer_by)


def _inner(source: str, text: str) -> Query:
    head = _HEAD.match(source)
    if head is None:
        raise QueryError(f"'{text}' is not a query.", "query")
    method = head.group(1)
    if method not in ALL_METHODS:
        raise QueryError(f"Unknown query method '{method}'. Methods: {', '.join(ALL_METHODS)}.", "query")
    rest = source[head.end() :]
    argument: float | None = None
    if rest.startswith("("):
        closing = _matching_paren(rest, text)
        raw = rest[1:closing].strip()
        if not _NUMBER.fullmatch(raw):
            raise QueryError(f"'{text}': {method}() takes a number, not '{raw}'.", "query")
        argument = float(raw)
        rest = rest[closing + 1 :]
    _check_argument(method, argument, text)
    by: tuple[str, ...] = ()
    if rest.strip():
        match = _BY.fullmatch(rest)
        if match is None:
            raise QueryError(f"'{text}': expected 'by (label, ...)' after {method}, not '{rest.strip()}'.", "query")
        by = _labels(match.group(1))
    return Query(method, argument, by)


def _check_argument(method: str, argument: float | None, text: str) -> None:
    needs = _WITH_ARGUMENT.get(method)
    if needs and argument is None:
        raise QueryError(f"'{text}': {method} needs {needs}, e.g. {method}(0.95).", "query")
    if not needs and argument is not None:
        raise QueryError(f"'{text}': {method} takes no argument.", "query")
    if method == "histogram_quantile" and argument is not None and not 0 <= argument <= 1:
        raise QueryError(f"'{text}': the quantile must be between 0 and 1.", "query")
    if method == "max_rate" and argument is not None and argument <= 0:
        raise QueryError(f"'{text}': the max_rate window must be a positive number of seconds.", "query")


def _matching_paren(source: str, text: str) -> int:
    depth = 0
    for index, char in enumerate(source):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index
    raise QueryError(f"'{text}': unbalanced parentheses.", "query")


def _labels(text: str) -> tuple[str, ...]:
    return tuple(label.strip() for label in text.split(",") if label.strip())
