"""``k6bot chat``: the same commands as Slack, in a terminal.

``k6bot chat`` is a prompt (``help``, ``quit``); ``k6bot chat -c "list tests"`` runs one command and exits.
Run / stop / admin commands show the same preview as Slack and ask ``[y/N]`` (default No); ``--yes``
confirms without asking. With no terminal to ask on and no ``--yes``, nothing is done.

Exit codes of ``-c``: 0 when the command did what was asked; 1 when it was not understood, refused by the
policy (e.g. read-only mode), failed at the API, or was not confirmed (declined, or no terminal and no
``--yes``); 130 when interrupted. Answers go to stdout, errors and the demo-mode banner to stderr.
"""

from __future__ import annotations

import asyncio
import getpass
import logging
import os
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from bot.actions import Actions
from bot.audit import AuditLog
from bot.config import BotSettings
from bot.confirm import Confirmations
from bot.notify.watchlist import Watchlist
from bot.policy import Actor, Policy
from bot.router.commands import Command, CommandKind
from bot.router.dispatch import Dispatcher, Reply, ReplyKind
from bot.router.render import say_again
from bot.runtime import DEMO_ANNOUNCEMENT, open_backend
from bot.scrub import remember_settings, scrubbing
from bot.store import open_store
from tools.config import K6CloudSettings
from tools.outputs import (
    LoadTestList,
    RunList,
    ScriptFile,
    StartedRun,
    attachments_of,
    human_duration,
    human_time,
    status_phrase,
    vuh_text,
)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130
QUIT_WORDS = {"quit", "exit", "q", "bye", ":q"}

InputFn = Callable[[str], str]


