"""The command grammar: a table of rules turning typed text into a registry operation or a bot command.

Each :class:`Rule` names its target (a registry operation, or a bot command such as ``help``), the
patterns that express it, how to build the arguments from what the patterns captured, and how ``help``
shows it. ``route()`` tries the rules in order on the cleaned text; the first full match wins. The router
never calls the API: a test phrase ("orders soak test") is passed on as typed and resolved by the Toolbox,
so an ambiguous phrase comes back from there as a choice.

Operation names live in the registry; the rules only point at them (a test checks every target exists).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from rapidfuzz import fuzz, process

from bot.router.text import (
    clean,
    project_ref,
    strip_leading_filler,
    strip_prefix,
    strip_trailing_filler,
    test_ref,
    unquote,
)
from tools.registry import Registry, Safety, get_registry

log = logging.getLogger("k6bot.router")


class CommandKind(StrEnum):
    OPERATION = "operation"
    """A registry operation with arguments."""
    BOT = "bot"
    """A command of k6bot itself: help, subscribe, unsubscribe, subscriptions, audit."""
    UNKNOWN = "unknown"
    """Not understood; ``message`` says so and ``suggestions`` offers commands."""


class BotCommand(StrEnum):
    HELP = "help"
    SUBSCRIBE = "subscribe"
    UNSUBSCRIBE = "unsubscribe"
    SUBSCRIPTIONS = "subscriptions"
    AUDIT = "audit"


BOT_SAFETY: dict[str, Safety] = {
    BotCommand.HELP: Safety.READ,
    BotCommand.SUBSCRIPTIONS: Safety.READ,
    BotCommand.SUBSCRIBE: Safety.WRITE,
    BotCommand.UNSUBSCRIBE: Safety.WRITE,
    BotCommand.AUDIT: Safety.ADMIN,
}
"""Who may use a bot command, in the policy's terms (``audit`` is for admins)."""


@dataclass(frozen=True)
class Command:
    """What the text asks for."""

    kind: CommandKind
    name: str = ""
    arguments: dict[str, Any] = field(default_factory=dict)
    text: str = ""
    rule: str | None = None
    message: str = ""
    suggestions: tuple[str, ...] = ()

    @property
    def understood(self) -> bool:
        return self.kind is not CommandKind.UNKNOWN

    def with_arguments(self, **values: Any) -> Command:
        return replace(self, arguments={**self.arguments, **values})

    def safety(self, registry: Registry | None = None) -> Safety | None:
        """The safety class the policy checks for this command (None when not understood)."""
        if self.kind is CommandKind.BOT:
            return BOT_SAFETY.get(self.name, Safety.READ)
        if self.kind is CommandKind.OPERATION:
            registry = registry or get_registry()
            if self.name in registry:
                return registry[self.name].safety
        return None


class RouteError(ValueError):
    """Raised by a rule's builder when the text has the right shape but a wrong value (e.g. run 0)."""


Groups = Mapping[str, str]
Builder = Callable[[Groups], tuple[str, dict[str, Any]]]


@dataclass(frozen=True)
class Rule:
    """One command form: its patterns, its target, its arguments and its line in ``help``."""

    name: str
    kind: CommandKind
    targets: tuple[str, ...]
    """Operation names (or the bot command) this rule can produce; the first decides its help safety."""
    usage: str
    summary: str
    patterns: tuple[str, ...]
    build: Builder
    verbs: tuple[str, ...] = ()
    """First words of this command, for did-you-mean."""
    examples: tuple[str, ...] = ()
    keep_tail: bool = False
    """Match on the text with trailing words kept (a note keeps its "please" and "?")."""
    in_help: bool = True
    compiled: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        expanded = tuple(re.compile(_expand(p), re.IGNORECASE | re.DOTALL) for p in self.patterns)
        object.__setattr__(self, "compiled", expanded)

    def safety(self, registry: Registry | None = None) -> Safety:
        target = self.targets[0]
        if self.kind is CommandKind.BOT:
            return BOT_SAFETY.get(target, Safety.READ)
        return (registry or get_registry())[target].safety


