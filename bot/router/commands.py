"""What a text asks for (:class:`Command`), and k6bot's own commands, declared like registry operations.

k6bot's own commands — help, subscriptions, the audit log, following a run — are not k6 Cloud operations, so
they are not in the registry; they are declared here the same way (an input model and :class:`Phrases`), so
the one parser understands them like any operation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field

from tools.operations.common import TEST_RUN_ID, MaybeLoadTestRef
from tools.phrasing import Phrases, Say, Slot
from tools.registry import InputModel, Registry, Safety, get_registry


class CommandKind(StrEnum):
    OPERATION = "operation"
    """A registry operation with arguments."""
    BOT = "bot"
    """A command of k6bot itself: help, subscribe, unsubscribe, subscriptions, audit, watch."""
    UNKNOWN = "unknown"
    """Not understood; ``message`` says so and ``suggestions`` offers commands."""


class BotCommand(StrEnum):
    HELP = "help"
    SUBSCRIBE = "subscribe"
    UNSUBSCRIBE = "unsubscribe"
    SUBSCRIPTIONS = "subscriptions"
    AUDIT = "audit"
    WATCH = "watch"


class HelpInput(InputModel):
    topic: Annotated[str | None, Say(Slot.PHRASE)] = Field(default=None, max_length=100)


class SubscribeInput(InputModel):
    load_test: MaybeLoadTestRef = None
    failures_only: Annotated[
        bool, Say(Slot.FLAG, words=("failures", "failure", "failed", "failing", "errors", "fails", "failed runs"))
    ] = False


class UnsubscribeInput(InputModel):
    load_test: MaybeLoadTestRef = None


class NoInput(InputModel):
    pass


class AuditInput(InputModel):
    limit: int = Field(default=10, ge=1, le=100)


class WatchInput(InputModel):
    test_run_id: int = TEST_RUN_ID


@dataclass(frozen=True)
class BotCommandSpec:
    """One of k6bot's own commands, declared for the parser, help and the policy."""

    name: BotCommand
    title: str
    summary: str
    safety: Safety
    input: type[InputModel]
    phrases: Phrases
    group: str = "k6bot"
    writes: bool = False
    """Whether it changes anything (subscriptions); such commands need their verb in the text."""
    acts_as: str | None = None
    """The registry operation this command is a front-end's way of doing, with the same arguments: what
    ``k6bot explain`` reports, and what runs where the front-end has no way of its own (the terminal)."""


