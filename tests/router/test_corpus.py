"""The phrasing corpus: what people type into Slack or the terminal, and what it must mean.

Every entry of ``corpus.yaml`` is one test case: ``explain()`` the text against the simulator's demo data
(over real HTTP, clock frozen, K6BOT_TIMEZONE=UTC), compare the answer with the expected meaning, and check
that explaining sent the API nothing but GET requests. The file's header documents the entry format and
the placeholders. The loader and :func:`judge` are shared with ``bench/bench_language.py``, which scores the
held-out twin of this file, so both read the same format the same way.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import yaml
from pydantic import AliasChoices

from bot.router.commands import BOT_COMMAND_SPECS
from tests.conftest import TEST_STACK, TEST_TOKEN, make_settings
from tools.client import K6CloudClient
from tools.registry import Registry, Safety, Toolbox, get_registry
from tools.simulator import Simulator, SimulatorServer

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).with_name("corpus.yaml")
HELDOUT = ROOT / "bench" / "phrasings_heldout.yaml"
HELDOUT_2 = ROOT / "bench" / "phrasings_heldout_2.yaml"
"""The second held-out set (80 phrasings, written without looking at the parser or the other files)."""
HELDOUT_3 = ROOT / "bench" / "phrasings_heldout_3.yaml"
"""The third held-out set (100 phrasings in real use's proportions, written blind; tests/router/test_heldout_files.py)."""
HELDOUT_4 = ROOT / "bench" / "phrasings_heldout_4.yaml"
"""The fourth held-out set (100 phrasings of an ordinary week, written blind; tests/router/test_heldout_files.py)."""
HELDOUT_5 = ROOT / "bench" / "phrasings_heldout_5.yaml"
"""The fifth held-out set (100 phrasings, written blind) in its own world, bench/world_5.py, not the demo."""
DEV_A = Path(__file__).with_name("corpus_dev_a.yaml")
"""Phrasings tuned on against dev world A (bench/dev_world_a.py), a stack whose names are not the demo's."""

DEV_B = Path(__file__).with_name("corpus_dev_b.yaml")
"""Phrasings about another world (bench/dev_world_b.py: names unlike the demo's), explained against that world."""

BOT_COMMANDS = frozenset({"help", "subscribe", "unsubscribe", "subscriptions", "audit", "watch"})
ACTS_AS = {spec.name.value: spec.acts_as for spec in BOT_COMMAND_SPECS.values() if spec.acts_as}
"""Bot commands that explain reports as the registry operation they are a front-end's way of doing."""
PENDING_OPERATIONS: frozenset[str] = frozenset()
"""Issue 9's operations: their entries are skipped (and left out of the bench's rates) until declared."""

ABORTABLE = frozenset({"created", "queued", "initializing", "running"})
RUN_FILTERS = frozenset({"load_test", "project", "result", "status"})
ID_KEYS = frozenset({"load_test", "project", "to_project", "test_run", "against"})
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")
HOURS_SLACK = timedelta(minutes=2)
AT_HORIZON = timedelta(days=8)


class CorpusError(ValueError):
    """An entry of a phrasing file is malformed (a mistake in the file, not in the parser)."""


# --------------------------------------------------------------------------- entries


@dataclass(frozen=True)
class Entry:
    """One phrasing and what it must mean."""

    text: str
    where: str
    operation: str | None = None
    arguments: Any = None
    choices: tuple[Any, ...] | None = None
    forbid: str | None = None  # "write" or "understood"

    @property
    def expects(self) -> str:
        if self.operation is not None:
            return f"{self.operation} {_short(self.arguments) if self.arguments is not None else ''}".strip()
        if self.choices is not None:
            return f"choices {_short(list(self.choices))}"
        return f"not {self.forbid}"


def load_entries(path: Path) -> list[Entry]:
    """Read and check a phrasing file; a malformed entry raises :class:`CorpusError` naming it."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, list):
        raise CorpusError(f"{path.name}: expected a list of entries")
    entries, seen = [], set()
    for index, item in enumerate(raw, start=1):
        where = f"{path.name} entry {index}"
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise CorpusError(f"{where}: an entry is a mapping with a string 'text'")
        unknown = set(item) - {"text", "operation", "arguments", "choices", "not"}
        if unknown:
            raise CorpusError(f"{where}: unknown key(s) {sorted(unknown)}")
        kinds = [key for key in ("operation", "choices", "not") if key in item]
        if len(kinds) != 1:
            raise CorpusError(f"{where}: give exactly one of operation, choices, not (got {kinds})")
        if "arguments" in item and "operation" not in item:
            raise CorpusError(f"{where}: 'arguments' belongs to an 'operation'")
        if item["text"] in seen:
            raise CorpusError(f"{where}: {item['text']!r} appears twice")
        seen.add(item["text"])
        if "not" in item and item["not"] not in ("write", "understood"):
            raise CorpusError(f"{where}: 'not' is 'write' or 'understood'")
        choices = item.get("choices")
        if choices is not None and not isinstance(choices, list):
            raise CorpusError(f"{where}: 'choices' is a list")
        _check_placeholders(item.get("arguments"), where)
        entries.append(
            Entry(
                text=item["text"],
                where=where,
                operation=item.get("operation"),
                arguments=item.get("arguments"),
                choices=tuple(choices) if choices is not None else None,
                forbid=item.get("not"),
            )
        )
    return entries


def _check_placeholders(value: Any, where: str) -> None:
    """Fail early on a misspelt placeholder instead of comparing against the literal string."""
    if isinstance(value, str) and value.startswith("$"):
        name = value[1:].split(":", 1)[0]
        if name not in {"today", "yesterday", "days_ago", "hours_ago", "at", *WEEKDAYS}:
            raise CorpusError(f"{where}: unknown placeholder {value!r}")
    elif isinstance(value, dict):
        for key, item in value.items():
            if key.startswith("$") and key not in ("$one_of", "$newest_run", "$newest_run_test", "$each_run"):
                raise CorpusError(f"{where}: unknown placeholder {key!r}")
            if key in ("$newest_run", "$newest_run_test", "$each_run") and (
                not isinstance(item, dict) or set(item) - RUN_FILTERS
            ):
                raise CorpusError(f"{where}: {key} takes filters among {sorted(RUN_FILTERS)}")
            _check_placeholders(item, where)
    elif isinstance(value, list):
        for item in value:
            _check_placeholders(item, where)


# --------------------------------------------------------------------------- facts the placeholders read


@dataclass(frozen=True)
class RunFact:
    id: int
    test_id: int
    project_id: int
    status: str
    result: str | None
    created: datetime


@dataclass(frozen=True)
class Facts:
    """What expectations depend on: the runs in the API (newest first) and the clock."""

    runs: tuple[RunFact, ...]
    now: datetime
    zone: tzinfo

    def at(self, now: datetime) -> Facts:
        return replace(self, now=now.astimezone(self.zone))

    def midnight(self, days_ago: int = 0) -> datetime:
        day = self.now.date() - timedelta(days=days_ago)
        return datetime.combine(day, time(0), tzinfo=self.zone)

    def matching(self, filters: Mapping[str, Any]) -> list[RunFact]:
        def keep(run: RunFact) -> bool:
            status = filters.get("status")
            return (
                filters.get("load_test", run.test_id) == run.test_id
                and filters.get("project", run.project_id) == run.project_id
                and filters.get("result", run.result) == run.result
                and (status is None or run.status == status or (status == "abortable" and run.status in ABORTABLE))
            )

        return [run for run in self.runs if keep(run)]

    def newest(self, filters: Mapping[str, Any]) -> RunFact:
        found = self.matching(filters)
        if not found:
            raise CorpusError(f"no run matches {dict(filters)}")
        return found[0]


def configured_zone() -> tzinfo:
    """K6BOT_TIMEZONE, or the machine's local zone (what the parser's "today" is relative to)."""
    name = os.environ.get("K6BOT_TIMEZONE")
    local = datetime.now().astimezone().tzinfo
    return ZoneInfo(name) if name else (local or ZoneInfo("UTC"))


def run_facts(items: Sequence[Mapping[str, Any]]) -> tuple[RunFact, ...]:
    """Runs as the v6 API lists them, newest first."""
    runs = [
        RunFact(
            id=int(item["id"]),
            test_id=int(item["test_id"]),
            project_id=int(item["project_id"]),
            status=str(item["status"]),
            result=item.get("result"),
            created=_instant(str(item["created"])),
        )
        for item in items
    ]
    return tuple(sorted(runs, key=lambda run: (run.created, run.id), reverse=True))


RUNS_PATH = "/cloud/v6/test_runs"
RUNS_PARAMS = {"$top": 1000}


def api_headers(token: str, stack_id: int) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "X-Stack-Id": str(stack_id)}


def write_requests(log: Sequence[Mapping[str, Any]]) -> list[str]:
    """The requests of a simulator request log (``GET /_sim/requests``) that are not GETs."""
    return [f"{item['method']} {item['path']}" for item in log if str(item["method"]).upper() != "GET"]


# --------------------------------------------------------------------------- expectations


class Matcher:
    """An expected value that is not a literal (a time, a choice of alternatives)."""

    def matches(self, got: Any) -> bool:
        raise NotImplementedError


@dataclass(frozen=True)
class Between(Matcher):
    low: datetime
    high: datetime

    def matches(self, got: Any) -> bool:
        moment = _as_instant(got)
        return moment is not None and self.low <= moment <= self.high

    def __repr__(self) -> str:
        if self.low == self.high:
            return self.low.isoformat()
        return f"{self.low.isoformat()}…{self.high.isoformat()}"


@dataclass(frozen=True)
class AtTime(Matcher):
    hour: int
    minute: int
    after: datetime
    zone: tzinfo

    def matches(self, got: Any) -> bool:
        moment = _as_instant(got)
        if moment is None or not self.after < moment <= self.after + AT_HORIZON:
            return False
        local = moment.astimezone(self.zone)
        return (local.hour, local.minute, local.second) == (self.hour, self.minute, 0)

    def __repr__(self) -> str:
        return f"next {self.hour:02d}:{self.minute:02d}"


@dataclass(frozen=True)
class OneOf(Matcher):
    alternatives: tuple[Any, ...]

    def matches(self, got: Any) -> bool:
        return any(mismatch(alternative, got) is None for alternative in self.alternatives)

    def __repr__(self) -> str:
        return " | ".join(_short(a) for a in self.alternatives)


def expand(value: Any, facts: Facts) -> Any:
    """The expected value with its placeholders replaced by values or matchers (see corpus.yaml's header)."""
    if isinstance(value, str):
        return _expand_text(value, facts)
    if isinstance(value, date):  # YAML reads an unquoted 2026-11-25 as a date
        return _expand_text(value.isoformat(), facts)
    if isinstance(value, list):
        return [expand(item, facts) for item in value]
    if isinstance(value, dict):
        if "$one_of" in value:
            return OneOf(tuple(expand(item, facts) for item in value["$one_of"]))
        if "$newest_run" in value:
            return facts.newest(value["$newest_run"]).id
        if "$newest_run_test" in value:
            return facts.newest(value["$newest_run_test"]).test_id
        if "$each_run" in value:
            return [{"test_run_id": run.id} for run in facts.matching(value["$each_run"])]
        return {key: expand(item, facts) for key, item in value.items()}
    return value


def _expand_text(value: str, facts: Facts) -> Any:
    if ISO_DATE.match(value):
        moment = _instant(value, facts.zone)
        return Between(moment, moment)
    if not value.startswith("$"):
        return value
    name, _, parameter = value[1:].partition(":")
    if name == "today":
        return Between(facts.midnight(), facts.midnight())
    if name == "yesterday":
        return Between(facts.midnight(1), facts.midnight(1))
    if name in WEEKDAYS:
        back = (facts.now.weekday() - WEEKDAYS.index(name)) % 7
        return Between(facts.midnight(back), facts.midnight(back))
    if name == "days_ago":
        days = int(parameter)
        return Between(facts.midnight(days), facts.midnight(days - 1))
    if name == "hours_ago":
        moment = facts.now - timedelta(hours=int(parameter))
        return Between(moment - HOURS_SLACK, moment + HOURS_SLACK)
    if name == "at":
        hour, minute = (int(part) for part in parameter.split(":"))
        return AtTime(hour, minute, facts.now, facts.zone)
    raise CorpusError(f"unknown placeholder {value!r}")


def _instant(text: str, zone: tzinfo | None = None) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone or ZoneInfo("UTC"))


