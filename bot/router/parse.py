"""The one parser: text → the operation (or bot command) it asks for, with its input fields filled.

For every intent of the lexicon the parser tries to *explain* the text: a verb of the intent, its nouns, the
entities (ids, dates, counts…) its fields can take, state words its filters or references can take, and the
words left over as the names its fields resolve. Each explanation gets a score — declared vocabulary counts
most, guessed names least, anything the intent cannot use counts against it — and the best explanation
wins. The parser is pure and fast: no API call, no I/O; names and references are resolved afterwards
(:mod:`bot.router.understand`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo

from rapidfuzz.distance import OSA
from rapidfuzz.process import extract

from bot.router.fitting import CONTINUATIONS, Fit, Fitter, Hit, Words_, is_bare
from bot.router.lexicon import FILLER, POLITE, Lexicon, lexicon
from bot.router.names import KnownNames
from bot.router.text import clean, command_text, drop_existence, prepare
from bot.router.tokens import IDS, Analysis, Kind, Token, analyse
from tools.phrasing import Slot
from tools.registry import Registry, Safety

log = logging.getLogger("k6bot.router")

ALTERNATIVE_MARGIN = 1.0
"""How close behind the best explanation another must be to be tried when the best one's names resolve to nothing."""


COMPLETE_MARGIN = 1.0
"""How close behind a reading that lacks a required field a complete read may be and win."""

WRITE_TIE = 0.05
"""Two different changes that explain the text equally well: neither is made; the answer offers both."""

CLEAN_MARGIN = 0.5
"""How close behind an explanation that leaves words unexplained a read that explains them all may be and win."""


@dataclass
class Parse:
    text: str
    """The text as understood (prefix, politeness and trailing punctuation removed)."""
    analysis: Analysis
    fits: list[Fit]
    """Every intent's explanation, best first."""
    original: str = ""
    """The text as typed (cleaned), for messages."""

    @property
    def best(self) -> Fit | None:
        return self.fits[0] if self.fits else None

    @property
    def understood(self) -> Fit | None:
        """The best explanation when it is a real one (anchored, nothing unexplained), else None."""
        best = self.best
        if best is not None and not best.clean and len(self.fits) > 1:
            # "what script did run 1191 use": a read that explains every word, just behind one that leaves a
            # word unexplained, is what was asked (never a write: an unclear text changes nothing)
            other = self.fits[1]
            if other.intent.safety is Safety.READ and best.score - other.score <= CLEAN_MARGIN and _acceptable(other):
                best = other
        if best is None or not _acceptable(best):
            return None
        if best.missing:
            # "how much vuh did 1229 cost": a read that has all it needs, just behind one that would have to ask
            # for something never said, is what was asked
            whole = next(
                (
                    f
                    for f in self.fits[1:4]
                    if f.intent.safety is Safety.READ
                    and not f.missing
                    and best.score - f.score <= COMPLETE_MARGIN
                    and _acceptable(f)
                ),
                None,
            )
            if whole is not None:
                return whole
        if best.missing and any(
            f.intent.name != best.intent.name and f.anchored and best.score - f.score < 0.5 for f in self.fits[1:4]
        ):
            return None  # "delete": several things could be meant, and none is said
        if (
            best.intent.writes
            and any(
                f.intent.name != best.intent.name
                and f.intent.writes
                and best.score - f.score < WRITE_TIE
                and _acceptable(f)
                and not _joins_names(f)
                for f in self.fits[1:4]
            )
            and not _joins_names(best)
        ):
            return None  # "allow payments to use zone 100": the zone's projects or the project's zones — ask
        return best

    def alternatives(self, margin: float = ALTERNATIVE_MARGIN) -> list[Fit]:
        """Acceptable explanations close behind the best one that read, are as safe as it or ask to confirm
        first: tried in turn when the best one's names resolve to nothing ("runs of orders soak test" is not a
        project; "rename growth to …" with no test "growth" renames the project, after a yes)."""
        best = self.understood
        if best is None:
            return []
        return [
            f
            for f in self.fits[1:6]
            if f.intent.name != best.intent.name
            and best.score - f.score <= margin
            and _acceptable(f, named=True)
            and not f.missing
            and (
                f.intent.safety is Safety.READ
                or f.intent.safety is best.intent.safety
                or (f.intent.needs_confirmation and best.intent.writes)
            )
        ]

    def lenient(self, margin: float = ALTERNATIVE_MARGIN) -> list[Fit]:
        """Reads close behind the best explanation that explain every word and use every id, and only leave a
        date unused — tried last, when nothing else resolves ("what's scheduled this week?" lists the schedules;
        a schedule has no date to filter by). Never a write: a date it cannot use changes nothing."""
        best = self.best
        if best is None:
            return []
        return [
            f
            for f in self.fits[:6]
            if f.intent.safety is Safety.READ
            and best.score - f.score <= margin
            and f.unused
            and all(e.kind in _DATES for e in f.unused)
            and not f.leftover
            and not f.unused_soft
            and not f.missing
            and (f.verb is not None or f.nouns > 0)
            and _acceptable(replace(f, unused=[]))
        ]

    def asked_about(self, vocabulary: frozenset[str]) -> list[Fit]:
        """A yes/no question about one thing said by its id, with a word or two that nothing declares ("is 1025
        healthy?", "was 1021 fine"): the read that shows that thing (``Phrases.bare``: get_test_run), whose
        answer says how it is. Tried when nothing else is understood; never a write."""
        best = self.best
        words = [t.low for t in self.analysis.tokens if t.kind == "word"]
        if best is None or not words or words[0] not in _YES_NO:
            return []
        return [
            f
            for f in self.fits[:3]
            if f.intent.safety is Safety.READ
            and f.intent.phrases.bare
            and best.score - f.score <= CLEAN_MARGIN
            and 0 < len(f.leftover) <= 2
            and all(self.analysis.tokens[i].low not in vocabulary for i in f.leftover)
            and not f.unused
            and not f.unused_soft
            and not f.missing
            and f.values
            and all(k in f.sources for k in f.values)
        ][:1]