# --------------------------------------------------------------------------- pattern pieces

_MACROS = {
    # filler that may precede a noun: "abort the run", "show me my runs"
    "the": r"(?:(?:the|my|our|this|that|an|a|me|us|all\s+of|all)\s+)*+",  # possessive: no backtracking
    # a run id: "1234", "#1234", "run 1234", "run #1234", "test run 1234", "run id 1234", "run no. 1234"
    "run": r"(?:(?:test[\s-]*)?run[\s-]*)?(?:(?:id|number|no\.?|nr\.?)\s*)?#?\s*(?P<run>\d{1,12})",
    # a run id that says it is a run: "run 1234", "test run 1234", "#1234"
    "runword": r"(?:(?:test[\s-]*)?run[\s-]*(?:(?:id|number|no\.?|nr\.?)\s*)?#?\s*|#\s*)(?P<run>\d{1,12})",
    "list": r"(?:(?:list|show|get|ls|display|see|view|give|fetch|print)(?:\s+me)?\s+)?",
    "of": r"(?:of|for|from|on|about|in)",
}


def _expand(pattern: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: _MACROS[m.group(1)], pattern)


# --------------------------------------------------------------------------- argument builders


def _run_id(groups: Groups) -> int:
    value = int(groups["run"])
    if value < 1:
        raise RouteError("Run ids are positive numbers, like 1234.")
    return value


def _op(name: str, **fixed: Any) -> Builder:
    """A builder for an operation whose arguments come from the captured groups."""

    def build(groups: Groups) -> tuple[str, dict[str, Any]]:
        args: dict[str, Any] = dict(fixed)
        if groups.get("run"):
            args["test_run_id"] = _run_id(groups)
        if groups.get("test"):
            ref = test_ref(groups["test"])
            if ref == "":
                raise RouteError("Say which load test: its name or its id.")
            args["load_test"] = ref
        if groups.get("project"):
            args["project"] = project_ref(groups["project"])
        if groups.get("phrase"):
            args["phrase"] = unquote(groups["phrase"])[:300]
        if groups.get("limit"):
            args["limit"] = max(1, min(int(groups["limit"]), 100))
        return name, args

    return build


def _note(groups: Groups) -> tuple[str, dict[str, Any]]:
    note = unquote(groups.get("note", "").strip())
    return "update_test_run", {"test_run_id": _run_id(groups), "note": note}


_TOGGLES = {
    "save": "save_test_run",
    "keep": "save_test_run",
    "unsave": "unsave_test_run",
    "star": "star_test_run",
    "favorite": "star_test_run",
    "favourite": "star_test_run",
    "unstar": "unstar_test_run",
    "unfavorite": "unstar_test_run",
    "unfavourite": "unstar_test_run",
}


def _toggle(groups: Groups) -> tuple[str, dict[str, Any]]:
    return _TOGGLES[groups["verb"].lower()], {"test_run_id": _run_id(groups)}


def _result_filter(groups: Groups) -> tuple[str, dict[str, Any]]:
    _, args = _op("list_test_runs")(groups)
    word = groups["result"].lower()
    if word.startswith(("fail", "broken", "red")):
        args["result"] = ["failed"]
    elif word.startswith(("pass", "success", "green", "good")):
        args["result"] = ["passed"]
    elif word.startswith("error"):
        args["result"] = ["error"]
    elif word.startswith("abort"):
        args["status"] = ["aborted"]
    elif word.startswith(("star", "saved")):
        args["starred"] = True
    else:
        args["status"] = ["completed"]
    return "list_test_runs", args


_FAILURES = re.compile(
    r"\b(?:only\s+)?(?:(?:on\s+)?failures?|failed(?:\s+runs?)?|failing(?:\s+runs?)?|errors?)(?:\s+only)?\b",
    re.IGNORECASE,
)
_CONNECTORS = re.compile(
    r"^(?:(?:of|for|to|on|about|from|in|with)(?:\s+|$))+|(?:(?:^|\s+)(?:of|for|to|on|about|from|in))+$", re.I
)
_EVERYTHING = re.compile(
    r"^(?:(?:all|every|any)(?:\s+(?:the\s+)?(?:test\s*)?runs?|\s+tests?|\s+of\s+them|thing)?|everything|"
    r"(?:test\s*)?runs?|this\s+channel|here|channel)$",
    re.IGNORECASE,
)