def _as_instant(got: Any) -> datetime | None:
    if isinstance(got, datetime):
        return got if got.tzinfo is not None else None
    if not isinstance(got, str) or not ISO_DATE.match(got):
        return None
    moment = datetime.fromisoformat(got.replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else None  # a date without its offset is not an answer


def mismatch(expected: Any, got: Any, path: str = "arguments") -> str | None:
    """Why ``got`` does not match ``expected`` (objects: subset; lists: same items in any order), or None."""
    if isinstance(expected, Matcher):
        return None if expected.matches(got) else f"{path}: expected {expected!r}, got {_short(got)}"
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return f"{path}: expected an object, got {_short(got)}"
        for key, value in expected.items():
            if key not in got:
                if value is None:
                    continue
                return f"{path}.{key}: missing (expected {_short(value)})"
            problem = mismatch(value, got[key], f"{path}.{key}")
            if problem:
                return problem
        return None
    if isinstance(expected, list):
        if not isinstance(got, list) or len(got) != len(expected):
            return f"{path}: expected {_short(expected)}, got {_short(got)}"
        unused = list(got)
        for item in expected:
            found = next((i for i, candidate in enumerate(unused) if mismatch(item, candidate) is None), None)
            if found is None:
                return f"{path}: {_short(item)} not in {_short(got)}"
            unused.pop(found)
        return None
    if isinstance(expected, bool) or isinstance(got, bool) or expected is None:
        return None if expected is got else f"{path}: expected {_short(expected)}, got {_short(got)}"
    if isinstance(expected, int | float) and isinstance(got, int | float):
        return None if expected == got else f"{path}: expected {expected}, got {got}"
    return None if expected == got else f"{path}: expected {_short(expected)}, got {_short(got)}"


def canonical_arguments(registry: Registry, operation: str, arguments: Any) -> Any:
    """Rename argument keys written as a declared alias (``test_run``) to the field's name (``test_run_id``)."""
    if operation not in registry:
        return arguments
    aliases: dict[str, str] = {}
    for name, info in registry[operation].input.model_fields.items():
        alias = info.validation_alias
        choices = alias.choices if isinstance(alias, AliasChoices) else [alias] if isinstance(alias, str) else []
        aliases.update({str(choice): name for choice in choices if str(choice) != name})

    def rename(item: Any) -> Any:
        if not isinstance(item, dict) or any(key.startswith("$") for key in item):
            return item
        return {aliases.get(key, key): value for key, value in item.items()}

    return [rename(item) for item in arguments] if isinstance(arguments, list) else rename(arguments)


# --------------------------------------------------------------------------- judging one explanation


@dataclass(frozen=True)
class Verdict:
    correct: bool
    understood: bool
    wrong_write: bool
    got: str
    reason: str = ""


@dataclass
class _Answer:
    understood: bool
    operation: str | None = None
    arguments: Any = None
    writes: bool = False
    problems: list[str] = field(default_factory=list)
    summary: str = ""


def _read_answer(data: Any, registry: Registry) -> _Answer:
    """The explanation's JSON, checked against the contract and the registry's safety classes."""
    if not isinstance(data, dict):
        return _Answer(False, problems=[f"as_json() returned {type(data).__name__}, not one object"])
    if "operation" not in data or "error" in data:
        choices = data.get("choices")
        problems = [] if isinstance(data.get("error"), str) else ["a not-understood answer needs an 'error' sentence"]
        if not isinstance(choices, list):
            problems.append("a not-understood answer needs a 'choices' list")
        return _Answer(False, problems=problems, summary=f"error {data.get('error')!r} choices {_short(choices)}")
    operation, arguments, safety = data.get("operation"), data.get("arguments"), data.get("safety")
    answer = _Answer(True, operation, arguments, summary=f"{operation} {_short(arguments)} [{safety}]")
    answer.writes = safety != Safety.READ.value
    if not isinstance(arguments, dict | list):
        answer.problems.append("'arguments' is an object (or a list of objects for a batch)")
    if operation in registry:
        op = registry[str(operation)]
        answer.writes = answer.writes or op.safety is not Safety.READ
        if safety != op.safety.value:
            answer.problems.append(f"safety {safety!r}, but the registry declares {op.safety.value!r}")
        if data.get("needs_confirmation") is not op.needs_confirmation:
            answer.problems.append(f"needs_confirmation must be {op.needs_confirmation} for {operation}")
    elif operation not in BOT_COMMANDS:
        answer.problems.append(f"{operation!r} is neither a registry operation nor a bot command")
    return answer


def _targets(arguments: Any) -> list[dict[str, Any]]:
    items = arguments if isinstance(arguments, list) else [arguments]
    return [item for item in items if isinstance(item, dict)]


def _is_id_key(key: str) -> bool:
    return key in ID_KEYS or key.endswith(("_id", "_ids"))


def _other_target(expected: Any, got: Any) -> bool:
    """Whether a write would touch something the text did not name: an id that differs, or an extra target."""
    wanted = [{k: v for k, v in item.items() if _is_id_key(k)} for item in _targets(expected)]
    return any(all(mismatch(want, target) is not None for want in wanted) for target in _targets(got))


def judge(entry: Entry, data: Any, facts: Facts, registry: Registry) -> Verdict:
    """Score one explanation against its entry (placeholders computed from ``facts``). An entry that expects a
    bot command done as a registry operation (``watch``: wait_for_test_run) expects what explain reports."""
    if entry.operation in ACTS_AS:
        entry = replace(entry, operation=ACTS_AS[entry.operation])
    answer = _read_answer(data, registry)
    expected = None
    if entry.operation is not None:
        expected = canonical_arguments(registry, entry.operation, expand(entry.arguments or {}, facts))
    wrong_write = (
        answer.understood
        and answer.writes
        and (
            entry.operation is None or answer.operation != entry.operation or _other_target(expected, answer.arguments)
        )
    )
    problem = "; ".join(answer.problems) or _meaning_problem(entry, answer, expected, data)
    if wrong_write and not problem:
        problem = "writes something the text did not name"
    return Verdict(not problem, answer.understood, wrong_write, answer.summary, problem)


def _meaning_problem(entry: Entry, answer: _Answer, expected: Any, data: Mapping[str, Any]) -> str:
    if entry.operation is None:
        if entry.forbid == "write":
            return "understood as a write" if answer.understood and answer.writes else ""
        if answer.understood:
            return "should not be understood"
        missing = _missing_choices(entry.choices or (), data.get("choices") or [])
        return f"choices lack {_short(missing)}" if missing else ""
    if not answer.understood:
        return "not understood"
    if answer.operation != entry.operation:
        return f"understood as {answer.operation}"
    return mismatch(expected, answer.arguments) or ""


def _missing_choices(expected: Sequence[Any], choices: Sequence[Any]) -> list[Any]:
    offered = [str(choice).lower() for choice in choices]

    def offered_any(item: Any) -> bool:
        options = item if isinstance(item, list) else [item]
        return any(str(option).lower() in choice for option in options for choice in offered)

    return [item for item in expected if not offered_any(item)]


def judge_around(entry: Entry, data: Any, facts: Facts, registry: Registry, before: datetime) -> Verdict:
    """Judge with the clock read after explaining, and read before it too when midnight fell in between."""
    after = datetime.now(facts.zone)
    verdict = judge(entry, data, facts.at(after), registry)
    if not verdict.correct and before.date() != after.astimezone(facts.zone).date():
        verdict = judge(entry, data, facts.at(before), registry)
    return verdict


def is_pending(entry: Entry, registry: Registry) -> bool:
    return entry.operation in PENDING_OPERATIONS and entry.operation not in registry


def _short(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, default=repr, ensure_ascii=False) if not isinstance(value, Matcher) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------- the tests

ENTRIES = load_entries(CORPUS)


@pytest.fixture(scope="module")
def frozen_sim() -> Simulator:
    """The demo with its clock stopped: every entry sees the same runs in the same states."""
    return Simulator(token=TEST_TOKEN, stack_id=TEST_STACK, speed=0.0, demo=True)


@pytest.fixture(scope="module")
def frozen_url(frozen_sim: Simulator) -> Iterator[str]:
    with SimulatorServer(frozen_sim) as url:
        yield url


def facts_of(url: str) -> Facts:
    """The facts a phrasing file's placeholders read, from the stack at ``url`` (its runs, now, UTC)."""
    response = httpx.get(url + RUNS_PATH, params=RUNS_PARAMS, headers=api_headers(TEST_TOKEN, TEST_STACK), timeout=10)
    response.raise_for_status()
    zone = ZoneInfo("UTC")
    return Facts(run_facts(response.json()["value"]), datetime.now(zone), zone)


def bench_module(name: str) -> Any:
    """``bench/<name>.py`` (a world builder), loaded by path: bench holds scripts, not a package."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, module)  # a dataclass in it looks its module up
    spec.loader.exec_module(module)
    return module


async def check_explained(
    entry: Entry, sim: Simulator, toolbox: Toolbox, facts: Facts, rebuild: Callable[[], object]
) -> None:
    """Explain ``entry`` against ``sim``'s world and judge it: no write may be sent (a write that was sent is
    undone by ``rebuild``, the frozen clock making the world identical for the next entries)."""
    from bot.router.explain import explain

    registry = get_registry()
    if is_pending(entry, registry):
        pytest.skip(f"{entry.operation} is not declared yet (issue 9)")
    sim.clear_requests()
    before = datetime.now(facts.zone)
    data = (await explain(entry.text, toolbox)).as_json()
    writes = write_requests([item.to_dict() for item in sim.requests])
    if writes:
        rebuild()
    assert not writes, f"explaining {entry.text!r} sent {writes}"
    verdict = judge_around(entry, data, facts, registry, before)
    assert not verdict.wrong_write, f"{entry.text!r} would write the wrong thing: {verdict.got}"
    assert verdict.correct, f"{entry.text!r}: {verdict.reason}\n  expected {entry.expects}\n  got      {verdict.got}"


@pytest.fixture(scope="module")
def facts(frozen_url: str) -> Facts:
    return facts_of(frozen_url)


@pytest.fixture
def utc(clean_environment: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("K6BOT_TIMEZONE", "UTC")


@asynccontextmanager
async def toolbox_at(url: str) -> AsyncIterator[Toolbox]:
    async with K6CloudClient(make_settings(url), backoff_base=0.01, backoff_max=0.05) as client:
        yield Toolbox(client)


@pytest.fixture
async def frozen_toolbox(frozen_url: str, utc: None) -> AsyncIterator[Toolbox]:
    async with toolbox_at(frozen_url) as toolbox:
        yield toolbox


@pytest.mark.parametrize("entry", ENTRIES, ids=[f"{i:03d}-{e.text[:48]}" for i, e in enumerate(ENTRIES, 1)])
async def test_phrasing(entry: Entry, frozen_sim: Simulator, frozen_toolbox: Toolbox, facts: Facts) -> None:
    await check_explained(entry, frozen_sim, frozen_toolbox, facts, lambda: frozen_sim.reset(demo=True))


# --------------------------------------------------------------------------- the same against dev worlds A and B
# (bench/dev_world_a.py, bench/dev_world_b.py: stacks whose names are not the demo's, tuned on like the corpus)

DEV_ENTRIES = load_entries(DEV_A)
DEV_B_ENTRIES = load_entries(DEV_B)


def _build_a(url: str) -> None:
    import asyncio

    asyncio.run(bench_module("dev_world_a").build(url, api_headers(TEST_TOKEN, TEST_STACK)))


def _build_b(url: str) -> None:
    bench_module("dev_world_b").build(url, TEST_TOKEN, TEST_STACK)


@contextmanager
def dev_world(build: Callable[[str], None]) -> Iterator[tuple[Simulator, str, Facts]]:
    """An empty frozen simulator that ``build`` filled, with the facts its placeholders read."""
    sim = Simulator(token=TEST_TOKEN, stack_id=TEST_STACK, speed=0.0, demo=False)
    with SimulatorServer(sim) as url:
        build(url)
        yield sim, url, facts_of(url)


@pytest.fixture(scope="module")
def world_a() -> Iterator[tuple[Simulator, str, Facts]]:
    with dev_world(_build_a) as world:
        yield world


@pytest.fixture(scope="module")
def world_b() -> Iterator[tuple[Simulator, str, Facts]]:
    with dev_world(_build_b) as world:
        yield world


@pytest.mark.parametrize("entry", DEV_ENTRIES, ids=[f"dev-{i:03d}-{e.text[:44]}" for i, e in enumerate(DEV_ENTRIES, 1)])
async def test_dev_world_phrasing(entry: Entry, world_a: tuple[Simulator, str, Facts], utc: None) -> None:
    """What the demo's corpus checks, for phrasings about a stack with other names (no write may be sent)."""
    sim, url, facts = world_a
    async with toolbox_at(url) as toolbox:
        await check_explained(entry, sim, toolbox, facts, lambda: _build_a(url))