_DATES = frozenset({Kind.RANGE, Kind.POINT})
_YES_NO = frozenset(("is", "was", "are", "were", "did", "does", "has", "had", "isn't", "wasn't", "didn't"))


def _names_a_thing(fit: Fit) -> bool:
    """Whether a field that names a thing (a project, a test, a zone…) was filled from words (resolved later)."""
    return any(
        s.field in fit.values and s.field not in fit.sources and s.slot in _THING_SLOTS for s in fit.intent.slots
    )


_THING_SLOTS = frozenset((Slot.PROJECT, Slot.LOAD_TEST, Slot.LOAD_ZONE, Slot.LABEL_KEY, Slot.SCHEDULE))


def _joins_names(fit: Fit) -> bool:
    """Whether one name field took several names ("payments and platform"), which another reading lists."""
    return any(
        isinstance(v, str) and (" and " in v or ", " in v) and k not in fit.sources for k, v in fit.values.items()
    )


def _acceptable(fit: Fit, *, named: bool = False) -> bool:
    """Whether ``fit`` is a real explanation. ``named``: tried after the best one's names resolved to nothing, a
    shared verb without its noun will do when a name of its own kind is given ("rename growth to …": no test is
    called "growth", the project is) — the name, if it resolves, says what the noun would."""
    if not fit.clean:
        return False
    if fit.intent.phrases.needs_noun and fit.shared_verb and not fit.nouns and not (named and _names_a_thing(fit)):
        return False
    if not fit.anchored and not is_bare(fit):
        return False
    if fit.intent.writes and fit.hedged:
        return False  # "should I start the soak?", "don't abort 1234": asked about, or refused, not asked for
    return not (fit.intent.writes and fit.verb is None)  # nothing that changes anything happens without its verb


# --------------------------------------------------------------------------- words


