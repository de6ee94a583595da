"""Who ended a run early, from ``status_history[].extra`` (code, message, by_user): platform, script or user."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel

from tools.models import StatusExtra


class AbortSide(StrEnum):
    USER = "user"
    SCRIPT = "script"
    PLATFORM = "platform"
    UNKNOWN = "unknown"


# Run status codes as k6 Cloud reports them (4 timed out, 5 user, 6 system, 7 script error, 8 threshold, 9 limit).
_SIDE_BY_CODE = {
    4: AbortSide.PLATFORM,
    5: AbortSide.USER,
    6: AbortSide.PLATFORM,
    7: AbortSide.SCRIPT,
    8: AbortSide.SCRIPT,
    9: AbortSide.PLATFORM,
}

_EXPLANATION = {
    AbortSide.USER: "stopped by {who}",
    AbortSide.SCRIPT: "ended by the script itself (an error or an abortOnFail threshold)",
    AbortSide.PLATFORM: "ended by the platform — not your script's fault",
    AbortSide.UNKNOWN: "ended early for a reason the API did not say",
}


class AbortCause(BaseModel):
    side: AbortSide
    code: int | None
    message: str | None
    by_user: str | None
    explanation: str


def classify_abort(extra: StatusExtra | None) -> AbortCause:
    """A named user wins over the code: a person pressing stop is a user abort whatever the code says."""
    if extra is None:
        side = AbortSide.UNKNOWN
        return AbortCause(side=side, code=None, message=None, by_user=None, explanation=_EXPLANATION[side])
    if extra.by_user:
        side = AbortSide.USER
    else:
        side = _SIDE_BY_CODE.get(extra.code, AbortSide.UNKNOWN) if extra.code is not None else AbortSide.UNKNOWN
    explanation = _EXPLANATION[side].format(who=extra.by_user or "a user")
    return AbortCause(side=side, code=extra.code, message=extra.message, by_user=extra.by_user, explanation=explanation)
