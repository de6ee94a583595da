"""``help`` built from the grammar, showing only what the asker may use."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from bot.router.grammar import RULES
from tools.registry import Safety

SAFETY_ORDER = (Safety.READ, Safety.WRITE, Safety.RUN, Safety.STOP, Safety.ADMIN)
SAFETY_HEADINGS = {
    Safety.READ: "Look",
    Safety.WRITE: "Annotate and follow",
    Safety.RUN: "Start (asks to confirm)",
    Safety.STOP: "Stop (asks to confirm)",
    Safety.ADMIN: "Admin (asks to confirm)",
}


@dataclass(frozen=True)
class HelpEntry:
    usage: str
    summary: str
    safety: Safety
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class Help:
    entries: list[HelpEntry]
    hidden: int
    """How many commands were left out because the asker may not use them."""

    def grouped(self) -> list[tuple[Safety, list[HelpEntry]]]:
        groups = []
        for safety in SAFETY_ORDER:
            items = [e for e in self.entries if e.safety is safety]
            if items:
                groups.append((safety, items))
        return groups

    def text(self, prefix: str = "") -> str:
        """Plain text: one line per command, grouped by what it can cost."""
        lines: list[str] = []
        for safety, items in self.grouped():
            lines.append(f"{SAFETY_HEADINGS[safety]}:")
            width = max(len(prefix + e.usage) for e in items)
            lines += [f"  {(prefix + e.usage).ljust(width)}  {e.summary}" for e in items]
        if self.hidden:
            lines.append("(Commands you may not use here are not shown.)")
        return "\n".join(lines)


def help_entries(allowed: Collection[Safety] | None = None, topic: str | None = None) -> Help:
    """The commands of the grammar, only those whose safety class is in ``allowed`` (all when None)."""
    entries: list[HelpEntry] = []
    hidden = 0
    seen: set[str] = set()
    for rule in RULES:
        if not rule.in_help or rule.usage in seen:
            continue
        seen.add(rule.usage)
        safety = rule.safety()
        if allowed is not None and safety not in allowed:
            hidden += 1
            continue
        entries.append(HelpEntry(rule.usage, rule.summary, safety, rule.examples))
    if topic:
        words = [w for w in topic.casefold().split() if len(w) > 1]
        by_usage = [e for e in entries if any(w in e.usage.casefold() for w in words)]
        by_text = [e for e in entries if any(w in e.summary.casefold() or w in " ".join(e.examples) for w in words)]
        if by_usage or by_text:
            entries = by_usage or by_text
    return Help(entries, hidden)
