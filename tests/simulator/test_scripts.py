"""Reading k6 scripts: options, load profile, checks, outcome markers, archives."""

from __future__ import annotations

from tools.simulator.demo_scripts import CHECKOUT_SPIKE, ORDERS_SOAK, SEARCH_STRESS, STOREFRONT_BROWSER
from tools.simulator.scripts import analyze_script, is_tar_archive, load_profile, parse_duration

from .conftest import k6_archive


def test_durations() -> None:
    assert parse_duration("30m") == 1800
    assert parse_duration("1h30m") == 5400
    assert parse_duration("2m30s") == 150
    assert parse_duration("500ms") == 0.5
    assert parse_duration(1500) == 1.5
    assert parse_duration("soon") is None and parse_duration("10") is None


def test_vus_and_duration() -> None:
    info = analyze_script(ORDERS_SOAK.encode())
    assert (info.max_vus, info.duration_s, info.browser_vus) == (50, 1800, 0)
    assert info.distribution == (("amazon:us:ashburn", 50), ("amazon:ie:dublin", 50))
    assert info.thresholds == {
        "http_req_duration": ["p(95)<500", "p(99)<1000"],
        "http_req_failed": ["rate<0.01"],
    }
    assert info.check_names == ("list status is 200", "list has orders", "order created")
    assert not info.is_tar and info.media_type == "text/javascript"


def test_stages() -> None:
    info = analyze_script(CHECKOUT_SPIKE.encode())
    assert (info.max_vus, info.duration_s) == (400, 330)
    assert info.options["stages"][0] == {"duration": "1m", "target": 50}


def test_threshold_objects_and_browser() -> None:
    assert analyze_script(SEARCH_STRESS.encode()).thresholds["http_req_failed"] == ["rate<0.05"]
    browser = analyze_script(STOREFRONT_BROWSER.encode())
    assert browser.browser_vus == browser.max_vus == 5


def test_defaults_and_marker() -> None:
    info = analyze_script(b"// k6bot-sim: outcome=threshold_abort\nexport default function () {}\n")
    assert (info.max_vus, info.duration_s, info.outcome_marker) == (10, 300, "threshold_abort")
    assert analyze_script(b"// k6bot-sim: outcome=bogus\n").outcome_marker is None


def test_archives() -> None:
    archive = k6_archive({"stages": [{"duration": "1m", "target": 5}, {"duration": "2m", "target": 15}]})
    assert is_tar_archive(archive) and not is_tar_archive(b"export default {}")
    info = analyze_script(archive)
    assert info.is_tar and info.media_type == "application/x-tar" and (info.max_vus, info.duration_s) == (15, 180)


def test_load_profile_of_options() -> None:
    assert load_profile({}) == (10, 300, (("amazon:us:ashburn", 100),))
    cloud = {"distribution": {"x": {"loadZone": "amazon:de:frankfurt", "percent": 100}}}
    assert load_profile({"vus": 3, "duration": "1h", "cloud": cloud}) == (
        3,
        3600,
        (("amazon:de:frankfurt", 100),),
    )