def _content(analysis: Analysis, lex: Lexicon) -> Words_:
    covered = analysis.covered()
    index: list[int] = []
    words: list[str] = []
    exact: list[bool] = []
    protected: set[int] = set()
    for token in analysis.tokens:
        if token.kind != "word" or token.index in covered:
            continue
        if token.index in analysis.protected:
            protected.add(len(words))
        index.append(token.index)
        words.append(token.low)
        exact.append(True)
    # typos: an unknown word among the first two meaningful words is matched to the nearest known word; further
    # on only long words, and only to a noun ("ip adresses"): a test's name must not turn into a verb
    vocabulary, nouns = lex.typo_targets
    seen = 0
    for position, word in enumerate(words):
        if word in FILLER:
            continue
        seen += 1
        if position in protected:
            continue  # a load test's name as typed
        if (base := _re_verb(word, lex.verb_words, lex.vocabulary)) is not None:
            words[position] = base  # "re-enable", "reactivate": the verb done again is the verb
            exact[position] = False
            continue
        if word in lex.vocabulary or len(word) < 4 or not word.isalpha():
            continue
        if seen == 1 and (base := _verb_stem(word, lex.vocabulary)) is not None:
            words[position] = base  # "launching the soak": the verb's -ing form
            exact[position] = False
            continue
        if (base := _inflected(word, lex.read_words if seen <= 1 else lex.inflection_targets)) is not None:
            words[position] = base  # "how has the soak trended", "until it finishes"
            exact[position] = False
            continue
        if seen <= 2:
            found = _nearest(word, vocabulary, 1 if len(word) < 8 else 2, lex.read_words)
        elif len(word) >= 6:
            found = _nearest(word, nouns, 1, lex.read_words)
        else:
            continue
        if found is not None and abs(len(found) - len(word)) <= 1:
            words[position] = found
            exact[position] = False
    return Words_(index, words, exact, protected=frozenset(protected))


def _nearest(word: str, choices: list[str], cutoff: int, reads: frozenset[str]) -> str | None:
    """The known word nearest to the typo ``word`` (edit distance at most ``cutoff``), or None. Ties go to a word
    that only reads ("halp" is "help", not "halt"), then to the first in alphabetical order — never to whichever
    the set's hashing put first, so a text means the same in every process."""
    found = extract(word, choices, scorer=OSA.distance, score_cutoff=cutoff, limit=None)
    if not found:
        return None
    best = min(found, key=lambda f: (f[1], f[0] not in reads, f[0]))
    return str(best[0])


def _re_verb(word: str, verbs: frozenset[str], vocabulary: frozenset[str]) -> str | None:
    """The verb that ``word`` is with "re-" before it ("re-enable" → "enable", "reactivate" → "activate"), when
    the word itself is not known ("rerun", "restart" are verbs of their own), or None."""
    if word in vocabulary or not word.startswith("re") or len(word) < 6:
        return None
    stem = word[3:] if word.startswith("re-") else word[2:]
    if not word.startswith("re-") and len(stem) < 5:
        return None  # "return" is no "turn" again
    return stem if stem in verbs else None


def _verb_stem(word: str, vocabulary: frozenset[str]) -> str | None:
    """The known word whose -ing form ``word`` is ("launching" → "launch", "aborting" → "abort",
    "stopping" → "stop", "scheduling" → "schedule"), or None."""
    if not word.endswith("ing") or len(word) < 6:
        return None
    stem = word[:-3]
    for base in (stem, stem + "e", stem[:-1] if len(stem) > 2 and stem[-1] == stem[-2] else ""):
        if base and base in vocabulary:
            return base
    return None


def _inflected(word: str, targets: frozenset[str]) -> str | None:
    """The word of ``targets`` whose -ed, -s, -es or -ing form ``word`` is, or None."""
    for suffix in ("ing", "ed", "es", "s"):
        if not word.endswith(suffix) or len(word) - len(suffix) < 3:
            continue
        stem = word[: -len(suffix)]
        for base in (stem, stem + "e", stem[:-1] if stem[-1] == stem[-2] else ""):
            if base and base in targets:
                return base
    return None


