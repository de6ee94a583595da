"""``help`` generated from the registry's declarations: grouped by toolset, one example per operation, only what
the asker may do here; ``help schedules`` shows that group in full (every example and the verbs it knows)."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from bot.router.lexicon import Intent, lexicon
from tools.docs import GROUP_TITLES
from tools.registry import Safety

SAFETY_MARKS = {
    Safety.WRITE: "",
    Safety.RUN: " (asks to confirm)",
    Safety.STOP: " (asks to confirm)",
    Safety.ADMIN: " (admin, asks to confirm)",
}
GROUP_ORDER = ("runs", "tests", "k6bot", "schedules", "projects", "load_zones", "labels", "account", "legacy")
TITLES = {**GROUP_TITLES, "k6bot": "Notifications and k6bot"}
_ALIASES = {
    "run": "runs",
    "test": "tests",
    "load tests": "tests",
    "schedule": "schedules",
    "scheduling": "schedules",
    "project": "projects",
    "limits": "projects",
    "zones": "load_zones",
    "zone": "load_zones",
    "load zones": "load_zones",
    "label": "labels",
    "subscriptions": "k6bot",
    "subscribe": "k6bot",
    "notifications": "k6bot",
    "auth": "account",
    "v2": "legacy",
}


@dataclass(frozen=True)
class HelpEntry:
    usage: str
    """The operation's first example: what to type."""
    summary: str
    safety: Safety
    examples: tuple[str, ...] = ()
    group: str = ""
    name: str = ""
    verbs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Help:
    entries: list[HelpEntry]
    hidden: int
    """How many operations were left out because the asker may not use them."""
    full: bool = False
    """One group in full (every example, the verbs), not the overview."""
    topic: str | None = None

    def grouped(self) -> list[tuple[str, list[HelpEntry]]]:
        """(group title, entries) in the order people need them."""
        groups: dict[str, list[HelpEntry]] = {}
        for entry in self.entries:
            groups.setdefault(entry.group, []).append(entry)
        order = {g: i for i, g in enumerate(GROUP_ORDER)}
        return [(TITLES.get(g, g), groups[g]) for g in sorted(groups, key=lambda g: order.get(g, len(order)))]

    def text(self, prefix: str = "") -> str:
        lines: list[str] = []
        for title, entries in self.grouped():
            lines.append(f"{title}:")
            for entry in entries:
                lines.append(f"  {prefix}{entry.usage} — {entry.summary}")
                if self.full:
                    lines += [f"      also: {prefix}{example}" for example in entry.examples[1:]]
                    if entry.verbs:
                        lines.append(f"      verbs: {', '.join(entry.verbs)}")
        if self.hidden:
            lines.append("(What you may not do here is not shown.)")
        return "\n".join(lines)


def _entry(intent: Intent) -> HelpEntry:
    examples = tuple(intent.phrases.examples)
    verbs = tuple(v if isinstance(v, str) else v.text for v in intent.phrases.verbs)
    return HelpEntry(
        usage=examples[0] if examples else intent.name,
        summary=intent.summary,
        safety=intent.safety,
        examples=examples,
        group=intent.group,
        name=intent.name,
        verbs=verbs,
    )


_WORD = re.compile(r"[a-z0-9_]+")


def _group_of(topic: str) -> str | None:
    folded = " ".join(topic.casefold().replace("-", " ").split())
    if folded in TITLES:
        return folded
    if folded.replace(" ", "_") in TITLES:
        return folded.replace(" ", "_")
    if folded in _ALIASES:
        return _ALIASES[folded]
    for group, title in TITLES.items():
        if folded == title.casefold():
            return group
    return None


def help_entries(allowed: Collection[Safety] | None = None, topic: str | None = None) -> Help:
    """What the asker may do (all when ``allowed`` is None). A ``topic`` that names a group shows it in full;
    another topic shows the operations whose words it mentions (all of them when it names nothing)."""
    entries: list[HelpEntry] = []
    hidden = 0
    for intent in lexicon().intents:
        if intent.deprecated and intent.group != "legacy":
            continue
        if allowed is not None and intent.safety not in allowed:
            hidden += 1
            continue
        entries.append(_entry(intent))
    if not topic or not topic.strip():
        return Help([e for e in entries if e.group != "legacy"], hidden)
    group = _group_of(topic)
    if group is not None:
        return Help([e for e in entries if e.group == group], hidden, full=True, topic=topic)
    asked = {w for w in _WORD.findall(topic.casefold()) if len(w) > 2}
    scored = []
    for entry in entries:
        words = set(_WORD.findall(" ".join([entry.name.replace("_", " "), entry.summary, *entry.examples]).casefold()))
        hits = sum(1 for w in asked if any(k == w or (len(w) > 4 and k.startswith(w[:-1])) for k in words))
        scored.append((hits, entry))
    best = max((h for h, _ in scored), default=0)
    if best == 0:
        return Help([e for e in entries if e.group != "legacy"], hidden, topic=topic)
    return Help([e for h, e in scored if h == best], hidden, full=True, topic=topic)
