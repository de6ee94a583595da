"""Charts: a run chart drawn from the simulator's v5 range series over real HTTP is a sensible PNG."""

from __future__ import annotations

import struct
import subprocess
import sys

import httpx

from tests.conftest import TEST_STACK, TEST_TOKEN
from tests.simulator.conftest import auth_headers
from tools.charts import RUN_CHART_QUERIES, points_of, range_path, run_chart, sparkline, trend_chart

PNG = b"\x89PNG\r\n\x1a\n"


def _size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk
    return width, height


def test_a_run_chart_of_a_demo_run_is_a_png_of_slack_preview_size(sim_url: str) -> None:
    series = {}
    with httpx.Client(base_url=sim_url, headers=auth_headers(TEST_TOKEN, TEST_STACK)) as c:
        for key, (query, metric) in RUN_CHART_QUERIES.items():
            answer = c.get(range_path(1224, query, metric))
            assert answer.status_code == 200, answer.text
            result = answer.json()["data"]["result"]
            series[key] = points_of(result[0]["values"]) if result else []
    assert len(series["p95"]) > 3 and len(series["rate"]) > 3, series
    png = run_chart(1224, series)
    assert _size(png) == (1000, 600)
    assert 10_000 < len(png) < 1_000_000


def test_a_run_without_data_still_draws_and_says_so() -> None:
    assert _size(run_chart(1, {})) == (1000, 600)


def test_trend_chart_and_sparkline() -> None:
    png = trend_chart(
        "Orders API Soak Test",
        [1, 2, 3, 4],
        [400, 420, None, 480],
        [0.01, 0.0, 0.02, None],
        {"p(95)<500": 500.0, "rate<0.02": 0.02},
        [3],
    )
    assert _size(png) == (1000, 600)
    assert sparkline([1, 5, 3]) == "▁█▅"
    assert sparkline([]) == ""
    assert len(sparkline(list(range(100)), width=40)) == 40


def test_matplotlib_is_imported_only_when_a_chart_is_drawn() -> None:
    code = "import sys, tools.charts, tools.registry; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_title_with_dollar_signs_is_drawn_literally_not_as_mathtext() -> None:
    hostile = r"cost $5 and $\frac{ budget"  # mathtext would fail to parse this
    assert _size(run_chart(1, {"p95": [(0.0, 1.0), (60.0, 2.0)]}, title=hostile)) == (1000, 600)
    assert _size(trend_chart(hostile, [1, 2], [1.0, 2.0], [0.0, 0.1], {"$p(95)<$": 1.0}, [])) == (1000, 600)