@pytest.mark.parametrize(
    "entry", DEV_B_ENTRIES, ids=[f"b{i:03d}-{e.text[:48]}" for i, e in enumerate(DEV_B_ENTRIES, 1)]
)
async def test_phrasing_in_world_b(entry: Entry, world_b: tuple[Simulator, str, Facts], utc: None) -> None:
    sim, url, facts = world_b
    async with toolbox_at(url) as toolbox:
        await check_explained(entry, sim, toolbox, facts, lambda: _build_b(url))


def test_dev_corpus_is_apart_from_the_others() -> None:
    dev = {e.text.casefold() for e in DEV_ENTRIES}
    for path in (CORPUS, HELDOUT, HELDOUT_2, HELDOUT_3, HELDOUT_4):
        assert not dev & {e.text.casefold() for e in load_entries(path)}, path.name


def test_every_operation_has_two_phrasings() -> None:
    names = set(get_registry().names()) | BOT_COMMANDS | PENDING_OPERATIONS
    counts = {name: 0 for name in names}
    for entry in ENTRIES:
        assert entry.operation is None or entry.operation in names, f"{entry.where}: unknown {entry.operation}"
        if entry.operation is not None:
            counts[entry.operation] += 1
    assert not [name for name, count in counts.items() if count < 2]


