"""Did-you-mean: the nearest operations by verb and object, said back with the person's own values."""

from __future__ import annotations

from bot.router.parse import Parse
from bot.router.render import say

MAX_SUGGESTIONS = 3


def suggestions(parsed: Parse, limit: int = MAX_SUGGESTIONS) -> list[str]:
    """Up to ``limit`` texts that mean something close to ``parsed`` — never a generic list.

    The candidates are the explanations that found the intent's own vocabulary (a verb, a noun, a question)
    in the text, best first; each is said back with the values the person gave. When nothing of the
    vocabulary is in the text, there is nothing to suggest but ``help``.
    """
    found: list[str] = []
    best = parsed.best.score if parsed.best else 0.0
    for fit in parsed.fits:
        if len(found) >= limit:
            break
        if not fit.anchored or fit.score < best - 4:
            continue
        text = say(fit.intent, fit.values)
        if text and text.casefold() != parsed.text.casefold() and text not in found:
            found.append(text)
    return found or ["help"]
