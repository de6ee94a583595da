"""Reading what the simulator needs out of a k6 script: options, load profile, checks, outcome marker.

JavaScript is read with regular expressions (good enough for ordinary ``export const options = {...}``
literals); a k6 ``.tar`` archive is read properly through its ``metadata.json``.
"""

from __future__ import annotations

import functools
import io
import json
import re
import tarfile
from dataclasses import dataclass, field
from typing import Any

DEFAULT_VUS = 10
DEFAULT_DURATION_S = 300
DEFAULT_LOAD_ZONE = "amazon:us:ashburn"
OUTCOMES = ("passed", "failed", "error", "threshold_abort", "system_abort")
DEFAULT_CHECKS = ("status is 200", "response time < 500ms")

_TAR_MAGIC_OFFSET = 257
_DURATION_TOKEN = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_OUTCOME_MARKER = re.compile(r"//\s*k6bot-sim:\s*outcome\s*=\s*([a-z_]+)")
_VUS = re.compile(r"\bvus\s*:\s*(\d+)")
_DURATION = re.compile(r"\bduration\s*:\s*['\"`]([^'\"`]+)['\"`]")
_TARGET = re.compile(r"\btarget\s*:\s*(\d+)")
_STAGES = re.compile(r"\bstages\s*:\s*\[(.*?)\]", re.DOTALL)
_OBJECT = re.compile(r"\{[^{}]*\}")
_ZONE = re.compile(r"loadZone\s*:\s*['\"]([^'\"]+)['\"]\s*,\s*percent\s*:\s*(\d+)")
_CHECK_CALL = re.compile(r"\bcheck\(\s*[^,]+,\s*\{(.*?)\}\s*\)", re.DOTALL)
_QUOTED_KEY = re.compile(r"['\"]([^'\"]+)['\"]\s*:")
_THRESHOLD_ENTRY = re.compile(r"(['\"]?)([\w.{}:\s-]+?)\1\s*:\s*\[([^\]]*)\]")
_QUOTED = re.compile(r"['\"]([^'\"]+)['\"]")
_BROWSER = re.compile(r"k6/(?:experimental/)?browser|type\s*:\s*['\"]chromium['\"]")


@dataclass(frozen=True)
class ScriptInfo:
    """What a script means to the simulator."""

    is_tar: bool
    options: dict[str, Any]
    max_vus: int
    browser_vus: int
    duration_s: int
    distribution: tuple[tuple[str, int], ...]
    outcome_marker: str | None = None
    check_names: tuple[str, ...] = DEFAULT_CHECKS
    thresholds: dict[str, list[str]] = field(default_factory=dict)

    @property
    def media_type(self) -> str:
        """The content type the script is served with."""
        return "application/x-tar" if self.is_tar else "text/javascript"


def is_tar_archive(data: bytes) -> bool:
    """True when ``data`` is a tar archive (``ustar`` magic at offset 257)."""
    return data[_TAR_MAGIC_OFFSET : _TAR_MAGIC_OFFSET + 5] == b"ustar"


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


@functools.lru_cache(maxsize=256)
def analyze_script(data: bytes) -> ScriptInfo:
    """Derive the load profile and simulator hints from a script (JavaScript text or k6 archive).

    Cached: the result is shared, so treat its ``options`` as read-only.
    """
    if is_tar_archive(data):
        options, sources = _read_archive(data)
        return _build_info(True, options, sources)
    text = data.decode("utf-8", errors="replace")
    return _build_info(False, extract_js_options(text), text)


def load_profile(options: dict[str, Any]) -> tuple[int, int, tuple[tuple[str, int], ...]]:
    """``(max_vus, duration_s, distribution)`` of an options object, with the simulator's defaults."""
    stages = options.get("stages") if isinstance(options.get("stages"), list) else None
    vus = _as_int(options.get("vus"))
    duration = parse_duration(options.get("duration"))
    if stages:
        targets = [_as_int(stage.get("target")) or 0 for stage in stages if isinstance(stage, dict)]
        seconds = [parse_duration(stage.get("duration")) or 0 for stage in stages if isinstance(stage, dict)]
        max_vus = max([*targets, vus or 0]) or DEFAULT_VUS
        duration_s = int(sum(seconds)) or DEFAULT_DURATION_S
    else:
        max_vus = vus or DEFAULT_VUS
        duration_s = int(duration) if duration else DEFAULT_DURATION_S
    return max_vus, duration_s, _distribution(options)


