"""The one parser: text → the operation (or bot command) it asks for, with its input fields filled.

For every intent of the lexicon the parser tries to *explain* the text: a verb of the intent, its nouns, the
entities (ids, dates, counts…) its fields can take, state words its filters or references can take, and the
words left over as the names its fields resolve. Each explanation gets a score — declared vocabulary counts
most, guessed names least, anything the intent cannot use counts against it — and the best explanation
wins. The parser is pure and fast: no API call, no I/O; names and references are resolved afterwards
(:mod:`bot.router.understand`).
"""

from __future__ import annotations

import itertools
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from pydantic import BaseModel
from rapidfuzz.distance import OSA
from rapidfuzz.process import extractOne

from bot.router.lexicon import (
    ALL_PHRASES,
    FILLER,
    NAME_SLOTS,
    ORDINAL_PHRASES,
    POLITE,
    PREPOSITIONS,
    STATE_PHRASES,
    Intent,
    Lexicon,
    SlotSpec,
    VerbWords,
    Words,
    lexicon,
)
from bot.router.text import clean, command_text, prepare
from bot.router.tokens import Analysis, Entity, Kind, analyse
from tools.phrasing import Answer, Slot, _unwrap
from tools.references import Named, RunRef, ScheduleOf, TestOfRun
from tools.registry import Registry, Safety

log = logging.getLogger("k6bot.router")

VERB_EXACT = 3.0
VERB_FUZZY = 2.2
VERB_FIRST = 0.5
VERB_LATE = -1.0
"""A verb after other words ("the last failed run") is less likely the verb."""
BARE = 1.0
NO_VERB = -2.0
ALTERNATIVE_MARGIN = 1.0
"""How close behind the best explanation another must be to be tried when the best one's names resolve to nothing."""
"""An intent that changes something, without its verb in the text."""
MERGED = -0.5
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
REQUIRES_MISMATCH = -3.0
CORE = 0.1
DEPRECATED = -0.2

_ID_KINDS: dict[Kind, Slot] = {
    Kind.RUN_ID: Slot.RUN,
    Kind.TEST_ID: Slot.LOAD_TEST,
    Kind.PROJECT_ID: Slot.PROJECT,
    Kind.SCHEDULE_ID: Slot.SCHEDULE,
    Kind.ZONE_ID: Slot.LOAD_ZONE,
    Kind.LABEL_ID: Slot.LABEL_KEY,
}
_KIND_NOUNS: dict[Kind, tuple[tuple[str, ...], ...]] = {
    Kind.RUN_ID: (("run",), ("test", "run")),
    Kind.TEST_ID: (("test",), ("load", "test")),
    Kind.PROJECT_ID: (("project",),),
    Kind.SCHEDULE_ID: (("schedule",),),
    Kind.ZONE_ID: (("zone",), ("load", "zone")),
    Kind.LABEL_ID: (("label",), ("label", "key")),
}
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


@dataclass
class Hit:
    start: int
    """Position in the word sequence."""
    length: int
    fuzzy: bool
    via: Slot | None = None
    tail: Hit | None = None
    """Where the second part of a split verb is ("kick the soak off")."""


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

    @property
    def anchored(self) -> bool:
        """Whether the intent's own vocabulary (a verb, a noun or a question) is in the text."""
        return self.verb is not None or self.nouns > 0 or self.answer is not None

    @property
    def clean(self) -> bool:
        """Nothing in the text is left unexplained."""
        return not self.leftover and not self.unused and not self.unused_soft


