"""tools.k6scripts: reading scripts, options, thresholds and the v5 queries that measure them."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile

import pytest

from tools.k6scripts import (
    BUILTIN_METRICS,
    Threshold,
    V5Query,
    custom_metrics,
    extract_options,
    headroom,
    is_tar_archive,
    parse_duration,
    parse_metric_key,
    parse_threshold,
    parse_thresholds,
    quote_argument,
    read_script,
    script_sha256,
    v5_selector,
)

SCRIPT = b"""import http from 'k6/http';
import { Trend } from 'k6/metrics';

const cartTime = new Trend('cart_time', true);

export const options = {
  vus: 10,
  duration: '5m',
  thresholds: {
    http_req_duration: ['p(95)<500', 'p(99.9) <= 1000'],
    'http_req_duration{name:login}': [{ threshold: 'avg<200', abortOnFail: true, delayAbortEval: '10s' }],
    http_req_failed: ['rate<0.01'],
    'checks{check:order created}': ['rate>0.99'],
    cart_time: ['med<100'],
  },
};

export default function () {}
"""


def archive(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_a_javascript_script() -> None:
    script = read_script(SCRIPT)
    assert not script.is_tar and script.media_type == "text/javascript"
    assert script.options_origin == "script" and script.problems == ()
    assert script.options["vus"] == 10 and script.options["duration"] == "5m"
    assert script.sha256 == hashlib.sha256(SCRIPT).hexdigest() == script_sha256(SCRIPT)
    assert script.custom_metrics == {"cart_time": "trend"}
    assert script.metric_type("cart_time") == "trend" and script.metric_type("http_reqs") == "counter"
    assert script.metric_type("nope") is None
    assert [t.label for t in script.thresholds] == [
        "http_req_duration: p(95)<500",
        "http_req_duration: p(99.9) <= 1000",
        "http_req_duration{name:login}: avg<200",
        "http_req_failed: rate<0.01",
        "checks{check:order created}: rate>0.99",
        "cart_time: med<100",
    ]


def test_a_k6_archive_reads_metadata_options_and_puts_the_main_module_first() -> None:
    options = {"vus": 3, "thresholds": {"http_req_duration": ["p(95)<300"]}}
    data = archive(
        {
            "metadata.json": json.dumps({"filename": "file:///home/me/main.js", "options": options}).encode(),
            "file/home/me/lib.js": b"export const x = new Counter('lib_calls');",
            "file/home/me/main.js": b"import { x } from './lib.js';",
        }
    )
    assert is_tar_archive(data) and not is_tar_archive(SCRIPT)
    script = read_script(data)
    assert script.is_tar and script.media_type == "application/x-tar"
    assert script.options == options and script.options_origin == "metadata.json" and script.problems == ()
    assert script.source.startswith("import { x }")
    assert script.custom_metrics == {"lib_calls": "counter"}
    assert [t.label for t in script.thresholds] == ["http_req_duration: p(95)<300"]


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        ({"file/a.js": b"export default function () {}"}, "no metadata.json"),
        ({"metadata.json": b"{not json"}, "not a JSON object"),
        ({"metadata.json": b'{"options": [1]}'}, "options is not an object"),
    ],
)
def test_archives_whose_options_cannot_be_read_say_so(files: dict[str, bytes], problem: str) -> None:
    script = read_script(archive(files))
    assert script.options == {} and script.options_origin == "none"
    assert any(problem in text for text in script.problems), script.problems


def test_a_broken_archive_is_a_problem_not_a_crash() -> None:
    data = archive({"metadata.json": b"{}"})[:600]
    script = read_script(data)
    assert script.is_tar and script.options == {} and script.problems


def test_computed_option_values_are_left_out_and_named() -> None:
    options, problems, found = extract_options(
        """
        export const options = {
          vus: __ENV.VUS || 10,
          duration: `${MINUTES}m`,
          ...base,
          iterations: 10 * 2,
          stages: [{ duration: '1m', target: 10 }, makeStage()],
          [key]: 1,
          setupTimeout() { return '1m' },
          scenarios: { smoke: { executor: 'constant-vus', vus: 1, duration: '30s' } },
        };
        """
    )
    assert found
    assert options == {
        "stages": [{"duration": "1m", "target": 10}],
        "scenarios": {"smoke": {"executor": "constant-vus", "vus": 1, "duration": "30s"}},
    }
    assert problems == [
        "options.vus is computed (__ENV.VUS || 10): it is not read",
        "options.duration is computed (`${MINUTES}m`): it is not read",
        "options spreads ...base: it is not read",
        "options.iterations is computed (10 * 2): it is not read",
        "options.stages[1] is computed (makeStage()): it is not read",
        "options has a computed member ([key]: 1): it is not read",
        "options.setupTimeout is computed (setupTimeout() { return '1m' }): it is not read",
    ]


@pytest.mark.parametrize(
    "source",
    [
        "export const options = buildOptions();\nexport default function () {}",
        "export const options = Object.assign({}, base)\nexport default function () {}",
        "export const options = { vus: 1 } || fallback;",
    ],
)
def test_options_that_are_computed_as_a_whole(source: str) -> None:
    options, problems, found = extract_options(source)
    assert found and options == {}
    assert len(problems) == 1 and problems[0].startswith("options cannot be read: it is computed")


def test_literals() -> None:
    options, problems, found = extract_options(
        """
        // options for the nightly run
        export let options = {
          /* block comment */ 'quoted-key': true, "double": null,
          hex: 0x1F, big: 1_000, neg: -5, float: 2.5, exp: 1e3,
          text: 'it\\'s', plain: `no placeholders`, unicode: '\\u00e9',
          list: [1, 'two', { three: 3 },],
        }
        export default function () {}
        """
    )
    assert found and problems == []
    assert options == {
        "quoted-key": True,
        "double": None,
        "hex": 31,
        "big": 1000,
        "neg": -5,
        "float": 2.5,
        "exp": 1000.0,
        "text": "it's",
        "plain": "no placeholders",
        "unicode": "é",
        "list": [1, "two", {"three": 3}],
    }


def test_options_declared_then_exported_and_scripts_without_options() -> None:
    assert extract_options("const options = { vus: 2 };\nexport { options };") == ({"vus": 2}, [], True)
    assert extract_options("export default function () {}") == ({}, [], False)
    assert read_script(b"export default function () {}").options_origin == "none"
    typed = "export const options: Options = { vus: 4 };"
    assert extract_options(typed)[0] == {"vus": 4}


def test_threshold_keys() -> None:
    assert parse_metric_key("http_req_duration") == ("http_req_duration", {})
    assert parse_metric_key("http_req_duration{status:200,method:GET}") == (
        "http_req_duration",
        {"status": "200", "method": "GET"},
    )
    assert parse_metric_key("checks{ check : order created }") == ("checks", {"check": "order created"})
    assert parse_metric_key("http_reqs{url:https://x.test/a?b=1}") == ("http_reqs", {"url": "https://x.test/a?b=1"})
    assert parse_metric_key('http_reqs{name:"a,b"}') == ("http_reqs", {"name": "a,b"})
    assert parse_metric_key("http_reqs{}") == ("http_reqs", {})
    for bad in ("http_reqs{name}", "http reqs", "{name:x}", "http_reqs{name:x"):
        with pytest.raises(ValueError):
            parse_metric_key(bad)


@pytest.mark.parametrize(
    ("expression", "aggregation", "percentile", "operator", "limit"),
    [
        ("p(95)<500", "p95", 95.0, "<", 500.0),
        ("p(99.9) <= 1000", "p99.9", 99.9, "<=", 1000.0),
        ("avg<200", "avg", None, "<", 200.0),
        ("med < 100", "med", None, "<", 100.0),
        ("min>0", "min", None, ">", 0.0),
        ("max<3000", "max", None, "<", 3000.0),
        ("rate<0.01", "rate", None, "<", 0.01),
        ("count>10", "count", None, ">", 10.0),
        ("value>=1", "value", None, ">=", 1.0),
        ("rate==1", "rate", None, "==", 1.0),
        ("rate===1", "rate", None, "===", 1.0),
        ("count!=0", "count", None, "!=", 0.0),
        ("avg<-1.5e2", "avg", None, "<", -150.0),
    ],
)
def test_threshold_expressions(
    expression: str, aggregation: str, percentile: float | None, operator: str, limit: float
) -> None:
    threshold = parse_threshold("http_req_duration", expression)
    assert threshold.parsed and threshold.problem is None
    assert (threshold.aggregation, threshold.percentile, threshold.operator, threshold.limit) == (
        aggregation,
        percentile,
        operator,
        limit,
    )
    assert threshold.expression == expression and not threshold.abort_on_fail


@pytest.mark.parametrize(
    ("item", "problem"),
    [
        ("p(95) < 500ms", "is not '<aggregation> <operator> <number>'"),
        ("stddev<3", "unknown aggregation 'stddev'"),
        ("p95<500", "unknown aggregation 'p95'"),
        ("p()<500", "p() needs a percentile"),
        ("p(101)<500", "between 0 and 100"),
        ("avg(1)<5", "unknown aggregation 'avg(1)'"),
        ("p(95)<500 && p(99)<900", "is not '<aggregation> <operator> <number>'"),
        (42, "not an expression string"),
        ({"abortOnFail": True}, "not an expression string"),
    ],
)
def test_unknown_forms_are_kept_unparsed(item: object, problem: str) -> None:
    threshold = parse_threshold("http_req_duration", item)
    assert not threshold.parsed and problem in (threshold.problem or "")
    assert threshold.aggregation is threshold.operator is threshold.limit is None
    assert threshold.evaluate(123.0).passed is None
    assert threshold.v5_query("trend") is None


def test_object_thresholds_and_odd_shapes() -> None:
    thresholds = parse_thresholds(
        {
            "http_req_failed": [{"threshold": "rate<0.05", "abortOnFail": True, "delayAbortEval": "10s"}],
            "http_reqs": "count>1",  # a bare string (k6 wants a list; read it anyway)
            "bad key{": ["rate<1"],
        }
    )
    first, second, third = thresholds
    assert first.abort_on_fail and first.delay_abort_eval == "10s" and first.expression == "rate<0.05"
    assert second.parsed and second.aggregation == "count"
    assert not third.parsed and "not a metric name" in (third.problem or "")
    assert parse_thresholds(None) == () and parse_thresholds(["x"]) == ()


def test_v5_selectors_escape_values() -> None:
    assert v5_selector({}) == ""
    assert v5_selector({"name": "login"}) == '{name="login"}'
    assert v5_selector({"status": "200", "method": "GET"}) == '{status="200",method="GET"}'
    assert v5_selector({"name": 'say "hi" \\ bye'}) == '{name="say \\"hi\\" \\\\ bye"}'
    threshold = parse_threshold("http_req_duration{name:login,status:200}", "p(95)<500")
    assert threshold.selector == '{name="login",status="200"}'
    assert threshold.metric_selector == 'http_req_duration{name="login",status="200"}'


@pytest.mark.parametrize(
    ("expression", "metric_type", "method"),
    [
        ("p(95)<500", "trend", "histogram_quantile(0.95)"),
        ("p(99.9)<500", "trend", "histogram_quantile(0.999)"),
        ("p(50)<500", "trend", "histogram_quantile(0.5)"),
        ("p(100)<500", "trend", "histogram_quantile(1.0)"),
        ("med<500", "trend", "histogram_quantile(0.5)"),
        ("avg<500", "trend", "histogram_avg"),
        ("min<500", "trend", "histogram_min"),
        ("max<500", "trend", "histogram_max"),
        ("rate<0.01", "rate", "ratio"),
        ("count>10", "counter", "increase"),
        ("rate>10", "counter", "rate"),
        ("value>0", "gauge", "last"),
        ("max<100", "gauge", "max"),
        ("min>0", "gauge", "min"),
        # aggregations that do not fit the type are not measured (k6 rejects them too)
        ("rate<0.01", "trend", None),
        ("count>10", "trend", None),
        ("p(95)<500", "counter", None),
        ("avg<1", "rate", None),
        ("value>0", "counter", None),
        ("p(95)<1", "gauge", None),
        ("avg<1", "nonsense", None),
    ],
)
def test_v5_methods(expression: str, metric_type: str, method: str | None) -> None:
    threshold = parse_threshold("some_metric{name:x}", expression)
    query = threshold.v5_query(metric_type)
    if method is None:
        assert query is None
    else:
        assert query == V5Query(method, 'some_metric{name="x"}')


def test_v5_query_arguments_are_odata_strings() -> None:
    query = V5Query("histogram_quantile(0.95)", 'http_req_duration{name="o\'brien"}')
    assert query.arguments() == "query='histogram_quantile(0.95)',metric='http_req_duration{name=\"o''brien\"}'"
    assert quote_argument("it's") == "'it''s'"


def test_evaluate_and_headroom() -> None:
    ceiling = parse_threshold("http_req_duration", "p(95)<500")
    under = ceiling.evaluate(400.0)
    assert (under.passed, under.measured, under.observed, under.headroom_pct) == (True, 400.0, True, 20.0)
    over = ceiling.evaluate(600.0)
    assert (over.passed, over.headroom_pct) == (False, -20.0)
    assert ceiling.evaluate(500.0).passed is False and ceiling.evaluate(500.0).headroom_pct == 0.0
    assert parse_threshold("x", "p(95)<=500").evaluate(500.0).passed is True
    floor = parse_threshold("checks", "rate>0.98")
    assert floor.evaluate(0.99).passed and floor.evaluate(0.99).headroom_pct == pytest.approx(1.02, abs=0.01)
    assert floor.evaluate(0.5).passed is False and floor.evaluate(0.5).headroom_pct == pytest.approx(-48.98, abs=0.01)
    assert parse_threshold("x", "count>=3").evaluate(3.0).passed is True


def test_zero_observations_pass_as_k6_reports_them() -> None:
    result = parse_threshold("http_req_duration{name:gone}", "p(95)<500").evaluate(None)
    assert result.passed is True and result.observed is False and result.measured is None
    assert result.headroom_pct is None


def test_equality_operators_and_zero_limits_have_no_headroom() -> None:
    assert parse_threshold("x", "rate==1").evaluate(1.0).passed is True
    assert parse_threshold("x", "rate===1").evaluate(0.5).passed is False
    assert parse_threshold("x", "count!=0").evaluate(3.0).passed is True
    assert parse_threshold("x", "rate==1").evaluate(1.0).headroom_pct is None
    assert parse_threshold("x", "min>0").evaluate(3.0).headroom_pct is None
    assert headroom(-90.0, "<", -100.0) == -10.0  # a negative limit: still relative to its size


def test_thresholds_are_values() -> None:
    one = parse_threshold("http_req_duration", "p(95)<500")
    assert one == parse_threshold("http_req_duration", "p(95)<500") and isinstance(one, Threshold)
    assert one != parse_threshold("http_req_duration", "p(95)<501")


def test_custom_metrics_and_builtins() -> None:
    source = "const a = new Counter('a_total'); const b = new Rate(\"b_ok\"); new Gauge(`g`); new Trend('t', true)"
    assert custom_metrics(source) == {"a_total": "counter", "b_ok": "rate", "g": "gauge", "t": "trend"}
    assert BUILTIN_METRICS["http_req_duration"] == "trend" and BUILTIN_METRICS["checks"] == "rate"
    assert BUILTIN_METRICS["vus"] == "gauge" and BUILTIN_METRICS["iterations"] == "counter"


def test_durations() -> None:
    assert parse_duration("1h30m") == 5400 and parse_duration("500ms") == 0.5 and parse_duration(1500) == 1.5
    assert parse_duration("2m 30s") == 150
    assert parse_duration("soon") is None and parse_duration("10") is None and parse_duration(True) is None


def test_thresholds_can_be_keys() -> None:
    one = parse_threshold("http_req_duration{name:login}", "p(95)<500")
    verdicts = {one: True}
    assert verdicts[parse_threshold("http_req_duration{name:login}", "p(95)<500")] is True
