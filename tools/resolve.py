"""Turning what a person typed ("the orders soak test please", "#501") into exactly one load test.

Order of preference: an id → an exact name (case-insensitive) → a fuzzy match over every page of tests.
Filler words ("the", "please", "test", …) are dropped from both sides before fuzzy matching, so they
never decide between two tests. One clear winner is returned; several close candidates raise
:class:`AmbiguousLoadTest` (we never guess between "Orders API Soak Test" and "Orders API Smoke" for
"orders"); nothing close raises :class:`NoMatchingLoadTest` with did-you-mean suggestions.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import re
import time
import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

from cachetools import TTLCache
from rapidfuzz import fuzz, process

from tools.client import K6CloudClient
from tools.errors import AmbiguousLoadTest, Candidate, NoMatchingLoadTest, NotFound, ResolutionError
from tools.models import LoadTest, Project

M = TypeVar("M")

FILLER_WORDS = frozenset(
    {
        "a",
        "an",
        "the",
        "this",
        "that",
        "these",
        "those",
        "my",
        "our",
        "your",
        "their",
        "its",
        "of",
        "for",
        "in",
        "on",
        "at",
        "to",
        "with",
        "from",
        "by",
        "and",
        "or",
        "please",
        "pls",
        "plz",
        "kindly",
        "can",
        "could",
        "would",
        "will",
        "you",
        "u",
        "me",
        "us",
        "we",
        "i",
        "just",
        "now",
        "again",
        "also",
        "test",
        "tests",
        "load",
        "loadtest",
        "loadtests",
        "k6",
        "run",
        "runs",
        "start",
        "starts",
        "kick",
        "kicks",
        "off",
        "launch",
        "launches",
        "called",
        "named",
        "one",
        "ones",
        "thing",
        "script",
        "scenario",
    }
)

MATCH_THRESHOLD = 72.0
"""Lowest score that counts as a match at all."""

AMBIGUITY_MARGIN = 8.0
"""Candidates scoring within this many points of the best one make the answer ambiguous."""

SUGGESTION_THRESHOLD = 45.0
STALE_AFTER_MISS = 2.0
"""A cached test list older than this is checked for tests created or renamed since before a name is declared
unknown (one small request for the most recently updated tests, not the whole list again)."""
RECENT_TESTS = 50
"""How many of the most recently updated tests that check reads."""
MAX_CANDIDATES = 5

_ID_PATTERN = re.compile(
    r"^\s*(?:(?:(?:load\s*)?test\s*)?(?:id\s*#?|#)\s*)?(\d{1,12})\s*$",
    re.IGNORECASE,
)
"""An explicit id: "501", "#501", "id 501", "test #501", "test id 501" — but not "test 2", which may be a name."""

_WORD = re.compile(r"[^\W_]+")


def _fold(text: str) -> str:
    """Case- and accent-insensitive text: "Café Übersicht" → "cafe ubersicht"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    """The words of ``text``, folded (case and accents), in any script: letters and digits, nothing else."""
    return _WORD.findall(_fold(text))


def meaningful_words(text: str) -> list[str]:
    """The words that can tell tests apart: ``words`` without filler (all words when only filler is left)."""
    all_words = words(text)
    kept = [w for w in all_words if w not in FILLER_WORDS]
    return kept or all_words


