"""What the simulator needs out of a k6 script: load profile, requests, checks, thresholds, outcome marker.

Options and thresholds are read by :mod:`tools.k6scripts` (shared with the run analysis). On top of that the
simulator reads, best effort and with regular expressions, what the default function *does*: its
``http.get/post/...`` calls (method, URL, ``tags.name``, group), browser ``page.goto`` calls, its ``check()``
names (and the status a check expects, which becomes the request's status), and its ``sleep()`` time.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
from dataclasses import dataclass
from typing import Any

from tools.k6scripts import Script, is_tar_archive, parse_duration, read_script

__all__ = [
    "OUTCOMES",
    "RequestSpec",
    "ScriptInfo",
    "analyze_script",
    "curve_at",
    "is_tar_archive",
    "load_profile",
    "parse_duration",
    "vu_curve",
]

DEFAULT_VUS = 10
DEFAULT_DURATION_S = 300
DEFAULT_LOAD_ZONE = "amazon:us:ashburn"
OUTCOMES = ("passed", "failed", "error", "threshold_abort", "system_abort")
DEFAULT_URL = "https://quickpizza.grafana.com/"
ITERATIONS_EXECUTOR_GUESS_S = 2.0  # seconds an iteration of a per-vu/shared-iterations scenario is assumed to take

_OUTCOME_MARKER = re.compile(r"//\s*k6bot-sim:\s*outcome\s*=\s*([a-z_]+)")
_BROWSER = re.compile(r"k6/(?:experimental/)?browser|type\s*:\s*['\"]chromium['\"]")
_HTTP_CALL = re.compile(
    r"(?:\b(?:const|let|var)\s+(?P<var>[A-Za-z_$][\w$]*)\s*=\s*)?(?:await\s+)?"
    r"\bhttp\.(?P<method>get|post|put|patch|del|head|options|request)\s*\("
)
_PAGE_GOTO = re.compile(r"\bpage\.goto\s*\(")
_CHECK_CALL = re.compile(r"\bcheck\s*\(\s*(?P<subject>[^,]+?)\s*,\s*\{")
_QUOTED_KEY = re.compile(r"(['\"`])((?:(?!\1).)+)\1\s*:")
_STATUS_TEST = re.compile(r"\bstatus\s*===?\s*(\d{3})")
_GROUP_CALL = re.compile(r"\bgroup\s*\(\s*(['\"`])((?:(?!\1).)+)\1\s*,")
_SLEEP = re.compile(r"\bsleep\s*\(\s*(\d+(?:\.\d+)?)?")
_CONSTANT = re.compile(r"\b(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=\s*(?:__ENV\.\w+\s*\|\|\s*)?(['\"`])([^'\"`$]*)\2")
_TAG_NAME = re.compile(r"\btags\s*:\s*\{[^}]*?\bname\s*:\s*(['\"`])((?:(?!\1).)+)\1")
_PLACEHOLDER = re.compile(r"\$\{\s*([^}]*?)\s*\}")


@dataclass(frozen=True)
class RequestSpec:
    """One request the script makes per iteration (or one page a browser script opens)."""

    method: str
    url: str
    name: str
    group: str = ""
    expected_status: int = 200
    checks: tuple[str, ...] = ()
    page: bool = False


@dataclass(frozen=True)
class ScriptInfo:
    """What a script means to the simulator (``script`` is what :func:`tools.k6scripts.read_script` read)."""

    script: Script
    max_vus: int
    browser_vus: int
    duration_s: int
    distribution: tuple[tuple[str, int], ...]
    vu_curve: tuple[tuple[float, float], ...]
    requests: tuple[RequestSpec, ...]
    check_names: tuple[str, ...]
    sleep_s: float
    scenario: str = "default"
    outcome_marker: str | None = None

    @property
    def is_tar(self) -> bool:
        return self.script.is_tar

    @property
    def options(self) -> dict[str, Any]:
        return self.script.options

    @property
    def thresholds(self) -> dict[str, list[str]]:
        """``{key: [expression, ...]}`` of ``options.thresholds`` (object forms reduced to their expression)."""
        result: dict[str, list[str]] = {}
        for threshold in self.script.thresholds:
            result.setdefault(threshold.key, []).append(threshold.expression)
        return result

    @property
    def media_type(self) -> str:
        """The content type the script is served with."""
        return self.script.media_type


@functools.lru_cache(maxsize=256)
def analyze_script(data: bytes) -> ScriptInfo:
    """Derive the load profile, traffic and simulator hints from a script (JavaScript text or k6 archive).

    Cached: the result is shared, so treat its ``options`` as read-only.
    """
    script = read_script(data)
    text = script.source
    curve = vu_curve(script.options)
    max_vus = max(1, round(max(vus for _, vus in curve)))
    marker = _OUTCOME_MARKER.search(text)
    is_browser = bool(_BROWSER.search(text)) or "chromium" in json.dumps(script.options)
    checks = _checks(text)
    requests = _requests(text, checks, is_browser)
    return ScriptInfo(
        script=script,
        max_vus=max_vus,
        browser_vus=max_vus if is_browser else 0,
        duration_s=max(1, round(curve[-1][0])),
        distribution=_distribution(script.options),
        vu_curve=curve,
        requests=requests,
        check_names=tuple(checks),
        sleep_s=_sleep_seconds(text),
        scenario=next(iter(_scenarios(script.options)), "default"),
        outcome_marker=marker.group(1) if marker and marker.group(1) in OUTCOMES else None,
    )


def load_profile(options: dict[str, Any]) -> tuple[int, int, tuple[tuple[str, int], ...]]:
    """``(max_vus, duration_s, distribution)`` of an options object, with the simulator's defaults."""
    curve = vu_curve(options)
    return max(1, round(max(vus for _, vus in curve))), max(1, round(curve[-1][0])), _distribution(options)