@dataclass
class Parse:
    text: str
    """The text as understood (prefix, politeness and trailing punctuation removed)."""
    analysis: Analysis
    fits: list[Fit]
    """Every intent's explanation, best first."""
    original: str = ""
    """The text as typed (cleaned), for messages."""

    @property
    def best(self) -> Fit | None:
        return self.fits[0] if self.fits else None

    @property
    def understood(self) -> Fit | None:
        """The best explanation when it is a real one (anchored, nothing unexplained), else None."""
        best = self.best
        if best is None or not _acceptable(best):
            return None
        if best.missing and any(
            f.intent.name != best.intent.name and f.anchored and best.score - f.score < 0.5 for f in self.fits[1:4]
        ):
            return None  # "delete": several things could be meant, and none is said
        return best

    def alternatives(self, margin: float = ALTERNATIVE_MARGIN) -> list[Fit]:
        """Acceptable explanations close behind the best one that read, or are as safe as it: tried in turn
        when the best one's names resolve to nothing ("runs of orders soak test" is not a project)."""
        best = self.understood
        if best is None:
            return []
        return [
            f
            for f in self.fits[1:6]
            if f.intent.name != best.intent.name
            and best.score - f.score <= margin
            and _acceptable(f)
            and not f.missing
            and (f.intent.safety is Safety.READ or f.intent.safety is best.intent.safety)
        ]


_BARE_RUN = (Kind.RUN_ID, Kind.NUMBER, Kind.HASH)


def _bare(fit: Fit) -> bool:
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


def _acceptable(fit: Fit) -> bool:
    if not fit.clean:
        return False
    if not fit.anchored and not _bare(fit):
        return False
    return not (fit.intent.writes and fit.verb is None)  # nothing that changes anything happens without its verb


# --------------------------------------------------------------------------- words


@dataclass
class _Words:
    """The word tokens of the text that are not data, in order, with typo fixes."""

    index: list[int]
    """Token index of each word."""
    words: list[str]
    exact: list[bool]
    positions: dict[str, list[int]] = field(default_factory=dict)
    """Where each word is (so finding a phrase costs what its first word's occurrences cost)."""

    def __post_init__(self) -> None:
        self.reindex()

    def reindex(self) -> None:
        self.positions = {}
        for position, word in enumerate(self.words):
            self.positions.setdefault(word, []).append(position)


def _content(analysis: Analysis, lex: Lexicon) -> _Words:
    covered = analysis.covered()
    index, words, exact = [], [], []
    for token in analysis.tokens:
        if token.kind != "word" or token.index in covered:
            continue
        index.append(token.index)
        words.append(token.low)
        exact.append(True)
    # typos: an unknown word among the first two meaningful words is matched to the nearest known word
    vocabulary = [w for w in lex.vocabulary if len(w) >= 4]
    seen = 0
    for position, word in enumerate(words):
        if word in FILLER:
            continue
        seen += 1
        if seen > 2:
            break
        if word in lex.vocabulary or len(word) < 4 or not word.isalpha():
            continue
        limit = 1 if len(word) < 8 else 2
        found = extractOne(word, vocabulary, scorer=OSA.distance, score_cutoff=limit)
        if found is not None and abs(len(found[0]) - len(word)) <= 1:
            words[position] = found[0]
            exact[position] = False
    return _Words(index, words, exact)


def _occurrences(phrase: Words, seq: _Words, taken: set[int], *, skip_filler: bool = True) -> list[Hit]:
    """Where ``phrase`` occurs in the words, consecutively except for filler words between its words."""
    hits = []
    words = seq.words
    n = len(phrase)
    for start in seq.positions.get(phrase[0], ()):
        if start in taken:
            continue
        position, matched, fuzzy = start, 0, False
        end = start
        while matched < n and position < len(words):
            if position in taken:
                break
            if words[position] == phrase[matched]:
                fuzzy |= not seq.exact[position]
                matched += 1
                end = position
                position += 1
            elif skip_filler and matched and words[position] in FILLER and words[position] not in phrase:
                position += 1
            else:
                break
        if matched == n:
            hits.append(Hit(start, end - start + 1, fuzzy))
    return hits


def _verb_hits(verb: VerbWords, seq: _Words, taken: set[int]) -> list[Hit]:
    hits = _occurrences(verb.words, seq, taken)
    if not verb.tail:
        return hits
    split = []
    for hit in hits:
        tails = [t for t in _occurrences(verb.tail, seq, taken) if t.start > hit.start + hit.length]
        if tails:
            split.append(Hit(hit.start, hit.length, hit.fuzzy, tail=tails[-1]))
    return split


def _mark(hit: Hit, taken: set[int]) -> range:
    positions = range(hit.start, hit.start + hit.length)
    taken.update(positions)
    return positions


