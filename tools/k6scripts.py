"""Reading k6 scripts: options, thresholds and their v5 metric queries, script identity. Pure, no I/O.

Shared by the simulator (which runs what a script says) and the run analysis (which judges a run by the
thresholds of the script it actually executed).

- :func:`read_script` takes a run's script bytes — plain JavaScript or a ``k6 archive`` ``.tar`` (whose
  ``metadata.json`` carries the parsed ``options``) — and gives a :class:`Script`: its sources, the options
  that could be read, the reasons others could not (``problems``), its custom metrics and its sha256.
- JavaScript options are read from the ``export const options = {...}`` object literal, best effort: literal
  values are read, computed ones (``__ENV.VUS || 10``, function calls, spreads, templates with ``${}``) are
  left out and named in ``problems`` — never guessed.
- :class:`Threshold` is one expression of ``options.thresholds``; ``parsed=False`` keeps a form this module
  does not know ("not evaluated"). :meth:`Threshold.v5_query` gives the v5 ``query_aggregate_k6`` query that
  measures it for a metric type, :meth:`Threshold.evaluate` the verdict and headroom for a measured value.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
import tarfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

METRIC_TYPES = ("counter", "gauge", "rate", "trend")

_BUILTIN_BY_TYPE: dict[str, tuple[str, ...]] = {
    "counter": (
        "http_reqs",
        "iterations",
        "dropped_iterations",
        "data_sent",
        "data_received",
        "grpc_streams",
        "grpc_streams_msgs_sent",
        "grpc_streams_msgs_received",
        "ws_sessions",
        "ws_msgs_sent",
        "ws_msgs_received",
        "browser_data_sent",
        "browser_data_received",
    ),
    "gauge": (
        "vus",
        "vus_max",
        "load_generator_cpu_percent",
        "load_generator_memory_used_percent",
        "load_generator_file_handles",
    ),
    "rate": ("http_req_failed", "checks", "browser_http_req_failed"),
    "trend": (
        "http_req_duration",
        "http_req_blocked",
        "http_req_connecting",
        "http_req_tls_handshaking",
        "http_req_sending",
        "http_req_waiting",
        "http_req_receiving",
        "iteration_duration",
        "group_duration",
        "grpc_req_duration",
        "ws_connecting",
        "ws_session_duration",
        "ws_ping",
        "browser_http_req_duration",
        "browser_web_vital_cls",
        "browser_web_vital_fcp",
        "browser_web_vital_fid",
        "browser_web_vital_inp",
        "browser_web_vital_lcp",
        "browser_web_vital_ttfb",
    ),
}
#: Type of every metric k6 (and Grafana Cloud k6) emits by itself.
BUILTIN_METRICS: Mapping[str, str] = {name: kind for kind, names in _BUILTIN_BY_TYPE.items() for name in names}

_TAR_MAGIC_OFFSET = 257
_DURATION_TOKEN = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_CUSTOM_METRIC = re.compile(r"\bnew\s+(Trend|Counter|Rate|Gauge)\s*\(\s*(['\"`])([^'\"`]+)\2")


# --------------------------------------------------------------------------- scripts


@dataclass(frozen=True)
class Script:
    """What a run's script says.

    ``source``: the JavaScript (for an archive: the main module first, then the other modules).
    ``options``: everything of the options that could be read; ``problems``: why some (or all) could not.
    ``options_origin``: ``"metadata.json"`` (archive), ``"script"`` (an options literal) or ``"none"``.
    """

    is_tar: bool
    source: str
    options: dict[str, Any]
    options_origin: str
    problems: tuple[str, ...]
    sha256: str
    custom_metrics: dict[str, str] = field(default_factory=dict)

    @property
    def media_type(self) -> str:
        return "application/x-tar" if self.is_tar else "text/javascript"

    @property
    def thresholds(self) -> tuple[Threshold, ...]:
        """Every threshold expression of the options, in the script's order."""
        return parse_thresholds(self.options.get("thresholds"))

    def metric_type(self, metric: str) -> str | None:
        """Type of a metric: a built-in one or one the script declares (``new Trend('x')``)."""
        return BUILTIN_METRICS.get(metric) or self.custom_metrics.get(metric)


def script_sha256(data: bytes) -> str:
    """The identity of "the same script": sha256 of its bytes (hex)."""
    return hashlib.sha256(data).hexdigest()


