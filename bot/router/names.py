"""The load tests' own names, found in a text before the grammar reads it.

A test may be called "Failed Login Storm", "Start Page Load", "Nightly 2am Soak" or "Run 42 smoke": words the
language also knows as states, verbs, schedules or run ids. When a text contains a test's full name (or a
prefix of at least two words that only one test's name starts with; a whole name may have one typo among at
least two exact words: "failed logn storm"), those words are *protected*: no verb,
state, date or id is read from them, so they stay together as the name the resolver looks up. Two guards keep
this from hiding what a person asks: a name made only of words the language knows ("Last Run") protects
nothing, and a name that starts the text with a verb and ends it ("start page load" with a test "Start Page
Load") leaves that verb a verb — the rest of the words still name the test; followed by more words ("run 42
smoke status") it is the name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz.distance import OSA

from bot.router.tokens import Token, tokenize

Words = tuple[str, ...]
_NAME_TOKENS = ("word", "number")
MIN_PREFIX = 2


def name_words(name: str) -> Words:
    """A name's words as the tokenizer sees them, lower-cased, punctuation dropped."""
    return tuple(t.low for t in tokenize(name) if t.kind in _NAME_TOKENS)


@dataclass
class KnownNames:
    """The catalog's test names, indexed by their first word."""

    by_first: dict[str, list[Words]] = field(default_factory=dict)
    prefixes: dict[Words, int] = field(default_factory=dict)
    """How many names start with each prefix of at least :data:`MIN_PREFIX` words."""

    @classmethod
    def of(cls, names: Iterable[str]) -> KnownNames:
        known = cls()
        for name in names:
            words = name_words(name)
            if len(words) < 2:
                continue  # a one-word name is the resolver's business, not a phrase to protect
            known.by_first.setdefault(words[0], []).append(words)
            for end in range(MIN_PREFIX, len(words) + 1):
                known.prefixes[words[:end]] = known.prefixes.get(words[:end], 0) + 1
        for candidates in known.by_first.values():
            candidates.sort(key=len, reverse=True)
        return known

    def protected(self, tokens: Sequence[Token], vocabulary: frozenset[str], verbs: frozenset[str]) -> set[int]:
        """Token indices that are a test's name in ``tokens`` (see the module docstring)."""
        seq = [t for t in tokens if t.kind in _NAME_TOKENS]
        protected: set[int] = set()
        position = 0
        while position < len(seq):
            length = self._match(seq, position, vocabulary, verbs)
            if length:
                protected.update(t.index for t in seq[position : position + length])
                position += length
            else:
                position += 1
        return protected

    def _match(self, seq: Sequence[Token], start: int, vocabulary: frozenset[str], verbs: frozenset[str]) -> int:
        candidates = self.by_first.get(seq[start].low)
        if not candidates:
            return 0
        typed = [t.low for t in seq[start : start + len(candidates[0])]]
        for words in candidates:
            matched, typos = 0, 0
            while matched < len(words) and matched < len(typed):
                if typed[matched] != words[matched]:
                    if typos or not _typo(typed[matched], words[matched]):
                        break
                    typos += 1
                matched += 1
            if typos and (matched < len(words) or matched - typos < MIN_PREFIX):
                continue  # a typo only inside a whole name, among at least two exact words ("failed logn storm")
            if matched < MIN_PREFIX:
                continue
            if matched < len(words) and self.prefixes.get(words[:matched], 0) != 1:
                continue  # "orders api": the start of several names, so the words mean nothing yet
            if all(word in vocabulary for word in words[:matched]):
                continue  # "last run": the language's own words, not a name
            if start == 0 and seq[start].low in verbs:
                following = seq[matched].low if matched < len(seq) else None
                if following is None or following in _AFTER_A_VERB:
                    return 0  # "start page load (test)": the person's verb, whatever the tests are called
            return matched
        return 0


_AFTER_A_VERB = frozenset({"test", "tests", "again", "now", "please", "pls", "asap", "for", "on", "in", "with"})
"""Words after a name that starts the text with a verb, which leave that verb a verb: "start page load test"
starts "Page Load"; "run 42 smoke status" asks about "Run 42 smoke"."""


def _typo(typed: str, word: str) -> bool:
    """One letter wrong, missing, extra or swapped, in a word of four letters or more."""
    return len(word) >= 4 and len(typed) >= 3 and OSA.distance(typed, word, score_cutoff=1) <= 1


_LAST: list[tuple[Sequence[Any], KnownNames]] = []


def known_names(tests: Sequence[Any]) -> KnownNames:
    """:class:`KnownNames` of the catalog's load tests (objects with a ``name``), built once per catalog read:
    the catalog hands out the same list while its cache is fresh, so the list itself is the key (kept alive
    here, so its identity cannot be reused)."""
    if _LAST and _LAST[0][0] is tests:
        return _LAST[0][1]
    found = KnownNames.of(test.name for test in tests)
    _LAST[:] = [(tests, found)]
    return found


__all__ = ["KnownNames", "known_names", "name_words"]