def test_files_are_big_enough_and_apart() -> None:
    heldout, heldout_2 = load_entries(HELDOUT), load_entries(HELDOUT_2)
    assert len(ENTRIES) >= 200 and len(heldout) >= 120 and len(heldout_2) >= 80
    texts = [{e.text.casefold() for e in entries} for entries in (ENTRIES, heldout, heldout_2)]
    assert not texts[0] & texts[1] and not texts[0] & texts[2] and not texts[1] & texts[2]
    never_writes = [e for e in ENTRIES if e.forbid is not None]
    assert len(never_writes) >= 20
    assert any(e.choices for e in ENTRIES)
    names = set(get_registry().names()) | BOT_COMMANDS | PENDING_OPERATIONS
    assert {e.operation for e in [*heldout, *heldout_2] if e.operation} <= names


def test_expectations_resolve_against_the_demo(facts: Facts) -> None:
    """Every placeholder computes a value from today's demo data (a batch names at least two runs)."""
    for entry in [*ENTRIES, *load_entries(HELDOUT), *load_entries(HELDOUT_2)]:
        expanded = expand(entry.arguments, facts)
        if isinstance(expanded, list):
            assert len(expanded) >= 2, entry.where


@pytest.mark.parametrize(
    ("data", "correct", "wrong_write"),
    [
        ({"operation": "abort_test_run", "arguments": {"test_run_id": 1234}, "safety": "stop",
          "needs_confirmation": True}, True, False),
        ({"operation": "abort_test_run", "arguments": {"test_run_id": 1237}, "safety": "stop",
          "needs_confirmation": True}, False, True),
        ({"operation": "get_test_run", "arguments": {"test_run_id": 1234}, "safety": "read",
          "needs_confirmation": False}, False, False),
        ({"operation": "abort_test_run", "arguments": {"test_run_id": 1234}, "safety": "read",
          "needs_confirmation": False}, False, False),
        ({"error": "Which run?", "choices": ["1234"]}, False, False),
    ],
)  # fmt: skip
def test_the_judge_itself(data: dict[str, Any], correct: bool, wrong_write: bool, facts: Facts) -> None:
    entry = Entry("abort the soak", "inline", "abort_test_run", {"test_run_id": 1234})
    verdict = judge(entry, data, facts, get_registry())
    assert (verdict.correct, verdict.wrong_write) == (correct, wrong_write), verdict


