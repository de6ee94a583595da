"""Block Kit for every answer k6bot gives in Slack.

Every string that comes from the k6 API or from a person goes through :mod:`bot.slack.mrkdwn` before it
enters mrkdwn (``escape``, ``link``, ``mention``, ``code``), so a test named ``<!channel>`` stays text.
Button values carry only ids (a confirmation id, a load test id); everything else is in the database.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from bot.actions import Outcome
from bot.router.commands import Command, CommandKind
from bot.router.dispatch import Reply, ReplyKind
from bot.router.help import SAFETY_MARKS
from bot.router.render import say_again as render_again
from bot.slack.mrkdwn import code, escape, escape_entities, link, mention, plain
from tools.outputs import (
    BatchResult,
    LoadTestList,
    RunAction,
    RunList,
    RunSummary,
    ScriptFile,
    StartedRun,
    human_duration,
    human_time,
    status_phrase,
    vuh_text,
)
from tools.registry import Operation, Safety

CONFIRM_ACTION = "k6bot_confirm"
CANCEL_ACTION = "k6bot_cancel"
PICK_ACTION = "k6bot_pick"
DISMISS_ACTION = "k6bot_dismiss"
RERUN_ACTION = "k6bot_rerun"
SAVE_ACTION = "k6bot_save"

SECTION_LIMIT = 2900  # Slack allows 3000 characters in a section's text
MAX_BLOCKS = 45  # of Slack's 50 per message, leaving room for a footer
BUTTON_TEXT_LIMIT = 75
ACTION_ID_LIMIT = 255
SCRIPT_PREVIEW = 2500

SAFETY_EMOJI = {
    Safety.READ: ":mag:",
    Safety.WRITE: ":pencil2:",
    Safety.RUN: ":rocket:",
    Safety.STOP: ":octagonal_sign:",
    Safety.ADMIN: ":warning:",
}


@dataclass
class SlackMessage:
    """A message to send: ``text`` is the notification / fallback text, ``blocks`` what people see."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        return {"text": self.text[:3000], "blocks": self.blocks[:50]}


# --------------------------------------------------------------------------- primitives


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000] or " "}}


def context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:3000] or " "}]}


def sections(text: str) -> list[dict[str, Any]]:
    """Mrkdwn text (already escaped) cut into section blocks at line boundaries."""
    blocks: list[dict[str, Any]] = []
    chunk: list[str] = []
    size = 0
    for line in text.splitlines() or [""]:
        if len(line) > SECTION_LIMIT:
            line = line[: SECTION_LIMIT - 1] + "…"
        if size + len(line) + 1 > SECTION_LIMIT and chunk:
            blocks.append(section("\n".join(chunk)))
            chunk, size = [], 0
        chunk.append(line)
        size += len(line) + 1
    if chunk:
        blocks.append(section("\n".join(chunk)))
    if len(blocks) > MAX_BLOCKS:
        blocks = [*blocks[: MAX_BLOCKS - 1], context("… (cut: too long for one Slack message)")]
    return blocks


def fallback(text: str) -> str:
    """Notification text: the first line, escaped."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    return escape(first)[:300]


def button(
    text: str,
    action_id: str,
    value: str,
    *,
    style: str | None = None,
    confirm: dict[str, Any] | None = None,
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": plain(text, BUTTON_TEXT_LIMIT),
        "action_id": action_id,
        "value": value,
    }
    if style:
        element["style"] = style
    if confirm:
        element["confirm"] = confirm
    return element


def confirm_dialog(title: str, text: str, confirm: str, deny: str = "Cancel") -> dict[str, Any]:
    """Slack's "are you sure?" dialog (limits: title 100, text 300, buttons 30 characters)."""
    return {
        "title": plain(title, 100),
        "text": {"type": "mrkdwn", "text": _cut(text, 300)},
        "confirm": plain(confirm, 30),
        "deny": plain(deny, 30),
        "style": "danger",
    }


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def run_link(summary: RunSummary) -> str:
    label = f"run {summary.id}"
    return link(summary.url, label) if summary.url else label


