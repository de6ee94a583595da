"""One intent's explanation of a text: which words are its verb and nouns, which entities fill which fields,
which words are the names its fields resolve, and how good the explanation is.

:class:`Fitter` does the steps in order — flags, the question it answers, the verb, the nouns, a note, the
entities (by the word before them), amounts named by words, state words, names by their prepositions, and
finally a reference to a run — keeping count of what it explained and what it could not use. The score
rewards declared vocabulary most, guessed names least, and charges for anything left unexplained.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from bot.router.lexicon import (
    ALL_PHRASES,
    FILLER,
    NAME_SLOTS,
    ORDINAL_PHRASES,
    POLITE,
    PREPOSITIONS,
    STATE_PHRASES,
    Intent,
    SlotSpec,
    VerbWords,
    Words,
    words_of,
)
from bot.router.text import project_ref, test_ref
from bot.router.tokens import Analysis, Entity, Kind, Token
from tools.phrasing import Answer, Slot, unwrap
from tools.references import Named, RunRef, ScheduleOf, TestOfRun
from tools.registry import Safety

DETERMINERS = frozenset(
    [
        "the",
        "a",
        "an",
        "this",
        "that",
        "my",
        "our",
        "your",
        "their",
        "its",
        "his",
        "her",
        "last",
        "latest",
        "newest",
        "previous",
        "recent",
        "first",
        "next",
        "each",
        "every",
        "another",
    ]
)
"""Words after which a verb word is a noun or part of a name ("the last run", "the start page load")."""
HEDGES = frozenset(
    [
        "should",
        "shall",
        "shouldn't",
        "don't",
        "dont",
        "do",
        "not",
        "never",
        "no",
        "how",
        "why",
        "what",
        "what's",
        "whats",
        "whether",
        "if",
        "must",
        "wonder",
        "when",
        "when's",
        "whens",
        "did",
        "does",
        "has",
        "was",
        "is",
        "were",
        "are",
    ]
)
"""Words before a verb that make the text a question about doing it, or a refusal: never a write."""
_WHAT = frozenset(("what", "what's", "whats"))
VERB_EXACT = 3.0
VERB_FUZZY = 2.2
VERB_FIRST = 0.5
VERB_LATE = -1.0
"""A verb after other words ("the last failed run") is less likely the verb."""
VERB_EXTRA_WORD = 0.75
NOUN = 1.5
NOUN_EXTRA = 0.5
NOUN_FUZZY = 1.0
ANSWER = 1.5
SLOT_HARD = 1.0
SLOT_SOFT = 0.5
NAME_FILL = {Slot.LOAD_TEST: 0.3}
NAME_FILL_OTHER = 0.2
UNUSED_HARD = -2.0
UNUSED_SOFT = -1.0
LEFTOVER = -1.5
MISSING = -2.0
MERGED = -0.5
REMARK = -0.3
"""Words after a comma that no field takes ("stop the soak, it's hammering staging"): a remark, not an error."""
REQUIRES_MISMATCH = -3.0
RUN_BY_TEST_NAME = -0.3
SCHEDULE_BY_TEST_NAME = -1.0
EVERY_READ = -1.5
"""A read of "every" run one by one: a list of them says it better."""
"""A schedule named only by its test's name, without the word "schedule"."""
"""A run named only by its test's name, without the word "run"."""
VOCABULARY_NAME = -1.0
"""A "name" made only of words the language knows ("who did what": "what" is no test)."""
BARE = 1.0
NO_VERB = -2.0
"""An intent that changes something, without its verb in the text."""
CORE = 0.1
DEPRECATED = -0.2

REF = "__run_reference__"
"""The name of a run reference's load test in segment assignment (it is not an input field)."""
REF_PROJECT = "__run_reference_project__"

_ID_KINDS: dict[Kind, Slot] = {
    Kind.RUN_ID: Slot.RUN,
    Kind.TEST_ID: Slot.LOAD_TEST,
    Kind.PROJECT_ID: Slot.PROJECT,
    Kind.SCHEDULE_ID: Slot.SCHEDULE,
    Kind.ZONE_ID: Slot.LOAD_ZONE,
    Kind.LABEL_ID: Slot.LABEL_KEY,
}
_KIND_NOUNS: dict[Kind, tuple[Words, ...]] = {
    Kind.RUN_ID: (("run",), ("test", "run")),
    Kind.TEST_ID: (("test",), ("load", "test")),
    Kind.PROJECT_ID: (("project",),),
    Kind.SCHEDULE_ID: (("schedule",),),
    Kind.ZONE_ID: (("zone",), ("load", "zone")),
    Kind.LABEL_ID: (("label",), ("label", "key")),
}
_LIST_OF = {Kind.PROJECT_ID: Slot.PROJECTS, Kind.ZONE_ID: Slot.LOAD_ZONES}
_LIST_NOUNS = {Slot.PROJECTS: ("projects",), Slot.LOAD_ZONES: ("zones",)}
"""The plural before numbers that makes them that list ("limits of projects 2 and 3", "projects 78 and 79")."""
_BARE_ID_SLOTS = (Slot.RUN, Slot.LOAD_TEST, Slot.COUNT)
_NOUN_ID_SLOTS = (Slot.RUN, Slot.LOAD_TEST, Slot.SCHEDULE, Slot.LOAD_ZONE, Slot.LABEL_KEY, Slot.PROJECT, Slot.COUNT)
"""A bare number is a run, a test or a count; a schedule, zone, label or project id only when the text names
the thing ("deactivate 1" is not "deactivate schedule 1")."""
_TEXT_SLOTS = (
    Slot.NAME,
    Slot.NOTE,
    Slot.PHRASE,
    Slot.LOAD_TEST,
    Slot.PROJECT,
    Slot.SCHEDULE,
    Slot.LOAD_ZONE,
    Slot.LOAD_ZONE_NAME,
    Slot.LABEL_KEY,
    Slot.LABEL_KEY_NAME,
)
_NAMED_KINDS = {
    Slot.LOAD_ZONE: "load_zone",
    Slot.LOAD_ZONE_NAME: "load_zone_name",
    Slot.LABEL_KEY: "label_key",
    Slot.LABEL_KEY_NAME: "label_key_name",
}
_REMOVING = frozenset({"remove", "clear", "unset", "drop", "delete", "lift", "no"})
"""Verbs that, with a limit named but no number, remove that limit ("remove the VUH limit of payments")."""


# --------------------------------------------------------------------------- results


