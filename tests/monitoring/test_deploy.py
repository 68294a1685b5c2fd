"""deploy/: the Grafana dashboard and the Prometheus rules name only metrics that /metrics
serves, and every metric served is on the dashboard; promtool checks the rules, and a real
Prometheus scrapes a running endpoint (both where Debian's ``prometheus`` is installed)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from xml.sax.saxutils import escape

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from kalshi_core import signals
from kalshi_core.cache.stats import CacheStats
from kalshi_core.client.metrics import ClientMetrics
from kalshi_core.clock import ManualClock
from kalshi_core.monitoring.cache_collector import CacheSource
from kalshi_core.monitoring.dashboard_preview import render_svg
from kalshi_core.monitoring.health import Health
from kalshi_core.monitoring.metrics import KalshiMetrics
from kalshi_core.monitoring.server import MonitoringState, serve_monitoring

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
RULES = DEPLOY / "prometheus" / "alerts.yml"
DASHBOARD = DEPLOY / "grafana" / "kalshi-core.json"
NAME = re.compile(r"\bkalshi_[a-z0-9_]+\b")
SUFFIXES = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_count", "_sum"),
    "gauge": ("",),
}
PROMTOOL_MISSING = (
    "promtool not installed (Debian package `prometheus`; .ci/services.sh installs it)"
)


def _in_ci() -> bool:
    return os.environ.get("CI") == "true"


def _require(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        if _in_ci():
            pytest.fail(f"{tool} missing in CI: .ci/services.sh should have installed it")
        pytest.skip(PROMTOOL_MISSING)
    return found


@pytest.fixture
async def endpoint() -> AsyncIterator[tuple[str, KalshiMetrics]]:
    clock = ManualClock()
    client = ClientMetrics()
    client.record_call("GET /markets", 200, 0.01)
    metrics = KalshiMetrics(
        clock, client=lambda: client, cache=lambda: CacheSource("memory", CacheStats())
    )
    state = MonitoringState(metrics=metrics, health=Health(clock, timedelta(minutes=10)))
    with metrics:
        async with serve_monitoring({"port": 0}, state) as url:
            assert url is not None
            yield url, metrics


async def _served(url: str) -> dict[str, set[str]]:
    """Each metric family /metrics serves -> the sample names it may carry."""
    async with httpx.AsyncClient() as http:
        text = (await http.get(f"{url}/metrics")).text
    return {
        family.name: {family.name + suffix for suffix in SUFFIXES.get(family.type, ("",))}
        for family in text_string_to_metric_families(text)
    }


def _names_in(text: str) -> set[str]:
    return set(NAME.findall(text))


def _dashboard_exprs() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]


async def test_rules_and_dashboard_name_only_served_metrics(
    endpoint: tuple[str, KalshiMetrics],
) -> None:
    served = set().union(*(await _served(endpoint[0])).values())
    used = _names_in(RULES.read_text()) | _names_in("\n".join(_dashboard_exprs()))
    assert used  # the files do name metrics
    assert sorted(used - served) == []


async def test_every_served_metric_is_on_the_dashboard(
    endpoint: tuple[str, KalshiMetrics],
) -> None:
    on_dashboard = _names_in("\n".join(_dashboard_exprs()))
    families = await _served(endpoint[0])
    missing = [
        family
        for family, names in sorted(families.items())
        if not names & on_dashboard and not family.endswith("_created")  # client bookkeeping
    ]
    assert missing == []


def test_dashboard_panels_do_not_overlap() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    cells: set[tuple[int, int]] = set()
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        mine = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not cells & mine, panel["title"]
        cells |= mine


def test_promtool_accepts_the_rules() -> None:
    promtool = _require("promtool")
    result = subprocess.run(
        [promtool, "check", "rules", str(RULES)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 11 rules found" in result.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
async def test_a_real_prometheus_scrapes_the_bot(
    endpoint: tuple[str, KalshiMetrics], tmp_path: Path
) -> None:
    prometheus = _require("prometheus")
    url, _ = endpoint
    signals.cycle_completed.send(object())
    target = url.removeprefix("http://")
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n"
        "scrape_configs:\n  - job_name: kalshi-core\n"
        f"    static_configs:\n      - targets: ['{target}']\n"
    )
    port = _free_port()
    process = await asyncio.create_subprocess_exec(
        prometheus,
        f"--config.file={config}",
        f"--storage.tsdb.path={tmp_path / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        value = await _query_until_scraped(f"http://127.0.0.1:{port}", "kalshi_cycles_total")
    finally:
        process.terminate()
        await process.wait()
    assert value == "1"


async def _query_until_scraped(base: str, metric: str) -> str:
    """Poll Prometheus's query API until the first scrape landed (at most 60s)."""
    async with httpx.AsyncClient() as http:
        for _ in range(120):
            try:
                response = await http.get(f"{base}/api/v1/query", params={"query": metric})
                result = response.json()["data"]["result"]
            except (httpx.HTTPError, ValueError, KeyError):
                result = []
            if result:
                return str(result[0]["value"][1])
            await asyncio.sleep(0.5)  # waiting for an external process, not timing anything
    raise AssertionError(f"Prometheus never reported {metric}")


def test_the_docs_picture_is_the_dashboard_as_committed() -> None:
    picture = DEPLOY.parent / "docs" / "images" / "grafana-dashboard.svg"
    rendered = render_svg(json.loads(DASHBOARD.read_text()))
    assert picture.read_text() == rendered, (
        "docs/images/grafana-dashboard.svg is stale: "
        "run python -m kalshi_core.monitoring.dashboard_preview"
    )
    titles = [panel["title"] for panel in json.loads(DASHBOARD.read_text())["panels"]]
    assert all(escape(title) in rendered for title in titles)
