"""Schedule operations: when load tests run on their own."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import Field, model_validator

from tools.models import ApiDateTime, RecurrenceRule, Schedule, ScheduleCron
from tools.operations.common import Listing, LoadTestInput, LoadTestRef, PageInput, page_of
from tools.outputs import Done, recurrence_words
from tools.phrasing import DELETE, LIST, SHOW, Phrases
from tools.registry import Endpoint, InputModel, OpContext, Safety, operation

SCHEDULE_NOT_FOUND = "Schedule {schedule_id} not found."


class ScheduleInput(InputModel):
    schedule_id: int = Field(ge=1, description="Schedule id.")


@operation(
    name="list_schedules",
    title="List schedules",
    group="schedules",
    safety=Safety.READ,
    idempotent=True,
    endpoints=[Endpoint("GET", "/cloud/v6/schedules")],
    phrases=Phrases(
        verbs=(*LIST, "what", "which", "when", "is there"),
        nouns=(
            "schedules",
            "scheduled tests",
            "scheduled runs",
            "all schedules",
            "schedule list",
            "scheduled",
            "every schedule",
            "upcoming",
            "upcoming runs",
            "each schedule",
            "all the schedules",
            "schedules set up",
            "schedules configured",
            "schedules are set up",
            "schedules in place",
            "on the schedule",
            "on the calendar",
            "coming up",
        ),
        examples={"list schedules": {}, "what is scheduled": {}},
        template="list schedules",
    ),
    description="""
    List every schedule: load test, start, recurrence, next run, whether deactivated.
    """,
)
async def list_schedules(ctx: OpContext, args: PageInput) -> Listing[Schedule]:
    return await page_of(ctx, Schedule, "/cloud/v6/schedules", limit=args.limit, cursor=args.cursor)


@operation(
    name="get_schedule",
    title="Get a schedule",
    group="schedules",
    safety=Safety.READ,
    idempotent=True,
    endpoints=[Endpoint("GET", "/cloud/v6/schedules/{id}")],
    errors={404: SCHEDULE_NOT_FOUND},
    phrases=Phrases(
        verbs=(*SHOW, "when is", "when does", "when will"),
        nouns=(
            "schedule",
            "details",
            "info",
            "information",
            "next due",
            "due",
        ),
        examples={"show schedule 2": {"schedule_id": 2}},
        template="show {schedule_id}",
        bare=True,
    ),
    description="""
    Get one schedule by id.
    """,
)
async def get_schedule(ctx: OpContext, args: ScheduleInput) -> Schedule:
    return await ctx.get(Schedule, f"/cloud/v6/schedules/{args.schedule_id}")


@operation(
    name="get_load_test_schedule",
    title="Get a load test's schedule",
    group="schedules",
    safety=Safety.READ,
    idempotent=True,
    endpoints=[Endpoint("GET", "/cloud/v6/load_tests/{id}/schedule")],
    errors={404: "Load test '{load_test_name}' has no schedule."},
    phrases=Phrases(
        verbs=(*SHOW, "when does", "when will", "when is", "when's", "whens", "is"),
        nouns=(
            "schedule",
            "next run",
            "next",
            "run next",
            "scheduled",
            "scheduled to run",
            "scheduled to start",
            "scheduled for",
            "scheduled",
        ),
        examples={
            "schedule of orders smoke": {"load_test": "orders smoke"},
            "when does test 502 run next": {"load_test": 502},
        },
        template="show the schedule of {load_test}",
    ),
    description="""
    Get the schedule of a load test, if it has one.
    """,
)
async def get_load_test_schedule(ctx: OpContext, args: LoadTestInput) -> Schedule:
    return await ctx.get(Schedule, f"/cloud/v6/load_tests/{args.load_test}/schedule")


class SetScheduleInput(InputModel):
    load_test: LoadTestRef
    starts: ApiDateTime = Field(description="When the first run starts.")
    recurrence_rule: RecurrenceRule | None = Field(default=None, description="How it repeats.")
    cron: ScheduleCron | None = Field(default=None, description="Or a cron expression.")

    @model_validator(mode="after")
    def _one_rule(self) -> SetScheduleInput:
        if self.recurrence_rule is not None and self.cron is not None:
            raise ValueError("give recurrence_rule or cron, not both")
        return self


def _schedule_confirmation(values: Mapping[str, Any]) -> str:
    starts = values.get("starts")
    how = recurrence_words(
        values.get("recurrence_rule"), values.get("cron"), starts if isinstance(starts, datetime) else None
    )
    return (
        f"Schedule load test '{values.get('load_test_name')}' (id {values.get('load_test_id')}): {how}? "
        "Each scheduled run costs VUH; this replaces any existing schedule."
    )


@operation(
    name="set_load_test_schedule",
    title="Schedule a load test",
    group="schedules",
    safety=Safety.ADMIN,
    idempotent=True,
    destructive=True,
    endpoints=[Endpoint("POST", "/cloud/v6/load_tests/{id}/schedule")],
    confirm=_schedule_confirmation,
    errors={404: "Load test {load_test} not found.", 400: "k6 Cloud refused the schedule: {api_message}."},
    phrases=Phrases(
        verbs=(
            "schedule",
            "set up a schedule for",
            "reschedule",
            "plan",
            "set the schedule of",
            "set schedule of",
            "run",
            "set up",
        ),
        nouns=("schedule",),
        examples={
            "schedule orders soak every night at 2am": {"load_test": "orders soak"},
            "schedule checkout spike weekdays at 9:30": {"load_test": "checkout spike"},
            "schedule test 502 every 6 hours": {"load_test": 502},
            'schedule orders smoke "0 2 * * 1-5"': {"load_test": "orders smoke"},
        },
        template="schedule {load_test} every day at 2am",
    ),
    description="""
    Schedule a load test to start at a time, once or repeating, replacing its schedule. Each run costs VUH.
    """,
)
async def set_load_test_schedule(ctx: OpContext, args: SetScheduleInput) -> Schedule:
    body = args.model_dump(mode="json", include={"starts", "recurrence_rule", "cron"}, exclude_none=True)
    return await ctx.send_model(
        Schedule, "POST", f"/cloud/v6/load_tests/{args.load_test}/schedule", idempotent=True, json=body
    )


@operation(
    name="delete_schedule",
    title="Delete a schedule",
    group="schedules",
    safety=Safety.ADMIN,
    idempotent=True,
    destructive=True,
    endpoints=[Endpoint("DELETE", "/cloud/v6/schedules/{id}")],
    confirm="Delete schedule {schedule_id}? Its load test stops running on its own.",
    errors={404: SCHEDULE_NOT_FOUND},
    phrases=Phrases(
        # "cancel schedule 1" is also a deactivation's verb: the two readings tie and the answer offers both
        verbs=(*DELETE, "unschedule", "cancel"),
        nouns=(
            "schedule",
            "for good",
            "permanently",
            "forever",
        ),
        examples={"delete schedule 3": {"schedule_id": 3}, "remove the schedule of orders smoke": {}},
        template="delete {schedule_id}",
        needs_noun=True,
    ),
    description="""
    Delete a schedule: its load test no longer starts on its own.
    """,
)
async def delete_schedule(ctx: OpContext, args: ScheduleInput) -> Done:
    await ctx.send("DELETE", f"/cloud/v6/schedules/{args.schedule_id}", idempotent=True)
    return Done(message=f"Schedule {args.schedule_id} deleted.", id=args.schedule_id)


@operation(
    name="activate_schedule",
    title="Re-activate a schedule",
    group="schedules",
    safety=Safety.ADMIN,
    idempotent=True,
    endpoints=[Endpoint("POST", "/cloud/v6/schedules/{id}/activate")],
    confirm="Re-activate schedule {schedule_id}? Its load test starts running on its own again (costs VUH).",
    errors={404: SCHEDULE_NOT_FOUND, 409: "Schedule {schedule_id} has expired and cannot be re-activated."},
    phrases=Phrases(
        verbs=(
            "activate",
            "reactivate",
            "re-activate",
            "enable",
            "resume",
            "turn on",
            "unpause",
            "turn … on",
            "turn … back on",
            "switch … on",
            "switch … back on",
            "flip … on",
            "flip … back on",
            "put … back on",
        ),
        nouns=(
            "schedule",
            "back on",
        ),
        examples={"activate schedule 2": {"schedule_id": 2}, "resume the schedule of payments gateway load": {}},
        template="activate {schedule_id}",
        needs_noun=True,
    ),
    description="""
    Re-activate a deactivated schedule that has a future run. Its runs cost VUH.
    """,
)
async def activate_schedule(ctx: OpContext, args: ScheduleInput) -> Done:
    await ctx.send("POST", f"/cloud/v6/schedules/{args.schedule_id}/activate", idempotent=True)
    return Done(message=f"Schedule {args.schedule_id} re-activated.", id=args.schedule_id)


@operation(
    name="deactivate_schedule",
    title="Deactivate a schedule",
    group="schedules",
    safety=Safety.ADMIN,
    idempotent=True,
    endpoints=[Endpoint("POST", "/cloud/v6/schedules/{id}/deactivate")],
    confirm="Deactivate schedule {schedule_id}? Its load test stops starting on its own until re-activated.",
    errors={404: SCHEDULE_NOT_FOUND},
    phrases=Phrases(
        verbs=(
            "deactivate",
            "disable",
            "pause",
            "suspend",
            "turn off",
            "stop",
            "cancel",
            "turn … off",
            "switch … off",
            "flip … off",
        ),
        nouns=("schedule",),
        examples={"deactivate schedule 1": {"schedule_id": 1}, "pause the schedule of orders smoke": {}},
        template="deactivate {schedule_id}",
        needs_noun=True,
    ),
    description="""
    Deactivate a schedule (kept): no scheduled runs until re-activated.
    """,
)
async def deactivate_schedule(ctx: OpContext, args: ScheduleInput) -> Done:
    await ctx.send("POST", f"/cloud/v6/schedules/{args.schedule_id}/deactivate", idempotent=True)
    return Done(message=f"Schedule {args.schedule_id} deactivated.", id=args.schedule_id)
