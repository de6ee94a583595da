"""The held-out phrasing files are well formed: loadable, naming real operations with their real argument names.

This checks the files' structure only — it never explains a text and never scores the parser (that is
``bench/bench_language.py``'s job, run by the lead on the final parser). Each ``bench/phrasings_heldout*.yaml``
must load with :func:`load_entries`; every ``operation`` must be a registry operation or a bot command; every
argument key must be a field (or a declared alias) of that operation's input model, and keys inside a nested
object (a recurrence rule, a label) fields of the nested model; every placeholder must compute a value from the
demo data. The sets written in real use's proportions (3 and 4) must have 100 entries spread like real use,
literal values that fit their fields' types, and new texts: none may appear in the corpus or an older set.
"""

from __future__ import annotations

import asyncio
import re
import typing
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from pydantic import AliasChoices, BaseModel, TypeAdapter, ValidationError

from tests.conftest import TEST_STACK, TEST_TOKEN
from tests.router.test_corpus import (
    BOT_COMMANDS,
    CORPUS,
    HELDOUT,
    HELDOUT_2,
    HELDOUT_3,
    HELDOUT_4,
    HELDOUT_5,
    PENDING_OPERATIONS,
    RUNS_PARAMS,
    RUNS_PATH,
    CorpusError,
    Entry,
    Facts,
    api_headers,
    bench_module,
    expand,
    load_entries,
    run_facts,
)
from tools.registry import get_registry
from tools.simulator import Simulator, SimulatorServer

ROOT = Path(__file__).resolve().parents[2]
HELDOUT_FILES = sorted((ROOT / "bench").glob("phrasings_heldout*.yaml"))
PLACEHOLDER_KEYS = frozenset({"$newest_run", "$newest_run_test"})  # their value is a filter, not arguments
PROPORTIONED = (HELDOUT_3, HELDOUT_4, HELDOUT_5)
"""The sets written in real use's proportions; each one's texts must be new to every file before it."""
ON_THE_DEMO = (HELDOUT_3, HELDOUT_4)
"""The proportioned sets whose expectations name the demo's ids (set 5 names world 5's: bench/world_5.py)."""
OLDER = {
    HELDOUT_3: (CORPUS, HELDOUT, HELDOUT_2),
    HELDOUT_4: (CORPUS, HELDOUT, HELDOUT_2, HELDOUT_3),
    HELDOUT_5: (CORPUS, HELDOUT, HELDOUT_2, HELDOUT_3, HELDOUT_4),
}


def test_the_known_held_out_files_are_all_checked() -> None:
    assert {HELDOUT, HELDOUT_2, HELDOUT_3, HELDOUT_4, HELDOUT_5} <= set(HELDOUT_FILES)


# --------------------------------------------------------------------------- field names


def _fields(model: type[BaseModel]) -> dict[str, Any]:
    """A model's fields by name and by every alias they accept."""
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        alias = info.validation_alias
        choices = alias.choices if isinstance(alias, AliasChoices) else [alias] if isinstance(alias, str) else []
        for key in (name, info.alias, *choices):
            if key is not None:
                fields[str(key)] = info
    return fields