def is_tar_archive(data: bytes) -> bool:
    """True when ``data`` is a tar archive (``ustar`` magic at offset 257)."""
    return data[_TAR_MAGIC_OFFSET : _TAR_MAGIC_OFFSET + 5] == b"ustar"


def read_script(data: bytes) -> Script:
    """Read a script: JavaScript text or a k6 ``.tar`` archive."""
    if is_tar_archive(data):
        options, source, problems = read_archive(data)
        origin = "none" if problems else "metadata.json"
    else:
        source = data.decode("utf-8", errors="replace")
        options, problems, found = extract_options(source)
        origin = "script" if found else "none"
    return Script(
        is_tar=is_tar_archive(data),
        source=source,
        options=options,
        options_origin=origin,
        problems=tuple(problems),
        sha256=script_sha256(data),
        custom_metrics=custom_metrics(source),
    )


def read_archive(data: bytes) -> tuple[dict[str, Any], str, list[str]]:
    """``(options, sources, problems)`` of a k6 archive, as ``k6 archive`` lays it out.

    ``metadata.json`` holds ``options`` (already evaluated by k6) and ``filename``, the main module's URL
    (``file:///home/me/test.js``, stored under ``file/home/me/test.js``); modules are the other files.
    """
    problems: list[str] = []
    metadata: dict[str, Any] | None = None
    modules: dict[str, str] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            for member in archive.getmembers():
                if not member.isfile():
                    continue
                handle = archive.extractfile(member)
                content = handle.read() if handle else b""
                if member.name.lstrip("./") == "metadata.json":
                    metadata = _json_object(content)
                    if metadata is None:
                        problems.append("the archive's metadata.json is not a JSON object")
                elif member.name.endswith((".js", ".mjs", ".cjs", ".ts")):
                    modules[member.name.lstrip("./")] = content.decode("utf-8", errors="replace")
    except (tarfile.TarError, EOFError, OSError) as exc:
        return {}, "", [f"the archive cannot be read: {exc}"]
    if metadata is None and not problems:
        problems.append("the archive has no metadata.json, so its options cannot be read")
    options = (metadata or {}).get("options")
    if metadata is not None and options is not None and not isinstance(options, dict):
        problems.append("metadata.json's options is not an object")
    main = _archive_member(str((metadata or {}).get("filename") or ""))
    ordered = sorted(modules, key=lambda name: (name != main, name))
    source = "\n".join(modules[name] for name in ordered)
    return (options if isinstance(options, dict) else {}), source, problems


def custom_metrics(source: str) -> dict[str, str]:
    """Custom metrics a script declares: ``new Trend('cart_time')`` → ``{"cart_time": "trend"}``."""
    return {name: kind.lower() for kind, _, name in _CUSTOM_METRIC.findall(source)}


def parse_duration(value: object) -> float | None:
    """Seconds in a k6 duration (``'1h30m'``, ``'45s'``, ``'500ms'``; numbers are milliseconds)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) / 1000
    if not isinstance(value, str):
        return None
    text = value.strip()
    tokens = _DURATION_TOKEN.findall(text)
    if not tokens or "".join(n + u for n, u in tokens) != text.replace(" ", ""):
        return None
    return sum(float(number) * _DURATION_UNITS[unit] for number, unit in tokens)


def _archive_member(url: str) -> str:
    """``file:///home/me/test.js`` → ``file/home/me/test.js``."""
    match = re.match(r"^(\w+)://(.*)$", url)
    return f"{match.group(1)}/{match.group(2).lstrip('/')}" if match else url.lstrip("/")


