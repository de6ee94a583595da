"""Resources: a test run (``k6://test-runs/{id}``) and a load test's script (``k6://load-tests/{id}/script``)."""

from __future__ import annotations

import json

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError

from tools.errors import InvalidInput, K6BotError, NotFound
from tools.models import TestRun
from tools.outputs import RunSummary, ScriptFile
from tools.registry import Toolbox

RUN_URI = "k6://test-runs/{test_run_id}"
SCRIPT_URI = "k6://load-tests/{load_test_id}/script"


def _id(value: str, what: str) -> int:
    text = value.strip()
    if not text.isdigit() or int(text) < 1:
        raise ResourceNotFoundError(f"'{value}' is not a {what} id: use a number, e.g. k6://test-runs/1234.")
    return int(text)


def _resource_error(exc: K6BotError) -> ResourceError:
    if isinstance(exc, NotFound | InvalidInput):
        return ResourceNotFoundError(str(exc))
    return ResourceError(str(exc))


def register_resources(server: MCPServer, toolbox: Toolbox) -> None:
    @server.resource(
        RUN_URI,
        name="test_run",
        title="Test run",
        description="A test run: its summary (status, result, duration, cost, link) and the full JSON.",
        mime_type="text/markdown",
    )
    async def test_run(test_run_id: str) -> str:
        run_id = _id(test_run_id, "test run")
        try:
            run = await toolbox.execute("get_test_run", {"test_run_id": run_id})
        except K6BotError as exc:
            raise _resource_error(exc) from None
        assert isinstance(run, TestRun)
        summary = RunSummary.from_run(run, await toolbox.catalog.display_name(run.test_id)).text()
        return f"{summary}\n\n```json\n{json.dumps(run.model_dump(mode='json'), indent=2)}\n```\n"

    @server.resource(
        SCRIPT_URI,
        name="load_test_script",
        title="Load test script",
        description="The current k6 script of a load test.",
        mime_type="text/javascript",
    )
    async def load_test_script(load_test_id: str) -> str:
        test_id = _id(load_test_id, "load test")
        try:
            script = await toolbox.execute("get_load_test_script", {"load_test": test_id})
        except K6BotError as exc:
            raise _resource_error(exc) from None
        assert isinstance(script, ScriptFile)
        if script.is_archive or script.script is None:
            return (
                f"// The script of load test {test_id} is a k6 .tar archive ({script.size_bytes} bytes); "
                "get it with the get_load_test_script tool.\n"
            )
        return script.script