QUESTION_WORDS = frozenset(
    [
        "is",
        "are",
        "was",
        "were",
        "did",
        "does",
        "do",
        "has",
        "have",
        "had",
        "who",
        "what",
        "whats",
        "what's",
        "when",
        "why",
        "how",
        "hows",
        "how's",
        "which",
        "where",
        "will",
        "can",
    ]
)


def _is_question(seq: Words_) -> bool:
    """Whether the text asks something (so the answer to it comes first): "is 1234 done", "who started 1234"."""
    first = next((w for w in seq.words if w not in POLITE or w in QUESTION_WORDS), "")
    return first in QUESTION_WORDS


_PARSER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="k6bot-parse")
"""One thread for parsing in servers: fitting a text against every intent is pure CPU work (a few ms, more for
long texts), and on the event loop 50 commands at once made Slack's acknowledgements wait behind each other's
parsing. Off the loop, the loop gets the interpreter back every switch interval and acknowledges at once."""


async def parse_off_loop(
    text: object,
    *,
    now: datetime | None = None,
    tz: tzinfo | None = None,
    registry: Registry | None = None,
    names: KnownNames | None = None,
) -> Parse:
    """:func:`parse` on k6bot's parser thread, awaited: the same answer, without holding up the event loop."""
    call = functools.partial(parse, text, now=now, tz=tz, registry=registry, names=names)
    return await asyncio.get_running_loop().run_in_executor(_PARSER, call)


def parse(
    text: object,
    *,
    now: datetime | None = None,
    tz: tzinfo | None = None,
    registry: Registry | None = None,
    names: KnownNames | None = None,
    head: bool = False,
) -> Parse:
    """Every intent's explanation of ``text``, best first. Never raises for any input. ``names`` are the load
    tests' names (bot.router.names): their words in the text stay a name."""
    tz = tz or UTC
    now = now or datetime.now(tz)
    cleaned = prepare(text)
    typed = command_text(text)
    asked = typed.rstrip().endswith("?")
    typed = drop_existence(typed)
    lex = lexicon(registry)
    protect = None
    if names is not None:
        known = names

        def protect(tokens: list[Token]) -> set[int]:
            return known.protected(tokens, lex.vocabulary, lex.verb_words)

    analysis = analyse(typed, now, tz, protect=protect)
    seq = _content(analysis, lex)
    legacy = "legacy" in seq.free_words
    question = asked or _is_question(seq)
    fits = [
        f
        for intent in lex.intents
        if (
            f := Fitter(
                intent,
                analysis,
                seq,
                legacy=legacy,
                question=question,
                vocabulary=lex.vocabulary,
                shared_verbs=lex.shared_verbs,
            ).run()
        )
        is not None
    ]
    fits.sort(key=lambda f: (-f.score, f.intent.order))
    full = Parse(cleaned, analysis, fits, clean(text))
    follow = None if head else _follow_up_start(analysis, lex)
    if follow is not None:
        # "start the soak and tell me when it's done": the command; being told of its end is the front-end's part
        before = parse(typed[: analysis.tokens[follow].start], now=now, tz=tz, registry=registry, names=names)
        mine = before.understood
        if mine is not None and not mine.intent.phrases.follow_up:
            return Parse(before.text, before.analysis, before.fits, full.original)
    theirs = full.understood
    if not head and (theirs is None or any(k not in theirs.sources for k in theirs.values)):
        told = _told_before(analysis, typed, lex)
        if told is not None:
            # "i think 1236 is stuck, whats its status": what the remark before names, asked about after it
            # (reads only: a remark's guess never picks what is changed)
            again = parse(told, now=now, tz=tz, registry=registry, names=names, head=True)
            mine = again.understood
            if mine is not None and mine.intent.safety is Safety.READ and all(k in mine.sources for k in mine.values):
                return Parse(again.text, again.analysis, again.fits, full.original)
    opener = None if head else _remark_start(analysis)
    if opener is None or any(e.kind is Kind.NOTE and opener in e.tokens for e in analysis.entities):
        return full  # a comma inside a note is the note's ("note 1228: timed out, not our bug")
    tail = [t.low for t in analysis.tokens[opener + 1 :] if t.kind == "word"]
    if tail and tail[0] in RETRACTIONS:
        # "abort 1234, no wait", "delete test 508 (not yet)": taken back or doubted, so nothing is changed
        for fit in fits:
            if fit.intent.writes:
                fit.hedged = True
        return full
    if not _is_remark(analysis, opener, lex):
        return full
    # "delete orders api smoke, we don't use it anymore", "get rid of test 510 (notifications webhook)": the
    # command before a remark about it; the remark's words never choose what is done
    before = parse(typed[: analysis.tokens[opener].start], now=now, tz=tz, registry=registry, names=names, head=True)
    mine, theirs = before.understood, full.understood
    if mine is not None and (
        theirs is None
        or (theirs.intent.name != mine.intent.name and mine.verb is not None)
        or (theirs.values != mine.values and mine.verb is not None and mine.clean and _is_clause(tail))
    ):
        return Parse(before.text, before.analysis, before.fits, full.original)
    return full


