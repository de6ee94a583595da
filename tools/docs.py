"""The operations reference (docs/operations.md), generated from the registry.

python -m tools.docs > docs/operations.md
"""

from __future__ import annotations

from tools.phrasing import CREATE, DELETE, LIST, RENAME, SET, SHOW, Verb
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
        "The same names are MCP tools; in Slack (`/k6 …`) and the terminal (`k6bot chat`) every one is reached",
        "through plain words — *Say it* shows what to type, *Verbs* the words it answers to (typos are forgiven).",
        '`k6bot explain "<text>" --json` shows what a text means without doing it.',
        "",
        "Safety classes: **read** (free), **write** (notes, stars), **run** (starts load: costs VUH and sends",
        "traffic), **stop** (aborts a run), **admin** (creates, changes or deletes). Run, stop and admin operations",
        "always ask a person to confirm first. `core` marks the default MCP toolset. `reconciled` marks a write",
        "that cannot simply be repeated: when its answer is lost (timeout, reset, 5xx, unreadable body) k6bot looks",
        'for what the attempt made and reports it done, says "not done" only when k6 Cloud shows nothing happened,',
        "and otherwise says the outcome is unknown.",
        "",
    ]
    order = list(GROUP_TITLES)
    groups = registry.groups()
    for group in sorted(groups, key=lambda g: order.index(g) if g in order else len(order)):
        lines += [
            f"## {GROUP_TITLES.get(group, group)} (`{group}`)",
            "",
            "| Operation | Safety | What it does | Say it | Verbs | API |",
            "|---|---|---|---|---|---|",
        ]
        for op in groups[group]:
            flags = [op.safety.value]
            if op.core:
                flags.append("core")
            if op.reconciler is not None:
                flags.append("reconciled")
            if op.deprecated:
                flags.append("deprecated")
            endpoints = "<br>".join(f"`{e.method} {e.path}`" for e in op.endpoints)
            summary = _cell(op.summary)
            examples = "<br>".join(f"`{_cell(text)}`" for text in list(op.phrases.examples)[:3])
            verbs = _verbs(op.phrases.verbs)
            lines.append(f"| `{op.name}` | {', '.join(flags)} | {summary} | {examples} | {verbs} | {endpoints} |")
        lines.append("")
    counts = {s.value: sum(1 for op in registry if op.safety is s) for s in Safety}
    lines.append(f"{len(registry)} operations: " + ", ".join(f"{n} {k}" for k, n in counts.items()) + ".")
    return "\n".join(lines) + "\n"


def _verbs(verbs: tuple[str | Verb, ...]) -> str:
    """The operation's own verbs first; the shared ones (show, list, delete, set…) only by their first word."""
    words = [v if isinstance(v, str) else v.text for v in verbs]
    shared = [(name, group) for name, group in _SHARED if any(w in group for w in words)]
    own = [w for w in words if not any(w in group for _, group in _SHARED)]
    return ", ".join([*(_cell(w) for w in own[:8]), *(f"{name}…" for name, _ in shared)])


_SHARED = (("show", SHOW), ("list", LIST), ("delete", DELETE), ("create", CREATE), ("set", SET), ("rename", RENAME))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


if __name__ == "__main__":
    print(render(), end="")
