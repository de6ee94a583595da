"""The vocabulary of the command language, derived from the registry's declarations and k6bot's own commands.

An :class:`Intent` is one thing a text can ask for — a registry operation or a bot command — with its
phrases split into words and its input fields with their :class:`~tools.phrasing.Slot`. The lexicon is built
once per registry; nothing in it is written by hand for one operation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any

from pydantic.fields import FieldInfo

from bot.router.commands import BOT_COMMANDS, CommandKind
from tools.phrasing import (
    ALL_WORDS,
    FLAG_WORDS,
    ORDINAL_WORDS,
    STATE_WORDS,
    Answer,
    Phrases,
    Say,
    Slot,
    Verb,
    enum_values,
    slot_of,
)
from tools.registry import InputModel, Registry, Safety, get_registry

Words = tuple[str, ...]

_FILLER_WORDS = (
    "a an the this that these those some any my our your me us we i you u it its please pls plz kindly "
    "can could would will do does just now right currently yet again also there here hey hi hello ok okay "
    "so then well want wanna need like to know one ones thing things stuff moment really quickly anything "
    "something is are was were be been being am get got and only thanks thank thx ty asap kthx cheers or "
    "did use used using via api that's thats exist exists defined have has had recently lately whatever "
    "whichever which what k6bot bot till until old still far whether look looks away immediately straight "
    "rn atm whole entire r even k6 total "
)
FILLER = frozenset(_FILLER_WORDS.split())
_POLITE_WORDS = (
    "please pls plz kindly hey hi hello ok okay so then well can could would will you u i me just now also and yo "
)
POLITE = frozenset(_POLITE_WORDS.split())
"""Words that say nothing about what is asked (a name can still contain them: the resolver sees the name as typed).
``POLITE`` are those that may come before the verb without making it "not the first word"."""

PREPOSITIONS = frozenset(
    [
        "of",
        "for",
        "on",
        "in",
        "to",
        "into",
        "from",
        "with",
        "against",
        "vs",
        "versus",
        "than",
        "by",
        "about",
        "under",
        "at",
        "as",
        "called",
        "named",
        "saying",
        "within",
    ]
)
DEFAULT_BEFORE: dict[Slot, tuple[str | None, ...]] = {
    Slot.LOAD_TEST: (None, "of", "for", "on", "about", "from", "called", "named", "to"),
    Slot.PROJECT: ("in", "of", "for", "from", "under", "on", None),
    Slot.SCHEDULE: (None, "of", "for", "on"),
    Slot.LOAD_ZONE: (None, "in", "from", "of", "for", "called", "named", "on"),
    Slot.LOAD_ZONE_NAME: (None, "in", "from", "of", "for", "called", "named"),
    Slot.LABEL_KEY: (None, "of", "for", "called", "named"),
    Slot.LABEL_KEY_NAME: (None, "of", "for", "called", "named"),
    Slot.NAME: ("to", "as", "called", "named", None),
    Slot.PHRASE: (None, "for", "about", "of", "like", "named", "called", "matching", "on"),
    Slot.PROJECTS: ("to", None),
    Slot.LOAD_ZONES: ("to", None),
    Slot.IDS: ("to", None),
    Slot.NOTE: (None, "saying", "that", "with", "to"),
}
NAME_SLOTS = frozenset(DEFAULT_BEFORE)
"""Slots that words left over by the vocabulary can fill."""


def words_of(text: str) -> Words:
    """The words of a phrase as the tokenizer sees them ("re-run" is one word, "what's" too)."""
    return tuple(re.findall(r"[^\W_](?:[\w'-]*[^\W_])?'?s?|\?", text.casefold()))


@dataclass(frozen=True)
class SlotSpec:
    field: str
    say: Say
    required: bool
    info: FieldInfo
    values: tuple[str, ...] = ()
    """Enum values of the field (state and result filters)."""

    @property
    def slot(self) -> Slot:
        return self.say.slot

    @property
    def before(self) -> tuple[str | None, ...]:
        if self.say.before:
            return tuple(self.say.before)
        return DEFAULT_BEFORE.get(self.slot, (None,))

    @property
    def is_list(self) -> bool:
        return "list[" in str(self.info.annotation)

    @property
    def is_dict(self) -> bool:
        return "dict[" in str(self.info.annotation)


@dataclass(frozen=True)
class VerbWords:
    words: Words
    via: Slot | None = None
    tail: Words = ()
    """The words after the object in a split verb: "kick … off"."""


@dataclass
class Intent:
    name: str
    kind: CommandKind
    safety: Safety
    group: str
    title: str
    summary: str
    phrases: Phrases
    input: type[InputModel]
    slots: list[SlotSpec]
    verbs: list[VerbWords]
    nouns: list[Words]
    answers: list[tuple[Words, Answer]]
    requires: Words
    order: int
    core: bool = False
    deprecated: bool = False
    writes: bool = False
    """Whether carrying it out changes something (then its verb must be in the text)."""
    extra_words: frozenset[str] = field(default_factory=frozenset)

    def slot(self, kind: Slot) -> SlotSpec | None:
        return next((s for s in self.slots if s.slot is kind), None)

    def slots_of(self, *kinds: Slot) -> list[SlotSpec]:
        return [s for s in self.slots if s.slot in kinds]

    @property
    def needs_confirmation(self) -> bool:
        """Operations that run, stop or administer; k6bot's own commands never need one."""
        return self.kind is CommandKind.OPERATION and self.safety.needs_confirmation


