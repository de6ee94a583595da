"""From a text to what k6bot will do: the parse, its names and references resolved, its input validated.

:func:`understand` is what every chat front-end acts on and what ``k6bot explain`` prints. It sends only the
read requests needed to resolve names and references (the catalog of tests is cached), never a write. The
:class:`Understanding` says one of:

- an operation or a bot command with validated arguments (names resolved to ids), its safety class and
  whether it needs a person's confirmation — or a *batch*: the same operation for several runs;
- a choice to make (a name fitting several tests, a test with several runs going);
- a question back (a required argument is missing: "Which run?"), with the choices at hand;
- not understood, with did-you-mean suggestions that keep the person's own words;
- an error (a name nothing matches, an invalid value), said plainly.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ValidationError

from bot.router.commands import BOT_COMMAND_SPECS, Command, CommandKind, bot_input
from bot.router.lexicon import Intent, SlotSpec, lexicon
from bot.router.names import KnownNames, known_names
from bot.router.parse import Fit, Parse, parse, parse_off_loop
from bot.router.render import say
from bot.router.suggest import suggestions
from bot.router.text import command_text
from bot.router.tokens import Token, tokenize
from tools.errors import AmbiguousLoadTest, Candidate, InvalidInput, K6BotError, ResolutionError
from tools.models import LabelKey, LoadZone, Schedule
from tools.phrasing import Answer, Slot
from tools.references import References, RunRef, is_reference
from tools.registry import Safety, Toolbox

log = logging.getLogger("k6bot.router")

MAX_CHOICES = 10


class Meaning(StrEnum):
    OPERATION = "operation"
    BOT = "bot"
    BATCH = "batch"
    CHOOSE = "choose"
    ASK = "ask"
    UNKNOWN = "unknown"
    ERROR = "error"


@dataclass
class Understanding:
    meaning: Meaning
    text: str
    name: str = ""
    """The registry operation or bot command."""
    arguments: dict[str, Any] = field(default_factory=dict)
    """Validated arguments, names resolved to ids (JSON-ready)."""
    batch: list[dict[str, Any]] = field(default_factory=list)
    safety: Safety | None = None
    needs_confirmation: bool = False
    answer: Answer | None = None
    """The question the result answers first ("is 1234 done?")."""
    message: str = ""
    suggestions: list[str] = field(default_factory=list)
    """Texts to type instead (did-you-mean)."""
    candidates: list[Candidate] = field(default_factory=list)
    fills: str | None = None
    """The argument a choice or a question fills."""
    partial: dict[str, Any] = field(default_factory=dict)
    """For a choice or a question: the arguments known so far (resolved)."""
    fuzzy: bool = False

    @property
    def understood(self) -> bool:
        return self.meaning in (Meaning.OPERATION, Meaning.BOT, Meaning.BATCH)

    @property
    def kind(self) -> CommandKind:
        if self.meaning is Meaning.BOT or (self.name in BOT_COMMAND_SPECS and self.meaning is not Meaning.OPERATION):
            return CommandKind.BOT
        if self.name:
            return CommandKind.OPERATION
        return CommandKind.UNKNOWN

    def command(self) -> Command:
        """The understood request as a :class:`Command` (what choice buttons and follow-ups carry)."""
        if not self.name:
            return Command(
                CommandKind.UNKNOWN, text=self.text, message=self.message, suggestions=tuple(self.suggestions)
            )
        arguments = self.arguments if self.understood else self.partial
        return Command(self.kind, self.name, dict(arguments), text=self.text)

    def as_json(self) -> dict[str, Any]:
        """What ``k6bot explain --json`` prints."""
        if self.understood:
            spec = BOT_COMMAND_SPECS.get(self.name) if self.meaning is Meaning.BOT else None
            return {
                "operation": spec.acts_as if spec is not None and spec.acts_as else self.name,
                "arguments": self.batch if self.meaning is Meaning.BATCH else self.arguments,
                "safety": self.safety.value if self.safety else "read",
                "needs_confirmation": self.needs_confirmation,
            }
        choices = [c.label() for c in self.candidates] if self.candidates else list(self.suggestions)
        return {"error": self.message, "choices": choices}


# --------------------------------------------------------------------------- understanding


async def understand(
    text: object,
    toolbox: Toolbox,
    *,
    now: datetime | None = None,
    tz: tzinfo | None = None,
    parsed: Parse | None = None,
) -> Understanding:
    """What ``text`` means, with names and references resolved (reads only). Never raises for bad input.

    A text that contains a load test's name (from the cached catalog) is read with those words kept as the
    name ("start the failed login storm": "failed" is part of the name, not a result)."""
    try:
        if parsed is None:  # explain: the (cached) names first, then one parse
            names = await _known_names(toolbox, tokenize(command_text(text)))
            parsed = parse(text, now=now, tz=tz, registry=toolbox.registry, names=names)
        elif _names_matter(parsed):  # a server parsed it already, before its policy check: again with the names
            names = await _known_names(toolbox, parsed.analysis.tokens)
            lex = lexicon(toolbox.registry)
            if names is not None and names.protected(parsed.analysis.tokens, lex.vocabulary, lex.verb_words):
                parsed = await parse_off_loop(text, now=now, tz=tz, registry=toolbox.registry, names=names)
    except Exception:  # a bug in the parser must never reach the person as a stack trace
        log.exception("The parser failed on %r", str(text)[:200])
        return Understanding(
            Meaning.UNKNOWN, str(text)[:200], message="I didn't understand that.", suggestions=["help"]
        )
    fit = parsed.understood
    if fit is None:
        for other in [*parsed.asked_about(lexicon(toolbox.registry).vocabulary), *parsed.lenient()]:
            again = await _attempt(parsed, other, toolbox)
            if again.meaning is not Meaning.ERROR:
                return again
        return _not_understood(parsed)
    if fit.fuzzy and fit.intent.writes and not fit.intent.needs_confirmation:
        # a typo'd verb that would change something at once: ask rather than guess
        fixed = say(fit.intent, fit.values)
        return Understanding(
            Meaning.UNKNOWN,
            parsed.text,
            message=f"I'm not sure what \u201c{_short(parsed.text)}\u201d means.",
            suggestions=[fixed] if fixed else [],
        )
    first = await _attempt(parsed, fit, toolbox)
    if first.meaning is not Meaning.ERROR:
        return first
    for other in [*parsed.alternatives(), *parsed.lenient()]:
        again = await _attempt(parsed, other, toolbox)
        if again.meaning is not Meaning.ERROR:
            return again
    return first


def _names_matter(parsed: Parse) -> bool:
    """Whether a test's name may change what the text means: it is not understood, or it is understood with
    words as a name or a reference (not only ids and numbers: "list tests" and "abort 1234" read nothing)."""
    fit = parsed.understood
    if fit is None:
        return True
    return any(not _plain_value(value) for value in fit.values.values())


def _plain_value(value: Any) -> bool:
    if isinstance(value, list):
        return all(_plain_value(item) for item in value)
    return value is None or isinstance(value, bool | int | float)


async def _known_names(toolbox: Toolbox, tokens: list[Token]) -> KnownNames | None:
    """The catalog's test names, when the text has words enough to contain one (None when unreadable)."""
    if sum(1 for t in tokens if t.kind in ("word", "number")) < 2:
        return None
    try:
        tests = await toolbox.catalog.load_tests()
    except Exception:  # unreadable catalog (or a bug reading it): names then resolve, or fail, as they would have
        log.debug("No test names for the parser", exc_info=True)
        return None
    return known_names(tests)


