"""``help`` built from the grammar, showing only what the asker may use."""

from __future__ import annotations

import re
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


# fmt: off
FILLER_WORDS = frozenset({
    "a", "about", "all", "an", "and", "any", "are", "can", "command", "commands", "could", "do", "does",
    "for", "from", "help", "how", "i", "in", "is", "it", "k6", "k6bot", "me", "my", "of", "on", "or", "our",
    "please", "pls", "some", "that", "the", "this", "to", "topic", "us", "use", "using", "want", "what",
    "which", "with", "work", "works", "would", "you",
})
# fmt: on
"""Words that say nothing about which command is meant ("help me with …", "how do I use …")."""

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_PLACEHOLDER = re.compile(r"<[^>]*>")
_SHARED_STEM = 6
"""Two words of at least this many letters that begin alike are one topic (subscribe, subscriptions)."""


def _forms(word: str) -> set[str]:
    """The word, its singular, without -ing / -ed, and without an "un" prefix: the forms a topic can match."""
    forms = {word}
    if len(word) > 4 and word.endswith("ies"):
        forms.add(word[:-3] + "y")
    elif len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        forms.add(word[:-1])
    for ending in ("ing", "ed"):
        if len(word) > len(ending) + 2 and word.endswith(ending):
            stem = word[: -len(ending)]
            forms.add(stem)
            if len(stem) > 2 and stem[-1] == stem[-2]:  # running → run, stopped → stop
                forms.add(stem[:-1])
    forms |= {form[2:] for form in list(forms) if form.startswith("un") and len(form) > 5}
    return forms


def _words(text: str) -> set[str]:
    return {word for word in _WORD.findall(text.casefold()) if word not in FILLER_WORDS}


def _same_word(asked: str, known: str) -> bool:
    for a in _forms(asked):
        for k in _forms(known):
            if a == k:
                return True
            shared = 0
            for x, y in zip(a, k, strict=False):
                if x != y:
                    break
                shared += 1
            if shared >= _SHARED_STEM:
                return True
    return False


def _mentions(entry_words: set[str], asked: set[str]) -> bool:
    return any(_same_word(a, k) for a in asked for k in entry_words)


def topic_words(topic: str | None) -> set[str]:
    """The words of a help topic that can name a command (filler such as "me", "with", "how" left out)."""
    return _words(topic or "")


def help_entries(allowed: Collection[Safety] | None = None, topic: str | None = None) -> Help:
    """The commands of the grammar, only those whose safety class is in ``allowed`` (all when None).

    A ``topic`` narrows the list to the commands that match most of its words, whole words (singular or
    plural, subscribe ~ subscriptions) in the usage or the description, the usage breaking ties. Filler
    words ("me", "with", "how") are ignored, and a topic that names no command gives the whole list.
    """
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
    asked = topic_words(topic)
    if asked:
        scores = {id(e): _score(e, asked) for e in entries}
        best = max(scores.values(), default=(0, 0))
        if best[0]:
            entries = [e for e in entries if scores[id(e)] == best]
    return Help(entries, hidden)


def _score(entry: HelpEntry, asked: set[str]) -> tuple[int, int]:
    """(how many of the asked words the entry matches anywhere, how many in its usage)."""
    usage = _words(_PLACEHOLDER.sub(" ", entry.usage))
    text = usage | _words(" ".join([entry.summary, *entry.examples]))
    in_usage = sum(1 for word in asked if _mentions(usage, {word}))
    anywhere = sum(1 for word in asked if _mentions(text, {word}))
    return anywhere, in_usage