def parse_id(value: int | str) -> int | None:
    """An explicit id: an int, or a string such as "501", "#501", "id 501" or "test #501"."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 1 else None
    match = _ID_PATTERN.match(value)
    if match:
        number = int(match.group(1))
        return number if number >= 1 else None
    return None


def _has_digit(word: str) -> bool:
    return any(ch.isdigit() for ch in word)


def _word_similarity(query_word: str, name_word: str) -> float:
    if query_word == name_word:
        return 100.0
    if _has_digit(query_word) or _has_digit(name_word):
        # Numbers and versions must match exactly: "v2" is not "v1", "2024" is not "2023", "1" is not "10".
        return 0.0
    score = fuzz.ratio(query_word, name_word)
    shorter, longer = sorted((query_word, name_word), key=len)
    if len(shorter) >= 3 and longer.startswith(shorter):
        # "auth" → "authentication", "checkout" → "checkouts": a prefix is a strong hint.
        score = max(score, 88.0)
    return float(score)


@lru_cache(maxsize=65536)
def _name_words(name: str) -> tuple[str, ...]:
    return tuple(meaningful_words(name))


def _score(coverage_rows: Sequence[dict[str, float]], name_words: Sequence[str]) -> float:
    """0.85 × coverage (every phrase word found in the name) + 0.15 × precision (the name explained)."""
    if not coverage_rows or not name_words:
        return 0.0
    coverage = sum(max(row.get(w, 0.0) for w in name_words) for row in coverage_rows) / len(coverage_rows)
    precision = sum(max(row.get(w, 0.0) for row in coverage_rows) for w in name_words) / len(name_words)
    return round(0.85 * coverage + 0.15 * precision, 2)


def match_score(phrase_words: Sequence[str], name: str) -> float:
    """How well ``phrase_words`` (already without filler) describe the test name, 0–100.

    Mostly coverage (is every word of the phrase in the name?), a little precision (how much of the
    name the phrase accounts for), so "orders soak" prefers "Orders API Soak Test" over "Orders API Smoke".
    """
    name_words = _name_words(name)
    rows = [{w: _word_similarity(q, w) for w in name_words} for q in phrase_words]
    return _score(rows, name_words)


@dataclass(frozen=True)
class ScoredTest:
    test: LoadTest
    score: float


class NameIndex:
    """The words of many test names, indexed once per list of tests, so ranking looks only at the tests that
    share a word (or nearly) with the phrase instead of at all of them."""

    def __init__(self, tests: Sequence[LoadTest]) -> None:
        self.tests = list(tests)
        self.names = [_name_words(t.name) for t in self.tests]
        self.folded = [_fold(t.name.strip()) for t in self.tests]
        self.by_word: dict[str, list[int]] = {}
        for position, name_words in enumerate(self.names):
            for word in set(name_words):
                self.by_word.setdefault(word, []).append(position)
        self.vocabulary = list(self.by_word)
        self.plain = [w for w in self.vocabulary if not _has_digit(w)]  # numbers only ever match exactly
        self.prefixed = sorted(w for w in self.plain if len(w) >= 3)
        self.by_meaning: dict[tuple[str, ...], list[int]] = {}
        for position, name_words in enumerate(self.names):
            self.by_meaning.setdefault(name_words, []).append(position)

    def row(self, query: str) -> dict[str, float]:
        """How close each name word is to one phrase word (only the words that come close at all)."""
        if _has_digit(query):
            return {query: 100.0} if query in self.by_word else {}
        row = {
            choice: float(score)
            for choice, score, _ in process.extract(query, self.plain, scorer=fuzz.ratio, limit=None)
        }
        if len(query) >= 3:
            # "auth" → "authentication": a name word the phrase word begins (or that begins the phrase word)
            start = bisect.bisect_left(self.prefixed, query)
            for word in itertools.islice(self.prefixed, start, None):
                if not word.startswith(query):
                    break
                row[word] = max(row.get(word, 0.0), 88.0)
            for end in range(3, len(query)):
                head = query[:end]
                if head in self.by_word and not _has_digit(head):
                    row[head] = max(row.get(head, 0.0), 88.0)
        if query in self.by_word:
            row[query] = 100.0
        return row

    def rank(self, phrase: str) -> list[ScoredTest]:
        phrase_words = meaningful_words(phrase)
        rows = [self.row(q) for q in phrase_words]
        close = (word for row in rows for word, score in row.items() if score >= CANDIDATE_CUTOFF)
        candidates = {p for word in close for p in self.by_word.get(word, ())}
        scored = [ScoredTest(self.tests[p], _score(rows, self.names[p])) for p in candidates]
        scored.sort(key=lambda s: (-s.score, s.test.name.casefold(), s.test.id))
        return scored


CANDIDATE_CUTOFF = 55.0
"""Only tests with a name word at least this close to a phrase word are scored: a test without one cannot reach
the suggestion threshold, let alone a match."""
_INDEXES: dict[int, tuple[Sequence[LoadTest], NameIndex]] = {}


def name_index(tests: Sequence[LoadTest]) -> NameIndex:
    """The index of ``tests``, built once per list (the catalog hands out the same list until it reads again)."""
    key = id(tests)
    cached = _INDEXES.get(key)
    if cached is not None and cached[0] is tests and len(cached[1].tests) == len(tests):
        return cached[1]
    index = NameIndex(tests)
    if len(_INDEXES) >= 8:
        _INDEXES.pop(next(iter(_INDEXES)))
    _INDEXES[key] = (tests, index)
    return index


def rank(phrase: str, tests: Sequence[LoadTest]) -> list[ScoredTest]:
    """The tests that share a word with ``phrase``, scored against it, best first (ties by name, then id).

    Each distinct word of all names is compared with each phrase word once (rapidfuzz, in C), and only the
    tests holding a word that comes close are scored, so ranking thousands of tests costs a few milliseconds.
    """
    return name_index(tests).rank(phrase)


def choose(phrase: str, tests: Sequence[LoadTest], *, project_names: dict[int, str] | None = None) -> LoadTest:
    """Pick exactly one test for ``phrase`` among ``tests`` or raise a :class:`ResolutionError`."""
    names = project_names or {}

    def candidate(test: LoadTest, score: float) -> Candidate:
        return Candidate(test.id, test.name, test.project_id, score, names.get(test.project_id))

    text = phrase.strip()
    if not words(text):
        raise NoMatchingLoadTest("Say which load test: its name or its id.", phrase=phrase)
    index = name_index(tests)
    folded = _fold(text)
    exact = [index.tests[p] for p, name in enumerate(index.folded) if name == folded]
    if not exact:
        wanted = tuple(meaningful_words(text))
        exact = [index.tests[p] for p in index.by_meaning.get(wanted, ())] if wanted else []
    if len(exact) == 1:
        return exact[0]
    if len(exact) > 1:
        raise AmbiguousLoadTest.for_phrase(text, [candidate(t, 100.0) for t in exact[:MAX_CANDIDATES]])

    ranked = rank(text, tests)
    matches = [s for s in ranked if s.score >= MATCH_THRESHOLD]
    if not matches:
        suggestions = [candidate(s.test, s.score) for s in ranked[:3] if s.score >= SUGGESTION_THRESHOLD]
        raise NoMatchingLoadTest.for_phrase(text, suggestions)
    best = matches[0].score
    close = [s for s in matches if best - s.score < AMBIGUITY_MARGIN]
    if len(close) == 1:
        return close[0].test
    raise AmbiguousLoadTest.for_phrase(text, [candidate(s.test, s.score) for s in close[:MAX_CANDIDATES]])


class LoadTestCatalog:
    """All load tests and projects of the stack, read through every page and cached for a short while.

    Shared by name resolution and by anything that shows test names next to runs, so one paged read
    serves both. Writes that change names call :meth:`invalidate`.
    """

    def __init__(self, client: K6CloudClient, *, ttl: float = 30.0, clock: Callable[[], float] = time.monotonic):
        self.client = client
        self.ttl = ttl
        self._clock = clock
        # one entry each ("all"), kept for ttl seconds; the value remembers when it was read
        self._tests: TTLCache[str, tuple[float, list[LoadTest]]] = TTLCache(maxsize=1, ttl=ttl, timer=clock)
        self._projects: TTLCache[str, tuple[float, list[Project]]] = TTLCache(maxsize=1, ttl=ttl, timer=clock)
        # tests named by id, so repeated calls about one test (list its runs page by page) read it once
        self._by_id: TTLCache[int, LoadTest] = TTLCache(maxsize=256, ttl=ttl, timer=clock)
        self._lock = asyncio.Lock()
        self._checked_at = float("-inf")  # when the newest changes were last looked at (see _caught_up)

    def invalidate(self) -> None:
        self._tests.clear()
        self._by_id.clear()
        self._projects.clear()

    async def _cached(
        self, cache: TTLCache[str, tuple[float, list[M]]], read: Callable[[], Awaitable[list[M]]]
    ) -> list[M]:
        async with self._lock:
            entry = cache.get("all")
            if entry is None:
                entry = cache["all"] = (self._clock(), await read())
            return entry[1]

    def _tests_age(self) -> float | None:
        entry = self._tests.get("all")
        return None if entry is None else self._clock() - entry[0]

    async def load_tests(self) -> list[LoadTest]:
        return await self._cached(self._tests, lambda: self.client.collect(LoadTest, "/cloud/v6/load_tests"))

    async def projects(self) -> list[Project]:
        return await self._cached(self._projects, lambda: self.client.collect(Project, "/cloud/v6/projects"))

    async def project_names(self) -> dict[int, str]:
        return {p.id: p.name for p in await self.projects()}

    async def test_name(self, test_id: int) -> str | None:
        for test in await self.load_tests():
            if test.id == test_id:
                return test.name
        return None

    async def resolve(self, ref: int | str, *, project_id: int | None = None) -> LoadTest:
        """The one load test ``ref`` names: an id, an exact name, or a phrase close to one name."""
        test_id = parse_id(ref)
        if test_id is not None:
            cached = self._by_id.get(test_id)
            if cached is None:  # the list of every test, when read lately, knows it too
                entry = self._tests.get("all")
                cached = next((t for t in entry[1] if t.id == test_id), None) if entry is not None else None
            if cached is not None:
                return cached
            try:
                test = await self.client.get_model(LoadTest, f"/cloud/v6/load_tests/{test_id}")
                self._by_id[test_id] = test
                return test
            except NotFound:
                if isinstance(ref, str):  # a test may be named "2024": an exact name still counts
                    named = [t for t in await self.load_tests() if _fold(t.name.strip()) == _fold(ref.strip())]
                    if project_id is not None:
                        named = [t for t in named if t.project_id == project_id]
                    if len(named) == 1:
                        return named[0]
                raise NoMatchingLoadTest(f"No load test with id {test_id}.", phrase=str(ref)) from None
        assert isinstance(ref, str)
        try:
            return await self._choose(ref, project_id)
        except NoMatchingLoadTest:
            # The list may predate a test created or renamed a moment ago: look at the newest changes before
            # saying no. An ambiguous phrase is not checked again: a test created since only adds a candidate.
            if not await self._caught_up():
                raise
            return await self._choose(ref, project_id)

    async def _caught_up(self) -> bool:
        """Merge the most recently updated tests into the cached list; True when that changed the list.

        Costs one request of ``RECENT_TESTS`` tests, at most once per ``STALE_AFTER_MISS`` seconds; with 5,000
        tests that is about 100x less than reading the list again. Without a cached list nothing is checked.
        """
        async with self._lock:
            entry = self._tests.get("all")
            if entry is None:
                return False
            checked = max(entry[0], self._checked_at)
            if self._clock() - checked < STALE_AFTER_MISS:
                return False
            self._checked_at = self._clock()
            page = await self.client.get_page(
                LoadTest, "/cloud/v6/load_tests", {"$orderby": "updated desc", "$top": RECENT_TESTS}
            )
            known = {t.id: t for t in entry[1]}
            fresh = [
                t
                for t in page.value
                if (k := known.get(t.id)) is None or (k.name, k.project_id) != (t.name, t.project_id)
            ]
            if not fresh:
                return False
            merged = {**known, **{t.id: t for t in fresh}}
            self._tests["all"] = (entry[0], list(merged.values()))  # a new list: the name index is rebuilt
            self._by_id.clear()
            return True

    async def _choose(self, ref: str, project_id: int | None) -> LoadTest:
        tests = await self.load_tests()
        if project_id is not None:
            tests = [t for t in tests if t.project_id == project_id]
        return choose(ref, tests, project_names=await self.display_project_names())

    async def find(self, phrase: str, *, project_id: int | None = None, limit: int = 10) -> list[Candidate]:
        """Tests ranked against ``phrase`` (for search-style answers), best first, above the suggestion bar."""
        tests = await self.load_tests()
        if project_id is not None:
            tests = [t for t in tests if t.project_id == project_id]
        names = await self.display_project_names()
        return [
            Candidate(s.test.id, s.test.name, s.test.project_id, s.score, names.get(s.test.project_id))
            for s in rank(phrase, tests)[:limit]
            if s.score >= SUGGESTION_THRESHOLD
        ]

    async def resolve_project(self, ref: int | str) -> Project:
        """A project by id, exact name (case-insensitive) or a unique fuzzy match of its name."""
        project_id = parse_id(ref)
        if project_id is not None:
            try:
                return await self.client.get_model(Project, f"/cloud/v6/projects/{project_id}")
            except NotFound:
                raise ResolutionError(f"No project with id {project_id}.", phrase=str(ref)) from None
        assert isinstance(ref, str)
        projects = await self.projects()
        exact = [p for p in projects if p.name.casefold() == ref.strip().casefold()]
        if len(exact) == 1:
            return exact[0]
        wanted = [w for w in meaningful_words(ref) if w != "project"] or meaningful_words(ref)
        scored = sorted(((match_score(wanted, p.name), p) for p in projects), key=lambda sp: (-sp[0], sp[1].name))
        good = [(s, p) for s, p in scored if s >= MATCH_THRESHOLD]
        if good and (len(good) == 1 or good[0][0] - good[1][0] >= AMBIGUITY_MARGIN):
            return good[0][1]
        names = ", ".join(f"'{p.name}' (id {p.id})" for _, p in (good or scored)[:4])
        if good:
            raise ResolutionError(f"'{ref}' matches several projects: {names}. Which one?", phrase=ref)
        raise ResolutionError(f"No project matches '{ref}'." + (f" Projects: {names}." if names else ""), phrase=ref)

    async def display_project_names(self) -> dict[int, str]:
        """Project names for labels; a failure reading them never fails what wanted them (empty instead)."""
        try:
            return await self.project_names()
        except Exception:
            return {}

    async def display_name(self, test_id: int) -> str | None:
        """A load test's name for display; a failure reading it never fails what wanted it (None instead)."""
        try:
            return await self.test_name(test_id)
        except Exception:
            return None