def _subscription_target(what: str) -> tuple[int | str | None, bool, bool]:
    """(test reference or None, failures only, everything) from "failures of checkout", "all", …"""
    text = unquote(what or "")
    failures = False
    match = _FAILURES.search(text)
    if match:
        failures = True
        text = (text[: match.start()] + " " + text[match.end() :]).strip()
    for _ in range(3):
        text = _CONNECTORS.sub("", text.strip()).strip()
    text = re.sub(r"^(?:the\s+)+", "", text, flags=re.IGNORECASE).strip()
    text = re.sub(r"\s+(?:in\s+)?(?:this\s+channel|here)$", "", text, flags=re.IGNORECASE).strip()
    everything = bool(_EVERYTHING.fullmatch(text)) if text else False
    if not text or everything:
        return None, failures, everything
    return test_ref(text), failures, False


def _subscribe(groups: Groups) -> tuple[str, dict[str, Any]]:
    test, failures, _ = _subscription_target(groups.get("what", ""))
    return BotCommand.SUBSCRIBE, {"load_test": test, "failures_only": failures}


def _unsubscribe(groups: Groups) -> tuple[str, dict[str, Any]]:
    """``unsubscribe <test>``: that test's subscription; anything else ("", "all", "failures"): every one."""
    test, _, _ = _subscription_target(groups.get("what", ""))
    return BotCommand.UNSUBSCRIBE, {"load_test": test, "everything": test is None}


def _help(groups: Groups) -> tuple[str, dict[str, Any]]:
    topic = (groups.get("topic") or "").strip()
    return BotCommand.HELP, {"topic": topic[:100] or None}


def _audit(groups: Groups) -> tuple[str, dict[str, Any]]:
    n = int(groups["n"]) if groups.get("n") else 10
    return BotCommand.AUDIT, {"limit": max(1, min(n, 100))}


def _bot(name: str) -> Builder:
    return lambda _groups: (name, {})


# --------------------------------------------------------------------------- the grammar

_OP = CommandKind.OPERATION
_BOT = CommandKind.BOT
_DELETE = r"(?:delete|remove|rm|del|erase|destroy|drop|purge)"
_SHOW = r"(?:show|get|print|cat|view|display|see|fetch|give)(?:\s+me)?"

