"""References people use instead of ids, and how they are resolved with read requests only.

"the running checkout spike", "the last failed run", "rerun 1224" (that run's test), "the schedule of orders
soak", "ashburn" (a load zone), "environment" (a label key): the command language produces these values, and
:class:`References` turns each into the id the operation needs — or raises a :class:`ResolutionError` whose
``choices`` say what to pick when several things fit. Nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from rapidfuzz import fuzz

from tools.errors import Candidate, NotFound, ResolutionError
from tools.models import LoadZone, Schedule, TestRun
from tools.resolve import LoadTestCatalog, meaningful_words, words

ACTIVE = frozenset({"created", "queued", "initializing", "running", "processing_metrics"})
ABORTABLE = frozenset({"created", "queued", "initializing", "running"})
FINAL = frozenset({"completed", "aborted"})
MAX_BATCH = 20
"""At most this many runs in one "abort all running tests": more is refused as too broad."""
SCAN = 200
"""How many of the newest runs a reference looks through."""


@dataclass(frozen=True)
class RunRef:
    """A run named by what it is: the active / newest (failed, …) run of a test, or of the whole stack."""

    test: int | str | None = None
    project: int | str | None = None
    """Only runs of this project ("all running tests in payments")."""
    status: tuple[str, ...] = ()
    """Run states: the API's statuses, or 'active' / 'finished'."""
    result: tuple[str, ...] = ()
    every: bool = False
    """All runs that fit ("abort all running tests"), not just the newest."""
    abortable: bool = False
    """Only runs that can still be aborted (the operation stops runs)."""
    text: str = ""

    def describe(self) -> str:
        parts = []
        if self.every:
            parts.append("every")
        else:
            parts.append("the latest")
        parts += [*(_STATE_WORDS.get(s, s) for s in self.status), *self.result]
        parts.append("runs" if self.every else "run")
        if self.test is not None:
            parts.append(f"of {self.test!r}" if isinstance(self.test, str) else f"of test {self.test}")
        return " ".join(parts)


_STATE_WORDS = {"active": "running", "finished": "finished", "processing_metrics": "processing"}


@dataclass(frozen=True)
class TestOfRun:
    """The load test of a run ("rerun 1224", "rerun the last failed test")."""

    __test__: ClassVar[bool] = False  # not a pytest test class
    run: int | RunRef


@dataclass(frozen=True)
class ScheduleOf:
    """The schedule of a load test ("deactivate the orders soak schedule")."""

    test: int | str


@dataclass(frozen=True)
class Named:
    """A thing named by words that a list of the API resolves: a load zone or a label key."""

    kind: str
    """'load_zone', 'load_zone_name', 'label_key' or 'label_key_name'."""
    text: str


REFERENCE_TYPES = (RunRef, TestOfRun, ScheduleOf, Named)


def is_reference(value: Any) -> bool:
    return isinstance(value, REFERENCE_TYPES)


def _wants_all_active(ref: RunRef) -> bool:
    """Looking for the active run of one test, or the running run to stop: keep looking, to tell when several
    are going."""
    return (ref.test is not None or ref.abortable) and ref.status == ("active",) and not ref.result


def _says_both(text: str) -> bool:
    """ "stop both running tests": the person counted two."""
    return "both" in words(text)


def _status_ok(run: TestRun, ref: RunRef) -> bool:
    if ref.abortable and run.status not in ABORTABLE:
        return False
    if not ref.status:
        return True
    for status in ref.status:
        if status == "active" and run.status in ACTIVE:
            return True
        if status == "finished" and run.status in FINAL:
            return True
        if status == run.status:
            return True
    return False