@dataclass
class Hit:
    start: int
    """Position in the word sequence."""
    length: int
    fuzzy: bool
    via: Slot | None = None
    tail: Hit | None = None
    """Where the second part of a split verb is ("kick the soak off")."""

    @property
    def words(self) -> int:
        return self.length + (self.tail.length if self.tail else 0)


@dataclass
class Fit:
    """One intent's explanation of the text."""

    intent: Intent
    values: dict[str, Any] = field(default_factory=dict)
    score: float = 0.0
    verb: Hit | None = None
    nouns: int = 0
    answer: Answer | None = None
    fuzzy: bool = False
    missing: list[str] = field(default_factory=list)
    leftover: list[int] = field(default_factory=list)
    unused: list[Entity] = field(default_factory=list)
    unused_soft: list[int] = field(default_factory=list)
    batch: bool = False
    sources: dict[str, Kind] = field(default_factory=dict)
    """Which kind of entity filled each field (fields filled from words are not in it)."""
    shared_verb: bool = False
    """Its verb is also another operation's ("delete", "set"): then its noun must be said too."""
    hedged: bool = False
    """A word before its verb asks about doing it, or says not to ("should I start…", "don't abort…")."""
    filters: int = 0
    """How many of its filters state words and dates filled ("failed since monday": two)."""

    @property
    def anchored(self) -> bool:
        """Whether the intent's own vocabulary (a verb, a noun or a question) is in the text — or, for a read,
        two of its filters ("failed since monday" lists runs)."""
        if self.verb is not None or self.nouns > 0 or self.answer is not None:
            return True
        return self.intent.safety is Safety.READ and self.filters >= 2

    @property
    def clean(self) -> bool:
        """Nothing in the text is left unexplained."""
        return not self.leftover and not self.unused and not self.unused_soft


# --------------------------------------------------------------------------- words


@dataclass
class Words_:
    """The word tokens of the text that are not data, in order, with typo fixes."""

    index: list[int]
    """Token index of each word."""
    words: list[str]
    exact: list[bool]
    positions: dict[str, list[int]] = field(default_factory=dict)
    """Where each word is (so finding a phrase costs what its first word's occurrences cost)."""
    protected: frozenset[int] = frozenset()
    """Positions of words that are part of a load test's name: no vocabulary is read from them."""

    def __post_init__(self) -> None:
        for position, word in enumerate(self.words):
            if position not in self.protected:
                self.positions.setdefault(word, []).append(position)

    @property
    def free_words(self) -> set[str]:
        """The words that are not part of a load test's name."""
        return {w for p, w in enumerate(self.words) if p not in self.protected}

    def first_meaningful(self) -> int:
        for position, word in enumerate(self.words):
            if word not in POLITE:
                return position
        return 0


_STATES_LONGEST_FIRST = sorted(STATE_PHRASES.items(), key=lambda kv: -len(kv[0]))
_ORDINALS_LONGEST_FIRST = sorted(ORDINAL_PHRASES, key=len, reverse=True)
_ALL_LONGEST_FIRST = sorted(ALL_PHRASES, key=len, reverse=True)
"""Sorted once: every intent's fitter tries them, longest first, on every text."""


def occurrences(phrase: Words, seq: Words_, taken: set[int]) -> list[Hit]:
    """Where ``phrase`` occurs in the words, consecutively except for filler words between its words."""
    hits: list[Hit] = []
    words = seq.words
    n = len(phrase)
    if not n:
        return hits
    for start in seq.positions.get(phrase[0], ()):
        if start in taken:
            continue
        position, matched, fuzzy, end = start, 0, False, start
        while matched < n and position < len(words):
            if position in taken or position in seq.protected:
                break
            if words[position] == phrase[matched]:
                fuzzy |= not seq.exact[position]
                matched += 1
                end = position
                position += 1
            elif matched and words[position] in FILLER and words[position] not in phrase:
                position += 1
            else:
                break
        if matched == n:
            hits.append(Hit(start, end - start + 1, fuzzy))
    return hits


def _verb_hits(verb: VerbWords, seq: Words_, taken: set[int]) -> list[Hit]:
    hits = occurrences(verb.words, seq, taken)
    if not verb.tail:
        return hits
    split = []
    for hit in hits:
        tails = [t for t in occurrences(verb.tail, seq, taken) if t.start >= hit.start + hit.length]
        if tails:
            split.append(Hit(hit.start, hit.length, hit.fuzzy, tail=tails[-1]))
    return split


def _positions(hit: Hit) -> set[int]:
    positions = set(range(hit.start, hit.start + hit.length))
    if hit.tail is not None:
        positions |= _positions(hit.tail)
    return positions


# --------------------------------------------------------------------------- the fitter


