"""The shared tool layer of k6bot: one typed client for the Grafana Cloud k6 API and every operation on it.

Example (K6_CLOUD_TOKEN, K6_CLOUD_STACK_ID and K6_CLOUD_API_URL come from the environment)::

    async with connect() as toolbox:
        print((await toolbox.execute("list_load_tests", {})).text())
        preview = await toolbox.prepare("start_load_test", {"load_test": "orders soak test"})
        print(preview.text())  # what a person confirms
        started = await toolbox.execute("start_load_test", preview.arguments, confirmed=True)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tools.config import K6CloudSettings
    from tools.registry import Toolbox

__all__ = ["connect"]


@asynccontextmanager
async def connect(settings: K6CloudSettings | None = None, **client_options: Any) -> AsyncIterator[Toolbox]:
    """A :class:`~tools.registry.Toolbox` on a client for ``settings`` (default: from the environment)."""
    from tools.client import K6CloudClient
    from tools.registry import Toolbox

    async with K6CloudClient(settings, **client_options) as client:
        yield Toolbox(client)
