"""Typed errors of the tool layer.

Every error's ``str()`` is a sentence a person understands ("Run 1234 is not running, so it cannot be
aborted."), fit to show in Slack, a terminal or an MCP tool result. The API's own details (status,
``error.code``, ``message``, ``target``, ``details``) stay available as attributes for programs.
No error ever carries a request's headers, so a token cannot leak through one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any


class K6BotError(Exception):
    """Base of every error k6bot raises on purpose; ``str(error)`` is the sentence to show."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigurationError(K6BotError):
    """Settings are missing or contradict each other."""


class InvalidInput(K6BotError):
    """Arguments that do not fit an operation's input model; nothing was sent to the API."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotAllowedNow(K6BotError):
    """The target's current state does not allow the operation (e.g. aborting a finished run); nothing was changed."""


class ApiUnavailable(K6BotError):
    """The API could not be reached (connection refused, reset, timed out) even after retries."""

    possibly_processed: bool = False
    """Whether an attempt may have reached k6 Cloud and taken effect (e.g. a timeout after sending)."""

    def __init__(self, message: str, *, attempts: int = 1) -> None:
        super().__init__(message)
        self.attempts = attempts


class NotDone(ApiUnavailable):
    """A write failed ambiguously (its answer was lost, or a 5xx), and k6bot then confirmed with k6 Cloud that
    nothing happened: it is safe to try again."""

    possibly_processed = False


class OutcomeUnknown(ApiUnavailable):
    """A write failed ambiguously and k6bot could not find out whether k6 Cloud did it: check before retrying."""

    possibly_processed = True


class CannotTell(K6BotError):
    """Raised by a reconciliation that cannot tell what an ambiguous write did (e.g. several new objects)."""


class ApiError(K6BotError):
    """An error response of the k6 Cloud API.

    ``sentence`` is what people read; the client fills a generic one from the status and the API's
    message, and the operation registry replaces it with an operation-specific one where it has one
    (for example for 409 on abort).
    """

    status: int = 0
    possibly_processed: bool = False
    """Whether this or an earlier attempt may have taken effect anyway (a 5xx, an answer lost on the way)."""

    def __init__(
        self,
        status: int,
        *,
        code: str | None = None,
        api_message: str | None = None,
        target: str | None = None,
        details: list[Any] | None = None,
        method: str = "",
        path: str = "",
        retry_after: float | None = None,
        attempts: int = 1,
        sentence: str | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.api_message = api_message
        self.target = target
        self.details = details
        self.method = method
        self.path = path
        self.retry_after = retry_after
        self.attempts = attempts
        super().__init__(sentence or default_sentence(self))

    @property
    def sentence(self) -> str:
        return self.message

    @sentence.setter
    def sentence(self, value: str) -> None:
        self.message = value
        self.args = (value,)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status}, code={self.code!r}, api_message={self.api_message!r}, "
            f"target={self.target!r}, method={self.method!r}, path={self.path!r})"
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description for structured tool results."""
        return {
            "status": self.status,
            "code": self.code,
            "message": self.message,
            "api_message": self.api_message,
            "target": self.target,
            "details": self.details,
        }


class BadRequest(ApiError):
    status = 400


class Unauthorized(ApiError):
    status = 401


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class NotAcceptable(ApiError):
    status = 406


class Conflict(ApiError):
    status = 409


class RateLimited(ApiError):
    status = 429


class ServerError(ApiError):
    status = 500


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    406: NotAcceptable,
    409: Conflict,
    429: RateLimited,
}


def error_class_for(status: int) -> type[ApiError]:
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, ApiError)


def _clean(text: str | None) -> str:
    return (text or "").strip().rstrip(".")


def default_sentence(error: ApiError) -> str:
    """A generic but readable sentence for an API error, used when no operation-specific one applies."""
    said = _clean(error.api_message)
    where = f" ({error.target})" if error.target else ""
    status = error.status
    if status == 400:
        return f"k6 Cloud rejected the request{where}: {said}." if said else f"k6 Cloud rejected the request{where}."
    if status == 401:
        return "k6 Cloud did not accept the API token (401). Check K6_CLOUD_TOKEN."
    if status == 403:
        detail = f": {said}" if said else ""
        return f"The API token is not allowed to do this (403){detail}. Check K6_CLOUD_STACK_ID and the token's role."
    if status == 404:
        return f"Not found: {said}." if said else "Not found."
    if status == 406:
        return f"k6 Cloud cannot return that format (406){': ' + said if said else ''}."
    if status == 409:
        return f"k6 Cloud refused because of a conflict: {said}." if said else "k6 Cloud refused because of a conflict."
    if status == 429:
        wait = f" Try again in {error.retry_after:g} s." if error.retry_after else " Try again shortly."
        return "k6 Cloud is rate-limiting requests (429)." + wait
    if status >= 500:
        return f"k6 Cloud had an internal error ({status}). Try again shortly."
    return f"k6 Cloud answered {status}{': ' + said if said else ''}."


@dataclass(frozen=True)
class Candidate:
    """A thing offered when a phrase does not pick exactly one: a load test (by default), a run, a project…

    ``field`` is the input field the choice fills (``load_test``, ``test_run_id``, ``project``…).
    """

    id: int
    name: str
    project_id: int | None = None
    score: float = 0.0
    project_name: str | None = None
    field: str = "load_test"

    def label(self) -> str:
        if self.field != "load_test":
            return self.name
        project = self.project_name or f"project {self.project_id}"
        return f"'{self.name}' (id {self.id}, {project})"


class ResolutionError(K6BotError):
    """A load test phrase could not be turned into exactly one load test."""

    def __init__(self, message: str, *, phrase: str, candidates: Sequence[Candidate] = ()) -> None:
        super().__init__(message)
        self.phrase = phrase
        self.candidates = list(candidates)


class NoMatchingLoadTest(ResolutionError):
    """Nothing matches the phrase; ``candidates`` holds did-you-mean suggestions (may be empty)."""

    @classmethod
    def for_phrase(cls, phrase: str, suggestions: Iterable[Candidate]) -> NoMatchingLoadTest:
        suggestions = list(suggestions)
        message = f"No load test matches '{phrase}'."
        if suggestions:
            message += " Did you mean " + _or_list([c.label() for c in suggestions]) + "?"
        return cls(message, phrase=phrase, candidates=suggestions)


class AmbiguousLoadTest(ResolutionError):
    """Several load tests match the phrase about equally well; never guess between them."""

    @classmethod
    def for_phrase(cls, phrase: str, candidates: Iterable[Candidate]) -> AmbiguousLoadTest:
        candidates = list(candidates)
        names = _or_list([c.label() for c in candidates])
        message = f"'{phrase}' matches {len(candidates)} load tests: {names}. Which one do you mean?"
        return cls(message, phrase=phrase, candidates=candidates)


def _or_list(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]
