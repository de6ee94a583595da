"""Sending answers back to Slack: through the request's ``response_url``, or the Web API when there is none."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.scrub import scrub_data
from bot.slack.blocks import SlackMessage
from tools.outputs import Attachment
from tools.retry import Backoff, Failure, Sleep, parse_retry_after, retrying

log = logging.getLogger("k6bot.slack")

_RESPONSE_URL_TIMEOUT = 15
RESPONSE_URL_ATTEMPTS = 4
"""Tries of one response_url post: the first and up to three repeats."""
RETRY_AFTER_CAP = 5.0
"""The longest ``Retry-After`` honoured (seconds); a longer one is cut to this, the answer must not hang."""
_BACKOFF = Backoff(base=0.25, cap=2.0)


async def _send_once(webhook: AsyncWebhookClient, payload: dict[str, Any], *, repeatable: bool) -> None:
    """Send once; a failed attempt raises :class:`Failure` saying whether another may follow."""
    try:
        response = await webhook.send_dict(payload)
    except aiohttp.ClientConnectorError as exc:  # never reached Slack: nothing happened
        raise Failure(exc, may_repeat=True, possibly_processed=False, reason=type(exc).__name__) from None
    except Exception as exc:  # a timeout or reset after sending: Slack may have acted on it
        raise Failure(exc, may_repeat=repeatable, possibly_processed=True, reason=type(exc).__name__) from None
    status = response.status_code
    if status == 200:
        return
    reason = f"HTTP {status}: {str(response.body)[:200]}"
    error = RuntimeError(reason)
    if status == 429:
        wait = parse_retry_after(_header(response.headers, "Retry-After"))
        wait = min(wait, RETRY_AFTER_CAP) if wait is not None else None
        raise Failure(error, may_repeat=True, possibly_processed=False, retry_after=wait, reason=reason)
    if status >= 500:
        raise Failure(error, may_repeat=repeatable, possibly_processed=True, reason=reason)
    raise Failure(error, may_repeat=False, possibly_processed=False, reason=reason)  # 4xx: the same again fails


def _header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            return str(value[0] if isinstance(value, list) and value else value)
    return None


class Responder:
    """Answers one request: ephemeral to the person who asked, or replacing the message they clicked in."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        response_url: str | None,
        channel_id: str | None,
        user_id: str | None,
        thread_ts: str | None = None,
    ) -> None:
        self.client = client
        self.response_url = response_url or None
        self.channel_id = channel_id
        self.user_id = user_id
        self.thread_ts = thread_ts
        self.sleep: Sleep = asyncio.sleep
        """How waits between attempts are made (tests record them instead)."""

    async def _post(self, body: dict[str, Any], *, repeatable: bool) -> bool:
        """One post to the response_url, repeated by the project's retry policy where repeating is harmless.

        A 429 is repeated always (Slack refused it unprocessed), after its ``Retry-After`` capped at
        :data:`RETRY_AFTER_CAP` seconds. A 5xx, a timeout or a reset may have been processed: it is repeated only
        when the post is ``repeatable`` (replacing or deleting the original is; a new message is not, a
        duplicate being worse than none). A connection that was never made may always be repeated.
        """
        if self.response_url is None:
            return False
        payload = scrub_data(body)  # Web API calls are scrubbed by the client
        # the SDK's own connection-error retry is off: the one policy below decides what may be sent again
        webhook = AsyncWebhookClient(self.response_url, timeout=_RESPONSE_URL_TIMEOUT, retry_handlers=[])
        try:
            async for attempt in retrying(
                attempts=RESPONSE_URL_ATTEMPTS, backoff=_BACKOFF, sleep=self.sleep, log=log, what="response_url post"
            ):
                with attempt:
                    await _send_once(webhook, payload, repeatable=repeatable)
        except Failure as failure:
            log.warning("Could not post to the response_url: %s", failure.reason)
            return False
        return True

    async def ephemeral(self, message: SlackMessage) -> bool:
        """A new message only the requester sees."""
        body = {**message.payload(), "response_type": "ephemeral", "replace_original": False}
        if await self._post(body, repeatable=False):
            return True
        if self.channel_id and self.user_id:
            try:
                await self.client.chat_postEphemeral(
                    channel=self.channel_id,
                    user=self.user_id,
                    thread_ts=self.thread_ts,
                    **message.payload(),
                )
                return True
            except SlackApiError as exc:
                log.warning("chat.postEphemeral failed: %s", exc.response.get("error"))
            except Exception as exc:
                log.warning("chat.postEphemeral failed: %s", type(exc).__name__)
        return False

    async def replace(self, message: SlackMessage) -> bool:
        """Replace the message the person clicked in (its buttons go away); a new ephemeral if that fails."""
        body = {**message.payload(), "response_type": "ephemeral", "replace_original": True}
        if await self._post(body, repeatable=True):
            return True
        return await self.ephemeral(message)

    async def delete_original(self) -> bool:
        return await self._post({"delete_original": True}, repeatable=True)

    async def in_channel(self, message: SlackMessage) -> bool:
        """A message everyone in the channel sees, posted through the response_url (needs no membership)."""
        body = {**message.payload(), "response_type": "in_channel", "replace_original": False}
        return await self._post(body, repeatable=False)

    async def upload(self, attachment: Attachment) -> bool:
        """A file (a chart) into the conversation, in the thread when there is one, with Slack's current upload
        flow (``files.getUploadURLExternal``, the bytes to the URL it gives, ``files.completeUploadExternal``)."""
        if not self.channel_id:
            return False
        try:
            await self.client.files_upload_v2(
                channel=self.channel_id,
                thread_ts=self.thread_ts,
                file=attachment.data,
                filename=attachment.filename,
                title=attachment.title or attachment.filename,
            )
            return True
        except SlackApiError as exc:
            log.warning("The upload of %s failed: %s", attachment.filename, exc.response.get("error"))
        except Exception as exc:
            log.warning("The upload of %s failed: %s", attachment.filename, type(exc).__name__)
        return False