@dataclass
class References:
    """Resolves references through the API (reads only), with the catalog for test names."""

    catalog: LoadTestCatalog
    requests: int = field(default=0)

    @property
    def client(self):
        return self.catalog.client

    async def runs(self, ref: RunRef) -> list[TestRun]:
        """Every run ``ref`` fits, newest first (at most :data:`SCAN` of the newest are looked at)."""
        from tools.operations.test_runs import RUNS, newest_first
        from tools.registry import OpContext

        test_id: int | None = None
        project_id: int | None = None
        if ref.project is not None:
            project_id = (await self.catalog.resolve_project(ref.project)).id
        if ref.test is not None:
            test_id = (await self.catalog.resolve(ref.test, project_id=project_id)).id
        path = f"/cloud/v6/load_tests/{test_id}/test_runs" if test_id is not None else RUNS
        context = OpContext(client=self.client, catalog=self.catalog)
        found: list[TestRun] = []
        seen = 0
        runs = newest_first(context, TestRun, path, {}, can_order=test_id is not None, window=SCAN, state={})
        async for run, _ in runs:
            seen += 1
            if project_id is not None and run.project_id != project_id:
                continue
            if _status_ok(run, ref) and (not ref.result or run.result in ref.result):
                found.append(run)
            if seen >= SCAN or (found and not ref.every and not _wants_all_active(ref)):
                break
        await runs.aclose()
        return found

    async def run(self, ref: RunRef) -> int | list[int]:
        """The id of the run ``ref`` names (all of them for an ``every`` reference).

        A test's run without more said ("the soak") is the one going now, if there is one, else the latest.
        """
        plain = ref.test is not None and not ref.status and not ref.result and not ref.every
        runs = await self.runs(replace(ref, status=("active",))) if plain else []
        if runs:
            ref = replace(ref, status=("active",))
        else:
            runs = await self.runs(ref)
        if not runs:
            raise ResolutionError(
                f"There is no {ref.describe().removeprefix('the latest ').removeprefix('every ')} right now.",
                phrase=ref.text,
            )
        if ref.every:
            if len(runs) > MAX_BATCH:
                raise ResolutionError(
                    f"{len(runs)} runs fit \u201c{ref.text}\u201d; that is too many for one request "
                    f"(at most {MAX_BATCH}). Name a test to narrow it down.",
                    phrase=ref.text,
                )
            if _says_both(ref.text) and len(runs) != 2:
                runs = await self._the_two(runs, ref)
            return [r.id for r in runs]
        if ref.abortable and ref.test is None and ref.status == ("active",) and not ref.result and len(runs) > 1:
            runs = await self._the_running_one(runs, ref)  # "stop the running one": never a guess among several
        active_of_test = ref.test is not None and ref.status == ("active",) and not ref.result
        if active_of_test and len(runs) > 1:
            names = await self.catalog.display_name(runs[0].test_id) or f"test {runs[0].test_id}"
            raise await self._which_run(f"'{names}' has {len(runs)} runs going: which one?", ref, runs, named=False)
        return runs[0].id

    async def _which_run(
        self, message: str, ref: RunRef, runs: list[TestRun], *, named: bool = True
    ) -> ResolutionError:
        """The question that asks which of ``runs`` (the first five) is meant, each labelled with its test's name
        (``named``) and status."""
        candidates = []
        for r in runs[:5]:
            name = (await self.catalog.display_name(r.test_id) or f"test {r.test_id}") if named else None
            label = f"run {r.id}: {name}" if name else f"run {r.id}"
            candidates.append(
                Candidate(r.id, f"{label} ({r.status.replace('_', ' ')})", r.project_id, 100.0, field="test_run_id")
            )
        return ResolutionError(message, phrase=ref.text, candidates=candidates)

    async def _the_running_one(self, runs: list[TestRun], ref: RunRef) -> list[TestRun]:
        """Of several unfinished runs, the one "the running run" means: the only one whose status is running;
        otherwise a :class:`ResolutionError` listing them (a stop is never a guess)."""
        running = [run for run in runs if run.status == "running"]
        if len(running) == 1:
            return running
        raise await self._which_run(f"{len(running) or len(runs)} runs are going: which one?", ref, running or runs)

    async def _the_two(self, runs: list[TestRun], ref: RunRef) -> list[TestRun]:
        """ "both running tests": the two runs meant, or a :class:`ResolutionError` when it is not two that fit."""
        running = [run for run in runs if run.status == "running"]
        if ref.status == ("active",) and len(running) == 2:
            return running
        fit = f"{len(runs)} run{'s fit' if len(runs) != 1 else ' fits'}"
        raise await self._which_run(f"{fit} \u201c{ref.text}\u201d, not two: which do you mean?", ref, runs)

    async def test_of_run(self, ref: TestOfRun) -> int:
        run_id = ref.run if isinstance(ref.run, int) else await self.run(ref.run)
        assert isinstance(run_id, int)
        try:
            run = await self.client.get_model(TestRun, f"/cloud/v6/test_runs/{run_id}")
        except NotFound:
            raise ResolutionError(f"Test run {run_id} not found.", phrase=str(run_id)) from None
        return run.test_id

    async def schedule(self, ref: ScheduleOf) -> int:
        test = await self.catalog.resolve(ref.test)
        try:
            schedule = await self.client.get_model(Schedule, f"/cloud/v6/load_tests/{test.id}/schedule")
        except NotFound:
            raise ResolutionError(f"Load test '{test.name}' has no schedule.", phrase=str(ref.test)) from None
        return schedule.id

    async def named(self, ref: Named) -> int | str:
        if ref.kind in ("load_zone", "load_zone_name"):
            zones = await self.client.collect(LoadZone, "/cloud/v6/load_zones")
            zone = _pick(ref.text, zones, lambda z: (z.k6_load_zone_id, z.name), "load zone", _ZONE_WORDS)
            return zone.id if ref.kind == "load_zone" else zone.k6_load_zone_id
        from tools.models import LabelKey

        keys = await self.client.collect(LabelKey, "/cloud/v6/labels")
        key = _pick(ref.text, keys, lambda k: (k.key,), "label key")
        return key.id if ref.kind == "label_key" else key.key

    async def resolve(self, value: Any) -> Any:
        if isinstance(value, RunRef):
            return await self.run(value)
        if isinstance(value, TestOfRun):
            return await self.test_of_run(value)
        if isinstance(value, ScheduleOf):
            return await self.schedule(value)
        if isinstance(value, Named):
            return await self.named(value)
        return value