RULES: tuple[Rule, ...] = (
    Rule(
        "help",
        _BOT,
        (BotCommand.HELP,),
        "help",
        "what you can do here",
        (
            r"(?:help|h|\?+|commands|usage|menu|what\s+can\s+(?:you|i)\s+do|how\s+does\s+(?:this|it)\s+work)"
            r"(?:\s+(?:me\s+)?(?:with\s+|on\s+|about\s+)?(?P<topic>.+))?",
        ),
        _help,
        verbs=("help", "commands"),
        examples=("help",),
    ),
    # ---- bot commands: subscriptions and audit (before the run verbs: "stop notifications" is not an abort)
    Rule(
        "subscriptions",
        _BOT,
        (BotCommand.SUBSCRIPTIONS,),
        "subscriptions",
        "what this channel is subscribed to",
        (
            r"{list}{the}(?:channel'?s?\s+)?subscriptions",
            r"what\s+(?:are\s+we|am\s+i|is\s+(?:this\s+channel|here))\s+subscribed\s+to",
        ),
        _bot(BotCommand.SUBSCRIPTIONS),
        verbs=("subscriptions",),
        examples=("subscriptions",),
    ),
    Rule(
        "unsubscribe",
        _BOT,
        (BotCommand.UNSUBSCRIBE,),
        "unsubscribe [<test>]",
        "stop posting finished runs here (every subscription of this channel, or that test's)",
        (
            r"(?:unsubscribe|unsub|unfollow|mute|stop\s+(?:notifying|notifications|following|posting))"
            r"(?:\s+(?P<what>.+))?",
        ),
        _unsubscribe,
        verbs=("unsubscribe", "unsub", "unfollow", "mute"),
        examples=("unsubscribe", "unsubscribe orders soak test"),
    ),
    Rule(
        "subscribe",
        _BOT,
        (BotCommand.SUBSCRIBE,),
        "subscribe [<test>|failures]",
        "post finished runs in this channel (all runs, one test's, or failures only)",
        (r"(?:subscribe|sub|follow|notify(?:\s+(?:me|us))?)(?:\s+(?P<what>.+))?",),
        _subscribe,
        verbs=("subscribe", "sub", "follow", "notify"),
        examples=("subscribe", "subscribe failures", "subscribe orders soak test"),
    ),
    Rule(
        "audit",
        _BOT,
        (BotCommand.AUDIT,),
        "audit [n]",
        "the latest entries of the audit log (who did what)",
        (
            r"{list}{the}(?:last\s+|latest\s+)?(?:(?P<n>\d{1,4})\s+)?audit(?:[\s-]*(?:log|trail))?(?:\s+entries)?"
            r"(?:\s+(?:of\s+|last\s+)*(?P<m>\d{1,4})(?:\s+entries)?)?",
        ),
        lambda g: _audit({"n": g.get("n") or g.get("m") or ""}),
        verbs=("audit",),
        examples=("audit", "audit 20"),
    ),
    # ---- notes, stars, saves (before "show run N": "note run 1234 …" is not a status)
    Rule(
        "note",
        _OP,
        ("update_test_run",),
        "note run <id> <text>",
        "set a run's note",
        (
            r"(?:note|annotate|comment(?:\s+on)?|add\s+(?:a\s+)?note\s+(?:to|on|for))\s+{the}{run}"
            r"(?:\s*[:\-,=]\s*|\s+)(?:with\s+|saying\s+|that\s+)?(?P<note>\S.*)",
            r"set\s+{the}note\s+(?:of|on|for)\s+{the}{run}\s*(?:to\s+|[:=]\s*|\s)(?P<note>\S.*)",
        ),
        _note,
        verbs=("note", "annotate", "comment"),
        examples=("note run 1234 baseline after the cache fix",),
        keep_tail=True,
    ),
    Rule(
        "clear-note",
        _OP,
        ("update_test_run",),
        "clear note of run <id>",
        "remove a run's note",
        (r"(?:clear|remove|delete|erase|drop|unset)\s+{the}note\s+(?:of|on|from|for)\s+{the}{run}",),
        lambda g: ("update_test_run", {"test_run_id": _run_id(g), "note": ""}),
        verbs=("clear",),
        examples=("clear note of run 1234",),
        in_help=False,
    ),
    Rule(
        "star",
        _OP,
        ("star_test_run", "unstar_test_run", "save_test_run", "unsave_test_run"),
        "star|unstar|save|unsave run <id>",
        "mark a run (star), or keep its results past retention (save)",
        (
            r"(?P<verb>save|unsave|star|unstar|keep|favou?rite|unfavou?rite)\s+{the}{run}",
            r"(?P<verb>save|unsave|star|unstar|keep|favou?rite|unfavou?rite)\s+{the}{run}\s+(?:results?|forever)",
        ),
        _toggle,
        verbs=("star", "unstar", "save", "unsave", "keep"),
        examples=("star run 1234", "save run 1234", "unstar run 1234", "unsave run 1234"),
    ),
    # ---- stop / delete
    Rule(
        "abort",
        _OP,
        ("abort_test_run",),
        "abort run <id>",
        "abort a run that has not finished (asks to confirm; also stop, cancel)",
        (r"(?:abort|stop|cancel|kill|halt|terminate|end|interrupt)\s+{the}{run}",),
        _op("abort_test_run"),
        verbs=("abort", "stop", "cancel", "kill", "halt", "terminate"),
        examples=("abort run 1234", "stop run 1234", "cancel run 1234"),
    ),
    Rule(
        "delete-run",
        _OP,
        ("delete_test_run",),
        "delete run <id>",
        "delete a finished run and its results (asks to confirm)",
        (_DELETE + r"\s+{the}{runword}",),
        _op("delete_test_run"),
        verbs=("delete", "remove", "rm", "del"),
        examples=("delete run 1234",),
    ),
    Rule(
        "delete-test",
        _OP,
        ("delete_load_test",),
        "delete test <test>",
        "delete a load test with all its runs (asks to confirm)",
        (
            _DELETE + r"\s+{the}(?:load[\s-]*)?test\s+(?P<test>.+)",
            _DELETE + r"\s+{the}(?P<test>.+?)\s+(?:load[\s-]*)?test",
        ),
        _op("delete_load_test"),
        verbs=("delete", "remove", "rm", "del"),
        examples=("delete test orders smoke",),
    ),
    # ---- scripts
    Rule(
        "run-script",
        _OP,
        ("get_test_run_script",),
        "script of run <id>",
        "the exact script a run executed",
        (r"(?:" + _SHOW + r"\s+)?{the}script\s+(?:of|for|from|used\s+by|that\s+ran\s+in)\s+{the}{runword}",),
        _op("get_test_run_script"),
        verbs=("script",),
        examples=("show script of run 1234",),
        in_help=False,
    ),
    Rule(
        "script",
        _OP,
        ("get_load_test_script",),
        "show script of <test>",
        "a load test's current script",
        (
            r"(?:" + _SHOW + r"\s+)?{the}(?:k6\s+)?(?:script|code|source)\s+(?:of|for|from|in)\s+{the}(?P<test>.+)",
            _SHOW + r"\s+{the}(?P<test>.+?)(?:'s)?\s+(?:k6\s+)?(?:script|code|source)",
        ),
        _op("get_load_test_script"),
        verbs=("script", "show"),
        examples=("show script of orders soak test",),
    ),
    # ---- runs
    Rule(
        "running",
        _OP,
        ("list_test_runs",),
        "what's running?",
        "runs that have not finished yet",
        (
            r"(?:what(?:'s|s|\s+is|\s+are)?|which\s+(?:tests?|runs?)(?:\s+(?:is|are))?|anything|something|is\s+anything"
            r"|is\s+something|are\s+there\s+(?:any\s+)?(?:tests?|runs?))"
            r"\s+(?:currently\s+|still\s+|being\s+)?(?:running|going(?:\s+on)?|active|in\s+progress|happening|ongoing)"
            r"(?:\s+(?:right\s+)?now|\s+at\s+the\s+moment|\s+currently)?",
            r"{list}{the}(?:currently\s+)?(?:running|active|current|ongoing|in[\s-]progress|unfinished)"
            r"(?:\s+(?:load\s+)?(?:tests?|test\s*runs?|runs?))?",
            r"(?:status|state)",
        ),
        _op("list_test_runs", status=["active"]),
        verbs=("what's", "whats", "running", "active"),
        examples=("what's running?", "running runs", "active runs"),
    ),
    Rule(
        "runs-by-result",
        _OP,
        ("list_test_runs",),
        "failed runs [of <test>]",
        "recent runs that failed (also passed, aborted, starred)",
        (
            r"{list}{the}(?:(?:latest|recent|last|previous|past)\s+)?(?:(?P<limit>\d{1,3})\s+)?"
            r"(?P<result>failed|failing|failures|broken|red|passed|passing|successful|green|good|errored|errors?|"
            r"aborted|completed|finished|starred|saved)\s+(?:test\s*)?runs?(?:\s+{of}\s+{the}(?P<test>.+))?",
        ),
        _result_filter,
        verbs=("failed", "passed", "aborted", "starred"),
        examples=("failed runs", "failed runs of checkout spike"),
    ),
    Rule(
        "runs",
        _OP,
        ("list_test_runs",),
        "list runs [of <test>]",
        "recent runs, newest first (also: runs of <test>)",
        (
            r"{list}{the}(?:all\s+)?(?:(?:latest|recent|last|previous|past|newest)\s+)?(?:(?P<limit>\d{1,3})\s+)?"
            r"(?:test\s*)?runs(?:\s+{of}\s+{the}(?P<test>.+))?",
            r"{list}{the}(?:run\s+)?history(?:\s+{of}\s+{the}(?P<test>.+))?",
            r"{list}{the}(?P<test>.+?)(?:'s)?\s+(?:(?:latest|recent|last)\s+)?(?:test\s*)?runs",
        ),
        _op("list_test_runs"),
        verbs=("list", "runs", "show", "history"),
        examples=("list runs", "runs of orders soak test", "list runs of checkout spike"),
    ),
    Rule(
        "metrics",
        _OP,
        ("get_test_run_metrics",),
        "metrics of run <id>",
        "p95/p99 response time, request rate, failed requests, checks",
        (
            r"(?:" + _SHOW + r"\s+)?{the}(?:metrics|results?|stats|statistics|numbers|figures|p95|p99|latency|"
            r"performance)\s+(?:{of}\s+)?{the}{run}",
            r"how\s+did\s+{the}{run}\s+(?:do|go|perform)",
        ),
        _op("get_test_run_metrics"),
        verbs=("metrics", "results", "stats"),
        examples=("metrics of run 1234",),
    ),
    Rule(
        "status",
        _OP,
        ("get_test_run",),
        "status of run <id>",
        "a run's status, result, duration, cost and link (also: show run <id>, run <id>)",
        (
            r"(?:(?:" + _SHOW + r"|check|describe)\s+)?{the}(?:status|state|details?|info(?:rmation)?|summary|progress)"
            r"\s+(?:{of}\s+)?{the}{run}",
            r"(?:" + _SHOW + r"|check|describe|inspect|open|look\s+at)\s+{the}{run}",
            r"{runword}(?:\s+(?:status|details|info))?",
            r"#?\s*(?P<run>\d{1,12})",
            r"how(?:'s|s|\s+is)\s+{the}{run}(?:\s+(?:doing|going|looking))?",
            r"is\s+{the}{run}\s+(?:done|finished|running|over|complete|completed|still\s+running|ok)",
        ),
        _op("get_test_run"),
        verbs=("status", "show", "run", "details"),
        examples=("status of run 1234", "show run 1234", "run 1234"),
    ),
    # ---- tests
    Rule(
        "tests",
        _OP,
        ("list_load_tests",),
        "list tests [in <project>]",
        "load tests, of every project or of one",
        (
            r"{list}{the}(?:all\s+)?(?:(?:load|k6)[\s-]*)?tests(?:\s+(?:in|of|from|for|under)\s+{the}(?P<project>.+))?",
            r"(?:what|which)\s+(?:load\s+)?tests\s+(?:are\s+there|do\s+(?:we|i)\s+have|exist|have\s+(?:we|i)\s+got)"
            r"(?:\s+(?:in|of|for)\s+{the}(?P<project>.+))?",
        ),
        _op("list_load_tests"),
        verbs=("list", "tests", "show"),
        examples=("list tests", "list tests in payments"),
    ),
    Rule(
        "find",
        _OP,
        ("find_load_tests",),
        "find <words>",
        "load tests whose names match",
        (
            r"(?:find|search(?:\s+for)?|look\s*up|lookup|locate|which\s+test\s+is)\s+{the}"
            r"(?:(?:load[\s-]*)?tests?\s+)?(?:(?:named|called|like|matching|about|for)\s+)?(?P<phrase>\S.*)",
        ),
        _op("find_load_tests"),
        verbs=("find", "search", "lookup"),
        examples=("find orders",),
    ),
    Rule(
        "test",
        _OP,
        ("get_load_test",),
        "show test <test>",
        "a load test's details",
        (
            r"(?:" + _SHOW + r"|describe|details?\s+(?:of|for|on)|info\s+(?:on|about|for))\s+{the}(?:load[\s-]*)?test"
            r"\s+(?P<test>.+)",
        ),
        _op("get_load_test"),
        verbs=("show", "describe"),
        examples=("show test orders soak test",),
    ),
    Rule(
        "projects",
        _OP,
        ("list_projects",),
        "list projects",
        "the stack's projects",
        (r"{list}{the}(?:all\s+)?projects",),
        _op("list_projects"),
        verbs=("projects",),
        examples=("list projects",),
    ),
    Rule(
        "schedules",
        _OP,
        ("list_schedules",),
        "list schedules",
        "when load tests start on their own",
        (r"{list}{the}(?:all\s+)?(?:test\s+)?schedules?",),
        _op("list_schedules"),
        verbs=("schedules",),
        examples=("list schedules",),
    ),
    Rule(
        "check",
        _OP,
        ("check_auth",),
        "check auth",
        "which stack the API token reaches",
        (
            r"(?:check\s+(?:the\s+)?(?:auth|authentication|token|connection|access|setup)|whoami|who\s+am\s+i|ping"
            r"|doctor)",
        ),
        _op("check_auth"),
        verbs=("check", "ping", "whoami"),
        examples=("check auth",),
    ),
    # ---- start (last: "run 1234" is a status, "run orders soak" a start)
    Rule(
        "start",
        _OP,
        ("start_load_test",),
        "start <test>",
        "start a load test (asks to confirm; also run, kick off, launch)",
        (
            r"(?:start|run|rerun|re-run|kick[\s-]*off|kickoff|launch|trigger|execute|fire\s+(?:up|off)|begin)"
            r"\s+{the}(?:load[\s-]*test\s+)?(?P<test>.+)",
            r"kick\s+{the}(?P<test>.+?)\s+off",
        ),
        _op("start_load_test"),
        verbs=("start", "run", "kick off", "launch", "trigger", "rerun"),
        examples=("start orders soak test", "run checkout spike", "kick off 501", "launch login auth flow"),
    ),
)