def test_the_judge_reads_dates_batches_and_choices(facts: Facts) -> None:
    registry = get_registry()
    today = facts.midnight().astimezone(ZoneInfo("UTC")).isoformat().replace("+00:00", "Z")
    listing = Entry("what failed today", "inline", "list_test_runs", {"result": ["failed"], "created_after": "$today"})
    read = {"safety": "read", "needs_confirmation": False, "operation": "list_test_runs"}
    assert judge(
        listing, {**read, "arguments": {"result": ["failed"], "created_after": today}}, facts, registry
    ).correct
    assert not judge(listing, {**read, "arguments": {"result": ["failed"]}}, facts, registry).correct
    batch = Entry("abort all", "inline", "abort_test_run", {"$each_run": {"status": "abortable"}})
    ids = [{"test_run_id": run.id} for run in facts.matching({"status": "abortable"})]
    stop = {"operation": "abort_test_run", "safety": "stop", "needs_confirmation": True}
    assert judge(batch, {**stop, "arguments": list(reversed(ids))}, facts, registry).correct
    extra = judge(batch, {**stop, "arguments": [*ids, {"test_run_id": 1232}]}, facts, registry)
    assert not extra.correct and extra.wrong_write
    ambiguous = Entry("start orders", "inline", choices=("Orders API Soak Test", ["Orders API Smoke", "502"]))
    offered = {"error": "Which test?", "choices": ["start Orders API Soak Test (501)", "start 502"]}
    assert judge(ambiguous, offered, facts, registry).correct
    assert not judge(ambiguous, {**offered, "choices": ["start 501"]}, facts, registry).correct