_RETRACTION_WORDS = (
    "no nope nah wait actually or maybe not don't dont never nevermind nvm jk kidding hold scratch unless if "
    "hmm perhaps should"
)
RETRACTIONS = frozenset(_RETRACTION_WORDS.split())
"""First words of a remark that take the command back or doubt it ("abort 1234, no wait")."""


_SUBJECT_WORDS = (
    "i i'm im i've ive we we're were we've weve they they're theyre it's its it this that there there's theres "
    "he she he's she's someone somebody everyone nobody"
)
_SUBJECTS = frozenset(_SUBJECT_WORDS.split())
"""Words that open a sentence of its own: a remark after a comma that starts with one is said about the command,
not more of it ("abort every active run, we're doing a db failover")."""


def _is_clause(tail: list[str]) -> bool:
    """Whether a remark's words read as a sentence of their own (a subject first)."""
    return bool(tail) and tail[0] in _SUBJECTS


def _remark_start(analysis: Analysis) -> int | None:
    """The token that opens a trailing remark: the last comma or spaced dash, or the "(" of a parenthesis that
    ends the text."""
    tokens = analysis.tokens
    if len(tokens) < 3:
        return None
    if tokens[-1].text == ")":
        for index in range(len(tokens) - 2, 0, -1):
            if tokens[index].text == ")":
                return None
            if tokens[index].text == "(":
                return index
        return None
    for index in range(len(tokens) - 2, 0, -1):
        token = tokens[index]
        if token.kind == "punct" and (
            token.text == ","
            or (token.text == "-" and tokens[index - 1].end < token.start and tokens[index + 1].start > token.end)
        ):
            return index  # "…, we don't use it anymore", "… - wrong branch"
    return None


def _is_remark(analysis: Analysis, opener: int, lex: Lexicon) -> bool:
    """Whether the words after ``opener`` are a remark rather than more of the command: no data (ids, dates,
    counts), no load test's name, and not starting with a verb (a second command: "1234, abort it")."""
    tail = set(range(opener + 1, len(analysis.tokens)))
    data = [e for e in analysis.entities if e.kind is not Kind.NOTE]
    if any(tail.intersection(e.tokens) for e in data):
        return False
    if tail & analysis.protected and not (
        analysis.tokens[opener].text == "(" and any(e.kind in _IDS and e.first < opener for e in data)
    ):
        return False  # a name after a comma is more of the command; in parentheses after an id, a reminder of it
    typed = [t.low for t in analysis.tokens[opener + 1 :] if t.kind == "word"]
    if CONTINUATIONS.intersection(typed):
        return False  # "start checkout spike, then the soak", "abort 1234, and the soak too": more to do
    words = [w for w in typed if w not in FILLER]
    return bool(words) and (words[0] not in lex.verb_words or words[0] in RETRACTIONS)