QUESTION_WORDS = frozenset(
    [
        "is",
        "are",
        "was",
        "were",
        "did",
        "does",
        "do",
        "has",
        "have",
        "had",
        "who",
        "what",
        "whats",
        "what's",
        "when",
        "why",
        "how",
        "hows",
        "how's",
        "which",
        "where",
        "will",
        "can",
    ]
)


def _is_question(seq: _Words) -> bool:
    """Whether the text asks something (so the answer to it comes first): "is 1234 done", "who started 1234"."""
    first = next((w for w in seq.words if w not in POLITE or w in QUESTION_WORDS), "")
    return first in QUESTION_WORDS


def _first_meaningful(seq: _Words) -> int:
    for position, word in enumerate(seq.words):
        if word not in POLITE:
            return position
    return 0


# --------------------------------------------------------------------------- fitting one intent


def _fit(intent: Intent, analysis: Analysis, seq: _Words, legacy: bool, question: bool) -> Fit | None:
    present = set(seq.words)
    if intent.requires and not set(intent.requires) <= present:
        return None
    fit = Fit(intent)
    score = 0.0
    taken: set[int] = set()  # positions in ``seq`` explained by vocabulary
    first = _first_meaningful(seq)

    # flags first: their words may also be the verb or a noun ("clear the baseline")
    filled: dict[str, Any] = {}
    flag_positions: set[int] = set()
    for spec in intent.slots:
        if spec.slot is not Slot.FLAG:
            continue
        for word in sorted(spec.say.words, key=len, reverse=True):
            hits = _occurrences(tuple(word.split()), seq, flag_positions)
            for hit in hits:
                flag_positions.update(range(hit.start, hit.start + hit.length))
                filled[spec.field] = True
                score += SLOT_SOFT
    # questions it answers ("who started", "error rate"): their words may also be its verb or a noun
    answered: set[int] = set()
    for words, answer in sorted(intent.answers if question else (), key=lambda wa: -len(wa[0])):
        for hit in _occurrences(words, seq, answered):
            answered.update(range(hit.start, hit.start + hit.length))
            if fit.answer is None:
                fit.answer = answer
                score += ANSWER
    # the verb: at the start, then the longest, exact before fuzzy
    hits = [(hit, verb) for verb in intent.verbs for hit in _verb_hits(verb, seq, taken)]
    if hits:
        hit, verb = min(
            hits,
            key=lambda hv: (
                hv[0].start != first,
                -(hv[0].length + (hv[0].tail.length if hv[0].tail else 0)),
                hv[0].fuzzy,
                hv[0].start,
            ),
        )
        hit.via = verb.via
        fit.verb = hit
        _mark(hit, taken)
        if hit.tail is not None:
            _mark(hit.tail, taken)
        words = hit.length + (hit.tail.length if hit.tail else 0)
        score += (VERB_FUZZY if hit.fuzzy else VERB_EXACT) + VERB_EXTRA_WORD * (words - 1)
        score += VERB_FIRST if hit.start == first else VERB_LATE
        fit.fuzzy |= hit.fuzzy
    # nouns, longest first; a state word in a noun ("running tests") still sets the filter
    noun_positions: set[int] = set()
    for noun in sorted(intent.nouns, key=len, reverse=True):
        for hit in _occurrences(noun, seq, taken):
            noun_positions.update(_mark(hit, taken))
            if hit.fuzzy:
                score += NOUN_FUZZY
            else:
                score += (NOUN if not fit.nouns else NOUN_EXTRA) + NOUN_EXTRA * (hit.length - 1)
            fit.nouns += 1
            fit.fuzzy |= hit.fuzzy
    for position, word in enumerate(seq.words):
        if word in intent.requires:
            taken.add(position)
    if legacy and not intent.requires:
        score += REQUIRES_MISMATCH
    taken |= flag_positions

    used: set[int] = {seq.index[p] for p in taken}  # token indices explained so far
    vocabulary_used = set(used)
    slots = intent.slots
    by_name = {s.field: s for s in slots}

    def free(kind: Slot) -> list[SlotSpec]:
        return [s for s in slots if s.slot is kind and s.field not in filled]

    via_run = fit.verb is not None and fit.verb.via is Slot.RUN

    # --- entities: key=value naming a field sets it, whatever the field
    notes = [e for e in analysis.entities if e.kind is Kind.NOTE]
    hard = [e for e in analysis.entities if e.kind is not Kind.NOTE]
    for entity in [e for e in hard if e.kind is Kind.PAIR]:
        key, value = entity.value
        spec = by_name.get(key) or by_name.get(key.replace("-", "_"))
        if spec is not None and spec.slot is not Slot.PAIRS:
            filled[spec.field] = _literal(value)
            used.update(entity.tokens)
            hard.remove(entity)
            score += SLOT_HARD
    pairs = [e for e in hard if e.kind is Kind.PAIR]
    if pairs and free(Slot.PAIRS):
        filled[free(Slot.PAIRS)[0].field] = [{"key": k, "value": v} for k, v in (e.value for e in pairs)]
        for entity in pairs:
            used.update(entity.tokens)
            hard.remove(entity)
        score += SLOT_HARD

    def place(entity: Entity, kinds: tuple[Slot, ...], value: Any, *, strict_before: bool) -> bool:
        """Put ``value`` in the first free slot of ``kinds`` that accepts the word before the entity."""
        nonlocal score
        for kind in kinds:
            for spec in free(kind):
                explicit = bool(spec.say.before)
                if strict_before and not (explicit and entity.before in spec.before):
                    continue
                if not strict_before and explicit and entity.before not in spec.before and None not in spec.before:
                    continue
                filled[spec.field] = value
                fit.sources[spec.field] = entity.kind
                used.update(entity.tokens)
                score += SLOT_HARD
                return True
        return False

    for strict in (True, False):
        for entity in list(hard):
            if entity.kind is not Kind.PAIR and _assign(
                entity, intent, place, filled, free, via_run, strict, fit.nouns > 0
            ):
                used.update(entity.tokens)
                hard.remove(entity)
    for entity in notes:  # the text after a colon, for a note, a script or a name
        targets = free(Slot.NOTE) or free(Slot.NAME)
        if targets:
            filled[targets[0].field] = entity.value
            used.update(entity.tokens)
            score += SLOT_HARD
    note = next((s for s in free(Slot.NOTE) if s.required), None)
    if note is not None and used:
        # "note run 1234 latency < 200ms & no errors": everything after the run is the note, as typed
        tail = [t.index for t in analysis.tokens if t.index > max(used)]
        text = analysis.words(tail).strip()
        text = re.sub(r"^(?:saying|that|with|to say|reading)\s+", "", text, flags=re.IGNORECASE)
        if text:
            filled[note.field] = text
            used.update(tail)
            score += SLOT_HARD
    fit.unused = hard
    # "test 501", "run 1234": an id said with its kind names the intent's object as its noun would
    if not fit.nouns:
        for name, kind in fit.sources.items():
            words = _KIND_NOUNS.get(kind, ())
            if any(noun in words for noun in intent.nouns) and by_name[name].slot is _ID_KINDS.get(kind):
                score += NOUN
                fit.nouns += 1
                break

    # --- state words, "the last", "all": filters of the intent, or what a reference to a run means
    ref_spec = next(iter(free(Slot.RUN)), None)
    via_spec = next(iter(free(Slot.LOAD_TEST)), None) if via_run else None
    wants_ref = ref_spec is not None or via_spec is not None
    qualifiers: dict[str, Any] = {"status": [], "result": [], "every": False, "latest": False}
    state_taken = taken - {p for p in noun_positions if (seq.words[p],) in STATE_PHRASES}
    data = used - vocabulary_used  # a note's words are the note, not state words
    state_taken |= {p for p, index in enumerate(seq.index) if index in data}
    for phrase, (kind, value) in sorted(STATE_PHRASES.items(), key=lambda kv: -len(kv[0])):
        for hit in _occurrences(phrase, seq, state_taken):
            _mark(hit, state_taken)
            spec = next((s for s in slots if s.slot is kind and value in s.values), None)
            if spec is not None:
                current = filled.setdefault(spec.field, [] if spec.is_list else value)
                if isinstance(current, list) and value not in current:
                    current.append(value)
            elif wants_ref:
                qualifiers["status" if kind is Slot.STATUS else "result"].append(value)
            else:
                positions = _mark(hit, taken)
                if not answered.issuperset(positions):  # "is 1234 done": the question's own word
                    fit.unused_soft.extend(seq.index[p] for p in positions)
                used.update(seq.index[p] for p in positions)
                continue
            used.update(seq.index[p] for p in _mark(hit, taken))
            score += SLOT_SOFT
    taken |= {p for p, index in enumerate(seq.index) if index in used}
    for phrases, key in ((ORDINAL_PHRASES, "latest"), (ALL_PHRASES, "every")):
        for phrase in sorted(phrases, key=len, reverse=True):
            for hit in _occurrences(phrase, seq, taken):
                used.update(seq.index[p] for p in _mark(hit, taken))
                qualifiers[key] = wants_ref or qualifiers[key]

    # --- words left over: names, by the preposition before them
    used.update(seq.index[p] for p in answered)
    segments = _segments(analysis, seq, used)
    name_specs = [s for s in slots if s.slot in NAME_SLOTS and s.field not in filled]
    assigned = _assign_segments(segments, name_specs, ref_spec or via_spec)
    leftovers: list[int] = []
    if assigned is None:
        everything = [i for _, indices in segments for i in indices]
        score += MERGED * (len(segments) - 1)
        if len(name_specs) == 1:
            assigned = {name_specs[0].field: everything}
        elif not name_specs and (ref_spec or via_spec):
            assigned = {REF: everything}
        else:
            assigned, leftovers = {}, everything
    ref_test: int | str | None = None
    for field_name, indices in assigned.items():
        if field_name == REF or by_name[field_name].slot is Slot.LOAD_TEST:
            indices = _with_trailing_test(analysis, indices)
        phrase = _name_text(analysis, indices)
        if not phrase:
            continue
        if field_name == REF:
            ref_test = _test_value(phrase)
            score += NAME_FILL_OTHER
            continue
        spec = by_name[field_name]
        filled[field_name] = _name_value(spec, phrase)
        score += NAME_FILL.get(spec.slot, NAME_FILL_OTHER)

    # --- a reference to a run ("the running checkout spike", "all running tests", "rerun the last failed test")
    qualified = bool(qualifiers["status"] or qualifiers["result"] or qualifiers["every"] or qualifiers["latest"])
    if ref_spec is not None and ref_test is None and qualified and not fit.nouns:
        # "what's running": state words alone, without "run", are not one run
        for position, word in enumerate(seq.words):
            if (word,) in STATE_PHRASES and seq.index[position] in used and position not in answered:
                fit.unused_soft.append(seq.index[position])
        qualified = False
    if ref_spec is not None and (ref_test is not None or qualified):
        filled[ref_spec.field] = RunRef(
            test=ref_test,
            status=tuple(qualifiers["status"]),
            result=tuple(qualifiers["result"]),
            every=bool(qualifiers["every"]),
            abortable=intent.safety is Safety.STOP,
            text=analysis.text,
        )
        fit.batch = bool(qualifiers["every"])
    elif via_spec is not None and (ref_test is not None or qualified):
        if ref_test is not None and not (qualifiers["status"] or qualifiers["result"]):
            filled[via_spec.field] = ref_test  # "rerun orders soak": the test itself
        else:
            filled[via_spec.field] = TestOfRun(
                RunRef(
                    test=ref_test,
                    status=tuple(qualifiers["status"]),
                    result=tuple(qualifiers["result"]),
                    text=analysis.text,
                )
            )

    fit.leftover = sorted(set(leftovers))
    fit.missing = [s.field for s in slots if s.required and s.field not in filled]
    fit.values = filled
    score += UNUSED_HARD * len(fit.unused)
    score += UNUSED_SOFT * len(fit.unused_soft)
    score += max(LEFTOVER * len(fit.leftover), 3 * LEFTOVER)
    score += MISSING * len(fit.missing)
    if _bare(fit):
        score += BARE
    if intent.writes and fit.verb is None:
        score += NO_VERB
    if intent.core:
        score += CORE
    if intent.deprecated:
        score += DEPRECATED
    fit.score = round(score, 3)
    return fit


