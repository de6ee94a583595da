"""The toolset names, without loading the registry: what `k6bot mcp` checks and says before it builds its tools.

The registry (``tools.registry``) is the truth; this table repeats its group names so that the stdio server can
refuse an unknown toolset and write its ``instructions`` at start, before any operation is imported.
``tests/test_imports.py`` fails when the two differ.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from tools.errors import InvalidInput

TOOLSETS = ("account", "labels", "legacy", "load_zones", "projects", "runs", "schedules", "tests")
"""Every group of operations. Each also holds operations outside ``core``, so each can be enabled on its own."""


def wanted_toolsets(toolsets: Iterable[str] | None) -> set[str]:
    """``["Tests ", "runs"]`` → ``{"tests", "runs"}``; nothing → ``{"core"}``."""
    return {t.strip().lower() for t in (toolsets or ["core"]) if t.strip()} or {"core"}


def check_toolsets(wanted: Collection[str], known: Collection[str] = TOOLSETS) -> None:
    """Raise :class:`InvalidInput` naming every unknown toolset and the known ones."""
    unknown = set(wanted) - set(known) - {"all", "core"}
    if unknown:
        raise InvalidInput(
            f"Unknown toolset(s): {', '.join(sorted(unknown))}. Known: all, core, {', '.join(sorted(known))}."
        )


def hidden_toolsets(toolsets: Iterable[str] | None) -> list[str]:
    """The toolsets with operations that ``toolsets`` does not offer (what the instructions say can be enabled)."""
    wanted = wanted_toolsets(toolsets)
    check_toolsets(wanted)
    return [] if "all" in wanted else [group for group in TOOLSETS if group not in wanted]
