"""Cleaning what a person typed before the grammar sees it.

Everything here is total: any string in, a string out, never an exception. The cleaned text keeps the
person's case and wording (a note is stored as typed); only the decoration around a command goes: the
``/k6`` prefix, a bot mention, polite words ("please", "can you"), trailing punctuation.
"""

from __future__ import annotations

import re
import unicodedata

MAX_TEXT = 4000
"""Longer input is cut here (Slack caps slash-command text at about this length anyway)."""

_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u00a0": " ",
        "\u2007": " ",
        "\u202f": " ",
        "\u2013": "-",
        "\u2014": "-",
        "\uff03": "#",
    }
)

_PREFIX = re.compile(
    r"^\s*(?:/k6bot\b|/k6\b|<@[A-Z0-9]+(?:\|[^>]*)?>|@k6bot\b|@k6\b|k6bot\b|(?:hey|hi|hello|yo)\s+k6bot\b)[\s,:;!.]*",
    re.IGNORECASE,
)

_LEADING_FILLER = re.compile(
    r"^(?:(?:hey|hi|hello|yo)\s+(?:there|team|all|folks|everyone|guys)|hiya|heya|howdy|sup|fyi|"
    r"please|pls|plz|plse|kindly|hey|hi|hello|yo|ok|okay|alright|so|and|then|now|just|quickly|also|"
    r"oops|hmm+|ah|uh|um|erm|btw|sorry\s+to\s+(?:bother|interrupt|ask)(?:\s+(?:you|y'all|everyone|again))?|sorry|any\s+(?:idea|clue)(?:\s+(?:if|whether))?|no\s+idea|quick\s+question|quick\s+q|q|question|morning|good\s+morning|"
    r"(?:would|do)\s+you\s+mind(?:\s+if\s+you)?|(?:would|could)\s+you\s+be\s+so\s+kind\s+as\s+to|"
    r"do\s+me\s+a\s+favou?r(?:\s+and)?|if\s+you\s+(?:can|could)|when\s+you\s+(?:can|get\s+a\s+(?:chance|sec))|"
    r"can\s+(?:some|any)(?:one|body)|could\s+(?:some|any)(?:one|body)|(?:some|any)(?:one|body)\s+(?:please|pls)|"
    r"can\s+you|could\s+you|would\s+you|will\s+you|can\s+u|could\s+u|would\s+u|cn\s+u|can\s+ya|"
    r"i\s+want\s+to|i\s+wanna|i\s+would\s+like\s+to|i'd\s+like\s+to|id\s+like\s+to|i\s+need\s+to|"
    r"i\s+need\s+you\s+to|let's|lets|let\s+us|go\s+ahead\s+and|try\s+to|do\s+you\s+know(?:\s+if|\s+whether)?|"
    r"i\s+wonder(?:\s+if|\s+whether)?|tell\s+(?:me|us)(?:\s+if|\s+whether)?(?=\s+(?:what|who|which|how|why|where|"
    r"when\s+did|is|are|was|did|has|if|whether)\b))\b[\s,!.:;]*",
    re.IGNORECASE,
)

_TRAILING_FILLER = re.compile(
    r"(?:[\s,;:]+|^)(?:please|pls|plz|plse|thanks|thank\s+you|thanks\s+in\s+advance|thx|ty|tia|for\s+me|"
    r"right\s+now|rn|atm|at\s+the\s+moment|at\s+present|now|asap|kthx|real\s+quick|quickly|if\s+you\s+can|if\s+possible|when\s+you\s+can|"
    r"when\s+you\s+get\s+a\s+(?:chance|sec|second|minute)|(?:at\s+)?your\s+convenience|mate|buddy|looks?\s+like)$",
    re.IGNORECASE,
)
_TRAILING_PUNCT = re.compile(r"[\s?!.…;,:]+$")
_TRAILING_EXISTENCE = re.compile(
    r"\s+(?:(?:that\s+)?(?:are|is|we've|we\s+have|have\s+been|has\s+been)\s+)?"
    r"(?:set\s+up|configured|defined|in\s+place|exists?|around|out\s+there)$",
    re.IGNORECASE,
)
"""Words that only say the things asked about exist ("which label keys do we have set up", "what zones exist"):
nothing to act on. Not in a text with a note (after a colon), where they are the note's."""

