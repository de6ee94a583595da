"""Sending answers back to Slack: through the request's ``response_url``, or the Web API when there is none."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.scrub import scrub_data
from bot.slack.blocks import SlackMessage
from tools.outputs import Attachment

log = logging.getLogger("k6bot.slack")

_RESPONSE_URL_TIMEOUT = 15


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

    async def _post(self, body: dict[str, Any]) -> bool:
        if self.response_url is None:
            return False
        try:
            webhook = AsyncWebhookClient(self.response_url, timeout=_RESPONSE_URL_TIMEOUT)
            response = await webhook.send_dict(scrub_data(body))  # Web API calls are scrubbed by the client
        except Exception as exc:
            log.warning("Could not post to the response_url: %s", type(exc).__name__)
            return False
        if response.status_code != 200:
            log.warning("The response_url answered %s: %s", response.status_code, str(response.body)[:200])
            return False
        return True

    async def ephemeral(self, message: SlackMessage) -> bool:
        """A new message only the requester sees."""
        body = {**message.payload(), "response_type": "ephemeral", "replace_original": False}
        if await self._post(body):
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
        if await self._post(body):
            return True
        return await self.ephemeral(message)

    async def delete_original(self) -> bool:
        return await self._post({"delete_original": True})

    async def in_channel(self, message: SlackMessage) -> bool:
        """A message everyone in the channel sees, posted through the response_url (needs no membership)."""
        return await self._post({**message.payload(), "response_type": "in_channel", "replace_original": False})

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
