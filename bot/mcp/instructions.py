"""The server ``instructions``: how an assistant uses k6bot's tools together."""

from __future__ import annotations

WORKFLOW = """\
k6bot operates Grafana Cloud k6 load tests.

A load_test argument takes an id, a name or words naming the test; a project, an id or a name. In a list or a \
search, either narrows it to that test or project.

Typical flow:
1. Find the test: find_load_tests with the person's words ("orders soak"), or list_load_tests. start_load_test \
also takes words, but a phrase that fits several tests starts nothing and returns the candidates: ask the person \
which one they mean and call again with its id.
2. Start it: start_load_test. Starting costs VUH and sends real traffic, so k6bot asks the person to confirm, \
showing the last run's result, duration and cost. If your client cannot show that question, the call returns \
the preview instead: show it to the person, and only if they agree call again with confirm: true.
3. Follow it: wait_for_test_run with the new run's id reports progress and returns the result, duration, cost, \
abort reason and link when the run finishes (or where it stands when the timeout passes; the run goes on).
4. Report: summarize the result for the person and include the link.

Stop a run with abort_test_run (also confirmed by the person). See what is running with \
list_test_runs status=["active"]. Lists return compact summaries, newest first, with a limit (default 20) and a \
next_cursor: pass it as cursor for the next page. get_* tools return the full object.
Tools that need approval answer with an outcome: done (see result; repeat is true when an identical confirmed \
call already did it), needs_confirmation (see preview), declined, cancelled, or ambiguous (see candidates).
A decline means no: do not retry the same action unless the person asks again.
Resources: k6://test-runs/{id} (a run's summary and JSON), k6://load-tests/{id}/script (a test's script)."""


def server_instructions(*, toolsets: list[str], read_only: bool, demo: bool, hidden_groups: list[str]) -> str:
    parts = [WORKFLOW]
    if read_only:
        parts.append(
            "This server is read-only (K6BOT_READ_ONLY / --read-only): it lists and runs read tools only; "
            "starting, aborting and changing things is not available."
        )
    if hidden_groups:
        parts.append(
            f"Enabled toolsets: {', '.join(toolsets)}. Others exist ({', '.join(hidden_groups)}); "
            "the person can enable them with --toolsets or K6BOT_TOOLSETS."
        )
    if demo:
        parts.append(
            "DEMO MODE: no K6_CLOUD_TOKEN is set, so k6bot runs on its built-in k6 Cloud simulator with sample "
            "data. Nothing reaches Grafana Cloud; say so when you report results."
        )
    return "\n\n".join(parts)