_SPACES = re.compile(r"[ \t\r\f\v]+")


_EMOJI_CODE = re.compile(r"(?<![\w:/]):[a-z0-9_+'-]{1,40}:(?![\w:/])", re.IGNORECASE)
"""A Slack emoji shortcode (``:eyes:``, ``:+1:``): decoration, never part of a command."""


_STAR_FIRST = re.compile(r"^\s*(?:\u2b50|\U0001f31f|:star:|:star2:)\s*")
"""A star first ("⭐ 1229 pls"): the emoji says the verb; anywhere else an emoji is decoration."""


def _decoration(ch: str) -> bool:
    """Emoji and pictographs (and their joiners / variation selectors): decoration, never part of a command."""
    if ch in "\u200d\ufe0f\ufe0e\u20e3":
        return True
    return unicodedata.category(ch) == "So" and ord(ch) >= 0x2190


_RE_VERB = re.compile(r"^re\s+(run|start|launch|try)\b", re.IGNORECASE)
""""re run 1231": the verb "re-run" typed apart (only as the command's first word: a note stays as typed)."""


def clean(text: object) -> str:
    """Printable, NFKC-normalised text with plain quotes and single spaces, at most :data:`MAX_TEXT` long."""
    try:
        value = text if isinstance(text, str) else ("" if text is None else str(text))
    except Exception:
        return ""
    value = value[: MAX_TEXT * 2]
    value = unicodedata.normalize("NFKC", value).translate(_QUOTES)
    value = _STAR_FIRST.sub("star ", value, count=1)
    value = "".join(" " if _decoration(ch) else ch if ch.isprintable() or ch == "\n" else " " for ch in value)
    value = _EMOJI_CODE.sub(" ", value)
    value = _SPACES.sub(" ", value)
    return value.strip()[:MAX_TEXT]


def strip_prefix(text: str) -> str:
    """Remove ``/k6``, ``@k6bot`` or a ``<@U…>`` mention at the start (repeatedly)."""
    for _ in range(5):
        stripped = _PREFIX.sub("", text, count=1)
        if stripped == text:
            break
        text = stripped
    return text.strip()


def strip_leading_filler(text: str) -> str:
    """Drop "please", "can you", "hey"… at the start."""
    for _ in range(8):
        stripped = _LEADING_FILLER.sub("", text, count=1)
        if stripped == text:
            break
        text = stripped
    return text.strip()


def strip_trailing_filler(text: str) -> str:
    """Drop "please", "thanks", "?" and "!" at the end."""
    for _ in range(8):
        stripped = _TRAILING_PUNCT.sub("", text)
        stripped = _TRAILING_FILLER.sub("", stripped)
        if stripped == text:
            break
        text = stripped
    return text.strip()


def drop_existence(text: str) -> str:
    """``text`` without closing words that only say the things asked about exist ("which label keys do we
    have set up?", "what zones exist"); unchanged when it has a note (a colon) or is that short."""
    if ":" in text:
        return text
    bare = _TRAILING_PUNCT.sub("", text)
    stripped = _TRAILING_EXISTENCE.sub("", bare)
    return stripped if stripped != bare and len(stripped.split()) >= 2 else text


def prepare(text: object) -> str:
    """The command in ``text``: cleaned, without the ``/k6`` prefix, politeness or trailing punctuation."""
    return strip_trailing_filler(command_text(text))


