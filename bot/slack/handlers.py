"""The Slack listeners: ``/k6`` commands, button clicks and mentions.

Every listener acknowledges at once (Slack wants an answer within 3 s, the k6 API may take longer), then
works in the background and answers through the request's ``response_url`` (ephemeral) or the Web API.
Bolt runs the listener body after ``ack()`` as its own task (``process_before_response=False``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.confirm import Confirmations, prepared_of
from bot.notify.watchlist import Watchlist
from bot.router.commands import BOT_COMMAND_SPECS, Command, CommandKind
from bot.router.dispatch import Dispatcher, Reply, ReplyKind
from bot.router.text import test_ref
from bot.slack import blocks
from bot.slack.blocks import SlackMessage, section
from bot.slack.dedupe import RecentRequests
from bot.slack.followup import FollowUps, origin_of
from bot.slack.identity import Identity
from bot.slack.mrkdwn import incoming_text, mention
from bot.slack.respond import Responder
from tools.outputs import attachments_of

log = logging.getLogger("k6bot.slack")

DEFAULT_COMMAND = "/k6"
TROUBLE = "Something went wrong on k6bot's side; the details are in k6bot's log. Try again in a moment."


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _click_parts(body: Mapping[str, Any]) -> tuple[str, str | None, str | None, dict[str, Any]]:
    """(user id, user name, channel id, the clicked action) of a block_actions payload."""
    user = body.get("user") or {}
    channel = body.get("channel") or {}
    container = body.get("container") or {}
    actions = body.get("actions") or [{}]
    channel_id = _str(channel.get("id")) or _str(container.get("channel_id"))
    name = _str(user.get("username")) or _str(user.get("name"))
    return str(user.get("id") or ""), name, channel_id, actions[0] if isinstance(actions[0], dict) else {}


_LEADING_MENTIONS = re.compile(r"^\s*(?:<@[UW][A-Z0-9]+(?:\|[^>]*)?>[\s,:;]*)+")


def mention_command(text: object) -> str:
    """The command in an ``@k6bot …`` message: the leading mention(s) of the bot dropped, then as typed."""
    return incoming_text(_LEADING_MENTIONS.sub("", "" if text is None else str(text)))


@dataclass(frozen=True)
class Click:
    """One button click: who, where, which button, and how to answer."""

    user: str
    name: str | None
    channel: str | None
    action: dict[str, Any]
    responder: Responder


class SlackHandlers:
    """Turns Slack requests into dispatcher calls and replies."""

    def __init__(
        self,
        *,
        dispatcher: Dispatcher,
        identity: Identity,
        watchlist: Watchlist,
        confirmations: Confirmations,
        followups: FollowUps,
        recent: RecentRequests | None = None,
    ) -> None:
        self.dispatcher = dispatcher
        self.identity = identity
        self.watchlist = watchlist
        self.confirmations = confirmations
        self.followups = followups
        self.recent = recent or RecentRequests()

    def register(self, app: AsyncApp) -> None:
        app.command(re.compile(r"^/.*"))(self.on_command)
        app.action(blocks.CONFIRM_ACTION)(self.on_confirm)
        app.action(blocks.CANCEL_ACTION)(self.on_cancel)
        app.action(re.compile(rf"^{blocks.PICK_ACTION}:"))(self.on_pick)
        app.action(blocks.DISMISS_ACTION)(self.on_dismiss)
        app.action(blocks.RERUN_ACTION)(self.on_rerun)
        app.action(blocks.SAVE_ACTION)(self.on_save)
        app.action(re.compile(r".*"))(self.on_other_action)
        app.event("app_mention")(self.on_mention)

    # ------------------------------------------------------------------ plumbing

    async def _safely(self, work: Awaitable[object], responder: Responder) -> None:
        try:
            await work
        except Exception:
            log.exception("A Slack request failed")
            try:
                await responder.ephemeral(blocks.notice(TROUBLE))
            except Exception:
                log.exception("Could not tell the user that their request failed")

    def _duplicate(self, keys: list[str], request: Any) -> bool:
        headers = getattr(request, "headers", None)
        duplicate = self.recent.is_duplicate_retry(keys, headers)
        if duplicate:
            log.info("Ignoring a Slack retry of a request already handled")
        return duplicate

    # ------------------------------------------------------------------ /k6 …

    async def on_command(self, ack: Any, body: dict[str, Any], request: Any, client: AsyncWebClient) -> None:
        user = str(body.get("user_id") or "")
        channel = _str(body.get("channel_id"))
        text = str(body.get("text") or "")
        name = str(body.get("command") or DEFAULT_COMMAND)
        keys = [f"command:{user}:{channel}:{name}:{text}"]
        if body.get("trigger_id"):
            keys.append(f"trigger:{body['trigger_id']}")
        duplicate = self._duplicate(keys, request)
        await ack()
        if duplicate:
            return
        responder = Responder(client, response_url=_str(body.get("response_url")), channel_id=channel, user_id=user)
        await self._safely(self._command(body, responder), responder)

    async def _command(self, body: Mapping[str, Any], responder: Responder) -> None:
        user = str(body.get("user_id") or "")
        channel = _str(body.get("channel_id"))
        name = _str(body.get("user_name"))
        command_name = str(body.get("command") or DEFAULT_COMMAND)
        actor = await self.identity.actor(user, name, channel)
        reply = await self.dispatcher.handle_text(
            actor,
            incoming_text(body.get("text") or ""),
            context={"channel_id": channel, "command": command_name, "user_name": name},
        )
        await self.dispatcher.take_turn()  # rendering and posting the answer: after the acknowledgements
        await responder.ephemeral(blocks.render(reply, requester=user, command=command_name))
        await self._attach(reply, responder)

    async def _attach(self, reply: Reply, responder: Responder) -> None:
        """Upload what the result carries (a chart) into the conversation; say so when that is not possible."""
        for attachment in attachments_of(reply.outcome.result if reply.outcome else None):
            if not await responder.upload(attachment):
                await responder.ephemeral(
                    blocks.notice(
                        f"Could not post {attachment.filename} in this conversation: "
                        "invite k6bot here (it needs the files:write scope)."
                    )
                )

    # ------------------------------------------------------------------ @k6bot …

    async def on_mention(
        self, body: dict[str, Any], event: dict[str, Any], request: Any, client: AsyncWebClient
    ) -> None:
        user = str(event.get("user") or "")
        channel = _str(event.get("channel"))
        if not user or not channel:
            return
        if self._duplicate([f"event:{body.get('event_id')}", f"mention:{channel}:{event.get('ts')}"], request):
            return
        thread = _str(event.get("thread_ts"))
        responder = Responder(client, response_url=None, channel_id=channel, user_id=user, thread_ts=thread)

        async def work() -> None:
            actor = await self.identity.actor(user, None, channel)
            reply = await self.dispatcher.handle_text(
                actor, mention_command(event.get("text")), context={"channel_id": channel, "thread_ts": thread}
            )
            await responder.ephemeral(blocks.render(reply, requester=user, command="@k6bot"))
            await self._attach(reply, responder)

        await self._safely(work(), responder)

    # ------------------------------------------------------------------ Confirm / Cancel

    def _click_keys(self, body: Mapping[str, Any]) -> list[str]:
        user, _, _, action = _click_parts(body)
        base = f"click:{user}:{action.get('action_id')}:{action.get('value')}"
        return [base, f"{base}:{action.get('action_ts')}"]

    async def _begin_click(
        self, ack: Any, body: dict[str, Any], request: Any, client: AsyncWebClient, *, dedupe: bool = True
    ) -> Click | None:
        """Acknowledge a click at once; ``None`` when it is a Slack retry of a click already handled."""
        duplicate = dedupe and self._duplicate(self._click_keys(body), request)
        await ack()
        if duplicate:
            return None
        user, name, channel, action = _click_parts(body)
        responder = Responder(client, response_url=_str(body.get("response_url")), channel_id=channel, user_id=user)
        return Click(user, name, channel, action, responder)

    async def on_confirm(self, ack: Any, body: dict[str, Any], request: Any, client: AsyncWebClient) -> None:
        click = await self._begin_click(ack, body, request, client)
        if click is not None:
            await self._safely(self._confirm(body, client, click.responder), click.responder)

    async def _confirm(self, body: Mapping[str, Any], client: AsyncWebClient, responder: Responder) -> None:
        user, name, channel, action = _click_parts(body)
        confirmation_id = str(action.get("value") or "")
        actor = await self.identity.actor(user, name, channel)
        row = await self.confirmations.get(confirmation_id)
        if (
            row is not None
            and row.actor_id == user
            and row.state == "pending"
            and row.expires_at > self.confirmations.clock()
        ):
            # where to answer, stored before the claim: a restarted k6bot can still finish this click
            origin = {**origin_of(dict(body), channel), "holder": self.followups.holder}
            await self.confirmations.record_origin(confirmation_id, user, origin)
            # take the buttons away at once; the operation itself may take a while
            await responder.replace(blocks.working(prepared_of(row).confirmation, user))
        reply = await self.dispatcher.confirm(actor, confirmation_id)
        if reply.kind in (ReplyKind.REFUSED, ReplyKind.ALREADY) or (
            reply.kind is ReplyKind.ERROR and (reply.outcome is None or reply.outcome.confirmation is None)
        ):
            await responder.ephemeral(blocks.refusal(reply.text))
            return
        decided = reply.outcome.confirmation if reply.outcome is not None else None
        if decided is None or reply.kind not in (ReplyKind.RESULT, ReplyKind.ERROR):
            await responder.replace(blocks.decided(reply, user))
            return
        # the preview's final state, the watch and the announcement: once each, also after a crash
        await self.followups.deliver(decided, reply, user, responder, channel=channel)

    async def on_cancel(self, ack: Any, body: dict[str, Any], request: Any, client: AsyncWebClient) -> None:
        click = await self._begin_click(ack, body, request, client)
        if click is None:
            return

        async def work() -> None:
            actor = await self.identity.actor(click.user, click.name, click.channel)
            reply = await self.dispatcher.cancel(actor, str(click.action.get("value") or ""))
            if reply.kind is ReplyKind.CANCELLED or reply.kind is ReplyKind.EXPIRED:
                await click.responder.replace(blocks.decided(reply, click.user))
            else:
                await click.responder.ephemeral(blocks.refusal(reply.text))

        await self._safely(work(), click.responder)

    # ------------------------------------------------------------------ choosing a test

    async def on_pick(self, ack: Any, body: dict[str, Any], request: Any, client: AsyncWebClient) -> None:
        click = await self._begin_click(ack, body, request, client)
        if click is None:
            return
        responder = click.responder

        async def work() -> None:
            parsed = blocks.parse_pick(str(click.action.get("action_id") or ""), str(click.action.get("value") or ""))
            if parsed is None or not self._pickable(parsed[1]):
                await responder.ephemeral(blocks.notice("That choice is not valid any more. Ask again."))
                return
            requester, command = parsed
            if requester != click.user:
                text = f":raised_hand: Only {mention(requester)}, who asked, can choose here. Nothing was changed."
                await responder.ephemeral(SlackMessage("Only the person who asked can choose.", [section(text)]))
                return
            actor = await self.identity.actor(click.user, click.name, click.channel)
            reply = await self.dispatcher.handle(actor, command, context={"channel_id": click.channel})
            await responder.replace(blocks.render(reply, requester=click.user))
            await self._attach(reply, responder)

        await self._safely(work(), responder)

    def _pickable(self, command: Command) -> bool:
        """Only a known command whose every argument is one of its input fields can come back from a button."""
        if command.kind is CommandKind.BOT:
            spec = BOT_COMMAND_SPECS.get(command.name)
            fields = spec.input.model_fields if spec is not None else {}
        else:
            registry = self.dispatcher.actions.registry
            fields = registry[command.name].input.model_fields if command.name in registry else {}
        return bool(fields) and all(name in fields for name in command.arguments)

    async def on_dismiss(self, ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        click = await self._begin_click(ack, body, None, client, dedupe=False)  # deleting twice is harmless
        if click is not None:
            await self._safely(click.responder.delete_original(), click.responder)

    # ------------------------------------------------------------------ buttons on run-finished messages

    async def on_rerun(self, ack: Any, body: dict[str, Any], request: Any, client: AsyncWebClient) -> None:
        await self._button_command(ack, body, request, client, "start_load_test", "load_test")

    async def on_save(self, ack: Any, body: dict[str, Any], request: Any, client: AsyncWebClient) -> None:
        await self._button_command(ack, body, request, client, "save_test_run", "test_run_id")

    async def _button_command(
        self, ack: Any, body: dict[str, Any], request: Any, client: AsyncWebClient, operation: str, argument: str
    ) -> None:
        click = await self._begin_click(ack, body, request, client)
        if click is None:
            return
        responder = click.responder

        async def work() -> None:
            ref = test_ref(str(click.action.get("value") or "").strip())
            if argument == "test_run_id" and not isinstance(ref, int):
                await responder.ephemeral(blocks.notice("That button does not name a run. Ask again."))
                return
            actor = await self.identity.actor(click.user, click.name, click.channel)
            command = Command(CommandKind.OPERATION, operation, {argument: ref})
            reply = await self.dispatcher.handle(actor, command, context={"channel_id": click.channel})
            await responder.ephemeral(blocks.render(reply, requester=click.user))
            await self._attach(reply, responder)

        await self._safely(work(), responder)

    async def on_other_action(self, ack: Any) -> None:
        await ack()
