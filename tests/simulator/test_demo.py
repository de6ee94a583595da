"""The demo data: deterministic and covering every run state."""

from __future__ import annotations

from collections import Counter

from tools.simulator import Simulator

from .conftest import START


def test_demo_tests_and_projects(sim: Simulator) -> None:
    assert [(p.id, p.name, p.is_default) for p in sim.find_projects()] == [
        (77, "Default project", True),
        (78, "Payments", False),
        (79, "Platform", False),
    ]
    tests = {t.id: t.name for t in sim.find_load_tests()}
    assert tests[501] == "Orders API Soak Test" and tests[502] == "Orders API Smoke" and len(tests) == 10
    assert sim.load_test(501)["project_id"] == 77


def test_run_1234_is_the_running_soak_test(sim: Simulator) -> None:
    run = sim.run(1234)
    assert (run["status"], run["test_id"], run["max_vus"], run["estimated_duration"]) == (
        "running",
        501,
        50,
        1800,
    )


def test_every_state_is_present(sim: Simulator) -> None:
    runs = [sim.run(r.id) for r in sim.find_runs()]
    states = Counter((r["status"], r["result"]) for r in runs)
    for status in ("created", "queued", "initializing", "running", "processing_metrics"):
        assert states[(status, None)] == 1, status
    assert states[("completed", "passed")] and states[("completed", "failed")]
    reasons = {r["status_details"]["extra"]["code"] for r in runs if r["status"] == "aborted"}
    assert reasons == {5, 6, 7, 8}  # user, system, script error, threshold
    assert {r["started_by"] for r in runs} >= {None, "maria.garcia@example.com", "devops@example.com"}


def test_demo_is_deterministic() -> None:
    one = Simulator(speed=0, start=START)
    two = Simulator(speed=0, start=START)
    assert [one.run(r.id) for r in one.find_runs()] == [two.run(r.id) for r in two.find_runs()]


def test_ids_continue_after_the_demo(sim: Simulator) -> None:
    assert sim.start_run(502)["id"] == 1239
    assert sim.add_project("New")["id"] == 80
    assert sim.add_load_test(77, "New test")["id"] == 511


def test_empty_mode(sim: Simulator) -> None:
    sim.reset(demo=False)
    assert sim.find_projects() == [] and sim.find_load_tests() == [] and sim.find_runs() == []
    assert sim.list_load_zones()  # public load zones always exist


def test_list_runs_and_run_ids(sim: Simulator) -> None:
    assert sim.run_ids()[0] == 1184 and sim.run_ids()[-1] == 1238
    runs = sim.list_runs(501)
    assert [run["id"] for run in runs] == [*range(1184, 1201), 1201, 1205, 1211, 1217, 1223, 1230, 1234]
    assert len(sim.list_runs()) == len(sim.run_ids())