def vu_curve(options: dict[str, Any]) -> tuple[tuple[float, float], ...]:
    """Active VUs over the run as ``(second, vus)`` breakpoints (linear in between), from the options.

    ``stages`` ramp from ``vus`` (or 1), ``vus`` + ``duration`` is constant, ``scenarios`` add up (with their
    ``startTime``); without any of these the simulator's default is 10 VUs for 5 minutes.
    """
    scenarios = _scenarios(options)
    if scenarios:
        curves = [_scenario_curve(spec) for spec in scenarios.values()]
        return _add_curves([curve for curve in curves if curve]) or _default_curve()
    stages = _stage_list(options.get("stages"))
    vus = _as_number(options.get("vus"))
    if stages:
        return _ramp(vus if vus is not None else 1.0, stages, 0.0) or _default_curve()
    duration = parse_duration(options.get("duration"))
    if vus or duration:
        seconds = duration or DEFAULT_DURATION_S
        level = vus or (1.0 if duration else DEFAULT_VUS)
        return ((0.0, level), (seconds, level))
    return _default_curve()


def _default_curve() -> tuple[tuple[float, float], ...]:
    return ((0.0, float(DEFAULT_VUS)), (float(DEFAULT_DURATION_S), float(DEFAULT_VUS)))


def _scenarios(options: dict[str, Any]) -> dict[str, dict[str, Any]]:
    raw = options.get("scenarios")
    if not isinstance(raw, dict):
        return {}
    return {str(name): spec for name, spec in raw.items() if isinstance(spec, dict)}


def _scenario_curve(spec: dict[str, Any]) -> tuple[tuple[float, float], ...]:
    start = parse_duration(spec.get("startTime")) or 0.0
    executor = spec.get("executor")
    stages = _stage_list(spec.get("stages"))
    if executor == "ramping-vus" and stages:
        return _ramp(_as_number(spec.get("startVUs")) or 1.0, stages, start)
    if executor == "ramping-arrival-rate" and stages:
        vus = _as_number(spec.get("preAllocatedVUs")) or _as_number(spec.get("maxVUs")) or 1.0
        seconds = sum(duration for duration, _ in stages)
        return ((start, vus), (start + seconds, vus))
    if executor in ("per-vu-iterations", "shared-iterations"):
        vus = _as_number(spec.get("vus")) or 1.0
        iterations = _as_number(spec.get("iterations")) or 1.0
        per_vu = iterations if executor == "per-vu-iterations" else iterations / vus
        limit = parse_duration(spec.get("maxDuration")) or 600.0
        seconds = min(limit, max(1.0, per_vu * ITERATIONS_EXECUTOR_GUESS_S))
        return ((start, vus), (start + seconds, vus))
    vus = (
        _as_number(spec.get("vus")) or _as_number(spec.get("preAllocatedVUs")) or _as_number(spec.get("maxVUs")) or 1.0
    )
    seconds = parse_duration(spec.get("duration")) or 0.0
    return ((start, vus), (start + seconds, vus)) if seconds > 0 else ()