_VERBS: tuple[str, ...] = tuple(dict.fromkeys(v for rule in RULES for v in rule.verbs))
_EXAMPLES: dict[str, Rule] = {example: rule for rule in RULES for example in rule.examples}


# --------------------------------------------------------------------------- routing


def _prepare(text: object) -> tuple[str, str]:
    """(the text with leading decoration removed, and also without trailing filler)."""
    lead = strip_leading_filler(strip_prefix(unquote(clean(text))))
    return lead, strip_trailing_filler(lead)


def _match(text: object) -> Command | None:
    lead, core = _prepare(text)
    if not core:
        return Command(CommandKind.BOT, BotCommand.HELP, {"topic": None}, text=core, rule="help")
    for rule in RULES:
        subject = lead.rstrip() if rule.keep_tail else core
        for pattern in rule.compiled:
            match = pattern.fullmatch(subject)
            if match is None:
                continue
            groups = {k: v for k, v in match.groupdict().items() if v is not None}
            try:
                name, arguments = rule.build(groups)
            except RouteError as exc:
                return Command(CommandKind.UNKNOWN, text=core, rule=rule.name, message=str(exc))
            except (ValueError, KeyError):
                continue
            return Command(rule.kind, str(name), arguments, text=core, rule=rule.name)
    return None