class Fitter:
    """Explains one text as one intent (see the module docstring for the steps)."""

    def __init__(
        self,
        intent: Intent,
        analysis: Analysis,
        seq: Words_,
        *,
        legacy: bool,
        question: bool,
        vocabulary: frozenset[str] = frozenset(),
        shared_verbs: frozenset[Words] = frozenset(),
    ) -> None:
        self.intent = intent
        self.vocabulary = vocabulary
        self.shared_verbs = shared_verbs
        self.analysis = analysis
        self.seq = seq
        self.legacy = legacy
        self.question = question
        self.fit = Fit(intent)
        self.score = 0.0
        self.taken: set[int] = set()
        """Positions in ``seq`` explained by vocabulary."""
        self.used: set[int] = set()
        """Token indices explained (vocabulary, entities, names)."""
        self.filled: dict[str, Any] = {}
        self.by_name = {s.field: s for s in intent.slots}
        self.noun_positions: set[int] = set()
        self.word_nouns: set[int] = set()
        """Positions of nouns that are one word ("failed"; not "error rate")."""
        self.answered: set[int] = set()
        self.quoted: dict[str, Entity] = {}
        """Name fields filled from a quoted phrase, which may yet turn out to be part of a longer name."""

    # -- helpers -----------------------------------------------------------------------

    def free(self, kind: Slot) -> list[SlotSpec]:
        return [s for s in self.intent.slots if s.slot is kind and s.field not in self.filled]

    def _explain(self, positions: set[int] | range) -> None:
        self.taken.update(positions)
        self.used.update(self.seq.index[p] for p in positions)

    def _fill(self, spec: SlotSpec, value: Any, entity: Entity | None = None, *, points: float = SLOT_HARD) -> None:
        self.filled[spec.field] = value
        if entity is not None:
            self.fit.sources[spec.field] = entity.kind
            self.used.update(entity.tokens)
            if entity.kind is Kind.QUOTED and spec.slot in NAME_SLOTS:
                self.quoted[spec.field] = entity
        self.score += points

    @property
    def via_run(self) -> bool:
        return self.fit.verb is not None and self.fit.verb.via is Slot.RUN

    # -- the steps ----------------------------------------------------------------------

    def run(self) -> Fit | None:
        intent, seq = self.intent, self.seq
        if intent.requires and not set(intent.requires) & seq.free_words:
            return None
        flags = self._flags()
        self._answers()
        self._verb()
        self._nouns()
        self._explain(flags - self.taken)
        for position, word in enumerate(seq.words):
            if word in intent.requires and position not in seq.protected:
                self._explain({position})
        if self.legacy and not intent.requires:
            self.score += REQUIRES_MISMATCH
        hard = self._note_after_colon()
        hard = self._pairs(hard)
        hard = self._entities(hard)
        hard = self._several_runs(hard)
        self.fit.unused = [e for e in hard if not e.weak]
        self._amounts()
        self._note_remainder()
        self._kind_noun()
        qualifiers = self._states()
        ref_test, ref_project = self._names()
        self._reference(qualifiers, ref_test, ref_project)
        return self._finish()

    def _flags(self) -> set[int]:
        """Words that set a flag ("failures", "clear the baseline") may also be its verb or a noun; a field's
        literal words set it to that word ("compare 1234 with the baseline": against = "baseline")."""
        positions: set[int] = set()
        for spec in self.intent.slots:
            if spec.slot is Slot.AMOUNT or not spec.say.words:
                continue
            for word in sorted(spec.say.words, key=len, reverse=True):
                for hit in occurrences(words_of(word), self.seq, positions):
                    positions |= _positions(hit)
                    if spec.field not in self.filled:
                        value = True if spec.slot is Slot.FLAG else word
                        self._fill(spec, value, points=SLOT_SOFT if spec.slot is Slot.FLAG else SLOT_HARD)
        return positions

    def _answers(self) -> None:
        """The question it answers ("who started", "error rate"): its words may also be the verb or a noun."""
        if not self.question:
            return
        last = len(self.seq.words) - 1
        for words, answer in sorted(self.intent.answers, key=lambda wa: -len(wa[0])):
            for hit in occurrences(words, self.seq, self.answered):
                if hit.start > 0 and hit.start + hit.length - 1 < last and self.seq.words[hit.start - 1] in DETERMINERS:
                    continue  # "how's the running soak doing": a word before a noun names the run, it asks nothing
                if hit.start > 0 and self.seq.words[hit.start - 1] in _WHAT:
                    continue  # "what killed 1013", "what broke in 1012": asks what caused it, not whether it did
                self.answered.update(_positions(hit))
                if self.fit.answer is None:
                    self.fit.answer = answer
                    self.score += ANSWER

    def _verb(self) -> None:
        """The verb: at the start, then the longest, exact before fuzzy."""
        first = self.seq.first_meaningful()
        hits = self._verb_in_run_id() + [
            (hit, verb)
            for verb in self.intent.verbs
            for hit in _verb_hits(verb, self.seq, self.taken)
            if not self._after_determiner(hit, first)
        ]
        if not hits:
            return
        hit, verb = min(hits, key=lambda hv: (hv[0].start != first, -hv[0].words, hv[0].fuzzy, hv[0].start))
        hit.via = verb.via
        self.fit.verb = hit
        self.fit.hedged = any(word in HEDGES for word in self._clause_before(hit))
        self.fit.shared_verb = verb.words in self.shared_verbs and not verb.tail  # "give … access to" is its own
        self._explain(_positions(hit))
        self.score += (VERB_FUZZY if hit.fuzzy else VERB_EXACT) + VERB_EXTRA_WORD * (hit.words - 1)
        self.score += VERB_FIRST if hit.start == first else VERB_LATE
        self.fit.fuzzy |= hit.fuzzy
        # "explain why 1225 …", "investigate why …": a second verb of the same operation right after the first
        follows = hit.start + hit.length
        for other, _ in hits:
            if other.start == follows and not other.fuzzy and other.tail is None and other.start not in self.taken:
                self._explain(_positions(other))
                break
        # "which zones can platform use": a split verb of the same operation around a name says it as a noun would
        for other, _ in hits:
            if other.tail is not None and not other.fuzzy and not (_positions(other) & self.taken):
                self._explain(_positions(other))
                self.score += NOUN
                break

    def _clause_before(self, hit: Hit) -> list[str]:
        """The words before the verb in its own sentence or clause ("the soak is slow. abort it": none)."""
        tokens, start = self.analysis.tokens, self.seq.index[hit.start]
        first = start
        while first > 0 and not (tokens[first - 1].kind == "punct" and tokens[first - 1].text in ".,;!?"):
            first -= 1
        return [t.low for t in tokens[first:start] if t.kind == "word"]

    def _verb_in_run_id(self) -> list[tuple[Hit, VerbWords]]:
        """ "run 1227 again": a split verb on a run ("run … again") whose first word is the "run" of the run id
        the text starts with; the id is then the verb's object."""
        tokens = self.analysis.tokens
        if not tokens or tokens[0].low != "run":
            return []
        if not any(e.kind is Kind.RUN_ID and e.tokens and e.tokens[0] == 0 for e in self.analysis.entities):
            return []
        return [
            (Hit(tail.start, tail.length, tail.fuzzy), verb)
            for verb in self.intent.verbs
            if verb.via is Slot.RUN and verb.words == ("run",) and verb.tail
            for tail in occurrences(verb.tail, self.seq, self.taken)
        ]

    def _after_determiner(self, hit: Hit, first: int) -> bool:
        """A word right after "the", "last", "my"… is a noun or part of a name, not the verb: "the last run",
        "start the start page load", "show the schedule"."""
        if hit.start <= first or hit.start == 0:
            return False
        return self.seq.words[hit.start - 1] in DETERMINERS

    def _nouns(self) -> None:
        nouns = list(self.intent.nouns)
        if self.via_run:
            nouns += [words for words in _RUN_NOUNS if words not in nouns]  # "rerun the last failed run"
        for noun in sorted(nouns, key=len, reverse=True):
            for hit in occurrences(noun, self.seq, self.taken):
                positions = _positions(hit)
                self.noun_positions |= positions
                if len(positions) == 1:
                    self.word_nouns |= positions
                self._explain(positions)
                if hit.fuzzy:
                    self.score += NOUN_FUZZY
                else:
                    self.score += (NOUN if not self.fit.nouns else NOUN_EXTRA) + NOUN_EXTRA * (hit.length - 1)
                self.fit.nouns += 1
                self.fit.fuzzy |= hit.fuzzy

    def _note_after_colon(self) -> list[Entity]:
        """The text after a colon is a note, a script or a name when the intent takes one; what looks like data
        inside it ("pool exhausted at 400 VUs") is part of it."""
        entities = [e for e in self.analysis.entities if e.kind is not Kind.NOTE]
        note = next((e for e in self.analysis.entities if e.kind is Kind.NOTE), None)
        targets = (self.free(Slot.NOTE) or self.free(Slot.NAME)) if note is not None else []
        if note is None or not targets:
            return entities
        self._fill(targets[0], note.value)
        self.used.update(note.tokens)
        inside = set(note.tokens)
        return [e for e in entities if not inside.issuperset(e.tokens)]

    def _pairs(self, hard: list[Entity]) -> list[Entity]:
        """``field=value`` sets that field; other pairs are labels, or the options of a dict field."""
        rest = []
        pairs = []
        for entity in hard:
            if entity.kind is not Kind.PAIR:
                rest.append(entity)
                continue
            key, value = entity.value
            spec = self.by_name.get(key) or self.by_name.get(key.replace("-", "_"))
            if spec is not None and spec.slot is not Slot.PAIRS:
                literal = _literal(value)
                if spec.is_list and not isinstance(literal, list):
                    literal = [literal]
                self._fill(spec, literal, entity)
                if "_" in key and spec.field == key.replace("-", "_"):
                    # "vuh_max_per_month=1000": the field's own name names what is changed, as a noun would
                    self.fit.nouns += 1
                    self.score += NOUN
            else:
                pairs.append(entity)
        if not pairs:
            return rest
        labels = next(iter(self.free(Slot.PAIRS)), None)
        options = next((s for s in self.intent.slots if s.is_dict and s.field not in self.filled), None)
        if labels is not None:
            self._fill(labels, [{"key": k, "value": v} for k, v in (e.value for e in pairs)])
            self.fit.nouns += 1  # "set team=qa for payments": key=value pairs are labels, as the noun would say
        elif options is not None:
            self._fill(options, {k: _literal(v) for k, v in (e.value for e in pairs)})
        else:
            return rest + pairs
        for entity in pairs:
            self.used.update(entity.tokens)
        return rest

    def _entities(self, hard: list[Entity]) -> list[Entity]:
        """Each entity into the first free field that takes its kind and the word before it (those whose
        preposition a field names explicitly first)."""
        for strict in (True, False):
            left = []
            for entity in hard:
                if self._assign(entity, strict):
                    self.used.update(entity.tokens)
                else:
                    left.append(entity)
            hard = left  # rebuilt, not list.remove(): "1234 " * 800 must stay linear
        if not any(s.slot in _DATE_SLOTS for s in self.intent.slots):
            # "how much VUH is left this month": the period of an amount left or used, not a filter
            period = [e for e in hard if e.kind is Kind.RANGE and e.before in _AMOUNT_PERIOD_BEFORE]
            for entity in period:
                self.used.update(entity.tokens)
            hard = [e for e in hard if all(e is not p for p in period)]
        return hard

    def _several_runs(self, hard: list[Entity]) -> list[Entity]:
        """ "abort 1238 1237": more run ids than run fields — the operation for each of them."""
        runs = [s for s in self.intent.slots if s.slot is Slot.RUN]
        extra = [e for e in hard if e.kind in (Kind.RUN_ID, Kind.NUMBER, Kind.HASH)]
        if (
            len(runs) != 1
            or not extra
            or self.fit.sources.get(runs[0].field) not in (Kind.RUN_ID, Kind.NUMBER, Kind.HASH)
        ):
            return hard
        first = self.filled[runs[0].field]
        self.filled[runs[0].field] = [first, *(e.value for e in extra)]
        for entity in extra:
            self.used.update(entity.tokens)
        self.fit.batch = True
        taken = {id(e) for e in extra}  # by identity: equal-looking entities are still different words
        return [e for e in hard if id(e) not in taken]

    def _place(self, entity: Entity, kinds: tuple[Slot, ...], value: Any, strict: bool) -> bool:
        for kind in kinds:
            for spec in self.free(kind):
                if self._takes(spec, entity, strict):
                    self._fill(spec, value, entity)
                    return True
        return False

    @staticmethod
    def _takes(spec: SlotSpec, entity: Entity, strict: bool) -> bool:
        """Whether the field takes this entity, by the word before it: in the strict pass only a field that names
        that word; then any field, except that after a preposition only a field that takes that preposition
        ("to 100" is the zones to allow, not the project)."""
        explicit = bool(spec.say.before)
        if strict:
            return explicit and entity.before is not None and entity.before in spec.before
        if explicit and entity.before not in spec.before and None not in spec.before:
            return False
        return not (entity.before in PREPOSITIONS and spec.slot in NAME_SLOTS and entity.before not in spec.before)

    def _append(self, kind: Slot, value: Any, entity: Entity | None = None) -> bool:
        spec = next((s for s in self.intent.slots if s.slot is kind), None)
        if spec is None or (entity is not None and not self._takes(spec, entity, False)):
            return False
        current = self.filled.setdefault(spec.field, [])
        if not isinstance(current, list):
            return False
        if not current:
            self.score += SLOT_HARD
        current.append(value)
        return True

    def _assign(self, entity: Entity, strict: bool) -> bool:
        kind = entity.kind
        via = self.via_run and bool(self.free(Slot.LOAD_TEST)) and not self.free(Slot.RUN)
        if kind in _ID_KINDS:
            slot = _ID_KINDS[kind]
            if slot is Slot.RUN and via:
                return self._place(entity, (Slot.LOAD_TEST,), TestOfRun(entity.value), strict)
            if self._place(entity, (slot,), entity.value, strict):
                return True
            return kind in _LIST_OF and not strict and self._append(_LIST_OF[kind], entity.value, entity)
        if kind in (Kind.HASH, Kind.NUMBER):
            if via:
                return self._place(entity, (Slot.LOAD_TEST,), TestOfRun(entity.value), strict)
            lists = (Slot.IDS, Slot.PROJECTS, Slot.LOAD_ZONES)
            if not strict and any(self._append(s, entity.value, entity) for s in lists if self._list_named(s, entity)):
                return True
            slots = _NOUN_ID_SLOTS if self.fit.nouns else _BARE_ID_SLOTS
            if self._place(entity, slots, entity.value, strict):
                return True
            if strict:
                return False
            return any(self._append(s, entity.value, entity) for s in lists)
        if kind is Kind.ZONE_NAME:
            return self._place(entity, (Slot.LOAD_ZONE_NAME,), entity.value, strict) or self._place(
                entity, (Slot.LOAD_ZONE,), Named("load_zone", entity.value), strict
            )
        if kind is Kind.COUNT:
            return self._place(entity, (Slot.COUNT,), entity.value, strict)
        if kind is Kind.DURATION:
            return self._place(entity, (Slot.DURATION,), entity.value, strict)
        if kind is Kind.RANGE:
            return self._range(entity, strict)
        if kind is Kind.POINT:
            return self._place(entity, (Slot.WHEN,), entity.value.isoformat(), strict)
        if kind is Kind.RECURRENCE:
            return self._recurrence(entity, strict)
        if kind is Kind.QUOTED:
            for slot in _TEXT_SLOTS:
                for spec in self.free(slot):
                    if strict and not (spec.say.before and entity.before in spec.before):
                        continue
                    return self._place(entity, (slot,), _name_value(spec, entity.value), strict)
            return False
        if kind is Kind.URL:
            url = next((s for s in self.intent.slots if s.field.endswith("url") and s.field not in self.filled), None)
            if url is None:
                return False
            self._fill(url, entity.value, entity)
            return True
        return False

    def _list_named(self, kind: Slot, entity: Entity) -> bool:
        """A list field that the word before the entity names ("to 78, 79", "projects 2 and 3"), or that already
        has items."""
        spec = next((s for s in self.intent.slots if s.slot is kind), None)
        if spec is None:
            return False
        before = entity.before
        return bool(self.filled.get(spec.field)) or (
            before is not None and (before in spec.before or before in _LIST_NOUNS.get(kind, ()))
        )

    def _range(self, entity: Entity, strict: bool) -> bool:
        since, until = self.free(Slot.SINCE), self.free(Slot.UNTIL)
        found = entity.value
        if since or until:
            self.fit.filters += 1
            if found.since is not None and since:
                self._fill(since[0], found.since.isoformat(), entity)
            if found.until is not None and until:
                self._fill(until[0], found.until.isoformat(), entity, points=0)
            return True
        if self.free(Slot.WHEN) and found.since is not None:
            return self._place(entity, (Slot.WHEN,), found.since.isoformat(), strict)
        return False

    def _recurrence(self, entity: Entity, strict: bool) -> bool:
        recurrence = entity.value
        if recurrence.cron is not None and self.free(Slot.CRON):
            done = self._place(entity, (Slot.CRON,), recurrence.cron, strict)
        elif recurrence.rule is not None and self.free(Slot.RECURRENCE):
            done = self._place(entity, (Slot.RECURRENCE,), recurrence.rule, strict)
        else:
            return False
        when = self.free(Slot.WHEN)
        if done and recurrence.starts is not None and when:
            self._fill(when[0], recurrence.starts.isoformat(), entity, points=0)
        return done

    def _amounts(self) -> None:
        """A number for a field named by its words ("set the VU limit of payments to 2000", "1000 VUH per month");
        with a removing verb and no number, the field is removed ("remove the VUH limit")."""
        numbers = [e for e in self.fit.unused if e.kind is Kind.NUMBER]
        durations = [
            e for e in self.analysis.entities if e.kind is Kind.DURATION and not self.used.intersection(e.tokens)
        ]
        removing = self.fit.verb is not None and any(self.seq.words[p] in _REMOVING for p in _positions(self.fit.verb))
        for spec in self.intent.slots:
            if spec.slot is not Slot.AMOUNT or spec.field in self.filled:
                continue
            hit = next(
                (
                    h
                    for w in sorted(spec.say.words, key=len, reverse=True)
                    for h in occurrences(words_of(w), self.seq, set())
                ),
                None,
            )
            if hit is None:
                continue
            positions = _positions(hit)
            if not positions <= self.taken:
                self._explain(positions - self.taken)
            self.fit.nouns += 1  # "the VU limit" names what is changed, as a noun would
            self.score += NOUN_EXTRA * (hit.length - 1)  # the longer, the surer ("max vus per test")
            named_at = self.seq.index[hit.start]
            pool = [*numbers, *durations] if spec.say.seconds else numbers  # "to 30 minutes": a time, in seconds
            number = min(pool, key=lambda e: abs(e.first - named_at), default=None)
            if number is not None:
                (numbers if number.kind is Kind.NUMBER else durations).remove(number)
                if number in self.fit.unused:
                    self.fit.unused.remove(number)
                self._fill(spec, int(number.value) if number.kind is Kind.DURATION else number.value, number)
            elif removing:
                removals = next(iter(s for s in self.intent.slots if s.slot is Slot.REMOVALS), None)
                if removals is not None:
                    current = self.filled.setdefault(removals.field, [])
                    current.append(spec.field)
                    self.score += SLOT_HARD

    def _note_remainder(self) -> None:
        """ "note run 1234 latency < 200ms & no errors": everything after the run is the note, as typed."""
        note = next((s for s in self.free(Slot.NOTE) if s.required), None)
        if note is None or not self.used:
            return
        tail = [t.index for t in self.analysis.tokens if t.index > max(self.used)]
        text = re.sub(r"^[-–—:;,]+\s*", "", self.analysis.words(tail).strip())  # "note 1017 - sandbox down"
        text = re.sub(r"^(?:saying|that|with|to say|reading)\s+", "", text, flags=re.IGNORECASE)
        if text:
            self._fill(note, text)
            self.used.update(tail)

    def _kind_noun(self) -> None:
        """ "test 501", "run 1234": an id said with its kind names the intent's object as its noun would."""
        if self.fit.nouns:
            return
        for name, kind in self.fit.sources.items():
            words = _KIND_NOUNS.get(kind, ())
            slot = self.by_name[name].slot
            if any(noun in words for noun in self.intent.nouns) and slot in (_ID_KINDS.get(kind), _LIST_OF.get(kind)):
                self.score += NOUN
                self.fit.nouns += 1
                return

    def _states(self) -> dict[str, Any]:
        """State words fill the intent's filters, or qualify a reference to a run; "the last" and "all" too."""
        seq, slots = self.seq, self.intent.slots
        wants_ref = bool(self.free(Slot.RUN)) or (self.via_run and bool(self.free(Slot.LOAD_TEST)))
        filters = any(s.slot in (Slot.STATUS, Slot.RESULT) for s in slots)
        qualifiers: dict[str, Any] = {"status": [], "result": [], "every": False, "latest": False}
        blocked = set(self.taken)
        if filters:  # "running tests": a state word in a noun still sets the filter
            blocked -= {p for p in self.noun_positions if (seq.words[p],) in STATE_PHRASES}
        elif wants_ref:  # "why did the last failed run fail": a result word in a noun still qualifies the run
            blocked -= {p for p in self.word_nouns if STATE_PHRASES.get((seq.words[p],), (None,))[0] is Slot.RESULT}
        data = {p for p, index in enumerate(seq.index) if index in self.used and p not in self.taken}
        blocked |= data  # a note's words are the note, not state words
        for phrase, (kind, value) in _STATES_LONGEST_FIRST:
            if phrase[0] not in seq.positions:
                continue  # most texts hold none of the ~80 state phrases: skip them without a search
            for hit in occurrences(phrase, seq, blocked):
                positions = _positions(hit)
                blocked |= positions
                spec = next((s for s in slots if s.slot is kind and value in s.values), None)
                if spec is None and self.answered.issuperset(positions):
                    self._explain(positions)  # "has the soak finished?": the question's word, not a filter
                    continue
                if spec is not None:
                    current = self.filled.setdefault(spec.field, [] if spec.is_list else value)
                    if isinstance(current, list) and value not in current:
                        current.append(value)
                    self.score += SLOT_SOFT
                    self.fit.filters += 1
                elif wants_ref:
                    found = qualifiers["status" if kind is Slot.STATUS else "result"]
                    if value not in found:
                        found.append(value)
                        if not positions <= self.noun_positions:  # a noun's words scored already
                            self.score += SLOT_SOFT
                elif not self.answered.issuperset(positions):  # "is 1234 done": the question's own word
                    self.fit.unused_soft.extend(seq.index[p] for p in positions)
                self._explain(positions)
        usable = wants_ref or bool(self.free(Slot.COUNT)) or any(s.slot is Slot.COUNT for s in slots)
        for phrases, key in ((_ORDINALS_LONGEST_FIRST, "latest"), (_ALL_LONGEST_FIRST, "every")):
            for phrase in phrases:
                if phrase[0] not in seq.positions:
                    continue
                for hit in occurrences(phrase, seq, self.taken | data):
                    positions = _positions(hit)
                    self._explain(positions)
                    if wants_ref:
                        qualifiers[key] = True
                    elif key == "latest" and not usable:  # "details of the last run …" is not about a test
                        self.fit.unused_soft.extend(seq.index[p] for p in positions)
        return qualifiers

    def _names(self) -> tuple[int | str | None, int | str | None]:
        """Words left over: names, by the preposition before them."""
        self.used.update(self.seq.index[p] for p in self.answered)
        segments = _segments(self.analysis, self.seq, self.used)
        specs = [s for s in self.intent.slots if s.slot in NAME_SLOTS and s.field not in self.filled]
        ref = next(iter(self.free(Slot.RUN)), None) or (
            next(iter(self.free(Slot.LOAD_TEST)), None) if self.via_run else None
        )
        assigned = _assign_segments(segments, specs, ref is not None)
        if assigned is None and not (self.intent.writes and _continues_after_comma(self.analysis)):
            # words after a comma that nothing takes are a remark ("… , it's hammering staging"); never for a
            # write when they go on with the command ("start checkout spike, then the soak": two things)
            kept = [s for s in segments if not s.after_comma]
            assigned = _assign_segments(kept, specs, ref is not None) if len(kept) < len(segments) else None
            if assigned is not None:
                self.score += REMARK
                self.used.update(i for s in segments if s.after_comma for i in s.tokens)
        if assigned is None and self.quoted:
            # words around a quote that nothing else takes: the quote is part of the name as typed
            # ("start *x* _y_ `c` <!channel>" names one test, not one called "c")
            field, quoted = next(iter(self.quoted.items()))
            del self.filled[field], self.quoted[field]
            self.fit.sources.pop(field, None)
            self.used.difference_update(quoted.tokens)
            self.score -= SLOT_HARD
            segments = [*segments, Segment(None, list(quoted.tokens), False)]
            specs = [s for s in self.intent.slots if s.slot in NAME_SLOTS and s.field not in self.filled]
        if assigned is None:
            everything = sorted({i for s in segments for i in s.tokens})
            self.score += MERGED * (len(segments) - 1)
            test = next((s for s in specs if s.slot is Slot.LOAD_TEST), None)
            if len(specs) == 1:
                assigned = {specs[0].field: everything}
            elif test is not None and self.intent.safety is Safety.READ:
                # a read that filters by test or project, with words split by marks ("runs of API v2 –
                # Checkout (staging)"): one test's name, as when the test is its only name
                assigned = {test.field: everything}
            elif not specs and ref is not None:
                assigned = {REF: everything}
            else:
                assigned = {}
                self.fit.leftover = sorted(set(everything))
        ref_test: int | str | None = None
        ref_project: int | str | None = None
        for name, indices in assigned.items():
            if name == REF or (name in self.by_name and self.by_name[name].slot is Slot.LOAD_TEST):
                indices = _with_trailing_test(self.analysis, indices)
            indices = _with_touching_marks(self.analysis, indices, self.used)
            phrase = _name_text(self.analysis, indices)
            if not phrase:
                continue
            if self.intent.writes and phrase.casefold() in self.vocabulary and phrase.casefold() not in FILLER:
                # "allow projects 78 and 79 to …": one word of the language itself names nothing to change
                self.fit.leftover = sorted(set(self.fit.leftover) | set(indices))
                continue
            if any(
                set(indices) <= set(e.tokens) for e in self.fit.unused if e.kind in _ID_KINDS and e.extra.get("url")
            ):
                continue  # a pasted k6 link alone is the id it holds ("…/runs/1235 what happened"), not a name
            if self.intent.writes and ("," in phrase or " - " in phrase) and _continues_after_comma(self.analysis):
                # "start checkout spike, then the soak": two names, not one to change
                self.fit.leftover = sorted(set(self.fit.leftover) | set(indices))
                continue
            self.used.update(indices)
            # a link nothing else took was typed as part of the name
            self.fit.unused = [e for e in self.fit.unused if not set(e.tokens) <= self.used]
            if all(w in self.vocabulary and w not in FILLER for w in words_of(phrase)):
                self.score += VOCABULARY_NAME
            if name == REF:
                ref_test = test_ref(phrase)
                self.score += NAME_FILL_OTHER
            elif name == REF_PROJECT:
                ref_project = project_ref(phrase)
                self.score += NAME_FILL_OTHER
            else:
                spec = self.by_name[name]
                self.filled[name] = _name_value(spec, phrase)
                self.score += NAME_FILL.get(spec.slot, NAME_FILL_OTHER)
                if spec.slot is Slot.SCHEDULE and not {"schedule", "schedules"} & self.seq.free_words:
                    self.score += SCHEDULE_BY_TEST_NAME  # "stop the orders soak" stops its run, not its schedule
        return ref_test, ref_project

    def _reference(self, qualifiers: dict[str, Any], ref_test: int | str | None, project: int | str | None) -> None:
        """A reference to a run: "the running checkout spike", "all running tests in payments", "rerun the last
        failed test". State words alone, without "run" or a name, are not one run ("what's running")."""
        ref_spec = next(iter(self.free(Slot.RUN)), None)
        via_spec = next(iter(self.free(Slot.LOAD_TEST)), None) if self.via_run else None
        states = bool(qualifiers["status"] or qualifiers["result"])
        qualified = states or qualifiers["every"] or qualifiers["latest"]
        pronoun = bool({"one", "ones"} & self.seq.free_words)  # "stop the queued one": "one" stands for the run
        if (
            ref_spec is not None
            and ref_test is None
            and qualified
            and not self.fit.nouns
            and not qualifiers["every"]
            and not (pronoun and states)
        ):
            for position, word in enumerate(self.seq.words):
                if (word,) in STATE_PHRASES and position not in self.answered and position not in self.seq.protected:
                    self.fit.unused_soft.append(self.seq.index[position])
            return
        if ref_spec is not None and (ref_test is not None or qualified):
            if ref_test is not None and not ({"run", "runs"} & self.seq.free_words):
                self.score += RUN_BY_TEST_NAME  # "info on refunds api load" is more likely about the test
            self.filled[ref_spec.field] = RunRef(
                test=ref_test,
                project=project,
                status=tuple(qualifiers["status"]),
                result=tuple(qualifiers["result"]),
                every=bool(qualifiers["every"]),
                abortable=self.intent.safety is Safety.STOP,
                text=self.analysis.text,
            )
            self.fit.batch = bool(qualifiers["every"])
            if qualifiers["every"] and self.intent.safety is Safety.READ:
                self.score += EVERY_READ  # "show me every aborted run" is a list, not each run in turn
        elif via_spec is not None and (ref_test is not None or qualified):
            if ref_test is not None and not states:
                self.filled[via_spec.field] = ref_test  # "rerun orders soak": the test itself
            else:
                self.filled[via_spec.field] = TestOfRun(
                    RunRef(
                        test=ref_test,
                        project=project,
                        status=tuple(qualifiers["status"]),
                        result=tuple(qualifiers["result"]),
                        text=self.analysis.text,
                    )
                )

    def _finish(self) -> Fit:
        fit, intent = self.fit, self.intent
        fit.missing = [s.field for s in intent.slots if s.required and s.field not in self.filled]
        fit.values = self.filled
        score = self.score
        score += UNUSED_HARD * len(fit.unused)
        score += UNUSED_SOFT * len(fit.unused_soft)
        score += max(LEFTOVER * len(fit.leftover), 3 * LEFTOVER)
        score += MISSING * len(fit.missing)
        if is_bare(fit):
            score += BARE
        if intent.writes and fit.verb is None:
            score += NO_VERB
        if intent.core:
            score += CORE
        if intent.deprecated:
            score += DEPRECATED
        fit.score = round(score, 3)
        return fit