def _stage_list(raw: object) -> list[tuple[float, float]]:
    stages: list[tuple[float, float]] = []
    for stage in raw if isinstance(raw, list) else []:
        if not isinstance(stage, dict):
            continue
        seconds = parse_duration(stage.get("duration"))
        target = _as_number(stage.get("target"))
        if seconds is not None and target is not None:
            stages.append((seconds, max(0.0, target)))
    return stages


def _ramp(start_vus: float, stages: list[tuple[float, float]], offset: float) -> tuple[tuple[float, float], ...]:
    points = [(offset, max(0.0, start_vus))]
    for seconds, target in stages:
        points.append((points[-1][0] + seconds, target))
    return tuple(points) if points[-1][0] > offset else ()


def _add_curves(curves: list[tuple[tuple[float, float], ...]]) -> tuple[tuple[float, float], ...]:
    """Sum of piecewise-linear curves (each 0 outside its own span)."""
    times = sorted({t for curve in curves for t, _ in curve} | {0.0})
    total = [(t, sum(curve_at(curve, t) for curve in curves)) for t in times]
    return tuple(total) if len(total) > 1 else ()


def curve_at(curve: tuple[tuple[float, float], ...], t: float) -> float:
    """VUs at ``t`` on a piecewise-linear curve (0 outside it)."""
    if not curve or t < curve[0][0] or t > curve[-1][0]:
        return 0.0
    for (t0, v0), (t1, v1) in itertools.pairwise(curve):
        if t0 <= t <= t1:
            return v0 if t1 == t0 else v0 + (v1 - v0) * (t - t0) / (t1 - t0)
    return curve[-1][1]


def _checks(text: str) -> dict[str, tuple[str, int | None]]:
    """``{check name: (subject variable, status it expects or None)}`` in source order."""
    checks: dict[str, tuple[str, int | None]] = {}
    for call in _CHECK_CALL.finditer(text):
        block = _balanced(text, call.end() - 1, "{", "}")
        keys = list(_QUOTED_KEY.finditer(block))
        for index, key in enumerate(keys):
            end = keys[index + 1].start() if index + 1 < len(keys) else len(block)
            status = _STATUS_TEST.search(block[key.end() : end])
            checks.setdefault(key.group(2), (call.group("subject").strip(), int(status.group(1)) if status else None))
    return checks


def _requests(text: str, checks: dict[str, tuple[str, int | None]], is_browser: bool) -> tuple[RequestSpec, ...]:
    constants = {name: value for name, _, value in _CONSTANT.findall(text)}
    groups = _groups(text)
    found: list[RequestSpec] = []
    responses: set[str] = set()
    for call in _HTTP_CALL.finditer(text):
        if call.group("var"):
            responses.add(call.group("var"))
        arguments = _balanced(text, call.end() - 1, "(", ")")
        method = call.group("method").upper().replace("DEL", "DELETE")
        parts = _split_arguments(arguments)
        if method == "REQUEST":
            method = (_literal(parts[0], constants) or "GET").upper() if parts else "GET"
            parts = parts[1:]
        url = _literal(parts[0], constants) if parts else None
        found.append(_request(method, url or "${}", arguments, call.group("var"), checks, _group_at(groups, call)))
    for call in _PAGE_GOTO.finditer(text):
        parts = _split_arguments(_balanced(text, call.end() - 1, "(", ")"))
        url = (_literal(parts[0], constants) if parts else None) or DEFAULT_URL
        page_checks = tuple(name for name, (subject, _) in checks.items() if subject not in responses)
        found.append(RequestSpec("GET", url, url, _group_at(groups, call), 200, page_checks, page=True))
    if not is_browser:
        found = [request for request in found if not request.page]
    return tuple(_unique(found))