def route(text: object) -> Command:
    """What ``text`` asks for: an operation call, a bot command, or "not understood" with suggestions.

    Never raises: any input (empty, huge, binary-looking, any script) gives a :class:`Command`.
    """
    try:
        command = _match(text)
        if command is not None:
            return command
        _, core = _prepare(text)
        return Command(
            CommandKind.UNKNOWN,
            text=core,
            message=f"I didn't understand \u201c{_shorten(core)}\u201d.",
            suggestions=suggest(core),
        )
    except Exception:  # a bug in a rule must never reach the person as a stack trace
        log.exception("The router failed on %r", str(text)[:200])
        return Command(CommandKind.UNKNOWN, message="I didn't understand that.", suggestions=("help",))


def _shorten(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def suggest(core: str, limit: int = 3) -> tuple[str, ...]:
    """Did-you-mean: commands close to ``core`` (a fixed verb typo first, then forms of a known verb)."""
    words = core.split()
    if not words:
        return ("help",)
    first = words[0].casefold()
    rest = " ".join(words[1:])[:500]
    found: list[str] = []
    fixed_verbs: list[str] = []
    # 1. a typo in the verb ("strat orders soak") → the whole command with the verb fixed, if that is understood
    if first not in _VERBS:
        for verb, _score, _ in process.extract(first, _VERBS, scorer=fuzz.ratio, limit=5, score_cutoff=75):
            candidate = f"{verb} {rest}".strip()
            command = _match(candidate)
            if command is not None and command.understood:
                found.append(candidate)
                fixed_verbs.append(verb)
    # two-word typos ("kikc off 501", "whats runing")
    if len(words) >= 2:
        head = " ".join(words[:2]).casefold()
        tail = " ".join(words[2:])[:500]
        for verb, _score, _ in process.extract(head, _VERBS, scorer=fuzz.ratio, limit=3, score_cutoff=75):
            candidate = f"{verb} {tail}".strip()
            if candidate.casefold() != core.casefold() and (c := _match(candidate)) is not None and c.understood:
                found.append(candidate)
    # 2. a known verb in an unknown form ("abort orders soak") → that verb's forms
    if first in _VERBS:
        known = {first}
    elif fixed_verbs:
        known = set(fixed_verbs)
    else:
        best = process.extractOne(first, _VERBS, scorer=fuzz.ratio, score_cutoff=75)
        known = {best[0]} if best else set()
    for rule in RULES:
        if rule.in_help and known & set(rule.verbs):
            found.append(rule.usage)
    # 3. nothing yet: the closest examples overall, or the commands people start with
    wordy = re.sub(r"[\d#]+", " ", core.casefold()[:200]).strip()
    if not found and wordy:
        for example, _score, _ in process.extract(
            wordy, list(_EXAMPLES), scorer=fuzz.token_set_ratio, limit=3, score_cutoff=60
        ):
            found.append(_EXAMPLES[example].usage)
    if not found:
        found = ["list tests", "what's running?"]
    unique = list(dict.fromkeys(s for s in found if s))[:limit]
    return (*unique, "help") if "help" not in unique else tuple(unique)


def rules() -> tuple[Rule, ...]:
    return RULES


def _usage_with(usage: str, test_id: int) -> str:
    """A rule's usage with ``<test>`` filled in and the other optional parts left out."""

    def optional(match: re.Match[str]) -> str:
        return next((choice for choice in match.group(1).split("|") if "<test>" in choice), "")

    return " ".join(re.sub(r"\[([^\]]*)\]", optional, usage).replace("<test>", str(test_id)).split())


def with_test_id(command: Command, test_id: int) -> str | None:
    """``command`` as text that names its load test by ``test_id``: what to type after an ambiguous name.

    "runs of orders" → "runs of 502", "start orders" → "start 501". The words as typed are kept where the
    test's phrase can be found in them, else the rule's usage is filled in; either way the text is routed
    again and only returned when it means exactly ``command`` with that test. None when no text does.
    """
    wanted = command.with_arguments(load_test=test_id)
    texts: list[str] = []
    phrase = command.arguments.get("load_test")
    if isinstance(phrase, str) and phrase and command.text:
        found = list(re.finditer(r"([\"'`]?)" + re.escape(phrase) + r"\1", command.text, re.IGNORECASE))
        if found:
            last = found[-1]
            texts.append(command.text[: last.start()] + str(test_id) + command.text[last.end() :])
    named = [rule for rule in RULES if rule.name == command.rule]
    named += [rule for rule in RULES if command.name in rule.targets and "<test>" in rule.usage]
    texts += [_usage_with(rule.usage, test_id) for rule in named if "<test>" in rule.usage]
    for text in dict.fromkeys(texts):
        routed = route(text)
        if routed.kind is wanted.kind and routed.name == wanted.name and routed.arguments == wanted.arguments:
            return text
    return None