def command_text(text: object) -> str:
    """The command in ``text`` with its ending as typed (a note keeps its "?"): no prefix, no leading politeness."""
    return _lookup_dropped(_RE_VERB.sub(r"re-\1", strip_leading_filler(unquote(strip_prefix(unquote(clean(text)))))))


_LOOKUP = re.compile(
    r"\b(?:check|see|find\s+out|figure\s+out|work\s+out|look|check\s+out)\s+(?=(?:why|what|how|who|when|which)\b)",
    re.IGNORECASE,
)
"""A verb that only says "find out" before the question it asks ("can you check why its last run failed"):
the question is what is asked."""


_RUN_BEFORE = re.compile(
    r"\b(?:the\s+)?(?:run|one|test\s+run)\s+(?:right\s+|just\s+)?before\s+(?:it|that|this(?:\s+one)?)\b|"
    r"\bthe\s+(?:run|one|test\s+run)\s+(?:right\s+|just\s+)?before(?=\s*[?.!]*\s*$)|"
    r"\bthe\s+prior\s+(?:run|one)\b",
    re.IGNORECASE,
)
"""Ways to say the previous run of a run just named ("is 1223 slower than the run before it?")."""
_LAST_FAILURE = re.compile(
    r"\b(?P<which>last|latest|newest|most\s+recent)\s+(?:failure|failed\s+one|fail)\b(?!\s+(?:runs?|tests?)\b)",
    re.IGNORECASE,
)
"""One failure named by when it was ("pull up the latest failure"): the newest failed run."""


def _lookup_dropped(text: str) -> str:
    head, colon, note = text.partition(":")
    head = _RUN_BEFORE.sub("the previous run", _LOOKUP.sub("", head))
    head = _LAST_FAILURE.sub(lambda m: f"{m['which']} failed run", head)
    return head + colon + note  # a note (after a colon) stays as typed


def unquote(text: str) -> str:
    """``"Orders API"`` / ``'x'`` / `` `x` `` → the text inside; anything else unchanged."""
    value = text.strip()
    for _ in range(3):
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"`":
            value = value[1:-1].strip()
        else:
            break
    return value


_ID_REF = re.compile(r"^(?:(?:load\s*)?test\s*)?(?:id\s*)?(?:#\s*)?(\d{1,12})$", re.IGNORECASE)


def test_ref(phrase: str) -> int | str:
    """A load test reference for the registry: an id when the phrase is one ("501", "#501", "test 501")."""
    value = unquote(phrase)
    match = _ID_REF.match(value)
    if match:
        number = int(match.group(1))
        if number >= 1:
            return number
    return value


def project_ref(phrase: str) -> int | str:
    """A project reference: an id ("78", "project 78") or the name without a trailing "project"."""
    value = unquote(phrase)
    value = re.sub(r"^(?:the\s+)?(?:project\s+)?", "", value, flags=re.IGNORECASE)
    value = re.sub(r"\s+project$", "", value, flags=re.IGNORECASE).strip()
    match = re.fullmatch(r"(?:id\s*)?#?\s*(\d{1,12})", value)
    if match and int(match.group(1)) >= 1:
        return int(match.group(1))
    return unquote(value) or unquote(phrase)


_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
"""Invisible characters that reorder what is shown ("Trojan Source"): the text read is not the text run."""


def refuse_control_characters(text: str) -> str | None:
    """Why ``text`` is refused as a command (None when it is fine): control characters other than newline
    and tab, bidirectional overrides, lone surrogates. Checked before anything is resolved, so text that
    is not what it looks like never names a test.
    """
    for ch in text.replace("\r\n", "\n"):
        if ch in "\n\t":
            continue
        category = unicodedata.category(ch)
        if category in ("Cc", "Cs") or ch in _BIDI_CONTROLS:
            return (
                f"That text contains the control character U+{ord(ch):04X} (invisible, or not what it looks like), "
                "so k6bot does not act on it. Nothing was done."
            )
    return None
