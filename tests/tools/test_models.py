"""Response models: what a null or an odd value from the API reads as, and the schemas and errors they keep."""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

import pytest
from pydantic import ValidationError

from tools.models import ListedRun, TestRun

RUN = {"id": 7, "test_id": 2, "project_id": 3, "created": "2026-01-01T00:00:00", "status": "completed"}
NULLS = {"note": None, "is_starred": None, "k6_versions": None, "k6_dependencies": None, "status_history": None}


@pytest.mark.parametrize("source", ["json", "python"])
def test_nulls_from_the_api_read_as_the_fields_defaults(source: str) -> None:
    body = {**RUN, **NULLS, "result": "success"}
    run = TestRun.model_validate_json(json.dumps(body)) if source == "json" else TestRun.model_validate(body)
    assert (run.note, run.is_starred, run.k6_versions, run.k6_dependencies, run.status_history) == (
        "",
        False,
        {},
        {},
        [],
    )
    assert run.result == "passed"  # the API's example word for what its description calls "passed"
    assert run.created.tzinfo is UTC  # a date-time without a zone is UTC
    listed = ListedRun.model_validate_json(json.dumps({**RUN, "note": None, "status_history": None}))
    assert (listed.note, listed.status_history) == ("", [])


def test_values_are_kept_as_sent() -> None:
    body = {
        **RUN,
        "note": "soak",
        "is_starred": True,
        "k6_versions": {"k6": "v1"},
        "result": "failed",
        "status_history": [{"type": "created", "entered": "2026-01-01T00:00:00+02:00"}],
    }
    run = TestRun.model_validate_json(json.dumps(body))
    assert (run.note, run.is_starred, run.k6_versions, run.result) == ("soak", True, {"k6": "v1"}, "failed")
    assert run.status_history[0].entered.utcoffset() is not None
    assert run.status_history[0].entered.isoformat() == "2026-01-01T00:00:00+02:00"
    assert json.loads(run.model_dump_json())["note"] == "soak"


@pytest.mark.parametrize(
    ("field", "value", "loc", "kind"),
    [
        ("note", 5, ("note",), "string_type"),
        ("is_starred", "maybe", ("is_starred",), "bool_parsing"),
        ("is_starred", [], ("is_starred",), "bool_type"),
        ("k6_versions", [], ("k6_versions",), "dict_type"),
        ("status_history", 5, ("status_history",), "list_type"),
        (
            "status_history",
            [{"type": 1, "entered": "2026-01-01T00:00:00Z"}],
            ("status_history", 0, "type"),
            "string_type",
        ),
        ("result", 3, ("result",), "string_type"),
    ],
)
def test_a_value_that_does_not_fit_gets_the_plain_types_error(
    field: str, value: Any, loc: tuple[Any, ...], kind: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        TestRun.model_validate_json(json.dumps({**RUN, field: value}))
    errors = caught.value.errors()
    assert [(e["loc"], e["type"]) for e in errors] == [(loc, kind)]


def test_the_json_schema_of_a_null_tolerant_field_is_the_plain_types() -> None:
    properties = TestRun.model_json_schema()["properties"]
    assert properties["note"] == {"default": "", "title": "Note", "type": "string"}
    assert properties["is_starred"] == {"default": False, "title": "Is Starred", "type": "boolean"}
    assert properties["k6_versions"] == {"additionalProperties": True, "title": "K6 Versions", "type": "object"}
    assert properties["status_history"]["type"] == "array"
    assert "anyOf" not in properties["status_history"]