# --------------------------------------------------------------------------- results


def summary_lines(summary: RunSummary) -> list[str]:
    name = summary.test_name or f"test {summary.test_id}"
    lines = [f"*{escape(name)}* — {run_link(summary)}: *{escape(status_phrase(summary.status, summary.result))}*"]
    if summary.abort_reason:
        lines.append(f"Stopped: {escape(summary.abort_reason)}")
    started = f"Started {human_time(summary.created)}"
    if summary.started_by:
        started += f" by {escape(summary.started_by)}"
    lines.append(started)
    facts = []
    if summary.duration_seconds is not None:
        facts.append(f"duration {human_duration(summary.duration_seconds)}")
    if summary.vus is not None:
        facts.append(f"{summary.vus} VUs")
    if summary.vuh is not None:
        facts.append(f"cost {vuh_text(summary.vuh)}")
    if facts:
        lines.append(" · ".join(facts))
    if summary.note:
        lines.append(f"Note: {escape(summary.note)}")
    return lines


def _tests(result: LoadTestList) -> str:
    scope = f" in {escape(result.project_name)}" if result.project_name else ""
    if not result.items:
        return f"No load tests{scope}."
    total = f" of {result.total}" if result.total and result.total > len(result.items) else ""
    lines = [f"*{len(result.items)}{total} load test(s){scope}:*"]
    for item in result.items:
        project = item.project_name or f"project {item.project_id}"
        lines.append(f"• *{escape(item.name)}* · id {item.id} · {escape(project)}")
    if result.next_cursor:
        lines.append("_More exist: name a project to narrow the list._")
    return "\n".join(lines)


def _runs(result: RunList) -> str:
    scope = f" of *{escape(result.load_test_name)}*" if result.load_test_name else ""
    if not result.items:
        return f"No test runs{scope} match."
    lines = [f"*{len(result.items)} test run(s)*{scope}, newest first:"]
    for item in result.items:
        name = item.test_name or f"test {item.test_id}"
        bits = [f"• {link(item.url, f'#{item.id}') if item.url else f'#{item.id}'} *{escape(name)}*"]
        bits.append(escape(status_phrase(item.status, item.result)))
        if item.duration_seconds is not None:
            bits.append(human_duration(item.duration_seconds))
        if item.vuh is not None:
            bits.append(vuh_text(item.vuh))
        bits.append(human_time(item.created))
        lines.append(" · ".join(bits))
    return "\n".join(lines)


def _script(result: ScriptFile) -> str:
    owner = f"load test {result.load_test_id}" if result.load_test_id else f"test run {result.test_run_id}"
    if result.is_archive or result.script is None:
        return f"The script of {owner} is a k6 .tar archive ({result.size_bytes} bytes); download it with `k6bot chat`."
    body = result.script
    note = ""
    if len(body) > SCRIPT_PREVIEW:
        body = body[:SCRIPT_PREVIEW]
        note = f"\n_First {SCRIPT_PREVIEW} of {len(result.script)} characters._"
    body = escape_entities(body.replace("```", "'''"))  # inside a code block: nothing formats
    return f"*Script of {owner}* ({result.size_bytes} bytes):\n```{body}```{note}"


def result_text(reply: Reply) -> str:
    """The mrkdwn body of a RESULT reply."""
    outcome = reply.outcome
    result: BaseModel | None = outcome.result if outcome else None
    if reply.summary is not None:
        return "\n".join(summary_lines(reply.summary))
    if isinstance(result, LoadTestList):
        return _tests(result)
    if isinstance(result, RunList):
        return _runs(result)
    if isinstance(result, ScriptFile):
        return _script(result)
    if isinstance(result, StartedRun | RunAction):
        return "\n".join([f":white_check_mark: {escape(result.message)}", *summary_lines(result.test_run)])
    if isinstance(result, BatchResult):
        done = sum(1 for item in result.items if item.ok)
        lines = [f"*{done} of {len(result.items)} done:*"]
        lines += [f"{':white_check_mark:' if i.ok else ':x:'} {escape(i.message)}" for i in result.items]
        return "\n".join(lines)
    return escape(reply.text)


