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
    if isinstance(value, ScheduleOf | Named):
        inner = value.test if isinstance(value, ScheduleOf) else value.text
        return str(inner)
    if value is True:
        words = spec.say.words if spec else ()
        return words[0] if words else field.replace("_", " ")
    if isinstance(value, list):
        if slot in (Slot.STATUS, Slot.RESULT):
            return " ".join(_STATUS_WORDS.get(str(v), str(v)) for v in value)
        if all(isinstance(v, int) for v in value):
            return ", ".join(str(v) for v in value)
        if all(isinstance(v, dict) and "key" in v and "value" in v for v in value):
            return " ".join(f"{v['key']}={v['value']}" for v in value)
        return None
    if isinstance(value, datetime):
        value = value.isoformat()
    if slot in (Slot.SINCE, Slot.UNTIL, Slot.WHEN) and isinstance(value, str):
        day = value[:10]
        return {"since": f"since {day}", "until": f"before {day}"}.get(slot.value, day)
    if isinstance(value, dict):
        return None
    text = str(value)
    if isinstance(value, str) and slot in (Slot.LOAD_TEST, Slot.PROJECT, Slot.NAME) and _needs_quotes(text):
        return f'"{text}"'
    return text


def say(intent: Intent, values: dict[str, Any]) -> str:
    """The intent as text with ``values`` filled in (e.g. "list runs failed of 501 since 2026-12-02")."""
    template = intent.phrases.template or " ".join(
        filter(
            None, [intent.phrases.verb, intent.phrases.noun, *(f"{{{s.field}}}" for s in intent.slots if s.required)]
        )
    )
    words = template.split()
    out: list[str] = []
    used: set[str] = set()
    for word in words:
        found = _PLACEHOLDER.search(word)
        if not found:
            out.append(word)
            continue
        field = found.group(1)
        used.add(field)
        text = value_text(intent, field, values.get(field))
        if text is None:
            if out and out[-1].casefold() in PREPOSITIONS:
                out.pop()
            continue
        out.append(word.replace(found.group(0), text))
    # values the template does not mention: dates and counts people gave
    for field, value in values.items():
        if field in used:
            continue
        spec = next((s for s in intent.slots if s.field == field), None)
        if spec is None or spec.slot not in (Slot.SINCE, Slot.UNTIL, Slot.COUNT, Slot.FLAG, Slot.STATUS, Slot.RESULT):
            continue
        text = value_text(intent, field, value)
        if text:
            out.append(f"last {text}" if spec.slot is Slot.COUNT else text)
    return " ".join(out).strip()


def say_command(name: str, arguments: dict[str, Any]) -> str | None:
    """A command (an operation or bot command with its arguments) as text to type, e.g. after a choice."""
    from bot.router.lexicon import lexicon

    intent = next((i for i in lexicon().intents if i.name == name), None)
    if intent is None:
        return None
    return say(intent, arguments) or None
