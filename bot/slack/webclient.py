"""The Slack Web API client every part of k6bot sends with: what it sends is scrubbed of secrets first.

Every Web API method of ``AsyncWebClient`` (``chat.postMessage``, ``chat.update``, ``chat.postEphemeral``…)
goes through ``api_call``, so scrubbing there is the one choke point for the Slack app, its announcements
and the notification outbox. (``response_url`` posts go through :class:`bot.slack.respond.Responder`.)
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot import metrics
from bot.scrub import scrub_data


class ScrubbingWebClient(AsyncWebClient):
    """An ``AsyncWebClient`` whose every call's arguments are scrubbed (:func:`bot.scrub.scrub_data`) and whose
    every call is counted (``k6bot_slack_api_calls_total``, ``k6bot_slack_api_rate_limited_total``)."""

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
        try:
            response = await super().api_call(
                api_method,
                http_verb=http_verb,
                files=files,
                data=scrub_data(data) if isinstance(data, dict) else data,
                params=scrub_data(params),
                json=scrub_data(json),
                headers=headers,
                auth=auth,
            )
        except SlackApiError as exc:
            status = getattr(exc.response, "status_code", None)
            error = exc.response.get("error") if hasattr(exc.response, "get") else None
            if status == 429:
                metrics.SLACK_RATE_LIMITED.labels(api_method).inc()
            metrics.SLACK_CALLS.labels(api_method, _label(error, status)).inc()
            raise
        except asyncio.CancelledError:  # e.g. the outbox's send timeout
            metrics.SLACK_CALLS.labels(api_method, "cancelled").inc()
            raise
        except Exception as exc:
            metrics.SLACK_CALLS.labels(api_method, "network" if _network(exc) else "client_error").inc()
            raise
        metrics.SLACK_CALLS.labels(api_method, "ok").inc()
        return response


def _label(error: Any, status: int | None) -> str:
    """Slack's error code (``ratelimited``, ``channel_not_found``…), short and label-safe."""
    if isinstance(error, str) and error and len(error) <= 60 and error.replace("_", "").isalnum():
        return error
    return "ratelimited" if status == 429 else f"http_{status}" if status else "error"


def _network(exc: Exception) -> bool:
    return isinstance(exc, TimeoutError | OSError | aiohttp.ClientError)
