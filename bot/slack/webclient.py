"""The Slack Web API client every part of k6bot sends with: what it sends is scrubbed of secrets first.

Every Web API method of ``AsyncWebClient`` (``chat.postMessage``, ``chat.update``, ``chat.postEphemeral``…)
goes through ``api_call``, so scrubbing there is the one choke point for the Slack app, its announcements
and the notification outbox. (``response_url`` posts go through :class:`bot.slack.respond.Responder`.)
"""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.scrub import scrub_data


class ScrubbingWebClient(AsyncWebClient):
    """An ``AsyncWebClient`` whose every call's arguments are scrubbed (:func:`bot.scrub.scrub_data`)."""

    async def api_call(  # type: ignore[override]
        self,
        api_method: str,
        *,
        http_verb: str = "POST",
        files: dict[str, Any] | None = None,
        data: Any = None,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        headers: dict[str, Any] | None = None,
        auth: dict[str, Any] | None = None,
    ) -> AsyncSlackResponse:
        return await super().api_call(
            api_method,
            http_verb=http_verb,
            files=files,
            data=scrub_data(data) if isinstance(data, dict) else data,
            params=scrub_data(params),
            json=scrub_data(json),
            headers=headers,
            auth=auth,
        )