def _nested_models(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation holds (``RecurrenceRule | None`` → RecurrenceRule, ``list[X]`` → X)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        found.extend(_nested_models(arg))
    return found


def key_problems(model: type[BaseModel], arguments: Any, path: str = "arguments") -> list[str]:
    """Argument keys that ``model`` does not know, looking through ``$one_of`` and into nested models."""
    if isinstance(arguments, list):
        return [problem for item in arguments for problem in key_problems(model, item, path)]
    if not isinstance(arguments, dict):
        return []
    if "$one_of" in arguments:
        return [problem for item in arguments["$one_of"] for problem in key_problems(model, item, path)]
    if "$each_run" in arguments:  # expands to one {"test_run_id": …} per run
        return key_problems(model, {"test_run_id": 0}, path)
    if set(arguments) & PLACEHOLDER_KEYS:
        return []
    problems: list[str] = []
    fields = _fields(model)
    for key, value in arguments.items():
        if key not in fields:
            problems.append(f"{path}: {key!r} is not a field of {model.__name__} (fields: {sorted(fields)})")
            continue
        for nested in _nested_models(fields[key].annotation):
            problems.extend(key_problems(nested, value, f"{path}.{key}"))
    return problems


def _is_placeholder(value: Any) -> bool:
    if isinstance(value, str):
        return value.startswith("$")
    return isinstance(value, dict) and any(str(key).startswith("$") and key != "$one_of" for key in value)


def value_problems(model: type[BaseModel], arguments: Any, path: str = "arguments") -> list[str]:
    """Literal argument values the field's type refuses ("procesing" for a status); placeholders are skipped."""
    if isinstance(arguments, list):
        return [problem for item in arguments for problem in value_problems(model, item, path)]
    if not isinstance(arguments, dict) or _is_placeholder(arguments):
        return []
    if "$one_of" in arguments:
        return [problem for item in arguments["$one_of"] for problem in value_problems(model, item, path)]
    problems: list[str] = []
    fields = _fields(model)
    for key, value in arguments.items():
        if key not in fields or _is_placeholder(value):
            continue
        alternatives = value["$one_of"] if isinstance(value, dict) and "$one_of" in value else [value]
        nested = _nested_models(fields[key].annotation)
        for alternative in alternatives:
            if _is_placeholder(alternative):
                continue
            items = alternative if isinstance(alternative, list) else [alternative]
            if nested and items and all(isinstance(item, dict) for item in items):
                problems += [p for item in items for p in value_problems(nested[0], item, f"{path}.{key}")]
                continue
            try:
                TypeAdapter(fields[key].annotation).validate_python(alternative)
            except ValidationError as exc:
                problems.append(f"{path}.{key}: {alternative!r} is refused ({exc.errors()[0]['msg']})")
    return problems


def entry_problems(entry: Entry) -> list[str]:
    registry = get_registry()
    if entry.operation is None:
        return []
    if entry.operation in BOT_COMMANDS or entry.operation in PENDING_OPERATIONS:
        return []  # a bot command has no registry input model to check against
    if entry.operation not in registry:
        return [f"{entry.where}: {entry.operation!r} is neither a registry operation nor a bot command"]
    model = registry[entry.operation].input
    return [f"{entry.where} ({entry.text!r}): {p}" for p in key_problems(model, entry.arguments)]


@pytest.mark.parametrize("path", HELDOUT_FILES, ids=[p.name for p in HELDOUT_FILES])
def test_operations_and_argument_keys_are_real(path: Path) -> None:
    entries = load_entries(path)
    assert entries, f"{path.name} has no entries"
    problems = [problem for entry in entries for problem in entry_problems(entry)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", PROPORTIONED, ids=[p.name for p in PROPORTIONED])
def test_the_set_has_100_phrasings_spread_like_real_use(path: Path) -> None:
    entries = load_entries(path)
    assert len(entries) == 100
    registry = get_registry()
    groups = [registry[e.operation].group if e.operation in registry else "bot" for e in entries if e.operation]
    runs = groups.count("runs") + sum(e.operation == "start_load_test" for e in entries)
    assert 35 <= runs <= 50, runs
    assert {"runs", "tests", "schedules", "projects", "load_zones", "labels", "legacy", "bot"} <= set(groups)


@pytest.mark.parametrize("path", PROPORTIONED, ids=[p.name for p in PROPORTIONED])
def test_the_sets_values_fit_their_fields(path: Path) -> None:
    registry = get_registry()
    problems = [
        f"{entry.where} ({entry.text!r}): {problem}"
        for entry in load_entries(path)
        if entry.operation is not None and entry.operation in registry
        for problem in value_problems(registry[entry.operation].input, entry.arguments)
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", PROPORTIONED, ids=[p.name for p in PROPORTIONED])
def test_the_set_is_new_text(path: Path) -> None:
    newest = {e.text.casefold(): e.where for e in load_entries(path)}
    for older in OLDER[path]:
        seen = [where for where in (newest.get(e.text.casefold()) for e in load_entries(older)) if where]
        assert not seen, f"{seen} already appear in {older.name}"


# --------------------------------------------------------------------------- the checker itself


def test_the_key_checker_catches_a_misspelt_field_and_a_nested_one() -> None:
    registry = get_registry()
    bad = Entry("stop 1234", "inline", "abort_test_run", {"run": 1234})
    assert entry_problems(bad) and "'run'" in entry_problems(bad)[0]
    assert not entry_problems(Entry("stop 1234", "inline", "abort_test_run", {"run_id": 1234}))  # an alias
    schedule = registry["set_load_test_schedule"].input
    assert key_problems(schedule, {"load_test": 501, "recurrence_rule": {"frequncy": "DAILY"}})
    assert not key_problems(schedule, {"load_test": 501, "recurrence_rule": {"$one_of": [{"frequency": "DAILY"}]}})
    assert entry_problems(Entry("x", "inline", "no_such_operation", {}))
    runs = registry["list_test_runs"].input
    assert value_problems(runs, {"status": ["procesing"]})
    assert value_problems(runs, {"result": {"$one_of": [["failed"], ["broken"]]}})
    assert not value_problems(runs, {"status": ["processing_metrics"], "created_after": "$today"})
    assert value_problems(schedule, {"recurrence_rule": {"frequency": "NIGHTLY"}})
    assert not entry_problems(Entry("help", "inline", "help"))


def test_a_malformed_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "phrasings_heldout_x.yaml"
    path.write_text("- text: stop 1234\n  operation: abort_test_run\n  arguments: {test_run_id: $tomorrow}\n")
    with pytest.raises(CorpusError, match="placeholder"):
        load_entries(path)


# --------------------------------------------------------------------------- placeholders against the demo


@pytest.fixture(scope="module")
def facts() -> Iterator[Facts]:
    sim = Simulator(token=TEST_TOKEN, stack_id=TEST_STACK, speed=0.0, demo=True)
    with SimulatorServer(sim) as url:
        response = httpx.get(
            url + RUNS_PATH, params=RUNS_PARAMS, headers=api_headers(TEST_TOKEN, TEST_STACK), timeout=10
        )
        response.raise_for_status()
        zone = ZoneInfo("UTC")
        yield Facts(run_facts(response.json()["value"]), datetime.now(zone), zone)


@pytest.mark.parametrize("path", ON_THE_DEMO, ids=[p.name for p in ON_THE_DEMO])
def test_the_sets_placeholders_resolve_against_the_demo(path: Path, facts: Facts) -> None:
    for entry in load_entries(path):
        expanded = expand(entry.arguments, facts)
        if isinstance(expanded, list):
            assert len(expanded) >= 2, f"{entry.where}: a batch names at least two runs"


_PLAIN_TEXT = re.compile(r"^-\s+text:\s+(?P<value>[^\"'|>].*?)\s*$")


def _plain_texts_cut_by_a_comment(path: Path) -> list[str]:
    """Unquoted ``text:`` values that YAML reads shorter than written: a " #" starts a comment there, so
    "details on #1228 pls" would be read as "details on"."""
    cut = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _PLAIN_TEXT.match(line)
        if match and " #" in match["value"]:
            cut.append(line.strip())
    return cut


@pytest.mark.parametrize("path", [*HELDOUT_FILES, CORPUS], ids=[p.name for p in [*HELDOUT_FILES, CORPUS]])
def test_no_text_is_cut_short_by_a_yaml_comment(path: Path) -> None:
    assert _plain_texts_cut_by_a_comment(path) == []


def test_the_comment_check_catches_a_cut_text(tmp_path: Path) -> None:
    sample = tmp_path / "cut.yaml"
    sample.write_text('- text: details on #1228 pls\n  operation: get_test_run\n- text: "ok #1"\n', encoding="utf-8")
    assert _plain_texts_cut_by_a_comment(sample) == ["- text: details on #1228 pls"]


# --------------------------------------------------------------------------- set 5 against world 5


@pytest.fixture(scope="module")
def world_5() -> Iterator[tuple[Any, Facts, Simulator]]:
    """World 5 built over HTTP on an empty simulator, and the facts its placeholders read."""
    module = bench_module("world_5")
    sim = Simulator(token=TEST_TOKEN, stack_id=TEST_STACK, speed=1.0, demo=True)
    with SimulatorServer(sim) as url:

        async def build() -> tuple[Any, list[dict[str, Any]]]:
            async with httpx.AsyncClient(base_url=url, timeout=30) as control:
                world = await module.build(control, token=TEST_TOKEN, stack_id=TEST_STACK)
                response = await control.get(RUNS_PATH, params=RUNS_PARAMS, headers=api_headers(TEST_TOKEN, TEST_STACK))
                response.raise_for_status()
                return world, response.json()["value"]

        world, runs = asyncio.run(build())
        zone = ZoneInfo("UTC")
        yield world, Facts(run_facts(runs), datetime.now(zone), zone), sim


def test_world_5_is_its_own_world_with_the_ids_set_5_names(world_5: tuple[Any, Facts, Simulator]) -> None:
    world, facts, sim = world_5
    from tools.simulator.demo import LOAD_TESTS, PROJECTS

    names = {test.name.casefold() for test in sim.store.load_tests.values()}
    assert len(names) == 10 and not names & {name.casefold() for _, _, name, *_ in LOAD_TESTS}
    assert not {p.name for p in sim.store.projects.values()} & {name for _, name, *_ in PROJECTS}
    assert world.projects == {"storefront": 1, "media": 2, "identity": 3}
    assert world.tests["cart_peak"] == 101 and world.tests["password"] == 110
    assert world.schedules == {"cart_smoke": 1, "transcode": 2, "profile": 3} and world.zone == 300
    assert world.label_keys == {"tier": 1, "owner": 2, "region": 3}
    states = {run.id: (run.status, run.result) for run in facts.runs}
    assert states[1032] == ("completed", "failed") and states[1034] == ("running", None)
    assert states[1035][0] == "initializing" and states[1036][0] == "queued" and states[1037][0] == "created"
    assert states[1033][0] == "processing_metrics" and states[1031] == ("aborted", "error")
    assert states[1030] == ("aborted", "failed") and states[1027] == ("completed", "passed")
    assert facts.newest({"result": "failed"}).id == 1032 and facts.newest({"load_test": 108}).id == 1035
    assert sim.clock.now().isoformat().startswith("2026-11-24T15:30:00") and sim.clock.speed == 0


def test_set_5s_placeholders_resolve_against_world_5(world_5: tuple[Any, Facts, Simulator]) -> None:
    _, facts, _ = world_5
    for entry in load_entries(HELDOUT_5):
        expanded = expand(entry.arguments, facts)
        if isinstance(expanded, list):
            assert len(expanded) >= 2, f"{entry.where}: a batch names at least two runs"
