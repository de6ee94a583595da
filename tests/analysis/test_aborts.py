from tools.analysis.aborts import AbortSide, classify_abort
from tools.models import StatusExtra


def test_lifetime_abort_is_the_platform():
    cause = classify_abort(StatusExtra(code=6, message="aborted by system: the test run exceeded its maximum lifetime"))
    assert cause.side is AbortSide.PLATFORM
    assert "not your script's fault" in cause.explanation


def test_script_error_and_threshold_are_the_script():
    assert classify_abort(StatusExtra(code=7, message="TypeError")).side is AbortSide.SCRIPT
    assert classify_abort(StatusExtra(code=8, message="aborted by threshold")).side is AbortSide.SCRIPT


def test_a_named_user_is_a_user_abort():
    cause = classify_abort(StatusExtra(code=5, by_user="ana@example.com", message="aborted by user"))
    assert cause.side is AbortSide.USER
    assert cause.explanation == "stopped by ana@example.com"


def test_missing_or_unknown_code_is_unknown():
    assert classify_abort(None).side is AbortSide.UNKNOWN
    assert classify_abort(StatusExtra(code=42)).side is AbortSide.UNKNOWN
    assert classify_abort(StatusExtra()).side is AbortSide.UNKNOWN
