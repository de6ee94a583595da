"""Saying an operation back as text: for did-you-mean, for "say it again with the id", for help's examples.

The text comes from the operation's ``Phrases.template`` (``{field}`` placeholders) with the person's own
values filled in; a placeholder without a value drops out with the preposition before it. The round-trip
test checks that what is said back means the same thing again.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from bot.router.lexicon import FILLER, PREPOSITIONS, Intent
from tools.phrasing import Slot
from tools.references import Named, RunRef, ScheduleOf, TestOfRun

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_STATUS_WORDS = {"active": "running", "processing_metrics": "processing"}


def _needs_quotes(text: str) -> bool:
    words = text.casefold().split()
    return any(w in PREPOSITIONS or w in FILLER for w in words) or not words


_KIND_WORDS = {
    Slot.RUN: "run",
    Slot.LOAD_TEST: "test",
    Slot.PROJECT: "project",
    Slot.SCHEDULE: "schedule",
    Slot.LOAD_ZONE: "zone",
    Slot.LABEL_KEY: "label key",
}
"""An id is said with its kind ("run 1234", "test 501"), so it cannot be read as another kind of id."""
_GROUP = re.compile(r"\[([^\[\]]*)\]")


def value_text(intent: Intent, field: str, value: Any) -> str | None:
    """A value as a person would type it, or None when it cannot be said."""
    spec = next((s for s in intent.slots if s.field == field), None)
    slot = spec.slot if spec else None
    if value is None or value is False or value == [] or value == "":
        return None
    if isinstance(value, RunRef):
        words = [*(_STATUS_WORDS.get(s, s) for s in value.status), *value.result]
        head = ("all " if value.every else "the last ") + " ".join(words)
        tail = f" of {value.test}" if value.test is not None else ""
        return f"{head.strip()} {'runs' if value.every else 'run'}{tail}"
    if isinstance(value, TestOfRun):
        return f"the test of run {value.run}" if isinstance(value.run, int) else None
    if isinstance(value, ScheduleOf):
        return f"the schedule of {value.test}" if isinstance(value.test, str) else f"the schedule of test {value.test}"
    if isinstance(value, Named):
        return value.text
    if value is True:
        flag_words = spec.say.words if spec else ()
        return flag_words[0] if flag_words else field.replace("_", " ")
    if isinstance(value, list):
        if slot in (Slot.STATUS, Slot.RESULT):
            return " ".join(_STATUS_WORDS.get(str(v), str(v)) for v in value)
        if all(isinstance(v, int) for v in value):
            return ", ".join(str(v) for v in value)
        if all(isinstance(v, dict) and "key" in v and "value" in v for v in value):
            return " ".join(f"{v['key']}={v['value']}" for v in value)
        if all(isinstance(v, dict) and len(v) == 1 for v in value):
            return ", ".join(str(next(iter(v.values()))) for v in value)
        return None
    if isinstance(value, datetime):
        value = value.isoformat()
    if slot in (Slot.SINCE, Slot.UNTIL, Slot.WHEN) and isinstance(value, str):
        day = value[:10]
        return {"since": f"since {day}", "until": f"before {day}"}.get(slot.value, day)
    if isinstance(value, dict):
        return None
    if slot is Slot.COUNT and isinstance(value, int):
        return f"last {value}"
    if isinstance(value, int) and not isinstance(value, bool) and slot in _KIND_WORDS:
        return f"{_KIND_WORDS[slot]} {value}"
    text = str(value)
    if isinstance(value, str) and slot in (Slot.LOAD_TEST, Slot.PROJECT, Slot.NAME) and _needs_quotes(text):
        return f'"{text}"'
    return text


def _fill(template: str, intent: Intent, values: dict[str, Any]) -> tuple[str, set[str]] | None:
    """The template with values filled in (None when a placeholder outside ``[…]`` has no value)."""
    used: set[str] = set()

    def group(match: re.Match[str]) -> str:
        inner = match.group(1)
        fields = _PLACEHOLDER.findall(inner)
        if all(value_text(intent, f, values.get(f)) is not None for f in fields):
            return inner
        return ""

    text = _GROUP.sub(group, template)
    out: list[str] = []
    for word in text.split():
        found = _PLACEHOLDER.search(word)
        if not found:
            out.append(word)
            continue
        name = found.group(1)
        said = value_text(intent, name, values.get(name))
        if said is None:
            return None
        used.add(name)
        if out and said.split()[0].casefold() == out[-1].casefold():  # "test {load_test}" with "test 501"
            out.pop()
        out.append(word.replace(found.group(0), said))
    return " ".join(out), used


def say(intent: Intent, values: dict[str, Any]) -> str:
    """The intent as text with ``values`` filled in (e.g. "list runs failed of test 501 since 2026-12-02")."""
    declared = intent.phrases.template
    templates = [declared] if isinstance(declared, str) else list(declared or ())
    templates.append(
        " ".join(filter(None, [intent.phrases.verb, intent.phrases.noun, *(f"[{{{s.field}}}]" for s in intent.slots)]))
    )
    filled = next((f for t in templates if (f := _fill(t, intent, values)) is not None), None)
    text, used = filled if filled is not None else (intent.phrases.verb, set())
    out = [text]
    # values the template does not mention: dates, counts, flags, filters, and field=value for the rest
    for name, value in values.items():
        if name in used:
            continue
        spec = next((s for s in intent.slots if s.field == name), None)
        if spec is None:
            continue
        said = value_text(intent, name, value)
        if not said:
            continue
        if spec.slot in (Slot.COUNT, Slot.SINCE, Slot.UNTIL, Slot.FLAG, Slot.STATUS, Slot.RESULT):
            out.append(said)
        elif spec.slot in (Slot.VALUE, Slot.AMOUNT) and isinstance(value, int | float | str) and " " not in str(value):
            out.append(f"{name}={value}")
    return " ".join(out).strip()


def say_command(name: str, arguments: dict[str, Any]) -> str | None:
    """A command (an operation or bot command with its arguments) as text to type, e.g. after a choice."""
    from bot.router.lexicon import lexicon

    intent = next((i for i in lexicon().intents if i.name == name), None)
    if intent is None:
        return None
    return say(intent, arguments) or None


def say_again(
    name: str | None, arguments: dict[str, Any], fills: str | None, candidate_id: int | None
) -> tuple[str, str | None]:
    """After a choice or a question that cannot be answered by clicking: (what to give, e.g. "the test's id", and
    the same command with the first candidate's id filled in, or None)."""
    fills = fills or "load_test"
    what = {"load_test": "the test's id", "test_run_id": "the run's id"}.get(fills, "an id")
    if name is None or candidate_id is None:
        return what, None
    return what, say_command(name, {**arguments, fills: candidate_id})