BOT_COMMANDS: tuple[BotCommandSpec, ...] = (
    BotCommandSpec(
        BotCommand.HELP,
        "Help",
        "What you can do here; `help <topic>` shows one group in full (e.g. help schedules).",
        Safety.READ,
        HelpInput,
        Phrases(
            verbs=(
                "help",
                "commands",
                "what commands",
                "which commands",
                "usage",
                "menu",
                "what can you do",
                "what can i do",
                "how does this work",
                "?",
                "how do i use this",
                "how does it work",
                "how to use",
                "what can this do",
                "how do i use you",
                "what can … do",
                "what does k6bot do",
                "how does k6bot work",
                "what can i ask",
                "what can we ask",
                "what can i ask you",
                "what can i ask you about",
                "what can i ask about",
                "what can you tell me about",
                "what can you do with",
                "how do … work",
                "how does … work",
                "how do i use",
            ),
            nouns=(),
            examples={"help": {}, "help schedules": {"topic": "schedules"}, "what can you do?": {}},
            template="help {topic}",
        ),
    ),
    BotCommandSpec(
        BotCommand.SUBSCRIPTIONS,
        "Subscriptions",
        "What this channel is subscribed to.",
        Safety.READ,
        NoInput,
        Phrases(
            verbs=(
                "list",
                "show",
                "what are we subscribed to",
                "what is this channel subscribed to",
                "what am i subscribed to",
            ),
            nouns=("subscriptions", "channel subscriptions"),
            examples={"subscriptions": {}, "what are we subscribed to?": {}},
            template="subscriptions",
        ),
    ),
    BotCommandSpec(
        BotCommand.UNSUBSCRIBE,
        "Unsubscribe",
        "Stop posting finished runs here (all of this channel's subscriptions, or one test's).",
        Safety.WRITE,
        UnsubscribeInput,
        Phrases(
            verbs=(
                "unsubscribe",
                "unsub",
                "unfollow",
                "mute",
                "stop notifying",
                "stop notifications",
                "stop posting",
                "stop following",
                "stop subscription",
            ),
            examples={"unsubscribe": {}, "unsubscribe orders soak test": {"load_test": "orders soak test"}},
            template="unsubscribe {load_test}",
        ),
        writes=True,
    ),
    BotCommandSpec(
        BotCommand.SUBSCRIBE,
        "Subscribe",
        "Post finished runs in this channel: all runs, one test's, or failures only.",
        Safety.WRITE,
        SubscribeInput,
        Phrases(
            verbs=(
                "subscribe",
                "sub",
                "follow",
                "notify us about",
                "notify me about",
                "notify this channel about",
                "notify the channel about",
                "tell this channel about",
                "post here about",
                "post",
                "announce",
                "tell me about",
                "let me know about",
                "tell us about",
                "let us know about",
                "hear about",
                "want to hear about",
                "get notified about",
                "be notified about",
                "be told about",
                "hear of",
            ),
            nouns=(
                "subscription",
                "every finished run",
                "finished runs",
                "every run",
                "all runs",
                "every finished test",
            ),
            examples={
                "subscribe": {},
                "subscribe failures": {"failures_only": True},
                "subscribe orders soak test": {"load_test": "orders soak test"},
                "subscribe to failures of checkout spike": {"failures_only": True, "load_test": "checkout spike"},
            },
            template="subscribe {failures_only} {load_test}",
        ),
        writes=True,
    ),
    BotCommandSpec(
        BotCommand.AUDIT,
        "Audit log",
        "The latest entries of the audit log: who did what, from every front-end.",
        Safety.ADMIN,
        AuditInput,
        Phrases(
            verbs=("list", "show", "who did what"),
            nouns=(
                "audit",
                "audit log",
                "audit trail",
                "audit entries",
                "log",
                "audit events",
                "events",
                "audit history",
                "history of actions",
            ),
            examples={"audit": {}, "audit 20": {"limit": 20}, "show the last 5 audit entries": {"limit": 5}},
            template="audit {limit}",
        ),
    ),
    BotCommandSpec(
        BotCommand.WATCH,
        "Watch a run",
        "Say when a run finishes (here in Slack; the terminal waits and shows its progress).",
        Safety.READ,
        WatchInput,
        # The rule between this and wait_for_test_run: asking to be *told* later ("tell me / let me know / ping
        # me when 1234 is done") is watch — Slack posts in the channel when the run ends, the terminal waits and
        # shows progress; asking to *wait* now ("wait for 1234", "wait until 1234 is done", "hold on until …")
        # is wait_for_test_run, which blocks until the end (the MCP server's way: an agent has no channel).
        Phrases(
            verbs=(
                "tell me when",
                "let me know when",
                "lmk when",
                "lmk once",
                "notify me when",
                "ping me when",
                "tell us when",
                "let us know when",
                "notify us when",
                "alert me when",
                "watch",
                "follow",
                "keep an eye on",
                "let me know once",
                "tell me once",
                "notify me once",
                "ping me once",
                "tell us once",
                "let us know once",
                "message me when",
                "dm me when",
                "keep me posted on",
                "keep me posted",
                "keep me updated on",
                "keep me updated",
                "keep me in the loop on",
                "let me know how it goes",
                "tell me how it goes",
                "let me know how it went",
            ),
            nouns=("finishes", "is done", "finished", "ends", "completes", "is over", "done"),
            examples={"tell me when 1234 finishes": {"test_run_id": 1234}, "watch run 1234": {"test_run_id": 1234}},
            template="tell me when {test_run_id} finishes",
            follow_up=True,
        ),
        acts_as="wait_for_test_run",  # Slack waits by telling the channel when the run ends
    ),
)
BOT_COMMAND_SPECS: dict[str, BotCommandSpec] = {spec.name.value: spec for spec in BOT_COMMANDS}
BOT_SAFETY: dict[str, Safety] = {spec.name.value: spec.safety for spec in BOT_COMMANDS}
"""Who may use a bot command, in the policy's terms (``audit`` is for admins)."""


@dataclass(frozen=True)
class Command:
    """What the text asks for: an operation or bot command with its arguments, or "not understood"."""

    kind: CommandKind
    name: str = ""
    arguments: dict[str, Any] = field(default_factory=dict)
    text: str = ""
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


def bot_input(name: str, arguments: Mapping[str, Any]) -> InputModel:
    """Validate a bot command's arguments (raises pydantic's ValidationError)."""
    return BOT_COMMAND_SPECS[name].input.model_validate(dict(arguments))


__all__ = [
    "BOT_COMMANDS",
    "BOT_COMMAND_SPECS",
    "BOT_SAFETY",
    "BotCommand",
    "BotCommandSpec",
    "Command",
    "CommandKind",
    "bot_input",
]