def extract_js_options(text: str) -> dict[str, Any]:
    """The parts of a JavaScript ``options`` literal the simulator understands."""
    options: dict[str, Any] = {}
    stages_match = _STAGES.search(text)
    rest = text
    if stages_match:
        options["stages"] = _parse_stages(stages_match.group(1))
        rest = text[: stages_match.start()] + text[stages_match.end() :]
    vus = _VUS.search(rest)
    if vus:
        options["vus"] = int(vus.group(1))
    duration = _DURATION.search(rest)
    if duration and parse_duration(duration.group(1)) is not None:
        options["duration"] = duration.group(1)
    thresholds = _parse_thresholds(text)
    if thresholds:
        options["thresholds"] = thresholds
    zones = _ZONE.findall(text)
    if zones:
        distribution = {zone: {"loadZone": zone, "percent": int(pct)} for zone, pct in zones}
        options["cloud"] = {"distribution": distribution}
    return options


def check_names(text: str) -> tuple[str, ...]:
    """Names of the checks a script declares (``check(res, {'name': fn})``)."""
    names: list[str] = []
    for block in _CHECK_CALL.findall(text):
        for name in _QUOTED_KEY.findall(block):
            if name not in names:
                names.append(name)
    return tuple(names) or DEFAULT_CHECKS


def _build_info(is_tar: bool, options: dict[str, Any], text: str) -> ScriptInfo:
    max_vus, duration_s, distribution = load_profile(options)
    marker = _OUTCOME_MARKER.search(text)
    outcome = marker.group(1) if marker and marker.group(1) in OUTCOMES else None
    is_browser = bool(_BROWSER.search(text)) or "chromium" in json.dumps(options)
    raw_thresholds = options.get("thresholds")
    thresholds = raw_thresholds if isinstance(raw_thresholds, dict) else {}
    return ScriptInfo(
        is_tar=is_tar,
        options=options,
        max_vus=max_vus,
        browser_vus=max_vus if is_browser else 0,
        duration_s=duration_s,
        distribution=distribution,
        outcome_marker=outcome,
        check_names=check_names(text),
        thresholds={str(k): _threshold_exprs(v) for k, v in thresholds.items()},
    )


def _read_archive(data: bytes) -> tuple[dict[str, Any], str]:
    options: dict[str, Any] = {}
    sources: list[str] = []
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            for member in archive.getmembers():
                if not member.isfile():
                    continue
                handle = archive.extractfile(member)
                content = handle.read() if handle else b""
                if member.name.endswith("metadata.json"):
                    options = _archive_options(content)
                elif member.name.endswith((".js", ".mjs", ".ts")):
                    sources.append(content.decode("utf-8", errors="replace"))
    except (tarfile.TarError, EOFError):
        pass
    return options, "\n".join(sources)


def _archive_options(content: bytes) -> dict[str, Any]:
    try:
        metadata = json.loads(content)
    except ValueError:
        return {}
    options = metadata.get("options") if isinstance(metadata, dict) else None
    return options if isinstance(options, dict) else {}


def _parse_stages(block: str) -> list[dict[str, Any]]:
    stages: list[dict[str, Any]] = []
    for obj in _OBJECT.findall(block):
        duration = _DURATION.search(obj)
        target = _TARGET.search(obj)
        if duration and target:
            stages.append({"duration": duration.group(1), "target": int(target.group(1))})
    return stages


def _parse_thresholds(text: str) -> dict[str, list[str]]:
    start = re.search(r"\bthresholds\s*:\s*\{", text)
    if not start:
        return {}
    block = _balanced_block(text, start.end() - 1)
    thresholds: dict[str, list[str]] = {}
    for _, name, body in _THRESHOLD_ENTRY.findall(block):
        exprs = [expr for expr in _QUOTED.findall(body) if "<" in expr or ">" in expr]
        if exprs:
            thresholds[name.strip()] = exprs
    return thresholds


def _balanced_block(text: str, open_index: int) -> str:
    depth = 0
    for index in range(open_index, len(text)):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return text[open_index + 1 : index]
    return text[open_index + 1 :]


def _threshold_exprs(value: object) -> list[str]:
    items = value if isinstance(value, list) else [value]
    exprs: list[str] = []
    for item in items:
        if isinstance(item, str):
            exprs.append(item)
        elif isinstance(item, dict) and isinstance(item.get("threshold"), str):
            exprs.append(item["threshold"])
    return exprs


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


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None
