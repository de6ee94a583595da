"""Pydantic models of what the Grafana Cloud k6 API returns and accepts.

Written from the v6 OpenAPI description (1.12.0), the v6 reference pages and the legacy v2 runs page.
Every response model allows extra fields, so a field the API adds later never breaks parsing; date-times
without a zone (the API sends both forms) are read as UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Generic, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    ValidationError,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

# --------------------------------------------------------------------------- basics


def _as_utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


ApiDateTime = Annotated[datetime, AfterValidator(_as_utc)]
"""A date-time from the API, always timezone-aware (UTC when the API omits the zone)."""


class _NullAs:
    """``null`` read as ``default()``; any other value validated as the annotated type, straight from the JSON.

    Not a ``BeforeValidator``: a Python function before the type makes pydantic build the Python value of the JSON
    first (a status history's list of dicts, then validated again from those), which cost a run ~2 µs. Here the type
    is read natively with ``null`` let through, then a native check hands only ``None`` to Python. The JSON schema,
    the serialization and every error are the plain type's."""

    def __init__(self, default: Callable[[], Any]) -> None:
        self.default = default

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        plain = handler(source)
        null = core_schema.chain_schema(
            [core_schema.none_schema(), core_schema.no_info_plain_validator_function(lambda _: self.default())]
        )
        return core_schema.chain_schema(
            [
                core_schema.nullable_schema(plain),
                core_schema.union_schema([null, core_schema.any_schema()], mode="left_to_right"),
            ],
            serialization=plain.get("serialization"),
            metadata={"k6bot_plain": plain},
        )

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return handler(schema["metadata"]["k6bot_plain"])  # type: ignore[typeddict-item,index]


# Display-only fields: a null from the API must not make a whole list unreadable.
Text = Annotated[str, _NullAs(str)]
Mapping_ = Annotated[dict[str, Any], _NullAs(dict)]
Flag = Annotated[bool, _NullAs(bool)]


class ApiModel(BaseModel):
    """Base of every API model: tolerant of fields it does not know yet."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    __test__: ClassVar[bool] = False  # "TestRun" & co. are not pytest test classes


T = TypeVar("T", bound=BaseModel)


class Page(ApiModel, Generic[T]):
    """One page of a v6 list response."""

    value: list[T]
    count: int | None = Field(default=None, alias="@count")
    next_link: str | None = Field(default=None, alias="@nextLink")


class ErrorDetail(ApiModel):
    message: str
    code: str
    target: str | None = None


class ErrorBody(ApiModel):
    message: str = ""
    code: str = ""
    target: str | None = None
    details: list[Any] | None = None


class ErrorResponse(ApiModel):
    error: ErrorBody


# --------------------------------------------------------------------------- auth


class AuthenticationResponse(ApiModel):
    stack_id: int
    default_project_id: int


# --------------------------------------------------------------------------- projects


class Project(ApiModel):
    id: int
    name: str
    is_default: bool = False
    grafana_folder_uid: str | None = None
    created: ApiDateTime
    updated: ApiDateTime
    labels: dict[str, Any] = Field(default_factory=dict)


class ProjectLimits(ApiModel):
    project_id: int
    vuh_max_per_month: int | None = None
    vu_max_per_test: int | None = None
    vu_browser_max_per_test: int | None = None
    duration_max_per_test: int | None = None


# --------------------------------------------------------------------------- load tests


class LoadTest(ApiModel):
    id: int
    project_id: int
    name: str
    baseline_test_run_id: int | None = None
    k6_version: int | None = None
    created: ApiDateTime
    updated: ApiDateTime


# --------------------------------------------------------------------------- test runs


class RunStatus(StrEnum):
    """The simple status of a v6 test run."""

    CREATED = "created"
    QUEUED = "queued"
    INITIALIZING = "initializing"
    RUNNING = "running"
    PROCESSING_METRICS = "processing_metrics"
    COMPLETED = "completed"
    ABORTED = "aborted"


FINAL_STATUSES = frozenset({RunStatus.COMPLETED.value, RunStatus.ABORTED.value})
ABORTABLE_STATUSES = frozenset(
    {RunStatus.CREATED.value, RunStatus.QUEUED.value, RunStatus.INITIALIZING.value, RunStatus.RUNNING.value}
)


class RunResult(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"


class StatusExtra(ApiModel):
    by_user: str | None = None
    message: str | None = None
    code: int | None = None


class RunStatusEntry(ApiModel):
    type: str
    entered: ApiDateTime
    extra: StatusExtra | None = None


class CostBreakdown(ApiModel):
    protocol_vuh: float = 0.0
    browser_vuh: float = 0.0
    base_total_vuh: float = 0.0
    reduction_rate: float = 0.0
    reduction_rate_breakdown: dict[str, Any] | None = None


class TestCost(ApiModel):
    total_vuh: float | None = None
    breakdown: CostBreakdown | None = None


class ResultDetails(ApiModel):
    type: str | None = None
    message: str | None = None
    code: int | None = None


class DistributionZone(ApiModel):
    load_zone: str
    percent: float


class RunFacts:
    """What a test run answers about itself, for :class:`TestRun` and the lighter :class:`ListedRun` alike."""

    if TYPE_CHECKING:  # fields of the models below; declared here for type checkers only
        id: int
        status: str
        ended: datetime | None
        execution_duration: float | None

        @property
        def cost(self) -> TestCost | ListedCost | None: ...

        @property
        def status_details(self) -> RunStatusEntry | None: ...

        @property
        def status_history(self) -> list[RunStatusEntry]: ...

    @property
    def is_finished(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def is_abortable(self) -> bool:
        return self.status in ABORTABLE_STATUSES

    @property
    def abort_extra(self) -> StatusExtra | None:
        """What the API says about how an aborted run was aborted (by whom, code, message)."""
        if self.status != RunStatus.ABORTED.value:
            return None
        if self.status_details and self.status_details.extra:
            return self.status_details.extra
        for entry in reversed(self.status_history):
            if entry.type == RunStatus.ABORTED.value and entry.extra:
                return entry.extra
        return None

    def entered(self, status: str) -> datetime | None:
        """When the run entered ``status`` (from the status history), if it did."""
        for entry in self.status_history:
            if entry.type == status:
                return entry.entered
        return None

    @property
    def vuh(self) -> float | None:
        return self.cost.total_vuh if self.cost else None

    def duration_seconds(self, now: datetime | None = None) -> float | None:
        """Seconds the test executed (running until it ended), or so far when it is still going."""
        if self.execution_duration:
            return float(self.execution_duration)
        started = self.entered(RunStatus.RUNNING.value)
        if started is None:
            return None
        end = self.entered(RunStatus.PROCESSING_METRICS.value) or self.ended
        if end is None:
            end = now or datetime.now(UTC)
        return max(0.0, (end - started).total_seconds())


class RunFields(RunFacts, ApiModel):
    """The fields of a test run that :class:`TestRun` and the lighter :class:`ListedRun` both read."""

    id: int
    test_id: int
    project_id: int
    started_by: str | None = None
    created: ApiDateTime
    ended: ApiDateTime | None = None
    note: Text = ""
    status: str
    result: str | None = None
    result_details: dict[str, Any] | None = None
    max_vus: int | None = None
    execution_duration: float | None = None
    is_starred: Flag = False
    test_run_details_page_url: str | None = None

    @field_validator("result")
    @classmethod
    def _result_words(cls, value: str | None) -> str | None:
        # The API's own example says "success" where the field's description says "passed".
        return "passed" if value == "success" else value


class TestRun(RunFields):
    """A test run as `GET /cloud/v6/test_runs/{id}` returns it."""

    retention_expiry: ApiDateTime | None = None
    cost: TestCost | None = None
    status_details: RunStatusEntry | None = None
    status_history: Annotated[list[RunStatusEntry], _NullAs(list)] = Field(default_factory=list)
    distribution: list[DistributionZone] | None = None
    options: dict[str, Any] | None = None
    k6_dependencies: Mapping_ = Field(default_factory=dict)
    k6_versions: Mapping_ = Field(default_factory=dict)
    max_browser_vus: int | None = None
    estimated_duration: float | None = None


class ListedCost(ApiModel):
    """The cost of a listed run: its total only (a summary shows nothing else)."""

    model_config = ConfigDict(extra="ignore")

    total_vuh: float | None = None


class ListedRun(RunFields):
    """A test run as a list of runs shows it: only the fields a :class:`~tools.outputs.RunSummary` needs are read
    (the options, load zones and versions of a hundred runs are skipped, not parsed). ``get_test_run`` reads all."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    cost: ListedCost | None = None
    status_details_json: Any = Field(default=None, validation_alias="status_details", repr=False)
    status_history_json: Annotated[list[Any], _NullAs(list)] = Field(
        default_factory=list, validation_alias="status_history", repr=False
    )
    """The status and its history as the API sent them: read into entries only when asked (:attr:`status_details`,
    :attr:`status_history`)."""

    @cached_property
    def status_details(self) -> RunStatusEntry | None:
        """The current status entry, read on first use (only an aborted run's is looked at); None if it does not read."""
        if self.status_details_json is None:
            return None
        try:
            return RunStatusEntry.model_validate(self.status_details_json)
        except ValidationError:
            return None

    @cached_property
    def status_history(self) -> list[RunStatusEntry]:
        """The status history, read on first use: a listed run needs it only for its duration while it runs
        (a finished run has ``execution_duration``) and for why it was aborted. An entry that does not read is
        left out, as it only feeds those two."""
        entries = []
        for raw in self.status_history_json:
            try:
                entries.append(RunStatusEntry.model_validate(raw))
            except ValidationError:
                continue
        return entries


class StartedTestRun(TestRun):
    """`POST /cloud/v6/load_tests/{id}/start` answers a test run with its details page URL."""


class ZoneNode(ApiModel):
    size: str
    public_ip: str


class ZoneDistribution(ApiModel):
    percentage: float
    nodes: list[ZoneNode] = Field(default_factory=list)


class TestRunDistribution(ApiModel):
    distribution: dict[str, ZoneDistribution]


# --------------------------------------------------------------------------- validate options


class ValidateOptionsResult(ApiModel):
    vuh_usage: float
    breakdown: CostBreakdown


# --------------------------------------------------------------------------- schedules


class Frequency(StrEnum):
    HOURLY = "HOURLY"
    DAILY = "DAILY"
    WEEKLY = "WEEKLY"
    MONTHLY = "MONTHLY"
    YEARLY = "YEARLY"


class Weekday(StrEnum):
    MO = "MO"
    TU = "TU"
    WE = "WE"
    TH = "TH"
    FR = "FR"
    SA = "SA"
    SU = "SU"


class RecurrenceRule(ApiModel):
    frequency: Frequency
    interval: int = Field(default=1, ge=1, description="Every N periods.")
    byday: list[Weekday] | None = Field(default=None, description="Weekdays to run on.")
    until: ApiDateTime | None = Field(default=None, description="No run starts after it.")
    count: int | None = Field(default=None, ge=1, description="Stop after N runs.")


class ScheduleCron(ApiModel):
    schedule: str = Field(max_length=256, description="e.g. '0 3 * * 1-5'.")
    time_zone: str = Field(max_length=128, description="IANA, e.g. 'Europe/Berlin'.")


class Schedule(ApiModel):
    id: int
    load_test_id: int
    starts: ApiDateTime
    recurrence_rule: RecurrenceRule | None = None
    cron: ScheduleCron | None = None
    deactivated: bool = False
    next_run: ApiDateTime | None = None
    created_by: str | None = None


# --------------------------------------------------------------------------- load zones


class LoadZone(ApiModel):
    id: int
    name: str
    k6_load_zone_id: str
    available: bool = True
    custom_load_runner_image: str | None = None
    public: bool = True


class AllowedProject(ApiModel):
    id: int
    name: str


# --------------------------------------------------------------------------- labels


class LabelKey(ApiModel):
    id: int
    key: str
    description: str | None = None


class ProjectLabel(ApiModel):
    key: str
    value: str


class ProjectLabelSet(ApiModel):
    key_id: int
    key: str
    value: str


# --------------------------------------------------------------------------- v5 metrics


class MetricSeries(ApiModel):
    metric: dict[str, str] = Field(default_factory=dict)
    values: list[list[Any]] = Field(default_factory=list)

    @property
    def last_value(self) -> float | None:
        if not self.values or len(self.values[-1]) < 2:
            return None
        try:
            return float(self.values[-1][1])
        except (TypeError, ValueError):
            return None


class MetricData(ApiModel):
    resultType: str = "vector"
    result: list[MetricSeries] = Field(default_factory=list)


class MetricQueryResponse(ApiModel):
    status: str = "success"
    data: MetricData = Field(default_factory=MetricData)


# --------------------------------------------------------------------------- legacy v2


class LegacyRunStatus:
    """`run_status` codes of the legacy v2 API."""

    CREATED = -2
    VALIDATED = -1
    QUEUED = 0
    INITIALIZING = 1
    RUNNING = 2
    FINISHED = 3
    TIMED_OUT = 4
    ABORTED_BY_USER = 5
    ABORTED_BY_SYSTEM = 6
    ABORTED_BY_SCRIPT_ERROR = 7
    ABORTED_BY_THRESHOLD = 8
    ABORTED_BY_LIMIT = 9

    NAMES: ClassVar[dict[int, str]] = {
        -2: "created",
        -1: "validated",
        0: "queued",
        1: "initializing",
        2: "running",
        3: "finished",
        4: "timed out",
        5: "aborted by user",
        6: "aborted by system",
        7: "aborted by script error",
        8: "aborted by threshold",
        9: "aborted by limit",
    }


class LegacyRun(ApiModel):
    """A `k6-run` object of the legacy v2 API."""

    id: int
    test_id: int | None = None
    project_id: int | None = None
    organization_id: int | None = None
    user_id: int | None = None
    created: ApiDateTime | None = None
    started: ApiDateTime | None = None
    ended: ApiDateTime | None = None
    duration: int | None = None
    vus: int | None = None
    note: str | None = ""
    run_status: int
    result_status: int | None = None
    processing_status: int | None = None
    error_code: int | None = None
    error_detail: str | None = None
    run_process: str | None = None
    stopped_by_id: int | None = None
    is_baseline: bool | None = None
    public_id: str | int | None = None

    @property
    def run_status_name(self) -> str:
        return LegacyRunStatus.NAMES.get(self.run_status, f"status {self.run_status}")


class LegacyRunEnvelope(ApiModel):
    run: LegacyRun = Field(alias="k6-run")


class LegacyRunList(ApiModel):
    runs: list[LegacyRun] = Field(alias="k6-runs")
    meta: dict[str, Any] = Field(default_factory=dict)