# --------------------------------------------------------------------------- replies


def render(reply: Reply, *, requester: str, command: str = "/k6") -> SlackMessage:
    """The ephemeral answer to a request."""
    kind = reply.kind
    if kind is ReplyKind.CONFIRM and reply.outcome is not None:
        return preview(reply.outcome, requester)
    if kind in (ReplyKind.CHOOSE, ReplyKind.ASK):
        return choice(reply, requester, command)
    if kind is ReplyKind.RESULT:
        body = result_text(reply)
        if reply.answer:
            body = f"*{escape(reply.answer)}*\n{body}"
        return SlackMessage(fallback(reply.answer or reply.text), sections(body))
    if kind is ReplyKind.HELP and reply.help is not None:
        return help_message(reply, command)
    if kind is ReplyKind.NOT_UNDERSTOOD:
        return not_understood(reply, command)
    if kind is ReplyKind.DENIED:
        # the reason is written by the policy (it may name who is allowed); it holds no user or API text
        return SlackMessage(f"Not allowed: {reply.text}", [section(f":no_entry: {reply.text}\nNothing was changed.")])
    if kind is ReplyKind.INFO:
        lines = [escape(reply.text), *(f"• {escape(line)}" for line in reply.lines)]
        if reply.summary is not None:
            lines += summary_lines(reply.summary)
        return SlackMessage(fallback(reply.text), sections("\n".join(lines)))
    if kind is ReplyKind.ERROR:
        return SlackMessage(fallback(reply.text), sections(f":warning: {escape(reply.text)}"))
    return SlackMessage(fallback(reply.text), sections(escape(reply.text)))


def help_message(reply: Reply, command: str) -> SlackMessage:
    assert reply.help is not None
    blocks: list[dict[str, Any]] = [section(f"*What you can do with {escape(command)}*")]
    for title, entries in reply.help.grouped():
        lines = [f"*{escape(title)}*"]
        for e in entries:
            lines.append(f"{code(f'{command} {e.usage}')} — {escape(e.summary)}{SAFETY_MARKS.get(e.safety, '')}")
            if reply.help.full:
                lines += [f"    {code(f'{command} {example}')}" for example in e.examples[1:]]
        blocks.extend(sections("\n".join(lines)))
    footer = "Test names can be words (`orders soak`) or ids (`501`); runs are ids (`1234` or `#1234`)."
    if not reply.help.full:
        footer += f" {code(f'{command} help schedules')} shows one group in full."
    if reply.help.hidden:
        footer += " Commands you may not use here are not shown."
    blocks.append(context(footer))
    return SlackMessage(f"What you can do with {escape(command)}", blocks)


def not_understood(reply: Reply, command: str) -> SlackMessage:
    lines = [f":thinking_face: {escape(reply.text)}"]
    tried = [s for s in reply.suggestions if s != "help"]
    if tried:
        lines.append("Did you mean " + " or ".join(code(f"{command} {s}") for s in tried) + "?")
    lines.append(f"{code(f'{command} help')} lists what you can do.")
    return SlackMessage(fallback(reply.text), [section("\n".join(lines))])


def preview(outcome: Outcome, requester: str) -> SlackMessage:
    """The confirmation: what will happen, what helps decide, and Confirm / Cancel for the requester."""
    prepared = outcome.prepared
    op = outcome.operation
    assert prepared is not None and op is not None and outcome.confirmation_id is not None
    cid = outcome.confirmation_id
    emoji = SAFETY_EMOJI.get(prepared.safety, ":grey_question:")
    blocks: list[dict[str, Any]] = [section(f"{emoji} *{escape(prepared.confirmation)}*")]
    if prepared.notes:
        blocks.extend(sections("\n".join(f"• {escape(note)}" for note in prepared.notes)))
    expires = outcome.confirmation.expires_at if outcome.confirmation else None
    minutes = ""
    if expires is not None and outcome.confirmation is not None:
        seconds = (expires - outcome.confirmation.created_at).total_seconds()
        minutes = f" · expires in {human_duration(seconds)}"
    blocks.append(context(f"Only {mention(requester)} can confirm{minutes}"))
    destructive = op.destructive or op.safety is Safety.STOP
    dialog = (
        confirm_dialog(f"{op.title}?", escape(prepared.confirmation), _confirm_word(op), "Keep it")
        if destructive
        else None
    )
    blocks.append(
        {
            "type": "actions",
            "block_id": "k6bot_confirmation",
            "elements": [
                button("Confirm", CONFIRM_ACTION, cid, style="danger" if destructive else "primary", confirm=dialog),
                button("Cancel", CANCEL_ACTION, cid),
            ],
        }
    )
    return SlackMessage(f"Confirm: {fallback(prepared.confirmation)}", blocks)


