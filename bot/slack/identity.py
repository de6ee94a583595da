"""Who is asking in Slack: the user, the channel, and the user groups the policy names that they belong to."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from cachetools import TTLCache
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.policy import Actor, Policy

log = logging.getLogger("k6bot.slack")

GROUP_TTL_SECONDS = 60.0
"""How long a user group's member list is trusted before it is read again."""


class Identity:
    """Builds :class:`Actor` values for Slack users, resolving group membership only for the policy's groups.

    Members of each group come from ``usergroups.users.list`` and are cached for ``ttl`` seconds. When Slack
    cannot answer, the last list read is used; with none, membership is "not a member" (the policy fails
    closed).
    """

    def __init__(
        self,
        client: AsyncWebClient,
        policy: Policy,
        *,
        ttl: float = GROUP_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.policy = policy
        self.ttl = ttl
        self.clock = clock
        self._members: TTLCache[str, frozenset[str]] = TTLCache(maxsize=1024, ttl=ttl, timer=clock)
        self._last_known: dict[str, frozenset[str]] = {}  # one per group the policy names: small
        self._locks: dict[str, asyncio.Lock] = {}

    async def actor(self, user_id: str, name: str | None = None, channel_id: str | None = None) -> Actor:
        groups = await self.groups_of(user_id)
        return Actor(frontend="slack", id=user_id, name=name or None, groups=groups, channel=channel_id or None)

    async def groups_of(self, user_id: str) -> frozenset[str]:
        wanted = sorted(self.policy.group_ids())
        if not wanted:
            return frozenset()
        found = set()
        for group in wanted:
            if user_id in await self.members(group):
                found.add(group)
        return frozenset(found)

    async def members(self, group_id: str) -> frozenset[str]:
        cached = self._members.get(group_id)
        if cached is not None:
            return cached
        lock = self._locks.setdefault(group_id, asyncio.Lock())
        async with lock:
            cached = self._members.get(group_id)
            if cached is not None:
                return cached
            try:
                # a form POST (Slack accepts it for every method) rather than the SDK's GET with a query string
                response = await self.client.api_call(
                    "usergroups.users.list", http_verb="POST", data={"usergroup": group_id}
                )
                members = frozenset(str(u) for u in (response.get("users") or []))
            except SlackApiError as exc:
                log.warning("Could not read the members of user group %s: %s", group_id, exc.response.get("error"))
                return self._last_known.get(group_id, frozenset())
            except Exception as exc:
                log.warning("Could not read the members of user group %s: %s", group_id, type(exc).__name__)
                return self._last_known.get(group_id, frozenset())
            self._members[group_id] = self._last_known[group_id] = members
            return members