def _verb(verb: str | Verb) -> list[VerbWords]:
    text, via = (verb.text, verb.via) if isinstance(verb, Verb) else (verb, None)
    head, _, tail = text.partition("…")
    return [VerbWords(h, via, t) for h in _spellings(words_of(head)) for t in _spellings(words_of(tail))]


def _spellings(words: Words) -> list[Words]:
    """A phrase as declared and, when it has a contraction, as typed without its apostrophe ("what's wrong
    with" → "whats wrong with", "isn't" → "isnt"): declarations say each phrase once."""
    bare = tuple(w.replace("'", "") for w in words)
    return [words] if bare == words or not all(bare) else [words, bare]


def _unique(items: list[Any]) -> list[Any]:
    return list(dict.fromkeys(items))


def _slots(model: type[InputModel]) -> list[SlotSpec]:
    specs = []
    for name, info in model.model_fields.items():
        if name == "cursor":
            continue
        specs.append(SlotSpec(name, slot_of(name, info), info.is_required(), info, enum_values(info)))
    return specs


def _intent(
    name: str,
    kind: CommandKind,
    safety: Safety,
    group: str,
    title: str,
    summary: str,
    phrases: Phrases,
    model: type[InputModel],
    order: int,
    *,
    core: bool = False,
    deprecated: bool = False,
    writes: bool = False,
) -> Intent:
    verbs = _unique([w for v in phrases.verbs for w in _verb(v)])
    slots = _slots(model)
    flag_words = {w for s in slots for word in s.say.words for w in words_of(word)}
    return Intent(
        name=name,
        kind=kind,
        safety=safety,
        group=group,
        title=title,
        summary=summary,
        phrases=phrases,
        input=model,
        slots=slots,
        verbs=[v for v in verbs if v.words],
        nouns=_unique([w for n in phrases.nouns if words_of(n) for w in _spellings(words_of(n))]),
        answers=[(words_of(w), a) for a in phrases.answers for w in a.words],
        requires=tuple(w for r in phrases.requires for w in words_of(r)),
        order=order,
        core=core,
        deprecated=deprecated,
        writes=writes,
        extra_words=frozenset(flag_words),
    )


