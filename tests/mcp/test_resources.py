"""Resources: a test run and a load test's script, with readable errors."""

from __future__ import annotations

import pytest
from mcp.shared.exceptions import MCPError

from tests.mcp.conftest import connect


async def test_templates_are_listed(server, protocol: str) -> None:
    async with connect(server, protocol) as client:
        templates = (await client.list_resource_templates()).resource_templates

    assert {t.uri_template for t in templates} == {
        "k6://test-runs/{test_run_id}",
        "k6://load-tests/{load_test_id}/script",
    }


async def test_a_run_resource_has_the_summary_and_the_json(server, protocol: str) -> None:
    async with connect(server, protocol) as client:
        contents = (await client.read_resource("k6://test-runs/1234")).contents

    (content,) = contents
    text = content.text  # type: ignore[union-attr]
    assert text.startswith("Test run 1234 of Orders API Soak Test: running")
    assert '"test_run_details_page_url"' in text
    assert content.mime_type == "text/markdown"


async def test_a_script_resource_is_the_javascript(server) -> None:
    async with connect(server, "legacy") as client:
        (content,) = (await client.read_resource("k6://load-tests/501/script")).contents

    assert content.mime_type == "text/javascript"
    assert "export default function" in content.text  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("uri", "sentence"),
    [("k6://test-runs/987654", "Test run 987654 not found."), ("k6://test-runs/abc", "'abc' is not a test run id")],
)
async def test_a_missing_run_is_a_readable_error(server, uri: str, sentence: str) -> None:
    async with connect(server, "legacy") as client:
        with pytest.raises(MCPError) as caught:
            await client.read_resource(uri)

    assert str(caught.value.error.message).startswith(sentence)