def _json_object(content: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(content)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


# --------------------------------------------------------------------------- JavaScript options literal

_OPTIONS_DECLARATION = re.compile(r"\bexport\s+(?:const|let|var)\s+options\b\s*(?::\s*[\w.<>\[\]| ]+)?=")
_LOCAL_DECLARATION = re.compile(r"\b(?:const|let|var)\s+options\b\s*(?::\s*[\w.<>\[\]| ]+)?=")
_EXPORT_LIST = re.compile(r"\bexport\s*\{[^}]*\boptions\b[^}]*\}")
_TOKEN = re.compile(
    r"""
    (?P<space>\s+|//[^\n]*|/\*.*?\*/)
    | (?P<string>'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
    | (?P<template>`(?:[^`\\]|\\.)*`)
    | (?P<number>(?:0[xX][0-9a-fA-F_]+|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][-+]?\d+)?))
    | (?P<name>[A-Za-z_$][\w$]*)
    | (?P<punct>\.\.\.|=>|[{}\[\]():,;])
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}
_LITERAL_NAMES: dict[str, Any] = {"true": True, "false": False, "null": None}


class _Computed(Exception):
    """A value that is not a literal (its source text is the message)."""


@dataclass
class _Token:
    kind: str
    text: str
    start: int


def extract_options(source: str) -> tuple[dict[str, Any], list[str], bool]:
    """``(options, problems, found)`` from the script's ``options`` object literal.

    ``found`` is False when the script declares no options (k6 then uses its defaults).
    """
    match = _OPTIONS_DECLARATION.search(source)
    if match is None and _EXPORT_LIST.search(source):
        match = _LOCAL_DECLARATION.search(source)
    if match is None:
        return {}, [], False
    reader = _LiteralReader(source, match.end())
    value = reader.statement_value()
    if not isinstance(value, dict):
        shown = f"`{reader.computed_text}`" if reader.computed_text else "not an object literal"
        return {}, [f"options cannot be read: it is computed ({shown})"], True
    return value, reader.problems, True


class _LiteralReader:
    """Reads one JavaScript value starting at an offset, leaving computed parts out (and naming them)."""

    def __init__(self, source: str, offset: int) -> None:
        self.source = source
        self.tokens = _tokens(source, offset)
        self.position = 0
        self.problems: list[str] = []
        self.computed_text: str | None = None

    def statement_value(self) -> Any:
        try:
            return self._value("options", top=True)
        except _Computed as exc:
            self.computed_text = str(exc) or None
            return None

    # -- tokens

    def _peek(self) -> _Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _next(self) -> _Token:
        token = self._peek()
        if token is None:
            raise _Computed("an unfinished value")
        self.position += 1
        return token

    def _at(self, *texts: str) -> bool:
        token = self._peek()
        return token is not None and token.kind == "punct" and token.text in texts

    # -- values

    def _value(self, path: str, *, top: bool = False) -> Any:
        start = self.position
        try:
            value = self._primary(path)
        except _Computed:
            raise _Computed(self._skip_expression(start, top)) from None
        if not self._at_value_end(top):
            raise _Computed(self._skip_expression(start, top))
        return value

    def _primary(self, path: str) -> Any:
        token = self._next()
        if token.kind == "punct" and token.text == "{":
            return self._object(path)
        if token.kind == "punct" and token.text == "[":
            return self._array(path)
        if token.kind == "string":
            return _unquote(token.text)
        if token.kind == "template" and "${" not in token.text:
            return _unquote(token.text)
        if token.kind == "number":
            return _number(token.text)
        following = self._peek()
        if token.kind == "other" and token.text in ("-", "+") and following and following.kind == "number":
            number = _number(self._next().text)
            return -number if token.text == "-" else number
        if token.kind == "name" and token.text in _LITERAL_NAMES:
            return _LITERAL_NAMES[token.text]
        self.position -= 1
        raise _Computed("")

    def _object(self, path: str) -> dict[str, Any]:
        result: dict[str, Any] = {}
        while not self._at("}"):
            key_token = self._next()
            if key_token.kind == "punct" and key_token.text == "...":
                start = self.position
                self.problems.append(f"{path} spreads ...{self._skip_member(start)}: it is not read")
                continue
            if key_token.kind in ("string", "template"):
                key = str(_unquote(key_token.text))
            elif key_token.kind in ("name", "number"):
                key = key_token.text
            else:
                start = self.position - 1
                self.problems.append(f"{path} has a computed member ({self._skip_member(start)}): it is not read")
                continue
            member = f"{path}.{key}" if re.fullmatch(r"[A-Za-z_$][\w$]*", key) else f"{path}[{key!r}]"
            if not self._at(":"):
                start = self.position - 1
                self.problems.append(f"{member} is computed ({self._skip_member(start)}): it is not read")
                continue
            self._next()
            try:
                result[key] = self._value(member)
            except _Computed as exc:
                self.problems.append(f"{member} is computed ({exc}): it is not read")
            self._member_end()
        self._next()
        return result

    def _array(self, path: str) -> list[Any]:
        items: list[Any] = []
        position = 0
        while not self._at("]"):
            index = f"{path}[{position}]"
            position += 1
            try:
                items.append(self._value(index))
            except _Computed as exc:
                self.problems.append(f"{index} is computed ({exc}): it is not read")
            self._member_end()
        self._next()
        return items

    def _member_end(self) -> None:
        if self._at(","):
            self._next()

    def _at_value_end(self, top: bool) -> bool:
        """Whether the value read so far is complete (a statement's end at the top level)."""
        token = self._peek()
        if token is None:
            return top
        if not top:
            return token.kind == "punct" and token.text in (",", "}", "]")
        if token.kind == "punct" and token.text == ";":
            return True
        # Without a semicolon, a new line ends the statement unless the next token continues the expression.
        return self._newline_before(token) and token.kind != "other" and token.text not in ("(", "[", "=>")

    def _newline_before(self, token: _Token) -> bool:
        if self.position == 0:
            return False
        previous = self.tokens[self.position - 1]
        return "\n" in self.source[previous.start + len(previous.text) : token.start]

    def _skip_member(self, start: int) -> str:
        """Skip to the end of the current member; returns its source text. Consumes the trailing comma."""
        text = self._skip_expression(start, top=False)
        self._member_end()
        return text

    def _skip_expression(self, start: int, top: bool) -> str:
        """Move past the expression starting at token ``start``; returns its source text (shortened)."""
        depth = 0
        self.position = start
        while (token := self._peek()) is not None:
            if depth == 0 and self.position > start and self._at_value_end(top):
                break
            if token.kind == "punct" and token.text in ("(", "[", "{"):
                depth += 1
            elif token.kind == "punct" and token.text in (")", "]", "}"):
                if depth == 0:
                    break
                depth -= 1
            elif depth == 0 and token.kind == "punct" and token.text == ";":
                break
            self.position += 1
        if start >= len(self.tokens):
            return ""
        end = self.tokens[self.position - 1] if self.position > start else self.tokens[start]
        text = self.source[self.tokens[start].start : end.start + len(end.text)]
        return " ".join(text.split())[:80]


def _tokens(source: str, offset: int) -> list[_Token]:
    tokens: list[_Token] = []
    for match in _TOKEN.finditer(source, offset):
        kind = match.lastgroup or "other"
        if kind != "space":
            tokens.append(_Token(kind, match.group(), match.start()))
    return tokens


def _unquote(text: str) -> str:
    body = text[1:-1]
    out: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char != "\\" or index + 1 == len(body):
            out.append(char)
            index += 1
            continue
        code = body[index + 1]
        if code == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", body[index + 2 : index + 6]):
            out.append(chr(int(body[index + 2 : index + 6], 16)))
            index += 6
            continue
        out.append(_ESCAPES.get(code, code))
        index += 2
    return "".join(out)


def _number(text: str) -> int | float:
    clean = text.replace("_", "")
    if clean.lower().startswith("0x"):
        return int(clean, 16)
    value = float(clean)
    return int(value) if value.is_integer() and not re.search(r"[.eE]", clean) else value


# --------------------------------------------------------------------------- thresholds

_EXPRESSION = re.compile(
    r"^\s*(?P<aggregation>[A-Za-z_]\w*)\s*(?:\(\s*(?P<argument>[^)]*?)\s*\))?\s*"
    r"(?P<operator><=|>=|===|==|!=|<|>)\s*(?P<limit>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$"
)
_METRIC_KEY = re.compile(r"^\s*(?P<metric>[A-Za-z_][\w.\-]*)\s*(?:\{(?P<tags>.*)\})?\s*$", re.DOTALL)
_AGGREGATIONS = ("avg", "min", "max", "med", "count", "rate", "value")
OPERATORS = ("<", "<=", ">", ">=", "==", "===", "!=")
#: Which threshold aggregations apply to which metric type, and the v5 method that measures each.
V5_METHODS: dict[str, dict[str, str]] = {
    "trend": {"avg": "histogram_avg", "min": "histogram_min", "max": "histogram_max", "med": "histogram_quantile(0.5)"},
    "rate": {"rate": "ratio"},
    "counter": {"count": "increase", "rate": "rate"},
    "gauge": {"value": "last", "min": "min", "max": "max"},
}


@dataclass(frozen=True)
class V5Query:
    """A v5 ``query_aggregate_k6`` / ``query_range_k6`` query: ``query`` (the method) and ``metric``."""

    query: str
    metric: str

    def arguments(self) -> str:
        """The call's arguments, OData style: ``query='histogram_quantile(0.95)',metric='http_req_duration'``.

        Quotes in values are doubled (``'`` → ``''``); URL-encode the path when sending it.
        """
        return f"query={quote_argument(self.query)},metric={quote_argument(self.metric)}"


def quote_argument(value: str) -> str:
    """An OData string literal: single quotes, inner quotes doubled."""
    return "'" + value.replace("'", "''") + "'"


def v5_selector(tags: Mapping[str, str]) -> str:
    """``{"name": "login"}`` → ``{name="login"}`` (``\\`` and ``"`` escaped); ``""`` for no tags."""
    if not tags:
        return ""
    parts = [f'{key}="{_escape_label(value)}"' for key, value in tags.items()]
    return "{" + ",".join(parts) + "}"


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


@dataclass(frozen=True)
class ThresholdResult:
    """A threshold judged against a measured value.

    ``passed`` is None when the threshold could not be evaluated (``parsed=False``). A threshold whose metric
    has no observations (``measured`` None, ``observed`` False) is passed, as k6 reports it.
    ``headroom_pct``: how far the value is from the limit, relative to the limit (positive = room left,
    negative = by how much it is crossed); None for ``==``/``!=``, a zero limit or no value.
    """

    passed: bool | None
    measured: float | None
    observed: bool
    headroom_pct: float | None


@dataclass(frozen=True)
class Threshold:
    """One expression of ``options.thresholds``.

    ``key`` as written (``http_req_duration{name:login}``), split into ``metric`` and ``tags``;
    ``expression`` as written (``p(95)<500``); ``aggregation`` normalised (``p95``, ``p99.9``, ``avg``,
    ``med``, ``rate``, ``count``, ``value``, ...) with ``percentile`` (95.0) for ``p(N)``; ``operator``,
    ``limit``; ``abort_on_fail`` / ``delay_abort_eval`` from the object form. ``parsed`` is False for forms
    this module does not know, with ``problem`` saying why (and the numeric fields None).
    """

    key: str
    metric: str
    tags: dict[str, str]
    expression: str
    aggregation: str | None
    percentile: float | None
    operator: str | None
    limit: float | None
    abort_on_fail: bool = False
    delay_abort_eval: str | None = None
    parsed: bool = True
    problem: str | None = None

    def __hash__(self) -> int:  # tags is a dict; the key and expression identify a threshold
        return hash((self.key, self.expression, self.abort_on_fail))

    @property
    def selector(self) -> str:
        """The tag filter in v5 syntax: ``{name="login"}`` (``""`` without tags)."""
        return v5_selector(self.tags)

    @property
    def metric_selector(self) -> str:
        """The v5 ``metric`` argument: ``http_req_duration{name="login"}``."""
        return self.metric + self.selector

    @property
    def label(self) -> str:
        """How people write it: ``http_req_duration{name:login}: p(95)<500``."""
        return f"{self.key}: {self.expression}"

    def method(self, metric_type: str) -> str | None:
        """The v5 method measuring this threshold on a metric of ``metric_type`` (None: does not apply)."""
        if not self.parsed or self.aggregation is None:
            return None
        if self.percentile is not None:
            return f"histogram_quantile({_quantile(self.percentile)})" if metric_type == "trend" else None
        return V5_METHODS.get(metric_type, {}).get(self.aggregation)

    def v5_query(self, metric_type: str) -> V5Query | None:
        """The v5 query that measures this threshold (None when its aggregation does not fit the type)."""
        method = self.method(metric_type)
        return None if method is None else V5Query(method, self.metric_selector)

    def evaluate(self, measured: float | None) -> ThresholdResult:
        """The verdict for a measured value (None: the metric had no observations, which k6 passes)."""
        if not self.parsed or self.operator is None or self.limit is None:
            return ThresholdResult(None, measured, measured is not None, None)
        if measured is None:
            return ThresholdResult(True, None, False, None)
        return ThresholdResult(
            compare(measured, self.operator, self.limit), measured, True, headroom(measured, self.operator, self.limit)
        )


def compare(value: float, operator: str, limit: float) -> bool:
    """``value <operator> limit`` with k6's operators (``==`` and ``===`` are the same on numbers)."""
    if operator == "<":
        return value < limit
    if operator == "<=":
        return value <= limit
    if operator == ">":
        return value > limit
    if operator == ">=":
        return value >= limit
    if operator in ("==", "==="):
        return math.isclose(value, limit, rel_tol=1e-9, abs_tol=1e-12)
    if operator == "!=":
        return not math.isclose(value, limit, rel_tol=1e-9, abs_tol=1e-12)
    raise ValueError(f"unknown operator {operator!r}")


def headroom(value: float, operator: str, limit: float) -> float | None:
    """Room left before the limit, in % of the limit (negative: crossed by that much)."""
    if limit == 0 or operator not in ("<", "<=", ">", ">="):
        return None
    room = limit - value if operator in ("<", "<=") else value - limit
    return round(room / abs(limit) * 100, 2)


def parse_thresholds(raw: object) -> tuple[Threshold, ...]:
    """Every expression of an ``options.thresholds`` object (key order kept); ``()`` when there is none."""
    if not isinstance(raw, dict):
        return ()
    thresholds: list[Threshold] = []
    for key, items in raw.items():
        for item in items if isinstance(items, list) else [items]:
            thresholds.append(parse_threshold(str(key), item))
    return tuple(thresholds)


def parse_threshold(key: str, item: object) -> Threshold:
    """One threshold: ``key`` (metric + tag filter) and an expression string or ``{threshold, ...}`` object."""
    abort_on_fail, delay, expression = False, None, item
    if isinstance(item, dict):
        expression = item.get("threshold")
        abort_on_fail = item.get("abortOnFail") is True
        raw_delay = item.get("delayAbortEval")
        delay = str(raw_delay) if raw_delay is not None else None
    text = expression if isinstance(expression, str) else json.dumps(expression)
    try:
        metric, tags = parse_metric_key(key)
    except ValueError as exc:
        return _unparsed(key, key.strip(), {}, text, str(exc), abort_on_fail, delay)
    if not isinstance(expression, str):
        return _unparsed(key, metric, tags, text, "the threshold is not an expression string", abort_on_fail, delay)
    problem, parts = _parse_expression(expression)
    if parts is None:
        return _unparsed(key, metric, tags, text, problem, abort_on_fail, delay)
    aggregation, percentile, operator, limit = parts
    return Threshold(key, metric, tags, expression, aggregation, percentile, operator, limit, abort_on_fail, delay)


def parse_metric_key(key: str) -> tuple[str, dict[str, str]]:
    """``http_req_duration{name:login,method:GET}`` → ``("http_req_duration", {...})``. Raises ValueError."""
    match = _METRIC_KEY.match(key)
    if match is None:
        raise ValueError(f"'{key}' is not a metric name with an optional {{tag:value}} filter")
    tags: dict[str, str] = {}
    body = match.group("tags")
    for part in _split_tags(body) if body and body.strip() else []:
        name, colon, value = part.partition(":")
        if not colon or not name.strip():
            raise ValueError(f"'{part.strip()}' in '{key}' is not tag:value")
        tags[name.strip()] = _strip_quotes(value.strip())
    return match.group("metric"), tags


def _split_tags(body: str) -> Iterator[str]:
    """Split ``a:1,b:"x,y"`` on commas outside quotes."""
    current: list[str] = []
    quote: str | None = None
    for char in body:
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == ",":
            yield "".join(current)
            current = []
            continue
        current.append(char)
    yield "".join(current)


def _strip_quotes(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _parse_expression(text: str) -> tuple[str, tuple[str, float | None, str, float] | None]:
    match = _EXPRESSION.match(text)
    if match is None:
        return f"'{text}' is not '<aggregation> <operator> <number>'", None
    name, argument = match.group("aggregation"), match.group("argument")
    percentile: float | None = None
    if name == "p":
        if argument is None or not re.fullmatch(r"\d+(?:\.\d+)?", argument):
            return f"'{text}': p() needs a percentile, e.g. p(95)", None
        percentile = float(argument)
        if not 0 <= percentile <= 100:
            return f"'{text}': the percentile must be between 0 and 100", None
        aggregation = f"p{percentile:g}"
    elif name in _AGGREGATIONS and argument is None:
        aggregation = name
    else:
        return f"'{text}': unknown aggregation '{name}{'(' + argument + ')' if argument is not None else ''}'", None
    return "", (aggregation, percentile, match.group("operator"), float(match.group("limit")))


def _unparsed(
    key: str, metric: str, tags: dict[str, str], text: str, problem: str, abort_on_fail: bool, delay: str | None
) -> Threshold:
    return Threshold(key, metric, tags, text, None, None, None, None, abort_on_fail, delay, False, problem)


def _quantile(percentile: float) -> str:
    """95 → ``0.95``, 99.9 → ``0.999``, 50 → ``0.5`` (no float noise)."""
    text = f"{percentile / 100:.6f}".rstrip("0")
    return text + "0" if text.endswith(".") else text