def _confirm_word(op: Operation) -> str:
    if op.safety is Safety.STOP:
        return "Yes, abort"
    if op.name.startswith("delete"):
        return "Yes, delete"
    return "Yes, do it"


def say_again(command: Command | None, reply: Reply, slash: str = "/k6") -> str:
    """After an ambiguous name or a question, when no buttons can be offered: the same command with an id."""
    what, example = render_again(
        command.name if command else None,
        command.arguments if command else {},
        reply.fills,
        reply.candidates[0].id if reply.candidates else None,
    )
    if example is None:
        return f"Say it again with {what}."
    return f"Say it again with {what}, e.g. {code(f'{slash} {example}')}."


def choice(reply: Reply, requester: str, command_name: str = "/k6") -> SlackMessage:
    """One button per candidate (a test, a run, a project…); the pick continues the same command with its id.

    A button's ``value`` is the candidate's id; its ``action_id`` carries who asked, what (the command
    without the missing argument) and which argument the pick fills, so a pick needs nothing stored and any
    replica can handle it. A question without candidates says what to type instead.
    """
    command = reply.command or (_command_of(reply.outcome) if reply.outcome is not None else None)
    lines = [f":twisted_rightwards_arrows: {escape(reply.text)}"]
    candidates = reply.candidates[:5]
    names = [c.name.casefold() for c in candidates]
    elements = []
    fills = reply.fills or "load_test"
    for index, candidate in enumerate(candidates):
        action_id = pick_action_id(index, command, requester, fills) if command else None
        if action_id is None:
            continue
        label = candidate.name
        if candidate.field == "load_test" and names.count(candidate.name.casefold()) > 1:  # same name, two projects
            label += f" ({candidate.project_name or f'project {candidate.project_id}'})"
        elements.append(button(label, action_id, str(candidate.id)))
    blocks = [section("\n".join(lines))]
    if elements:
        elements.append(button("Never mind", DISMISS_ACTION, "dismiss"))
        blocks.append({"type": "actions", "block_id": "k6bot_choice", "elements": elements})
    else:
        blocks.append(context(say_again(command, reply, command_name)))
    return SlackMessage(fallback(reply.text), blocks)


def _command_of(outcome: Outcome) -> Command | None:
    if outcome.operation is None:
        return None
    return Command(CommandKind.OPERATION, outcome.operation.name, dict(outcome.arguments))


_KINDS = {CommandKind.OPERATION: "o", CommandKind.BOT: "b"}


def pick_action_id(index: int, command: Command, requester: str, fills: str = "load_test") -> str | None:
    """``k6bot_pick:<n>:<json>``: the requester, the command waiting for an argument, and which (≤ 255 characters)."""
    arguments = {k: v for k, v in command.arguments.items() if k != fills and v is not None}
    payload: dict[str, Any] = {"u": requester, "k": _KINDS.get(command.kind, "o"), "n": command.name, "a": arguments}
    if fills != "load_test":
        payload["f"] = fills
    data = json.dumps(payload, separators=(",", ":"), default=str)
    action_id = f"{PICK_ACTION}:{index}:{data}"
    return action_id if len(action_id) <= ACTION_ID_LIMIT else None