CLI_CASES = [("abort 1234", 0, "abort_test_run"), ("what failed today", 0, "list_test_runs"), ("start orders", 1, None),
             ("asdf qwerty", 1, None), ("stop everything that's running", 0, "abort_test_run")]  # fmt: skip


def test_k6bot_explain_json_in_a_subprocess(frozen_sim: Simulator, frozen_url: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("K6_CLOUD_", "K6BOT_", "SLACK_"))}
    env.update(
        K6_CLOUD_TOKEN=TEST_TOKEN,
        K6_CLOUD_STACK_ID=str(TEST_STACK),
        K6_CLOUD_API_URL=frozen_url,
        K6BOT_TIMEZONE="UTC",
        K6BOT_DATABASE_URL=str(tmp_path / "k6bot.db"),
        XDG_STATE_HOME=str(tmp_path),
    )
    frozen_sim.clear_requests()
    for text, code, operation in CLI_CASES:
        result = subprocess.run(
            [sys.executable, "-m", "bot.cli", "explain", text, "--json"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == code, f"{text!r}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
        answer = json.loads(result.stdout)  # exactly one JSON document, nothing else on stdout
        assert isinstance(answer, dict)
        assert answer.get("operation") == operation, answer
        assert ("error" in answer) == (code == 1), answer
    assert not write_requests([item.to_dict() for item in frozen_sim.requests])