_IDS = frozenset({*IDS, Kind.HASH, Kind.NUMBER})
_FOLLOW_CONNECTORS = frozenset(("and", "then", "&", ","))
_BACK = frozenset(
    ["it", "it's", "its", "itself", "that", "this", "they", "them", "those", "these", "how", "goes", "went", "one"]
)
"""Words of a follow-up clause that point back at what the command before it acts on."""
_FOLLOW_FILLER = frozenset(("and", "then", "&", ",", "please", "pls", "plz", "also", "just", "and then", "so"))


_POINTING = frozenset(("it", "its", "it's", "itself"))
_SENTENCE_ENDS = frozenset((",", ".", "?", "!", ";"))


def _told_before(analysis: Analysis, typed: str, lex: Lexicon) -> str | None:
    """ "<a remark naming one run or test>, <a question about "it">" said as "<that id or name>, <question>"
    ("i think 1236 is stuck, whats its status"), or None. The remark's other words are left out. A head that
    opens with a verb is the command itself ("rerun 1228, the platform aborted it"), not a remark."""
    tokens = analysis.tokens
    cut = next((t.index for t in tokens if t.kind == "punct" and t.text in _SENTENCE_ENDS), None)
    if cut is None or cut == len(tokens) - 1:
        return None
    opening = [t.low for t in tokens[:cut] if t.kind == "word" and t.low not in FILLER]
    if opening and opening[0] in lex.verb_words:
        return None
    tail = tokens[cut + 1 :]
    if not any(t.low in _POINTING for t in tail):
        return None
    head = set(range(cut))
    named = [e for e in analysis.entities if set(e.tokens) <= head and e.kind in _IDS]
    protected = sorted(head & analysis.protected)
    if any(set(e.tokens) - head and set(e.tokens) & head for e in analysis.entities):
        return None
    if any(e.kind in _IDS and not set(e.tokens) & head for e in analysis.entities):
        return None  # the question names its own target
    if len(named) == 1 and not protected:
        first, last = tokens[min(named[0].tokens)], tokens[max(named[0].tokens)]
    elif not named and protected and protected == list(range(protected[0], protected[-1] + 1)):
        first, last = tokens[protected[0]], tokens[protected[-1]]
    else:
        return None
    return f"{typed[first.start : last.end]}, {typed[tail[0].start :]}"


def _follow_up_start(analysis: Analysis, lex: Lexicon) -> int | None:
    """The token that opens a closing clause asking to be told how the command before it ends ("…, ping me
    when finished", "… and let me know once it's over"): a connector, then a verb of a follow-up intent
    (``Phrases.follow_up``), and nothing after it to act on of its own (no id, date or test name)."""
    verbs = [v.words for intent in lex.intents if intent.phrases.follow_up for v in intent.verbs if v.words]
    if not verbs:
        return None
    tokens = analysis.tokens
    data = {i for e in analysis.entities if e.kind is not Kind.NOTE for i in e.tokens}
    for index in range(1, len(tokens) - 1):
        token = tokens[index]
        if token.low not in _FOLLOW_CONNECTORS or (token.kind == "punct") != (token.text == ","):
            continue
        rest = [t for t in tokens[index + 1 :] if t.low not in _FOLLOW_FILLER]
        words = [t.low for t in rest]
        if not any(tuple(words[: len(v)]) == v for v in verbs):
            continue
        if any(t.index in data or t.index in analysis.protected for t in rest):
            return None  # "…, and tell me when 1236 is done": something of its own to watch
        if any(t.kind == "word" and t.low not in lex.vocabulary and t.low not in _BACK for t in rest):
            return None  # "… and tell me when the soak is done": a name, so not about the command before
        before = [t for t in tokens[:index] if t.kind != "punct"]
        return index if before else None
    return None


__all__ = ["ALTERNATIVE_MARGIN", "Fit", "Hit", "Parse", "parse"]