def parse_pick(action_id: str, value: str) -> tuple[str, Command] | None:
    """(requester, command with the picked test) from a pick button, or None when it is not one of ours."""
    try:
        _, _, data = action_id.split(":", 2)
        parsed = json.loads(data)
        kind = {"o": CommandKind.OPERATION, "b": CommandKind.BOT}[parsed["k"]]
        arguments = parsed["a"]
        if not isinstance(arguments, dict):
            return None
        picked = int(value)
        fills = str(parsed.get("f") or "load_test")
        if picked < 1 or not re.fullmatch(r"[a-z_]{1,40}", fills):
            return None
        return str(parsed["u"]), Command(kind, str(parsed["n"]), {**arguments, fills: picked})
    except (ValueError, KeyError, TypeError):
        return None


# --------------------------------------------------------------------------- after a click


def working(confirmation_text: str, user: str) -> SlackMessage:
    text = f":hourglass_flowing_sand: {mention(user)} confirmed: {escape(confirmation_text)} Working on it…"
    return SlackMessage(fallback(f"Confirmed: {confirmation_text}"), [section(text)])


def decided(reply: Reply, user: str) -> SlackMessage:
    """What replaces the preview once it is decided (the buttons are gone)."""
    kind = reply.kind
    if kind is ReplyKind.RESULT:
        return SlackMessage(fallback(reply.text), sections(result_text(reply)))
    if kind is ReplyKind.CANCELLED:
        return SlackMessage(
            fallback(reply.text), [section(f":heavy_multiplication_x: {escape(reply.text)} Nothing was done.")]
        )
    if kind is ReplyKind.EXPIRED:
        return SlackMessage(fallback(reply.text), [section(f":hourglass: {escape(reply.text)}")])
    if kind is ReplyKind.DENIED:
        return SlackMessage(f"Not allowed: {reply.text}", [section(f":no_entry: {reply.text}\nNothing was changed.")])
    return SlackMessage(fallback(reply.text), [section(f":warning: {escape(reply.text)}")])


def announcement(outcome: Outcome, user: str) -> SlackMessage:
    """The channel message after a confirmed operation: who did what, with a link to the run."""
    result = outcome.result
    who = mention(user)
    if isinstance(result, StartedRun):
        summary = result.test_run
        text = f"{who} started *{escape(result.load_test_name)}* — {run_link(summary)}"
    elif isinstance(result, BatchResult):
        done = [item for item in result.items if item.ok]
        verb = outcome.operation.title.lower() if outcome.operation is not None else result.operation
        text = f"{who} confirmed: {escape(verb)} — {len(done)} of {len(result.items)} done"
    elif isinstance(result, RunAction) and outcome.operation is not None and outcome.operation.name.startswith("abort"):
        summary = result.test_run
        name = summary.test_name or f"test {summary.test_id}"
        text = f"{who} aborted {run_link(summary)} of *{escape(name)}*"
    else:
        first = outcome.message.strip().splitlines()[0] if outcome.message.strip() else "done"
        text = f"{who} confirmed: {escape(first)}"
    return SlackMessage(text, [section(text)])


def refusal(text: str) -> SlackMessage:
    return SlackMessage(fallback(text), [section(f":raised_hand: {escape(text)}")])


def notice(text: str) -> SlackMessage:
    return SlackMessage(fallback(text), [section(escape(text))])


def lines_of(blocks: Iterable[dict[str, Any]]) -> list[str]:
    """All mrkdwn / plain text in blocks (for logs and tests)."""
    out: list[str] = []
    for block in blocks:
        text = block.get("text")
        if isinstance(text, dict):
            out.append(str(text.get("text", "")))
        for element in block.get("elements", []) or []:
            if isinstance(element, dict):
                inner = element.get("text")
                out.append(str(inner.get("text", "")) if isinstance(inner, dict) else str(inner or ""))
    return out


__all__: Sequence[str] = [
    "CANCEL_ACTION",
    "CONFIRM_ACTION",
    "DISMISS_ACTION",
    "PICK_ACTION",
    "RERUN_ACTION",
    "SAVE_ACTION",
    "SlackMessage",
    "announcement",
    "choice",
    "decided",
    "parse_pick",
    "preview",
    "render",
    "working",
]
