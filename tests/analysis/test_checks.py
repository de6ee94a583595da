from tools.analysis.checks import checks_layer
from tools.analysis.thresholds import ThresholdState, ThresholdVerdict


def verdict(metric: str) -> ThresholdVerdict:
    return ThresholdVerdict(
        threshold=f"{metric}: rate>0.9",
        metric=metric,
        selector="",
        measured=0.5,
        state=ThresholdState.CROSSED,
        headroom_pct=-44.0,
        abort_on_fail=False,
    )


def test_failing_checks_without_a_checks_threshold_are_said_plainly():
    layer = checks_layer({"status is 200": 1.0, "has token": 0.04}, [verdict("http_req_failed")])
    assert layer.failing == ["has token"]
    assert layer.checks[0].check == "has token"
    assert layer.note is not None and "no threshold watches" in layer.note


def test_watched_or_passing_checks_have_no_note():
    assert checks_layer({"has token": 0.04}, [verdict("checks")]).note is None
    assert checks_layer({"ok": 1.0}, []).failing == []
