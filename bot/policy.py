"""Who may use which safety class, and where.

A policy file (``K6BOT_POLICY_FILE``, YAML) maps each safety class to Slack user ids (``U…``), user group
ids (``S…``) or ``"*"``, and may limit the channels k6bot acts in::

    allow:
      read: ["*"]
      write: ["*"]
      run: ["*"]
      stop: ["U0ALICE", "S0ONCALL"]
      admin: ["U0ADMIN"]
    channels: ["C0LOAD"]

Without a file everyone may read, write, run and stop (still with confirmation) and nobody may use admin
operations until someone is named. ``K6BOT_READ_ONLY=1`` allows reads only, whatever the file says.
The policy applies to Slack users; the terminal and MCP act for the operator who holds the API token
(read-only mode still applies to them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tools.errors import ConfigurationError
from tools.registry import Safety

Frontend = Literal["slack", "mcp", "terminal", "webhook", "system"]
EVERYONE = "*"


@dataclass(frozen=True)
class Actor:
    """Who is asking: a Slack user, an MCP client, a terminal user."""

    frontend: Frontend
    id: str
    name: str | None = None
    groups: frozenset[str] = frozenset()
    channel: str | None = None

    @property
    def label(self) -> str:
        return self.name or self.id


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""
    safety: Safety | None = None
    allowed_ids: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.allowed


DEFAULT_ALLOW: dict[Safety, tuple[str, ...]] = {
    Safety.READ: (EVERYONE,),
    Safety.WRITE: (EVERYONE,),
    Safety.RUN: (EVERYONE,),
    Safety.STOP: (EVERYONE,),
    Safety.ADMIN: (),
}

SAFETY_WORDS = {
    Safety.READ: "read k6 Cloud data",
    Safety.WRITE: "change notes and stars",
    Safety.RUN: "start load tests",
    Safety.STOP: "stop test runs",
    Safety.ADMIN: "use admin operations (create, change, move, delete, scripts, schedules)",
}


@dataclass
class Policy:
    """Permissions per safety class plus an optional channel allow-list."""

    allow: dict[Safety, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_ALLOW))
    channels: tuple[str, ...] | None = None
    read_only: bool = False
    source: str = "defaults"

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, read_only: bool = False, source: str = "policy") -> Policy:
        if not isinstance(data, Mapping):
            raise ConfigurationError(f"{source}: the policy must be a mapping with 'allow' and optional 'channels'.")
        unknown_keys = set(data) - {"allow", "channels"}
        if unknown_keys:
            raise ConfigurationError(
                f"{source}: unknown key(s) {', '.join(sorted(unknown_keys))}; use 'allow' and 'channels'."
            )
        allow = dict(DEFAULT_ALLOW)
        raw_allow = data.get("allow") or {}
        if not isinstance(raw_allow, Mapping):
            raise ConfigurationError(f"{source}: 'allow' must map safety classes to lists of ids.")
        for key, ids in raw_allow.items():
            try:
                safety = Safety(str(key).lower())
            except ValueError:
                raise ConfigurationError(
                    f"{source}: unknown safety class '{key}'; use read, write, run, stop or admin."
                ) from None
            allow[safety] = _ids(ids, f"{source}: allow.{safety.value}")
        channels = data.get("channels")
        return cls(
            allow=allow,
            channels=_ids(channels, f"{source}: channels") if channels is not None else None,
            read_only=read_only,
            source=source,
        )

    @classmethod
    def load(cls, path: Path | None, *, read_only: bool = False) -> Policy:
        """The policy in ``path`` (YAML), or the defaults when there is no file."""
        if path is None:
            return cls(read_only=read_only)
        import yaml  # only with a policy file (~1 MiB of an idle `k6bot serve` otherwise)

        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except OSError as exc:
            raise ConfigurationError(f"Cannot read the policy file {path}: {exc.strerror}.") from None
        except yaml.YAMLError as exc:
            raise ConfigurationError(f"The policy file {path} is not valid YAML: {exc}.") from None
        return cls.from_mapping(data, read_only=read_only, source=str(path))

    def decide(self, actor: Actor, safety: Safety, channel: str | None = None) -> Decision:
        """May ``actor`` use an operation of class ``safety`` (in ``channel``)?"""
        if self.read_only and safety is not Safety.READ:
            return Decision(False, "k6bot runs in read-only mode (K6BOT_READ_ONLY): it only reads.", safety)
        if actor.frontend != "slack":
            return Decision(True, safety=safety)
        where = channel or actor.channel
        if self.channels is not None and where not in self.channels:
            # fail closed: a request that names no channel is not in an allowed one
            allowed_here = ", ".join(f"<#{c}>" for c in self.channels)
            if where is None:
                reason = f"k6bot only acts in {allowed_here}, and this request came with no channel."
            else:
                reason = f"k6bot only acts in {allowed_here}."
            return Decision(False, reason, safety)
        ids = self.allow.get(safety, ())
        if EVERYONE in ids or actor.id in ids or actor.groups & set(ids):
            return Decision(True, safety=safety, allowed_ids=ids)
        if not ids:
            reason = (
                f"Nobody may {SAFETY_WORDS[safety]} yet: name users or user groups under "
                f"allow.{safety.value} in the policy file (K6BOT_POLICY_FILE)."
            )
        else:
            who = ", ".join(_mention(i) for i in ids)
            reason = f"You may not {SAFETY_WORDS[safety]}: the policy allows {who} (allow.{safety.value})."
        return Decision(False, reason, safety, ids)

    def allowed_classes(self, actor: Actor, channel: str | None = None) -> set[Safety]:
        return {s for s in Safety if self.decide(actor, s, channel)}

    def group_ids(self) -> set[str]:
        """User group ids the policy names (the Slack app resolves membership only for these)."""
        return {i for ids in self.allow.values() for i in ids if i.startswith("S")}


def _mention(identifier: str) -> str:
    if identifier.startswith("S"):
        return f"<!subteam^{identifier}>"
    if identifier.startswith(("U", "W")):
        return f"<@{identifier}>"
    return identifier


def _ids(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Iterable):
        raise ConfigurationError(f'{where} must be a list of Slack ids or "*".')
    ids = tuple(str(v).strip() for v in value if str(v).strip())
    for item in ids:
        if item != EVERYONE and not item[:1].isalpha():
            raise ConfigurationError(f"{where}: '{item}' is not a Slack id (U…, W…, S…, C…) or \"*\".")
    return ids
