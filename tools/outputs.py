"""Results of operations that are not plain API objects: compact summaries, lists with cursors, reports.

Each model has ``text()``: a short plain-text rendering for terminals and MCP text content (Slack renders
its own Block Kit from the same fields). Lists return summaries with a cursor instead of raw API objects,
so an assistant's context is not flooded.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_serializer

from tools.errors import InvalidInput
from tools.models import ListedRun, LoadTest, RunStatus, TestRun

# --------------------------------------------------------------------------- formatting


def human_duration(seconds: float | None) -> str:
    """``1830`` → ``"30m 30s"``; ``None`` → ``"-"``."""
    if seconds is None:
        return "-"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s" if secs else f"{minutes}m"
    return f"{secs}s"


def human_time(value: datetime | None) -> str:
    if value is None:
        return "-"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


_DAY_NAMES = {"MO": "Mon", "TU": "Tue", "WE": "Wed", "TH": "Thu", "FR": "Fri", "SA": "Sat", "SU": "Sun"}
_CRON_DAYS = {"*": "every day", "1-5": "weekdays (Mon–Fri)", "mon-fri": "weekdays (Mon–Fri)", "0,6": "weekends",
              "6,0": "weekends", "sat,sun": "weekends"}  # fmt: skip


def recurrence_words(rule: Mapping[str, Any] | None, cron: Mapping[str, Any] | None, starts: datetime | None) -> str:
    """How a schedule repeats, in words: "every weekday (Mon–Fri) at 09:30 UTC, starting Fri 2026-12-04 09:30 UTC"."""
    first = f"starting {starts.astimezone(UTC).strftime('%a %Y-%m-%d %H:%M UTC')}" if starts else ""
    at = f" at {starts.astimezone(UTC).strftime('%H:%M')} UTC" if starts else ""
    if rule:
        frequency = str(getattr(rule.get("frequency"), "value", rule.get("frequency") or "")).upper()
        interval = int(rule.get("interval") or 1)
        days = [str(getattr(d, "value", d)) for d in (rule.get("byday") or [])]
        unit = {"HOURLY": "hour", "DAILY": "day", "WEEKLY": "week", "MONTHLY": "month", "YEARLY": "year"}.get(
            frequency, frequency.lower()
        )
        every = f"every {interval} {unit}s" if interval != 1 else f"every {unit}"
        if frequency == "WEEKLY" and days:
            named = (
                "weekday (Mon–Fri)"
                if days == ["MO", "TU", "WE", "TH", "FR"]
                else ", ".join(_DAY_NAMES.get(d, d) for d in days)
            )
            every = f"every {named}" if interval == 1 else f"every {interval} weeks on {named}"
        if frequency == "HOURLY":
            at = ""
        limits = []
        if rule.get("count"):
            limits.append(f"{rule['count']} times")
        if rule.get("until"):
            until = rule["until"]
            limits.append(
                f"until {until.astimezone(UTC).strftime('%Y-%m-%d') if isinstance(until, datetime) else until}"
            )
        tail = f" ({', '.join(limits)})" if limits else ""
        return f"{every}{at}{tail}, {first}".rstrip(", ")
    if cron:
        fields = str(cron.get("schedule", "")).split()
        zone = cron.get("time_zone") or "UTC"
        words = f"cron '{cron.get('schedule')}' ({zone})"
        if len(fields) == 5 and fields[0].isdigit() and fields[1].isdigit() and fields[2] == fields[3] == "*":
            cron_days = _CRON_DAYS.get(fields[4].casefold())
            if cron_days:
                words = f"{cron_days} at {int(fields[1]):02d}:{int(fields[0]):02d} {zone} ({words})"
        return f"{words}, {first}".rstrip(", ")
    return f"once, {first}".rstrip(", ")


def vuh_text(value: float | None) -> str:
    return "-" if value is None else f"{value:g} VUH"


def abort_reason(run: TestRun | ListedRun) -> str | None:
    """Why an aborted run stopped, in words: by whom, by a threshold, by the system (with its message)."""
    extra = run.abort_extra
    if run.status != RunStatus.ABORTED.value:
        return None
    if extra and extra.by_user:
        return f"aborted by {extra.by_user}"
    message = (extra.message if extra else None) or (run.result_details or {}).get("message")
    code = extra.code if extra else None
    if message and message.strip().lower().startswith("aborted"):
        # The API already says it in words ("aborted by script error: TypeError …"): don't say it twice.
        return message.strip() + (f" (code {code})" if code is not None else "")
    detail = ""
    if message:
        detail = f": {message}"
    if code is not None:
        detail += f" (code {code})"
    lowered = (message or "").lower()
    if "threshold" in lowered or (run.result == "failed" and not lowered):
        return f"aborted by a threshold{detail}"
    if "limit" in lowered:
        return f"aborted by a limit{detail}"
    if "script" in lowered:
        return f"aborted by a script error{detail}"
    return f"aborted by the system{detail}"


def status_phrase(status: str, result: str | None) -> str:
    if status == RunStatus.COMPLETED.value and result:
        return f"completed, {result}"
    if status == RunStatus.ABORTED.value and result:
        return f"aborted, {result}"
    return status.replace("_", " ")


# --------------------------------------------------------------------------- cursors


def encode_cursor(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, Any]:
    """The state an opaque cursor carries; a cursor that was not made here is a clear input error."""
    if not cursor:
        return {}
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError):
        raise InvalidInput("That cursor is not valid: pass the next_cursor of a previous answer unchanged.") from None
    if not isinstance(data, dict):
        raise InvalidInput("That cursor is not valid: pass the next_cursor of a previous answer unchanged.")
    return data


# --------------------------------------------------------------------------- summaries


class Attachment(BaseModel):
    """A file that goes with a result (a chart): front-ends show it in their own way (an MCP image, a Slack
    upload, a file on disk). Never part of the structured result or its schema."""

    model_config = ConfigDict(frozen=True)

    filename: str
    mime_type: str
    data: bytes = Field(repr=False)
    title: str = ""

    @property
    def is_image(self) -> bool:
        return self.mime_type.startswith("image/")


class Output(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    _attachments: list[Attachment] = PrivateAttr(default_factory=list)

    def text(self) -> str:  # pragma: no cover - every subclass overrides
        return str(self)

    @property
    def attachments(self) -> list[Attachment]:
        """Files that go with this result; not in ``model_dump`` nor in the JSON schema."""
        return list(self._attachments)

    def attach(self, attachment: Attachment) -> None:
        self._attachments.append(attachment)


def attachments_of(result: Any) -> list[Attachment]:
    """The attachments of any operation result (none for plain API objects)."""
    return result.attachments if isinstance(result, Output) else []


class RunSummary(Output):
    """The facts of a test run people look at first."""

    id: int
    test_id: int
    test_name: str | None = None
    project_id: int
    status: str
    result: str | None = None
    created: datetime
    ended: datetime | None = None
    duration_seconds: float | None = Field(default=None, description="Execution time so far or in total.")
    vus: int | None = None
    vuh: float | None = Field(default=None, description="Cost in virtual-user hours (estimate while running).")
    started_by: str | None = None
    note: str = ""
    is_starred: bool = False
    abort_reason: str | None = None
    url: str | None = Field(default=None, description="Link to the run in Grafana Cloud.")

    @classmethod
    def from_run(
        cls, run: TestRun | ListedRun, test_name: str | None = None, *, now: datetime | None = None
    ) -> RunSummary:
        # model_validate of a dict: the checks of cls(**…), a little cheaper (a list makes a hundred)
        return cls.model_validate(
            {
                "id": run.id,
                "test_id": run.test_id,
                "test_name": test_name,
                "project_id": run.project_id,
                "status": run.status,
                "result": run.result,
                "created": run.created,
                "ended": run.ended,
                "duration_seconds": run.duration_seconds(now),
                "vus": run.max_vus,
                "vuh": run.vuh,
                "started_by": run.started_by,
                "note": run.note or "",
                "is_starred": run.is_starred,
                "abort_reason": abort_reason(run),
                "url": run.test_run_details_page_url,
            }
        )

    @property
    def is_finished(self) -> bool:
        return self.status in (RunStatus.COMPLETED.value, RunStatus.ABORTED.value)

    def line(self, *, with_test: bool = True) -> str:
        name = (f" {self.test_name}" if self.test_name else f" test {self.test_id}") if with_test else ""
        bits = [f"#{self.id}{name}", status_phrase(self.status, self.result)]
        if self.duration_seconds is not None:
            bits.append(human_duration(self.duration_seconds))
        if self.vuh is not None:
            bits.append(vuh_text(self.vuh))
        bits.append(human_time(self.created))
        return " · ".join(bits)

    def text(self) -> str:
        lines = [
            f"Test run {self.id} of {self.test_name or f'test {self.test_id}'}: {status_phrase(self.status, self.result)}"
        ]
        if self.abort_reason:
            lines.append(f"Stopped: {self.abort_reason}")
        lines.append(f"Started {human_time(self.created)}" + (f" by {self.started_by}" if self.started_by else ""))
        if self.duration_seconds is not None:
            lines.append(f"Duration: {human_duration(self.duration_seconds)}")
        if self.vus is not None:
            lines.append(f"VUs: {self.vus}")
        if self.vuh is not None:
            lines.append(f"Cost: {vuh_text(self.vuh)}")
        if self.note:
            lines.append(f"Note: {self.note}")
        if self.url:
            lines.append(f"Link: {self.url}")
        return "\n".join(lines)


class RunRow(BaseModel):
    """A listed run in structured content: what a program needs of each run; get_test_run has the rest."""

    id: int
    test_id: int
    status: str
    result: str | None = None
    created: str
    """UTC, to the second: ``2026-12-04T18:13:03Z``."""
    duration_seconds: int | None = None
    vuh: float | None = None

    @classmethod
    def of(cls, run: RunSummary) -> RunRow:
        duration = None if run.duration_seconds is None else round(run.duration_seconds)
        created = run.created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return cls(id=run.id, test_id=run.test_id, status=run.status, result=run.result, created=created,
                   duration_seconds=duration, vuh=run.vuh)  # fmt: skip


class RunList(Output):
    """Runs as front-ends see them (``items``: full summaries). As JSON (an MCP tool's structured content) each run
    is a compact :class:`RunRow`: the text says the rest, and get_test_run has every detail."""

    items: list[RunSummary]
    next_cursor: str | None = Field(default=None)
    load_test_id: int | None = None
    load_test_name: str | None = None
    scanned: int = Field(default=0, description="Runs read to answer.")

    @field_serializer("items", when_used="json")
    def _rows(self, items: list[RunSummary]) -> list[RunRow]:
        return [RunRow.of(item) for item in items]

    def text(self) -> str:
        scope = f" of {self.load_test_name}" if self.load_test_name else ""
        if not self.items:
            return f"No test runs{scope} match."
        lines = [f"{len(self.items)} test run(s){scope}, newest first:"]
        lines += [f"- {item.line(with_test=not self.load_test_name)}" for item in self.items]
        if self.next_cursor:
            lines.append("(more: call again with the next_cursor)")
        return "\n".join(lines)


class LoadTestSummary(Output):
    id: int
    name: str
    project_id: int
    project_name: str | None = None
    created: datetime
    updated: datetime

    @classmethod
    def from_test(cls, test: LoadTest, project_name: str | None = None) -> LoadTestSummary:
        return cls(
            id=test.id,
            name=test.name,
            project_id=test.project_id,
            project_name=project_name,
            created=test.created,
            updated=test.updated,
        )

    def line(self) -> str:
        return f"{self.name} (id {self.id}, {self.project_name or f'project {self.project_id}'})"

    def text(self) -> str:
        return self.line()


class LoadTestList(Output):
    items: list[LoadTestSummary]
    next_cursor: str | None = Field(default=None)
    total: int | None = None
    project_id: int | None = None
    project_name: str | None = None

    def text(self) -> str:
        scope = f" in {self.project_name}" if self.project_name else ""
        if not self.items:
            return f"No load tests{scope}."
        lines = [f"{len(self.items)} load test(s){scope}" + (f" of {self.total}" if self.total else "") + ":"]
        lines += [f"- {item.line()}" for item in self.items]
        if self.next_cursor:
            lines.append("(more: call again with the next_cursor)")
        return "\n".join(lines)


class TestMatch(Output):
    id: int
    name: str
    project_id: int
    project_name: str | None = None
    score: float = Field(description="0–100: how well the phrase matches the name.")


class FoundTests(Output):
    phrase: str
    matches: list[TestMatch]
    best: TestMatch | None = Field(default=None, description="The one clear match, when there is one.")
    ambiguous: bool = False

    def text(self) -> str:
        if not self.matches:
            return f"No load test matches '{self.phrase}'."
        head = (
            f"'{self.phrase}' is {self.best.name} (id {self.best.id})."
            if self.best
            else f"'{self.phrase}' matches several load tests:"
            if self.ambiguous
            else f"Load tests like '{self.phrase}':"
        )
        rows = [
            f"- {m.name} (id {m.id}, {m.project_name or f'project {m.project_id}'}) score {m.score:g}"
            for m in self.matches
        ]
        return "\n".join([head, *rows])


class BatchItem(Output):
    arguments: dict[str, Any]
    ok: bool
    message: str


class BatchResult(Output):
    """One operation carried out for several targets ("abort all running tests"), each on its own."""

    operation: str
    items: list[BatchItem]

    @property
    def ok(self) -> bool:
        return all(item.ok for item in self.items)

    def text(self) -> str:
        done = sum(1 for item in self.items if item.ok)
        lines = [f"{done} of {len(self.items)} done:"]
        lines += [f"{'✓' if item.ok else '✗'} {item.message}" for item in self.items]
        return "\n".join(lines)


class Done(Output):
    """The answer of an operation the API answers with 204 No Content."""

    ok: bool = True
    message: str
    id: int | None = None

    def text(self) -> str:
        return self.message


class RunAction(Output):
    """What an action on a run did, with the run as it is now."""

    message: str
    test_run: RunSummary

    def text(self) -> str:
        return f"{self.message}\n{self.test_run.text()}"


class StartedRun(Output):
    """A run that was just started."""

    message: str
    test_run: RunSummary
    load_test_id: int
    load_test_name: str
    idempotency_key: str | None = None

    def text(self) -> str:
        return f"{self.message}\n{self.test_run.text()}"


class RunReport(Output):
    """The end of ``wait_for_test_run``: the final state, or where the run stood when the wait timed out."""

    test_run: RunSummary
    finished: bool
    timed_out: bool = False
    waited_seconds: float
    message: str

    def text(self) -> str:
        return f"{self.message}\n{self.test_run.text()}"


class ScriptFile(Output):
    """A test's or a run's script: JavaScript text, or a k6 .tar archive (base64)."""

    load_test_id: int | None = None
    test_run_id: int | None = None
    content_type: str
    is_archive: bool
    size_bytes: int
    script: str | None = Field(default=None, description="When not an archive.")
    archive_base64: str | None = Field(default=None, description="The .tar archive, base64.")

    def text(self) -> str:
        owner = f"load test {self.load_test_id}" if self.load_test_id else f"test run {self.test_run_id}"
        if self.is_archive:
            return f"The script of {owner} is a k6 .tar archive ({self.size_bytes} bytes)."
        return f"Script of {owner} ({self.size_bytes} bytes):\n{self.script}"


class CheckResult(Output):
    name: str
    pass_rate: float = Field(description="Share of passing checks, 0–1.")


class RunMetrics(Output):
    """Headline metrics of a run from the v5 aggregate endpoint; ``None`` where the run has no data."""

    test_run_id: int
    http_req_duration_p95_ms: float | None = None
    http_req_duration_p99_ms: float | None = None
    http_req_rate: float | None = Field(default=None, description="Requests per second.")
    http_req_failed_rate: float | None = Field(default=None, description="Share of failed requests, 0-1.")
    checks: list[CheckResult] = Field(default_factory=list)
    checks_pass_rate: float | None = None

    @classmethod
    def of(
        cls,
        test_run_id: int,
        *,
        p95_ms: float | None,
        p99_ms: float | None,
        rate: float | None,
        failed: float | None,
        checks: list[CheckResult],
    ) -> RunMetrics:
        """The headline figures, with ``checks_pass_rate`` the mean of the checks' pass rates."""
        overall = round(sum(c.pass_rate for c in checks) / len(checks), 4) if checks else None
        return cls(
            test_run_id=test_run_id,
            http_req_duration_p95_ms=p95_ms,
            http_req_duration_p99_ms=p99_ms,
            http_req_rate=rate,
            http_req_failed_rate=failed,
            checks=checks,
            checks_pass_rate=overall,
        )

    def text(self) -> str:
        def num(value: float | None, unit: str = "", pct: bool = False) -> str:
            if value is None:
                return "-"
            return f"{value * 100:.2f}%" if pct else f"{value:.1f}{unit}"

        lines = [
            f"Metrics of test run {self.test_run_id}:",
            f"p95 http_req_duration: {num(self.http_req_duration_p95_ms, ' ms')}",
            f"p99 http_req_duration: {num(self.http_req_duration_p99_ms, ' ms')}",
            f"Request rate: {num(self.http_req_rate, ' req/s')}",
            f"Failed requests: {num(self.http_req_failed_rate, pct=True)}",
            f"Checks passing: {num(self.checks_pass_rate, pct=True)}",
        ]
        return "\n".join(lines)
