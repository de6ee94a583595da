"""The operations reference (docs/operations.md), generated from the registry.

python -m tools.docs > docs/operations.md
"""

from __future__ import annotations

from tools.registry import Safety, get_registry

GROUP_TITLES = {
    "tests": "Load tests",
    "runs": "Test runs",
    "projects": "Projects and limits",
    "schedules": "Schedules",
    "load_zones": "Load zones",
    "labels": "Labels",
    "account": "Account",
    "legacy": "Legacy v2 runs API",
}


def render() -> str:
    registry = get_registry()
    lines = [
        "# Operations",
        "",
        "Every operation k6bot can run, generated from the registry (`python -m tools.docs > docs/operations.md`).",
        "The same names are MCP tools; Slack and the terminal reach the common ones through plain commands.",
        "",
        "Safety classes: **read** (free), **write** (notes, stars), **run** (starts load: costs VUH and sends",
        "traffic), **stop** (aborts a run), **admin** (creates, changes or deletes). Run, stop and admin operations",
        "always ask a person to confirm first. `core` marks the default MCP toolset.",
        "",
    ]
    order = list(GROUP_TITLES)
    groups = registry.groups()
    for group in sorted(groups, key=lambda g: order.index(g) if g in order else len(order)):
        lines += [
            f"## {GROUP_TITLES.get(group, group)} (`{group}`)",
            "",
            "| Operation | Safety | What it does | API |",
            "|---|---|---|---|",
        ]
        for op in groups[group]:
            flags = [op.safety.value]
            if op.core:
                flags.append("core")
            if op.deprecated:
                flags.append("deprecated")
            endpoints = "<br>".join(f"`{e.method} {e.path}`" for e in op.endpoints)
            summary = op.summary.replace("|", "\\|")
            lines.append(f"| `{op.name}` | {', '.join(flags)} | {summary} | {endpoints} |")
        lines.append("")
    counts = {s.value: sum(1 for op in registry if op.safety is s) for s in Safety}
    lines.append(f"{len(registry)} operations: " + ", ".join(f"{n} {k}" for k, n in counts.items()) + ".")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