async def _attempt(parsed: Parse, fit: Fit, toolbox: Toolbox) -> Understanding:
    try:
        return await _resolve(parsed, fit, toolbox)
    except AmbiguousLoadTest as exc:
        return _choice(parsed, fit, str(exc), exc.candidates, "load_test")
    except ResolutionError as exc:
        if exc.candidates and exc.candidates[0].field != "load_test":
            return _choice(parsed, fit, str(exc), exc.candidates, exc.candidates[0].field)
        suggestion = [f"{say(fit.intent, {**fit.values, 'load_test': c.id})}" for c in exc.candidates[:3]]
        return Understanding(
            Meaning.ERROR, parsed.text, name=fit.intent.name, message=str(exc), suggestions=[s for s in suggestion if s]
        )
    except K6BotError as exc:
        return Understanding(Meaning.ERROR, parsed.text, name=fit.intent.name, message=str(exc))


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _not_understood(parsed: Parse) -> Understanding:
    if not parsed.text:
        return Understanding(Meaning.BOT, parsed.text, name="help", arguments={}, safety=Safety.READ)
    return Understanding(
        Meaning.UNKNOWN,
        parsed.text,
        message=f"I didn't understand \u201c{_short(parsed.original or parsed.text)}\u201d.",
        suggestions=suggestions(parsed),
    )