def _request(
    method: str,
    url: str,
    arguments: str,
    variable: str | None,
    checks: dict[str, tuple[str, int | None]],
    group: str,
) -> RequestSpec:
    tag = _TAG_NAME.search(arguments)
    own = [(name, status) for name, (subject, status) in checks.items() if variable and subject == variable]
    statuses = [status for _, status in own if status is not None]
    return RequestSpec(
        method=method,
        url=url,
        name=tag.group(2) if tag else url,
        group=group,
        expected_status=statuses[0] if statuses else 200,
        checks=tuple(name for name, _ in own),
    )


def _unique(requests: list[RequestSpec]) -> list[RequestSpec]:
    """One spec per (method, name, group, status); the same call twice means twice the traffic elsewhere."""
    seen: dict[tuple[str, str, str, int], RequestSpec] = {}
    for request in requests:
        key = (request.method, request.name, request.group, request.expected_status)
        seen.setdefault(key, request)
    return list(seen.values())


def _groups(text: str) -> list[tuple[int, int, str]]:
    spans: list[tuple[int, int, str]] = []
    for call in _GROUP_CALL.finditer(text):
        brace = text.find("{", call.end())
        if brace == -1:
            continue
        body = _balanced(text, brace, "{", "}")
        spans.append((brace, brace + len(body) + 2, call.group(2)))
    return spans


def _group_at(groups: list[tuple[int, int, str]], call: re.Match[str]) -> str:
    """k6's ``group`` tag: ``::outer::inner`` for nested groups, ``""`` outside any group."""
    names = [name for start, end, name in groups if start <= call.start() < end]
    return "".join(f"::{name}" for name in names)


def _literal(argument: str, constants: dict[str, str]) -> str | None:
    """The value of a string/template argument; ``${CONST}`` resolved when known, other ``${...}`` kept as ``${}``."""
    text = argument.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"`":
        body = text[1:-1]
        if text[0] != "`":
            return body
        return _PLACEHOLDER.sub(lambda match: constants.get(match.group(1), "${}"), body)
    return constants.get(text)


def _split_arguments(arguments: str) -> list[str]:
    """Top-level comma-separated arguments of a call (strings and brackets respected)."""
    parts: list[str] = []
    depth, quote, current = 0, "", []
    index = 0
    while index < len(arguments):
        char = arguments[index]
        current.append(char)
        if quote:
            if char == "\\" and index + 1 < len(arguments):
                current.append(arguments[index + 1])
                index += 1
            elif char == quote:
                quote = ""
        elif char in "'\"`":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            current.pop()
            parts.append("".join(current).strip())
            current = []
        index += 1
    if "".join(current).strip():
        parts.append("".join(current).strip())
    return parts


def _balanced(text: str, open_index: int, opener: str, closer: str) -> str:
    """The text between the bracket at ``open_index`` and its partner (quotes respected)."""
    depth, quote = 0, ""
    index = open_index
    while index < len(text):
        char = text[index]
        if quote:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = ""
        elif char in "'\"`":
            quote = char
        elif char == opener:
            depth += 1
        elif char == closer:
            depth -= 1
            if depth == 0:
                return text[open_index + 1 : index]
        index += 1
    return text[open_index + 1 :]


def _sleep_seconds(text: str) -> float:
    """Seconds the default function sleeps per iteration (an unreadable ``sleep(x)`` counts as 1 s)."""
    return sum(float(value) if value else 1.0 for value in _SLEEP.findall(text))


def _distribution(options: dict[str, Any]) -> tuple[tuple[str, int], ...]:
    cloud = options.get("cloud")
    if not isinstance(cloud, dict):
        ext = options.get("ext")
        loadimpact = ext.get("loadimpact") if isinstance(ext, dict) else None
        cloud = loadimpact if isinstance(loadimpact, dict) else {}
    raw = cloud.get("distribution")
    zones: list[tuple[str, int]] = []
    if isinstance(raw, dict):
        for key, spec in raw.items():
            if isinstance(spec, dict):
                zone = spec.get("loadZone") if isinstance(spec.get("loadZone"), str) else key
                zones.append((str(zone), _as_int(spec.get("percent")) or 0))
    return tuple(zones) or ((DEFAULT_LOAD_ZONE, 100),)


def _as_number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None