_RUN_NOUNS: tuple[Words, ...] = (("run",), ("test", "run"))
"""What a verb whose object is a run (``Verb(via=Slot.RUN)``: "rerun") may call its object."""


def is_bare(fit: Fit) -> bool:
    """A text that is only an id ("1234", "test 501", a pasted run URL) means the intent that declares itself
    ``bare`` for that kind of id; a bare number is a run."""
    if not fit.intent.phrases.bare or fit.anchored or fit.missing or not fit.values:
        return False
    specs = {s.field: s for s in fit.intent.slots}
    for name in fit.values:
        source = fit.sources.get(name)
        if source is None:
            return False
        if source in (Kind.NUMBER, Kind.HASH) and specs[name].slot is not Slot.RUN:
            return False
    return True


# --------------------------------------------------------------------------- names


def _literal(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


_HOW_OFTEN = re.compile(r"^(?:the\s+)?(?:daily|nightly|weekly|hourly|monthly|weekday|weekend)\s+", re.IGNORECASE)
_TRAILING_KIND = re.compile(r"\s+(?:load\s+)?tests?$", re.IGNORECASE)


def _name_value(spec: SlotSpec, phrase: str) -> Any:
    slot = spec.slot
    if slot is Slot.PHRASE and not spec.is_list and _TRAILING_KIND.sub("", phrase):
        phrase = _TRAILING_KIND.sub("", phrase)  # "find the checkout tests": tests about "checkout"
    if slot is Slot.LOAD_TEST:
        return test_ref(phrase)
    if slot is Slot.PROJECT:
        return project_ref(phrase)
    if slot is Slot.SCHEDULE:
        # "the weekly soak schedule": how often it runs describes the schedule, it is no part of the test's name
        return ScheduleOf(test_ref(_HOW_OFTEN.sub("", phrase).strip() or phrase))
    if slot in _NAMED_KINDS:
        return Named(_NAMED_KINDS[slot], phrase)
    if slot is Slot.PROJECTS:
        return [project_ref(part) for part in _parts(phrase)]
    if slot is Slot.LOAD_ZONES:
        return [Named("load_zone", part) for part in _parts(phrase)]
    if slot is Slot.PHRASE and spec.is_list:
        return _items(spec, phrase)
    return phrase


def _parts(phrase: str) -> list[str]:
    return [p.strip() for p in re.split(r"\s*(?:,|\band\b|&|\bor\b)\s*", phrase) if p.strip()]


def _items(spec: SlotSpec, phrase: str) -> Any:
    """Words for a list of objects ("region, tier" for new label keys) → the objects, by the model's first field."""
    inner, _ = unwrap(spec.info.annotation)
    if not (isinstance(inner, type) and issubclass(inner, BaseModel)):
        return phrase
    first = next(iter(inner.model_fields))
    return [{first: part} for part in _parts(phrase)]


REMARK_WORDS = frozenset({"so", "because", "cause", "coz", "cos", "otherwise", "since", "it's", "that's", "thats"})
COPULAS = frozenset({"is", "are", "was", "were", "seems", "looks", "keeps"})
"""After a name, words that start a remark about it ("the soak is hammering staging")."""
"""Words that start a remark about the request rather than more of it ("save run 1222 so we keep it")."""


@dataclass
class Segment:
    label: str | None
    """The preposition that opens it ("of", "to", "in"), if any."""
    tokens: list[int]
    after_comma: bool = False


_NEVER_A_NAME = (Kind.RANGE, Kind.POINT)
_ASKING = frozenset({"how", "why", "when", "where", "who", "whose"})


_DATE_SLOTS = frozenset((Slot.SINCE, Slot.UNTIL, Slot.WHEN))
_AMOUNT_PERIOD_BEFORE = frozenset(("left", "remaining", "used", "spent", "consumed", "burned", "available"))
"""Words before a date range that make it the period of an amount ("VUH left this month")."""


CONTINUATIONS = frozenset(("and", "then", "too", "also", "plus", "both", "after", "afterwards", "next", "&"))
"""Words that make the words after a comma more of the command rather than a remark about it."""


def _continues_after_comma(analysis: Analysis) -> bool:
    """Whether words after a comma (or a spaced dash) go on with the command ("…, then the soak", "…, X too")."""
    after = False
    for token in analysis.tokens:
        if token.kind == "punct" and token.text in ",-":
            after = True
        elif after and token.low in CONTINUATIONS:
            return True
    return False


def _segments(analysis: Analysis, seq: Words_, used: set[int]) -> list[Segment]:
    """Runs of unexplained word tokens, each labelled by the preposition that opens it."""
    segments: list[Segment] = []
    label: str | None = None
    current: list[int] = []
    comma = False
    words_at = dict(zip(seq.index, seq.words, strict=True))
    dates = {i for e in analysis.entities if e.kind in _NEVER_A_NAME and not e.weak for i in e.tokens}
    """A date range or a point in time that no field took stays what it is (it counts against the intent):
    "did anything fail yesterday" names no test "yesterday"."""

    def close() -> None:
        """Keep the run without its leading and trailing filler ("the orders soak test please")."""
        nonlocal current, label
        meaningful = [j for j, i in enumerate(current) if words_at.get(i, "") not in FILLER]
        while meaningful and words_at.get(current[meaningful[0]], "") in _ASKING and len(meaningful) > 1:
            meaningful.pop(0)  # "how has orders soak trended": the question word opens no name
        if meaningful:
            segments.append(Segment(label, current[meaningful[0] : meaningful[-1] + 1], comma))
        current, label = [], None

    for position, token in enumerate(analysis.tokens):
        boundary = (token.kind == "punct" and token.text in ",;") or (
            token.kind == "punct"
            and token.text in ".?!"
            and position + 1 < len(analysis.tokens)
            and analysis.tokens[position + 1].start > token.end  # ". " ends a sentence; "v1.2" does not
        )
        if token.kind == "word" and token.low in REMARK_WORDS and token.index not in used:
            boundary = True
        if token.kind == "word" and token.low in COPULAS and current and token.index not in used:
            boundary = True  # "the soak is hammering staging": the name ends where a remark about it starts
        if boundary and token.index not in used:
            if current:
                close()
            comma = True
            continue
        if token.index in used or token.index in dates or token.kind not in ("word", "number", "hash", "clock", "url"):
            if current or (token.index in used and label is not None):
                close()
            continue
        word = words_at.get(token.index, token.low)
        if word in PREPOSITIONS:
            if current:
                close()
            label = word
            continue
        current.append(token.index)
    if current:
        close()
    return segments


def _assign_segments(segments: list[Segment], specs: list[SlotSpec], reference: bool) -> dict[str, list[int]] | None:
    """Which name field each segment fills (:data:`REF`: the test of a run reference, :data:`REF_PROJECT` its
    project), or None when one cannot go anywhere. The preposition before a segment decides: a field that names
    it explicitly ("to" for a destination) beats one that takes it by default (the earlier in its list, the
    better), which beats one that takes a segment without one."""
    targets: list[tuple[str, tuple[str | None, ...], bool]] = [(s.field, s.before, bool(s.say.before)) for s in specs]
    if reference:
        targets.append((REF, (None, "of", "for", "on", "from", "about"), False))
        targets.append((REF_PROJECT, ("in", "under"), True))
    if not segments:
        return {}
    if len(segments) > len(targets):
        return None
    best: tuple[float, dict[str, list[int]]] | None = None
    for chosen in itertools.permutations(range(len(targets)), len(segments)):
        total = 0.0
        for segment, index in zip(segments, chosen, strict=True):
            _, before, explicit = targets[index]
            if segment.label not in before:
                break
            if segment.label is None:
                total += 1
            else:
                total += (3 if explicit else 2) - 0.1 * before.index(segment.label)
            total -= index * 0.01  # field order breaks ties
        else:
            if best is None or total > best[0]:
                best = (total, {targets[i][0]: seg.tokens for seg, i in zip(segments, chosen, strict=True)})
    return best[1] if best else None


def _with_trailing_test(analysis: Analysis, indices: list[int]) -> list[int]:
    """ "orders soak test": the word "test" after a test's name is part of what was typed as its name."""
    if not indices:
        return indices
    after = max(indices) + 1
    if after < len(analysis.tokens) and analysis.tokens[after].low in ("test", "tests", "loadtest"):
        return [*indices, after]
    return indices


def _with_touching_marks(analysis: Analysis, indices: list[int], used: set[int]) -> list[int]:
    """Marks typed against a name are part of it ("*x*", "(v2)", "<!channel>"), not separate words."""
    if not indices:
        return indices
    tokens = analysis.tokens
    first, last = min(indices), max(indices)
    while first > 0 and _mark(tokens[first - 1], used, ",;:") and tokens[first - 1].end == tokens[first].start:
        first -= 1
    while (
        last + 1 < len(tokens)
        and _mark(tokens[last + 1], used, ",;:.?!")
        and tokens[last].end == tokens[last + 1].start
    ):
        last += 1
    return sorted({*indices, *range(first, min(indices)), *range(max(indices) + 1, last + 1)})


def _mark(token: Token, used: set[int], not_these: str) -> bool:
    return token.kind == "punct" and token.index not in used and token.text not in not_these


def _name_text(analysis: Analysis, indices: list[int]) -> str:
    """The words as typed, without surrounding punctuation or a possessive ("the default project's" limits)."""
    if not indices:
        return ""
    text = analysis.words(indices).strip(" ,;:.!?")
    return re.sub(r"(?:'s|’s|s')$", lambda m: "s" if m.group(0) == "s'" else "", text).strip()