def _choice(parsed: Parse, fit: Fit, message: str, candidates: list[Candidate], field_name: str) -> Understanding:
    return Understanding(
        Meaning.CHOOSE,
        parsed.text,
        name=fit.intent.name,
        message=message,
        candidates=list(candidates),
        fills=field_name,
        partial=_plain(fit.values),
        safety=fit.intent.safety,
    )


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if not is_reference(v) and not isinstance(v, BaseModel)}


async def _resolve(parsed: Parse, fit: Fit, toolbox: Toolbox) -> Understanding:
    intent = fit.intent
    references = References(toolbox.catalog)
    resolved: dict[str, Any] = {}
    batch_field: str | None = None
    specs = {s.field: s for s in intent.slots}
    project_scope: int | None = None
    # the project first: a test name is looked up within it ("list runs of orders in payments")
    for name in sorted(fit.values, key=lambda n: specs[n].slot is not Slot.PROJECT if n in specs else True):
        spec = specs.get(name)
        value = fit.values[name]
        if is_reference(value):
            value = await references.resolve(value)
        elif spec is not None and spec.slot is Slot.PROJECT and isinstance(value, str):
            value = (await toolbox.catalog.resolve_project(value)).id
        elif spec is not None and spec.slot is Slot.LOAD_TEST and value is not None:
            value = (await toolbox.catalog.resolve(value, project_id=project_scope)).id
        elif spec is not None and spec.slot in (Slot.PROJECTS, Slot.LOAD_ZONES) and isinstance(value, list):
            value = [await _one_of_list(item, toolbox, references) for item in value]
        if name == "project" and isinstance(value, int):
            project_scope = value
        if spec is not None and spec.slot is Slot.RUN and isinstance(value, list):
            batch_field = name  # several runs: the operation for each
        resolved[name] = value
    missing = [f for f in fit.missing if f not in resolved]
    if missing:
        return await _ask(parsed, fit, missing[0], resolved, toolbox)
    if batch_field is not None:
        return _batch(parsed, fit, batch_field, resolved)
    return _validated(parsed, fit, resolved)


async def _one_of_list(item: Any, toolbox: Toolbox, references: References) -> Any:
    """One item of a list of projects or load zones: a name or a reference becomes its id."""
    if is_reference(item):
        return await references.resolve(item)
    if isinstance(item, str):
        return (await toolbox.catalog.resolve_project(item)).id
    return item


def _validate(intent: Intent, arguments: dict[str, Any]) -> dict[str, Any]:
    if intent.name in BOT_COMMAND_SPECS:
        try:
            model = bot_input(intent.name, arguments)
        except ValidationError as exc:
            raise InvalidInput(
                f"Invalid arguments for {intent.name}: {exc.errors()[0].get('msg', 'invalid')}."
            ) from None
        return model.model_dump(mode="json", exclude_none=True)
    from tools.registry import get_registry

    model = get_registry()[intent.name].parse(arguments)
    return model.model_dump(mode="json", exclude_none=True)


def _understood(parsed: Parse, fit: Fit, meaning: Meaning, **values: Any) -> Understanding:
    intent = fit.intent
    return Understanding(
        meaning,
        parsed.text,
        name=intent.name,
        safety=intent.safety,
        needs_confirmation=intent.needs_confirmation,
        fuzzy=fit.fuzzy,
        **values,
    )


def _validated(parsed: Parse, fit: Fit, resolved: dict[str, Any]) -> Understanding:
    meaning = Meaning.BOT if fit.intent.name in BOT_COMMAND_SPECS else Meaning.OPERATION
    return _understood(parsed, fit, meaning, arguments=_validate(fit.intent, resolved), answer=fit.answer)


def _batch(parsed: Parse, fit: Fit, field_name: str, resolved: dict[str, Any]) -> Understanding:
    """The same operation for each of several targets ("abort 1238 1237", "abort all running tests")."""
    targets = list(dict.fromkeys(resolved[field_name]))
    if len(targets) == 1:
        return _validated(parsed, fit, {**resolved, field_name: targets[0]})
    items = [_validate(fit.intent, {**resolved, field_name: value}) for value in targets]
    return _understood(parsed, fit, Meaning.BATCH, batch=items)