def run_chat(
    cloud: K6CloudSettings,
    bot: BotSettings,
    command: str | None = None,
    assume_yes: bool = False,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run one command (``command``) or the prompt; returns the exit code."""
    try:
        return asyncio.run(_chat(cloud, bot, command, assume_yes, stdin or sys.stdin, stdout, stderr))
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


def _console(stream: TextIO | None, *, stderr: bool = False) -> Console:
    target = stream or (sys.stderr if stderr else sys.stdout)
    is_tty = _is_tty(target)
    # piped output: wide, and long lines are not wrapped, so names stay whole for grep and scripts
    width = None if is_tty else max(int(os.environ.get("COLUMNS", "0") or 0), 160)
    # every answer leaves through here: an API error text may echo the token
    return Console(file=scrubbing(target), width=width, highlight=False, soft_wrap=not is_tty and not stderr)


async def _chat(
    cloud: K6CloudSettings,
    bot: BotSettings,
    command: str | None,
    assume_yes: bool,
    stdin: TextIO,
    stdout: TextIO | None,
    stderr: TextIO | None,
) -> int:
    out = _console(stdout)
    err = _console(stderr, stderr=True)
    remember_settings(cloud, bot)
    async with open_backend(cloud, demo_speed=bot.demo_speed, announce=None) as backend:
        if backend.demo:
            err.print(Text(DEMO_ANNOUNCEMENT, style="yellow"))
        store = await open_store(bot.sqlalchemy_url)
        try:
            policy = Policy.load(bot.policy_file, read_only=bot.read_only)
            actions = Actions(
                backend.toolbox,
                policy=policy,
                confirmations=Confirmations(store, ttl_seconds=bot.confirm_ttl_seconds),
                audit=AuditLog(store),
            )
            watchlist = Watchlist(store)
            session = TerminalChat(
                Dispatcher(actions, watchlist=watchlist, tz=bot.tzinfo),
                actor=Actor(frontend="terminal", id=_os_user(), name=_os_user()),
                out=out,
                err=err,
                stdin=stdin,
                assume_yes=assume_yes,
                watchlist=watchlist,
                chart_dir=bot.chart_dir,
            )
            if command is not None:
                session.can_ask = _is_tty(stdin)
                return await session.one(command)
            return await session.repl()
        finally:
            await store.close()


def _say_again(command: Command | None, reply: Reply) -> str:
    """After an ambiguous name or a question: the same command with an id, e.g. ``list runs of 502``."""
    what, example = say_again(
        command.name if command else None,
        command.arguments if command else {},
        reply.fills,
        reply.candidates[0].id if reply.candidates else None,
    )
    if example is None:
        return f"Say it again with {what}."
    return f"Say it again with {what}, e.g. {example}"


def _os_user() -> str:
    try:
        return getpass.getuser() or "terminal"
    except Exception:
        return "terminal"


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class TerminalChat:
    """One terminal session: routes lines, asks y/N, prints answers."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        *,
        actor: Actor,
        out: Console,
        err: Console,
        stdin: TextIO,
        assume_yes: bool = False,
        watchlist: Watchlist | None = None,
        chart_dir: Path | None = None,
    ) -> None:
        self.dispatcher = dispatcher
        self.chart_dir = chart_dir
        """Where attachments (charts) are written; None: a temporary directory made when the first one comes."""
        self.actor = actor
        self.out = out
        self.err = err
        self.stdin = stdin
        self.assume_yes = assume_yes
        self.watchlist = watchlist
        self.can_ask = True

    # ------------------------------------------------------------------ input

    async def _read(self, prompt: str, *, echo: bool = False) -> str | None:
        """A line from stdin (None at end of input).

        On a terminal the prompt is shown (with line editing when the terminal is the process's own). From a
        pipe, a question (``echo``) is written with its answer afterwards, so the transcript reads like the
        conversation it was. The read happens in a daemon thread, so Ctrl-C ends the session at once.
        """
        interactive = _is_tty(self.stdin)
        own_terminal = interactive and self.stdin is sys.stdin
        loop = asyncio.get_running_loop()
        answer_future: asyncio.Future[str | None] = loop.create_future()

        def deliver(value: str | None, error: BaseException | None = None) -> None:
            if answer_future.done():
                return
            if error is not None:
                answer_future.set_exception(error)
            else:
                answer_future.set_result(value)

        def read() -> None:
            try:
                if own_terminal:
                    try:
                        value: str | None = input(prompt)
                    except EOFError:
                        value = None
                else:
                    if interactive:
                        self.out.print(Text(prompt), end="")
                        self.out.file.flush()
                    line = self.stdin.readline()
                    value = None if line == "" else line.rstrip("\r\n")
                loop.call_soon_threadsafe(deliver, value)
            except Exception as exc:  # a closed stdin: end of input
                loop.call_soon_threadsafe(deliver, None, None if isinstance(exc, ValueError | OSError) else exc)

        threading.Thread(target=read, name="k6bot-chat-input", daemon=True).start()
        answer = await answer_future
        if echo and not interactive:
            self.out.print(Text(f"{prompt}{answer if answer is not None else ''}"))
        return answer

    async def _ask_yes(self, question: str) -> bool:
        if self.assume_yes:
            self.out.print(Text(f"{question} [y/N] yes (--yes)"))
            return True
        if not self.can_ask:
            return False
        answer = await self._read(f"{question} [y/N] ", echo=True)
        if answer is None:
            return False
        return answer.strip().casefold() in ("y", "yes", "yep", "ok", "sure", "confirm")

    # ------------------------------------------------------------------ loops

    async def repl(self) -> int:
        self.out.print(Text("k6bot chat: type a command (help lists them), quit to leave.", style="bold"))
        last = EXIT_OK
        while True:
            line = await self._read("k6> ")
            if line is None:
                return last
            if not line.strip():
                continue
            if line.strip().casefold() in QUIT_WORDS:
                return last
            last = await self.one(line)

    async def one(self, text: str) -> int:
        reply = await self.dispatcher.handle_text(self.actor, text)
        return await self.show(reply)

    # ------------------------------------------------------------------ answers

    async def show(self, reply: Reply) -> int:
        kind = reply.kind
        if kind is ReplyKind.CONFIRM:
            return await self._confirm(reply)
        if kind in (ReplyKind.CHOOSE, ReplyKind.ASK):
            return await self._choose(reply)
        if kind is ReplyKind.RESULT:
            self._result(reply)
            return EXIT_OK
        if kind is ReplyKind.HELP and reply.help is not None:
            self._help(reply)
            return EXIT_OK
        if kind is ReplyKind.INFO:
            if reply.summary is not None:
                self.out.print(Text(reply.text, style="bold"))
                self.out.print(Text(reply.summary.text()))
                return EXIT_OK
            self.out.print(Text(reply.text))
            for line in reply.lines:
                self.out.print(Text(f"  {line}"))
            return EXIT_OK
        if kind is ReplyKind.NOT_UNDERSTOOD:
            self.err.print(Text(reply.text, style="yellow"))
            tried = [s for s in reply.suggestions if s != "help"]
            if tried:
                self.err.print(Text("Did you mean: " + " | ".join(tried) + " ?"))
            self.err.print(Text("Type help to see what you can do."))
            return EXIT_FAILED
        if kind is ReplyKind.CANCELLED:
            self.err.print(Text(reply.text))
            return EXIT_FAILED
        style = "red" if kind in (ReplyKind.ERROR, ReplyKind.DENIED) else "yellow"
        prefix = {ReplyKind.DENIED: "Not allowed: ", ReplyKind.ERROR: "Error: "}.get(kind, "")
        self.err.print(Text(prefix + reply.text, style=style))
        return EXIT_FAILED

    async def _confirm(self, reply: Reply) -> int:
        outcome = reply.outcome
        assert outcome is not None and outcome.prepared is not None and outcome.confirmation_id is not None
        prepared = outcome.prepared
        self.out.print(Text(prepared.confirmation, style="bold"))
        for note in prepared.notes:
            self.out.print(Text(f"  • {note}"))
        if not await self._ask_yes("Go ahead?"):
            await self.dispatcher.cancel(self.actor, outcome.confirmation_id)
            hint = "" if self.can_ask or self.assume_yes else " Add --yes to confirm without a terminal."
            self.err.print(Text(f"Not confirmed: nothing was done.{hint}", style="yellow"))
            return EXIT_FAILED
        done = await self.dispatcher.confirm(self.actor, outcome.confirmation_id)
        code = await self.show(done)
        if done.kind is ReplyKind.RESULT and done.outcome is not None and isinstance(done.outcome.result, StartedRun):
            await self._watch(done.outcome.result, outcome.prepared.facts)
        return code

    async def _watch(self, started: StartedRun, facts: dict) -> None:
        if self.watchlist is None:
            return
        estimate = facts.get("last_run_duration_seconds")
        try:
            await self.watchlist.watch(
                started.test_run.id,
                load_test_id=started.load_test_id,
                load_test_name=started.load_test_name,
                origin="terminal",
                starter_id=self.actor.id,
                estimated_duration=float(estimate) if isinstance(estimate, int | float) else None,
            )
        except Exception:  # following the run is a nicety; the start itself succeeded
            logging.getLogger("k6bot.chat").warning("Could not add run %s to the watchlist", started.test_run.id)

    async def _choose(self, reply: Reply) -> int:
        """A choice (a name that fits several tests) or a question (a missing argument): list, then ask."""
        self.out.print(Text(reply.text))
        fills = reply.fills or "load_test"
        for index, candidate in enumerate(reply.candidates, start=1):
            if candidate.field == "load_test":
                project = f", {candidate.project_name}" if candidate.project_name else ""
                self.out.print(Text(f"  {index}. {candidate.name} (id {candidate.id}{project})"))
            else:
                self.out.print(Text(f"  {index}. {candidate.name}"))
        command = reply.command
        if command is None and reply.outcome is not None and reply.outcome.operation is not None:
            command = Command(CommandKind.OPERATION, reply.outcome.operation.name, dict(reply.outcome.arguments))
        if not self.can_ask or command is None:
            self.err.print(Text(_say_again(command, reply), style="yellow"))
            return EXIT_FAILED
        if reply.candidates:
            prompt = f"Which one? [1-{len(reply.candidates)}, or type it; Enter for none] "
        else:
            prompt = "Type it (Enter for none): "
        answer = ((await self._read(prompt, echo=True)) or "").strip()
        value: int | str | None = None
        if answer.isdigit() and reply.candidates and 1 <= int(answer) <= len(reply.candidates):
            value = reply.candidates[int(answer) - 1].id
        elif answer.lstrip("#").isdigit() and int(answer.lstrip("#")) >= 1:
            value = int(answer.lstrip("#"))
        elif answer and reply.kind is ReplyKind.ASK:
            value = answer
        if value is None:
            self.err.print(Text("Nothing chosen: nothing was done.", style="yellow"))
            return EXIT_FAILED
        follow = await self.dispatcher.handle(self.actor, command.with_arguments(**{fills: value}))
        return await self.show(follow)

    def _help(self, reply: Reply) -> None:
        assert reply.help is not None
        from bot.router.help import SAFETY_MARKS

        for title, entries in reply.help.grouped():
            table = Table(title=Text(title), title_justify="left", show_header=False, box=None)
            table.add_column("command", style="bold cyan", no_wrap=True)
            table.add_column("what")
            for entry in entries:
                mark = SAFETY_MARKS.get(entry.safety, "")
                table.add_row(Text(entry.usage), Text(f"{entry.summary}{mark}"))
                if reply.help.full:
                    for example in entry.examples[1:]:
                        table.add_row(Text(f"  {example}", style="cyan"), Text(""))
                    if entry.verbs:
                        table.add_row(Text(""), Text(f"also: {', '.join(entry.verbs[:8])}", style="dim"))
            self.out.print(table)
        if not reply.help.full:
            self.out.print(Text("help <group> (e.g. help schedules) shows a group in full."))
        self.out.print(Text("Tests can be named by words (orders soak) or id (501); runs by id (1234 or #1234)."))

    def _result(self, reply: Reply) -> None:
        result = reply.outcome.result if reply.outcome else None
        if reply.answer:
            self.out.print(Text(reply.answer, style="bold"))
        if reply.summary is not None:
            self.out.print(Text(reply.summary.text()))
        elif isinstance(result, LoadTestList):
            self._tests(result)
        elif isinstance(result, RunList):
            self._runs(result)
        elif isinstance(result, ScriptFile) and not result.is_archive and result.script is not None:
            self.out.file.write(result.script if result.script.endswith("\n") else result.script + "\n")
            self.out.file.flush()
        else:
            self.out.print(Text(reply.text))
        self._save_attachments(result)

    def _save_attachments(self, result: object) -> None:
        """Each file the result carries (a chart) written to the chart directory, its path printed."""
        for attachment in attachments_of(result):
            try:
                if self.chart_dir is None:
                    self.chart_dir = Path(tempfile.mkdtemp(prefix="k6bot-charts-"))
                self.chart_dir.mkdir(parents=True, exist_ok=True)
                path = self.chart_dir / Path(attachment.filename).name
                path.write_bytes(attachment.data)
            except OSError as exc:
                self.err.print(Text(f"Could not write {attachment.filename} to {self.chart_dir}: {exc.strerror}"))
                continue
            self.out.print(Text(f"Chart: {path}"))

    def _tests(self, result: LoadTestList) -> None:
        if not result.items:
            self.out.print(Text(result.text()))
            return
        scope = f" in {result.project_name}" if result.project_name else ""
        table = Table(title=Text(f"Load tests{scope}"), title_justify="left")
        table.add_column("ID", justify="right")
        table.add_column("Name", style="bold")
        table.add_column("Project")
        for item in result.items:
            table.add_row(Text(str(item.id)), Text(item.name), Text(item.project_name or str(item.project_id)))
        self.out.print(table)
        if result.next_cursor:
            self.out.print(Text("(more exist: name a project to narrow the list)"))

    def _runs(self, result: RunList) -> None:
        if not result.items:
            self.out.print(Text(result.text()))
            return
        scope = f" of {result.load_test_name}" if result.load_test_name else ""
        table = Table(title=Text(f"Test runs{scope}, newest first"), title_justify="left")
        for column in ("Run", "Test", "Status", "Duration", "Cost", "Created"):
            table.add_column(column, justify="right" if column in ("Run", "Duration", "Cost") else "left")
        for item in result.items:
            table.add_row(
                Text(str(item.id)),
                Text(item.test_name or f"test {item.test_id}"),
                Text(status_phrase(item.status, item.result)),
                Text(human_duration(item.duration_seconds)),
                Text(vuh_text(item.vuh)),
                Text(human_time(item.created)),
            )
        self.out.print(table)
