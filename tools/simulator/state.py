"""The simulator: all simulated Grafana Cloud k6 data, its lifecycle, and the request log."""

from __future__ import annotations

from datetime import datetime

from .core import DEFAULT_STACK_URL, Store, locked
from .demo import load_demo
from .ops_labels import LabelOps
from .ops_load_tests import LoadTestOps
from .ops_metrics import MetricsOps
from .ops_projects import ProjectOps
from .ops_runs import RunOps
from .ops_schedules import ScheduleOps
from .ops_zones import ZoneOps
from .recording import RecordedRequest


class Simulator(ProjectOps, LabelOps, ZoneOps, LoadTestOps, ScheduleOps, RunOps, MetricsOps):
    """A simulated Grafana Cloud k6 stack (thread-safe).

    ``token``: when set, the only accepted API token (otherwise any non-empty token). ``stack_id``: when
    set, the only accepted ``X-Stack-Id`` (others get 403). ``speed``: simulated seconds per real second
    (0 freezes time; drive it with ``clock.advance``). ``demo``: load the deterministic demo data.
    ``user_email``: the user the token belongs to (``started_by``, ``by_user`` of aborts).
    ``max_saved_runs``: the saved-runs limit. ``start``: the clock origin (default now).
    ``stack_url``: base of ``test_run_details_page_url``, and (when ``stack_id`` is set) the only
    ``X-Stack-Url`` that ``GET /cloud/v6/auth`` accepts (others get 403).

    Switches, plain attributes that tests may set at any time (the defaults keep the lenient behaviour):

    ``runs_newest_first`` (False): serve ``GET /cloud/v6/test_runs`` newest first (its order is undocumented).
    ``timestamps_in_whole_seconds`` (False): every date-time the API returns (``created``, ``updated``,
    ``ended``, ``entered``, ``retention_expiry``, ``starts``, ``next_run``, legacy ``started``, ...) is
    truncated to whole seconds (``2024-06-01T19:00:00Z``, as in the docs' examples). Records keep their
    exact times, so several runs may share one displayed second, and the ``created_after``/``created_before``
    filters and ``$orderby`` still use the exact times.
    ``count_supported`` (True): when False, list responses never carry ``@count``, even with ``$count=true``
    (paging and ``@nextLink`` are unchanged).
    ``page_url_on_start_only`` (False): when True, ``test_run_details_page_url`` appears only in the
    ``POST /cloud/v6/load_tests/{id}/start`` response (StartLoadTestResponse; :meth:`start_run` too), not in
    run objects from GET or lists (TestRunApiModel has no such field).

    Operations raise :class:`~tools.simulator.errors.ApiError` (with the HTTP status the API would answer).
    """

    def __init__(
        self,
        token: str | None = None,
        stack_id: int | None = None,
        speed: float = 1.0,
        demo: bool = True,
        user_email: str = "you@example.com",
        max_saved_runs: int = 50,
        start: datetime | None = None,
        stack_url: str = DEFAULT_STACK_URL,
    ) -> None:
        super().__init__(
            token=token,
            stack_id=stack_id,
            speed=speed,
            user_email=user_email,
            max_saved_runs=max_saved_runs,
            start=start,
            stack_url=stack_url,
        )
        self.reset(demo)

    @locked
    def reset(self, demo: bool = True) -> None:
        """Fresh state (the clock keeps running): data, request log and faults are cleared."""
        self.store = Store()
        self.faults.clear()
        self._log.clear()
        self.add_public_zones()
        if demo:
            load_demo(self)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every API request received so far (``/_sim`` control calls excluded)."""
        return self._log.snapshot()

    def count(self, method: str, path_regex: str) -> int:
        """How many recorded requests have ``method`` and a path matching ``path_regex`` (fullmatch)."""
        return self._log.count(method, path_regex)

    def clear_requests(self) -> None:
        self._log.clear()

    def keep_requests(self, limit: int) -> None:
        """Keep only the latest ``limit`` requests in the log from now on (default
        :data:`~tools.simulator.recording.DEFAULT_LOG_SIZE`)."""
        self._log.resize(limit)

    def record_request(self, request: RecordedRequest) -> None:
        """Append to the request log (used by the HTTP layer)."""
        self._log.append(request)