@dataclass
class Lexicon:
    intents: list[Intent]
    vocabulary: frozenset[str]
    """Every word the language knows (verbs, nouns, answers, states, filler): never "corrected" as a typo."""
    shared_verbs: frozenset[Words] = frozenset()
    """Verbs that more than one intent has ("delete", "set", "show")."""
    noun_words: frozenset[str] = frozenset()
    """Every word of a noun phrase (where a typo far into a text may be corrected to)."""

    @cached_property
    def verb_words(self) -> frozenset[str]:
        """The first word of every verb ("start", "kick", "abort")."""
        return frozenset(verb.words[0] for intent in self.intents for verb in intent.verbs if verb.words)

    @cached_property
    def read_words(self) -> frozenset[str]:
        """Words of the verbs and answers of reads that no write's verb has ("trend", "finish", "work"): what an
        inflected form far into a text may be read as ("trended", "finishes")."""
        writes = {w for i in self.intents if i.writes for v in i.verbs for w in (*v.words, *v.tail)}
        reads = {w for i in self.intents if not i.writes for v in i.verbs for w in (*v.words, *v.tail)}
        reads |= {w for i in self.intents for words, _ in i.answers for w in words}
        return frozenset(w for w in reads - writes if len(w) >= 4)

    @cached_property
    def inflection_targets(self) -> frozenset[str]:
        """After the first word, nouns too: "stop scheduling the refunds test" is about its schedule."""
        return self.read_words | frozenset(w for w in self.noun_words if len(w) >= 4)

    @cached_property
    def typo_targets(self) -> tuple[list[str], list[str]]:
        """(known words a typo near the start may be, nouns a typo further on may be)."""
        return [w for w in self.vocabulary if len(w) >= 4], [w for w in self.noun_words if len(w) >= 6]

    def intent(self, name: str) -> Intent:
        return next(i for i in self.intents if i.name == name)


STATE_PHRASES: dict[Words, tuple[Slot, str]] = {words_of(k): v for k, v in STATE_WORDS.items()}
ORDINAL_PHRASES: frozenset[Words] = frozenset(words_of(w) for w in ORDINAL_WORDS)
ALL_PHRASES: frozenset[Words] = frozenset(words_of(w) for w in ALL_WORDS)
FLAG_PHRASES: dict[str, list[Words]] = {k: [words_of(w) for w in v] for k, v in FLAG_WORDS.items()}


def build(registry: Registry) -> Lexicon:
    intents: list[Intent] = []
    for order, op in enumerate(registry):
        intents.append(
            _intent(
                op.name,
                CommandKind.OPERATION,
                op.safety,
                op.group,
                op.title,
                op.summary,
                op.phrases,
                op.input,
                order,
                core=op.core,
                deprecated=op.deprecated is not None,
                writes=op.safety is not Safety.READ,
            )
        )
    for spec in BOT_COMMANDS:
        intents.append(
            _intent(
                spec.name.value,
                CommandKind.BOT,
                spec.safety,
                spec.group,
                spec.title,
                spec.summary,
                spec.phrases,
                spec.input,
                len(intents),
                writes=spec.writes,
            )
        )
    vocabulary: set[str] = set(FILLER) | set(PREPOSITIONS)
    for intent in intents:
        for verb in intent.verbs:
            vocabulary.update(verb.words)
            vocabulary.update(verb.tail or ())  # "has … improved": the word after the gap is known too
        for noun in intent.nouns:
            vocabulary.update(noun)
        for words, _ in intent.answers:
            vocabulary.update(words)
        vocabulary.update(intent.requires)
        vocabulary.update(intent.extra_words)
    for phrase in [*STATE_PHRASES, *ORDINAL_PHRASES, *ALL_PHRASES]:
        vocabulary.update(phrase)
    owners: dict[Words, int] = {}
    for intent in intents:
        for verb_words in {v.words for v in intent.verbs}:
            owners[verb_words] = owners.get(verb_words, 0) + 1
    shared = frozenset(words for words, count in owners.items() if count > 1)
    noun_words = frozenset(w for intent in intents for noun in intent.nouns for w in noun)
    return Lexicon(intents, frozenset(vocabulary), shared, noun_words)


@cache
def _default() -> Lexicon:
    return build(get_registry())


def lexicon(registry: Registry | None = None) -> Lexicon:
    if registry is None or registry is get_registry():
        return _default()
    return build(registry)
