"""How people ask for an operation: the words declared next to it, from which the chat language is derived.

Every registry declaration carries :class:`Phrases` — its verbs ("start", "run", "kick off"), the nouns of
what it acts on or shows ("run", "schedule", "error rate"), a few example sentences with the arguments they
mean, and optional :class:`Answer` s for questions it can answer directly ("is 1234 done yet?"). The router in
``bot/router`` reads nothing else: a new operation declared here with its phrases is reachable from Slack and
the terminal without a line of front-end code.

How a text fills an operation's input fields is decided by the fields themselves: :func:`slot_of` gives each
field a :class:`Slot` (a run id, a load test name, a date range end, a count, a note…), from an explicit
:class:`Say` annotation or, for the usual cases, from the field's name and type.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum, StrEnum
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo


class Slot(StrEnum):
    """What kind of words fill an input field."""

    RUN = "run"
    """A test run: an id (1234, #1234, run 1234, a pasted run URL) or a reference ("the last run of X")."""
    LOAD_TEST = "load_test"
    """A load test: an id, a pasted test URL, or words naming it (resolved by the resolver)."""
    PROJECT = "project"
    SCHEDULE = "schedule"
    """A schedule: its id, or the load test whose schedule it is."""
    LOAD_ZONE = "load_zone"
    """A load zone id, or its name / k6 id ("ashburn", "amazon:us:ashburn")."""
    LOAD_ZONE_NAME = "load_zone_name"
    """A load zone's k6 id as text (a filter)."""
    LABEL_KEY = "label_key"
    """A label key's id, or its name."""
    LABEL_KEY_NAME = "label_key_name"
    """A label key's name as text."""
    SINCE = "since"
    """The start of a date range ("today", "since monday", "last 7 days")."""
    UNTIL = "until"
    """The end of a date range ("yesterday" ends at midnight, "before friday")."""
    WHEN = "when"
    """A point in time ("tomorrow at 2am"); for schedules, also the first occurrence of a recurrence."""
    RECURRENCE = "recurrence"
    """How a schedule repeats ("every night at 2", "weekdays at 9:30", "every 6 hours")."""
    CRON = "cron"
    """A cron expression ("0 2 * * 1-5")."""
    COUNT = "count"
    """How many ("last 5", "top 10")."""
    STATUS = "status"
    """Run states ("running", "aborted", "finished")."""
    RESULT = "result"
    """Run results ("failed", "passed", "errored")."""
    FLAG = "flag"
    """A yes/no filter named by a word ("starred")."""
    NOTE = "note"
    """Free text: after a colon, in quotes, or after the run."""
    NAME = "name"
    """A new name: quoted, or after "called" / "named" / "to" / "as"."""
    PHRASE = "phrase"
    """The words left over (a search)."""
    PAIRS = "pairs"
    """``key=value`` pairs (labels)."""
    IDS = "ids"
    """Several ids ("78, 79")."""
    PROJECTS = "projects"
    """Several projects, by id or name ("payments and platform")."""
    LOAD_ZONES = "load_zones"
    """Several load zones, by id or name."""
    AMOUNT = "amount"
    """A number for a field named by its words ("set the VU limit to 2000", "1000 VUH per month")."""
    REMOVALS = "removals"
    """The names of the AMOUNT fields a removing verb names without a number ("remove the VUH limit")."""
    DURATION = "duration"
    """A duration in seconds ("for 10 minutes", "2h")."""
    VALUE = "value"
    """Given only as ``field=value`` (or JSON for structured fields)."""


@dataclass(frozen=True)
class Say:
    """Field metadata that says how text fills it, where the name and type do not tell (``Annotated[T, Say(...)]``).

    ``before`` are the words that introduce the value ("to", "into" for a destination project, "with" for
    the run to compare against); ``words`` are words that stand for a value: for a flag, the words that set it
    ("failures" for failures_only); for an AMOUNT, the words that name it ("vu limit"); for any other field,
    literal values it takes as they are ("baseline", "previous": the field is set to that word).
    """

    slot: Slot
    before: tuple[str | None, ...] = ()
    """None in it: also without a word before it."""
    words: tuple[str, ...] = ()
    seconds: bool = False
    """An AMOUNT counted in seconds: a duration said with its unit fills it too ("to 30 minutes", "1800 seconds")."""


@dataclass(frozen=True)
class Verb:
    """A verb whose object is not the field's own kind: "rerun 1224" names a run, and means its load test."""

    text: str
    via: Slot | None = None
    """The kind of thing the verb's object names (Slot.RUN for "rerun": the test is the run's test)."""


@dataclass(frozen=True)
class Answer:
    """A question the operation's result answers directly, first: "is 1234 done yet?" → "No — running for 12 min."

    ``words`` are the words that ask it (any one is enough); ``say`` turns the operation's result into the
    answer sentence. A yes/no question starts its answer with "Yes" or "No".
    """

    name: str
    words: tuple[str, ...]
    say: Callable[[Any], str]


@dataclass(frozen=True)
class Phrases:
    """How people ask for an operation in chat."""

    verbs: tuple[str | Verb, ...] = ()
    """Action words; the first is the canonical one shown in help and did-you-mean."""
    nouns: tuple[str, ...] = ()
    """What it acts on or shows; the first is canonical. Singular and plural are different words: "run" is one
    run, "runs" a list."""
    examples: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Sentences that must mean this operation, each with the arguments it parses to (names unresolved)."""
    requires: tuple[str, ...] = ()
    """Words of which one must be in the text for it to mean this operation ("legacy", "v2" for the v2 API)."""
    answers: tuple[Answer, ...] = ()
    """Questions answered from the result."""
    template: str | tuple[str, ...] | None = None
    """How to say it back (did-you-mean, "say it again with the id"): ``{field}`` placeholders, ``[…]`` around
    what is left out without its value; several templates: the first whose placeholders all have values."""
    bare: bool = False
    """A text that is only a value of its first field means this operation ("1234" → get_test_run). Reads only."""
    needs_noun: bool = False
    """Its verbs are shared by many operations ("create", "delete", "set"): without one of its nouns (or an id
    said with its kind) the text does not mean it ("make me a sandwich" creates no project)."""
    follow_up: bool = False
    """Said after another command about that command's outcome, with nothing of its own to act on ("start the
    soak and tell me when it's done", "kick off X, ping me when finished"), it asks for what the front-end does
    anyway: the command before it is what is meant. Its verbs open such a clause."""

    @property
    def verb(self) -> str:
        first = self.verbs[0] if self.verbs else ""
        return first.text if isinstance(first, Verb) else first

    @property
    def noun(self) -> str:
        return self.nouns[0] if self.nouns else ""

    @property
    def example(self) -> str:
        return next(iter(self.examples), "")


# Verbs many operations share, so declarations say "SHOW" rather than repeat the list.
_LOOK = ("show", "get", "display", "view", "see", "give", "fetch", "pull up", "bring up", "grab")
_WHAT = ("what", "what is", "what's", "whats", "what are")
SHOW: tuple[str, ...] = (
    *_WHAT,
    *_LOOK,
    "cat",
    "print",
    "open",
    "describe",
    "tell me",
    "check",
    "inspect",
    "look at",
)
LIST: tuple[str, ...] = (
    "list",
    "ls",
    *_LOOK,
    *_WHAT,
    "which",
    "any",
    "are there",
    "do we have",
    "have we got",
    "how many",
    "count",
)
DELETE: tuple[str, ...] = (
    "delete",
    "remove",
    "rm",
    "del",
    "erase",
    "destroy",
    "drop",
    "purge",
    "get rid of",
    "nuke",
    "trash",
    "scrap",
)
CREATE: tuple[str, ...] = ("create", "add", "make", "new", "set up", "setup")
SET: tuple[str, ...] = ("set", "change", "update", "edit", "modify", "configure")
RENAME: tuple[str, ...] = ("rename", "call", "name")


# Words for run states and results, for fields whose slot is STATUS or RESULT (values must be in the field's enum).
STATE_WORDS: dict[str, tuple[Slot, str]] = {
    **dict.fromkeys(
        (
            "running",
            "active",
            "ongoing",
            "in progress",
            "in-progress",
            "live",
            "unfinished",
            "current",
            "going on",
            "happening",
            "not finished",
            "still running",
            "just started",
            "in flight",
            "in-flight",
            "underway",
            "under way",
        ),
        (Slot.STATUS, "active"),
    ),
    **dict.fromkeys(
        ("queued", "queued up", "in the queue", "in queue", "stuck in the queue", "stuck in queue", "stuck in queued"),
        (Slot.STATUS, "queued"),
    ),
    "initializing": (Slot.STATUS, "initializing"),
    "starting": (Slot.STATUS, "initializing"),
    "processing": (Slot.STATUS, "processing_metrics"),
    **dict.fromkeys(("finished", "done", "ended", "over"), (Slot.STATUS, "finished")),
    "completed": (Slot.STATUS, "completed"),
    **dict.fromkeys(("aborted", "stopped", "cancelled", "canceled", "killed", "interrupted"), (Slot.STATUS, "aborted")),
    **dict.fromkeys(
        (
            "failed",
            "failing",
            "failures",
            "failure",
            "fails",
            "fail",
            "broken",
            "broke",
            "red",
            "unsuccessful",
            "blew up",
            "blown up",
        ),
        (Slot.RESULT, "failed"),
    ),
    **dict.fromkeys(
        ("passed", "passing", "successful", "succeeded", "green", "good", "ok", "passes"), (Slot.RESULT, "passed")
    ),
    **dict.fromkeys(
        ("errored", "error", "errors", "erroring", "crashed", "error out", "errored out", "erroring out"),
        (Slot.RESULT, "error"),
    ),
}
FLAG_WORDS: dict[str, tuple[str, ...]] = {
    "starred": ("starred", "favourite", "favorite", "favourites", "favorites", "favourited", "favorited", "saved"),
}
"""Words that set a boolean field, by field name (default: the field's name)."""
ORDINAL_WORDS = (
    "last",
    "latest",
    "newest",
    "most recent",
    "recent",
    "previous",
    "current",
    "latest one",
    "last time",
    "most recently",
)
"""Words that make a reference to one run mean the newest that fits ("the last failed run")."""
ALL_WORDS = ("all", "every", "each", "both", "all the", "everything")


# --------------------------------------------------------------------------- slots of input fields

_RUN_FIELDS = {"test_run_id", "test_run", "baseline_test_run_id"}
_NAMED: dict[str, Slot] = {
    "project_ids": Slot.PROJECTS,
    "load_zone_ids": Slot.LOAD_ZONES,
    "schedule_id": Slot.SCHEDULE,
    "load_zone_id": Slot.LOAD_ZONE,
    "k6_load_zone_id": Slot.LOAD_ZONE_NAME,
    "label_key_id": Slot.LABEL_KEY,
    "limit": Slot.COUNT,
    "note": Slot.NOTE,
    "name": Slot.NAME,
    "phrase": Slot.PHRASE,
    "name_search": Slot.PHRASE,
    "starts": Slot.WHEN,
    "status": Slot.STATUS,
    "result": Slot.RESULT,
}


def unwrap(annotation: Any) -> tuple[Any, bool]:
    """(the annotation without None / Annotated / list, whether it was a list)."""
    is_list = False
    for _ in range(6):
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = args[0] if len(args) == 1 else annotation
            if len(args) != 1:
                break
        elif origin is list:
            is_list = True
            annotation = typing.get_args(annotation)[0]
        else:
            break
    return annotation, is_list


def say_of(info: FieldInfo) -> Say | None:
    for meta in info.metadata:
        if isinstance(meta, Say):
            return meta
    return None


def slot_of(name: str, info: FieldInfo) -> Say:
    """How text fills the field ``name``: its :class:`Say` annotation, else what its name and type say."""
    declared = say_of(info)
    if declared is not None:
        return declared
    from tools.registry import RefKind  # the registry imports this module

    for meta in info.metadata:
        if meta is RefKind.LOAD_TEST:
            return Say(Slot.LOAD_TEST)
        if meta is RefKind.PROJECT:
            return Say(Slot.PROJECT, before=("to", "into") if name.startswith("to_") else ())
    if name in _RUN_FIELDS:
        return Say(Slot.RUN)
    if name in _NAMED:
        return Say(_NAMED[name])
    inner, is_list = unwrap(info.annotation)
    if inner is datetime:
        if name.endswith("_after") or name.startswith("since"):
            return Say(Slot.SINCE)
        if name.endswith("_before") or name.startswith("until"):
            return Say(Slot.UNTIL)
        return Say(Slot.WHEN)
    if inner is bool:
        return Say(Slot.FLAG, words=FLAG_WORDS.get(name, (name.replace("_", " "),)))
    if is_list and inner is int:
        return Say(Slot.IDS)
    if name.endswith("_seconds") and inner in (int, float):
        return Say(Slot.DURATION)
    if isinstance(inner, type) and issubclass(inner, BaseModel):
        fields = set(inner.model_fields)
        if {"frequency", "interval"} <= fields:
            return Say(Slot.RECURRENCE)
        if {"schedule", "time_zone"} <= fields:
            return Say(Slot.CRON)
        if is_list and "value" in fields:
            return Say(Slot.PAIRS)
    return Say(Slot.VALUE)


def enum_values(info: FieldInfo) -> tuple[str, ...]:
    """The values of an enum (or list of enum) field, for matching state and result words."""
    inner, _ = unwrap(info.annotation)
    if isinstance(inner, type) and issubclass(inner, Enum):
        return tuple(str(member.value) for member in inner)
    return ()


__all__ = [
    "ALL_WORDS",
    "CREATE",
    "DELETE",
    "FLAG_WORDS",
    "LIST",
    "ORDINAL_WORDS",
    "RENAME",
    "SET",
    "SHOW",
    "STATE_WORDS",
    "Answer",
    "Phrases",
    "Say",
    "Slot",
    "Verb",
    "enum_values",
    "slot_of",
]