def _covered(wanted: str, name: str) -> float:
    """How much of what was typed the name accounts for, 0–100: words of ``wanted`` that are (nearly) words of
    the name. "team label on payments" is not label key "team" (a third of it); "platform" is zone "Platform
    private zone" (all of it); a typo ("platfrom") still counts."""
    typed, own = wanted.split(), name.split()
    if not typed or not own:
        return 100.0
    near = sum(
        1 for w in typed if any(w == o or fuzz.ratio(w, o) >= 80 or (len(w) >= 4 and o.startswith(w)) for o in own)
    )
    return 100.0 * near / len(typed) if near < len(typed) else 100.0


_ZONE_WORDS = frozenset(("zone", "zones", "load", "region", "location"))


def _pick(text: str, items: list[Any], names: Any, what: str, kind_words: frozenset[str] = frozenset()) -> Any:
    """The one item whose name (or one of its names) ``text`` means; ambiguity and misses raise. ``kind_words``
    say what kind of thing it is ("the core frankfurt private zone"): they count only when the name has them."""
    typed = " ".join(meaningful_words(text)) or text.strip().casefold()
    scored = []
    for item in items:
        best = 0.0
        for name in names(item):
            folded = name.casefold()
            if folded == text.strip().casefold():
                best = 101.0
                break
            parts = " ".join(meaningful_words(name.replace(":", " ")))
            own = set(parts.split())
            wanted = " ".join(w for w in typed.split() if w not in kind_words or w in own) or typed
            score = max(float(fuzz.token_set_ratio(wanted, parts)), float(fuzz.partial_ratio(wanted, folded)))
            best = max(best, min(score, _covered(wanted, parts)))
        scored.append((best, item))
    scored.sort(key=lambda pair: -pair[0])
    good = [(s, i) for s, i in scored if s >= 80]
    if good and (len(good) == 1 or good[0][0] - good[1][0] >= 5 or good[0][0] > 100):
        return good[0][1]
    shown = ", ".join(names(i)[0] for _, i in (good or scored)[:5])
    if good:
        raise ResolutionError(f"'{text}' fits several {what}s: {shown}. Which one?", phrase=text)
    raise ResolutionError(f"No {what} matches '{text}'." + (f" There are: {shown}." if shown else ""), phrase=text)


__all__ = ["MAX_BATCH", "Named", "References", "RunRef", "ScheduleOf", "TestOfRun", "is_reference"]