REF = "__run_reference__"
"""The name of a run reference's load test in segment assignment (it is not an input field)."""


def _assign(
    entity: Entity,
    intent: Intent,
    place: Any,
    filled: dict[str, Any],
    free: Any,
    via_run: bool,
    strict: bool,
    named: bool,
) -> bool:
    kind = entity.kind
    if kind in _ID_KINDS:
        slot = _ID_KINDS[kind]
        if slot is Slot.RUN and via_run and free(Slot.LOAD_TEST) and not free(Slot.RUN):
            return place(entity, (Slot.LOAD_TEST,), TestOfRun(entity.value), strict_before=strict)
        return place(entity, (slot,), entity.value, strict_before=strict)
    if kind in (Kind.HASH, Kind.NUMBER):
        if via_run and free(Slot.LOAD_TEST) and not free(Slot.RUN):
            return place(entity, (Slot.LOAD_TEST,), TestOfRun(entity.value), strict_before=strict)
        if place(entity, _NOUN_ID_SLOTS if named else _BARE_ID_SLOTS, entity.value, strict_before=strict):
            return True
        ids = next((s for s in intent.slots if s.slot is Slot.IDS), None)
        if ids is not None and isinstance(filled.setdefault(ids.field, []), list):
            filled[ids.field].append(entity.value)
            return True
        return False
    if kind is Kind.COUNT:
        return place(entity, (Slot.COUNT,), entity.value, strict_before=strict)
    if kind is Kind.DURATION:
        return place(entity, (Slot.DURATION,), entity.value, strict_before=strict)
    if kind is Kind.RANGE:
        since, until = free(Slot.SINCE), free(Slot.UNTIL)
        if since or until:
            found = entity.value
            if found.since is not None and since:
                filled[since[0].field] = found.since.isoformat()
            if found.until is not None and until:
                filled[until[0].field] = found.until.isoformat()
            return True
        if free(Slot.WHEN) and entity.value.since is not None:
            return place(entity, (Slot.WHEN,), entity.value.since.isoformat(), strict_before=strict)
        return False
    if kind is Kind.POINT:
        return place(entity, (Slot.WHEN,), entity.value.isoformat(), strict_before=strict)
    if kind is Kind.RECURRENCE:
        recurrence = entity.value
        if recurrence.cron is not None and free(Slot.CRON):
            done = place(entity, (Slot.CRON,), recurrence.cron, strict_before=strict)
        elif recurrence.rule is not None and free(Slot.RECURRENCE):
            done = place(entity, (Slot.RECURRENCE,), recurrence.rule, strict_before=strict)
        else:
            return False
        if done and recurrence.starts is not None and free(Slot.WHEN):
            filled[free(Slot.WHEN)[0].field] = recurrence.starts.isoformat()
        return done
    if kind is Kind.QUOTED:
        for slot in _TEXT_SLOTS:
            for spec in free(slot):
                if strict and not (spec.say.before and entity.before in spec.before):
                    continue
                value = _name_value(spec, entity.value)
                return place(entity, (slot,), value, strict_before=strict)
        return False
    if kind is Kind.URL:
        spec = next((s for s in intent.slots if s.field.endswith("url") and s.field not in filled), None)
        if spec is not None:
            filled[spec.field] = entity.value
            return True
        return False
    return False


