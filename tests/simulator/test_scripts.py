"""Reading k6 scripts: options, load profile, checks, outcome markers, archives."""

from __future__ import annotations

from tools.simulator.demo_scripts import CHECKOUT_SPIKE, ORDERS_SOAK, SEARCH_STRESS, STOREFRONT_BROWSER
from tools.simulator.scripts import analyze_script, is_tar_archive, load_profile, parse_duration, vu_curve

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


def test_requests_checks_and_statuses() -> None:
    info = analyze_script(CHECKOUT_SPIKE.encode())
    cart, pay = info.requests
    assert (cart.method, cart.name, cart.url) == ("POST", "cart", "https://checkout.staging.example.com/api/cart")
    assert (cart.expected_status, cart.checks) == (201, ("cart created",))
    assert (pay.name, pay.url) == ("pay", "https://checkout.staging.example.com/api/checkout/${}/pay")
    assert (pay.expected_status, pay.checks) == (200, ("payment accepted", "payment under 800ms"))
    assert info.sleep_s == 0.5 and info.scenario == "default"


def test_request_forms_groups_and_urls() -> None:
    script = b"""import http from 'k6/http';
import { group, sleep } from 'k6';
const API = 'https://api.test';
export default function () {
  group('login', function () {
    const token = http.post(`${API}/token`, { user: 'a' });
    check(token, { 'token issued': (r) => r.status == 200 });
    group('profile', () => {
      http.get(`${API}/me?id=${__VU}`, { tags: { name: 'me' } });
    });
  });
  http.request('PUT', `${API}/cart`, '{}');
  http.del(API + '/cart');
  sleep(2);
  sleep(Math.random());
}
"""
    info = analyze_script(script)
    assert [(r.method, r.name, r.group) for r in info.requests] == [
        ("POST", "https://api.test/token", "::login"),
        ("GET", "me", "::login::profile"),
        ("PUT", "https://api.test/cart", ""),
        ("DELETE", "${}", ""),
    ]
    assert info.requests[0].checks == ("token issued",) and info.check_names == ("token issued",)
    assert info.sleep_s == 3.0  # an unreadable sleep counts as one second
    assert analyze_script(b"export default function () {}").requests == ()
    assert analyze_script(b"export default function () {}").check_names == ()


def test_browser_pages() -> None:
    info = analyze_script(STOREFRONT_BROWSER.encode())
    (page,) = info.requests
    assert page.page and page.url == "https://shop.staging.example.com/" and page.checks == ("storefront title shown",)
    assert info.scenario == "ui"


def test_vu_curves() -> None:
    assert vu_curve({}) == ((0.0, 10.0), (300.0, 10.0))
    assert vu_curve({"vus": 5, "duration": "1m"}) == ((0.0, 5.0), (60.0, 5.0))
    assert vu_curve({"duration": "1m"}) == ((0.0, 1.0), (60.0, 1.0))
    assert vu_curve({"vus": 3, "stages": [{"duration": "1m", "target": 9}, {"duration": "30s", "target": 0}]}) == (
        (0.0, 3.0),
        (60.0, 9.0),
        (90.0, 0.0),
    )
    scenarios = {
        "steady": {"executor": "constant-vus", "vus": 10, "duration": "2m"},
        "ramp": {
            "executor": "ramping-vus",
            "startVUs": 0,
            "stages": [{"duration": "1m", "target": 20}],
            "startTime": "1m",
        },
        "rate": {"executor": "constant-arrival-rate", "rate": 50, "preAllocatedVUs": 4, "duration": "1m"},
        "once": {"executor": "per-vu-iterations", "vus": 2, "iterations": 5},
    }
    curve = vu_curve({"scenarios": scenarios})
    assert curve[0] == (0.0, 16.0)  # steady 10 + rate 4 + once 2
    assert max(vus for _, vus in curve) == 30.0 and curve[-1][0] == 120.0  # steady 10 + ramp 20 at 2 min
    assert load_profile({"scenarios": scenarios})[:2] == (30, 120)
    shared = vu_curve({"scenarios": {"s": {"executor": "shared-iterations", "vus": 4, "iterations": 100}}})
    assert shared == ((0.0, 4.0), (50.0, 4.0))  # 25 iterations per VU at ~2 s each