# --------------------------------------------------------------------------- asking back

_QUESTIONS = {
    Slot.RUN: "Which run?",
    Slot.LOAD_TEST: "Which load test?",
    Slot.PROJECT: "Which project?",
    Slot.SCHEDULE: "Which schedule?",
    Slot.LOAD_ZONE: "Which load zone?",
    Slot.LABEL_KEY: "Which label key?",
    Slot.LABEL_KEY_NAME: "Which label key?",
    Slot.NAME: "What name?",
    Slot.NOTE: "What text?",
    Slot.PHRASE: "Which words?",
    Slot.WHEN: "When?",
    Slot.PAIRS: "Which key=value pairs?",
}


async def _ask(parsed: Parse, fit: Fit, missing: str, resolved: dict[str, Any], toolbox: Toolbox) -> Understanding:
    """A required argument is missing: ask for it, with the choices at hand when they are few and cheap to list."""
    intent = fit.intent
    spec = next(s for s in intent.slots if s.field == missing)
    question = _QUESTIONS.get(spec.slot, f"What {missing.replace('_', ' ')}?")
    candidates: list[Candidate] = []
    try:
        candidates = await _choices_for(spec, intent, toolbox)
    except K6BotError as exc:  # listing the choices is a help, not a must
        log.info("Could not list choices for %s: %s", missing, exc)
    example = say(intent, {**resolved, missing: f"<{missing.replace('_id', '').replace('_', ' ')}>"})
    hint = f" For example: {example}" if example else ""
    if spec.slot is Slot.RUN and not candidates and intent.safety is Safety.STOP:
        question = "Which run? Nothing is running right now."
        hint = ""
    return Understanding(
        Meaning.ASK,
        parsed.text,
        name=intent.name,
        message=f"{question}{hint}",
        candidates=candidates,
        fills=missing,
        partial=_plain(resolved),
        safety=intent.safety,
        needs_confirmation=intent.needs_confirmation,
    )


async def _choices_for(spec: SlotSpec, intent: Intent, toolbox: Toolbox) -> list[Candidate]:
    client = toolbox.client
    if spec.slot is Slot.RUN:
        active = intent.safety is Safety.STOP
        runs = await References(toolbox.catalog).runs(
            RunRef(status=("active",) if active else (), abortable=active, every=True)
        )
        names = {t.id: t.name for t in await toolbox.catalog.load_tests()}
        return [
            Candidate(
                r.id,
                f"run {r.id}: {names.get(r.test_id, f'test {r.test_id}')} ({r.status.replace('_', ' ')})",
                r.project_id,
                field=spec.field,
            )
            for r in runs[:MAX_CHOICES]
        ]
    if spec.slot is Slot.LOAD_TEST:
        tests = await toolbox.catalog.load_tests()
        names = await toolbox.catalog.display_project_names()
        return [
            Candidate(t.id, t.name, t.project_id, project_name=names.get(t.project_id)) for t in tests[:MAX_CHOICES]
        ]
    if spec.slot is Slot.PROJECT:
        return [
            Candidate(p.id, p.name, p.id, field=spec.field) for p in (await toolbox.catalog.projects())[:MAX_CHOICES]
        ]
    if spec.slot is Slot.SCHEDULE:
        schedules = await client.collect(Schedule, "/cloud/v6/schedules", limit=MAX_CHOICES)
        names = {t.id: t.name for t in await toolbox.catalog.load_tests()}
        return [
            Candidate(
                s.id, f"schedule {s.id}: {names.get(s.load_test_id, f'test {s.load_test_id}')}", None, field=spec.field
            )
            for s in schedules
        ]
    if spec.slot is Slot.LOAD_ZONE:
        zones = await client.collect(LoadZone, "/cloud/v6/load_zones", limit=MAX_CHOICES)
        return [Candidate(z.id, f"{z.name} ({z.k6_load_zone_id})", None, field=spec.field) for z in zones]
    if spec.slot is Slot.LABEL_KEY:
        keys = await client.collect(LabelKey, "/cloud/v6/labels", limit=MAX_CHOICES)
        return [Candidate(k.id, k.key, None, field=spec.field) for k in keys]
    return []


__all__ = ["Meaning", "Understanding", "understand"]