def _literal(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


def _test_value(phrase: str) -> int | str:
    from bot.router.text import test_ref

    return test_ref(phrase)


def _name_value(spec: SlotSpec, phrase: str) -> Any:
    slot = spec.slot
    if slot is Slot.LOAD_TEST:
        return _test_value(phrase)
    if slot is Slot.PROJECT:
        from bot.router.text import project_ref

        return project_ref(phrase)
    if slot is Slot.SCHEDULE:
        return ScheduleOf(_test_value(phrase))
    if slot in _NAMED_KINDS:
        return Named(_NAMED_KINDS[slot], phrase)
    if slot is Slot.PHRASE and spec.is_list:
        return _items(spec, phrase)
    return phrase


def _items(spec: SlotSpec, phrase: str) -> Any:
    """Words for a list of objects ("region, tier" for new label keys) → the objects, by the model's first field."""
    inner, _ = _unwrap(spec.info.annotation)
    if not (isinstance(inner, type) and issubclass(inner, BaseModel)):
        return phrase
    first = next(iter(inner.model_fields))
    parts = [p.strip() for p in re.split(r"\s*(?:,|\band\b|&)\s*", phrase) if p.strip()]
    return [{first: part} for part in parts]


def _segments(analysis: Analysis, seq: _Words, used: set[int]) -> list[tuple[str | None, list[int]]]:
    """Runs of unexplained word tokens, each labelled by the preposition that opens it."""
    segments: list[tuple[str | None, list[int]]] = []
    label: str | None = None
    current: list[int] = []
    words_at = dict(zip(seq.index, seq.words, strict=True))

    def close() -> None:
        """Keep the run without its leading and trailing filler ("the orders soak test please")."""
        nonlocal current, label
        meaningful = [j for j, i in enumerate(current) if words_at.get(i, "") not in FILLER]
        if meaningful:
            segments.append((label, current[meaningful[0] : meaningful[-1] + 1]))
        current, label = [], None

    for token in analysis.tokens:
        if token.index in used or token.kind not in ("word", "number", "hash", "clock"):
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


def _assign_segments(
    segments: list[tuple[str | None, list[int]]], specs: list[SlotSpec], ref_spec: SlotSpec | None
) -> dict[str, list[int]] | None:
    """Which name field each segment fills (:data:`REF`: the test of a run reference), or None when one cannot
    go anywhere. The preposition before a segment decides: a field that names it explicitly ("to" for a
    destination) beats one that takes it by default, which beats one that takes a segment without one."""
    targets: list[tuple[str, tuple[str | None, ...], bool]] = [(s.field, s.before, bool(s.say.before)) for s in specs]
    if ref_spec is not None:
        targets.append((REF, (None, "of", "for", "on", "from", "about"), False))
    if not segments:
        return {}
    if len(segments) > len(targets):
        return None
    best: tuple[float, dict[str, list[int]]] | None = None
    for chosen in itertools.permutations(range(len(targets)), len(segments)):
        total = 0.0
        for (label, _), index in zip(segments, chosen, strict=True):
            _, before, explicit = targets[index]
            if label not in before:
                break
            total += 3 if explicit and label is not None else 2 if label is not None else 1
            total -= index * 0.01  # field order breaks ties
        else:
            if best is None or total > best[0]:
                best = (total, {targets[i][0]: seg[1] for seg, i in zip(segments, chosen, strict=True)})
    return best[1] if best else None


def _with_trailing_test(analysis: Analysis, indices: list[int]) -> list[int]:
    """ "orders soak test": the word "test" after a test's name is part of what was typed as its name."""
    if not indices:
        return indices
    after = max(indices) + 1
    if after < len(analysis.tokens) and analysis.tokens[after].low in ("test", "tests", "loadtest"):
        return [*indices, after]
    return indices


def _name_text(analysis: Analysis, indices: list[int]) -> str:
    if not indices:
        return ""
    return analysis.words(indices).strip(" ,;:.!?")


# --------------------------------------------------------------------------- the parser


def parse(
    text: object,
    *,
    now: datetime | None = None,
    tz: tzinfo | None = None,
    registry: Registry | None = None,
) -> Parse:
    """Every intent's explanation of ``text``, best first. Never raises for any input."""
    tz = tz or UTC
    now = now or datetime.now(tz)
    cleaned = prepare(text)
    typed = command_text(text)
    asked = typed.rstrip().endswith("?")
    analysis = analyse(typed, now, tz)
    lex = lexicon(registry)
    seq = _content(analysis, lex)
    legacy = "legacy" in seq.words
    question = asked or _is_question(seq)
    fits = [f for intent in lex.intents if (f := _fit(intent, analysis, seq, legacy, question)) is not None]
    fits.sort(key=lambda f: (-f.score, f.intent.order))
    return Parse(cleaned, analysis, fits, clean(text))
