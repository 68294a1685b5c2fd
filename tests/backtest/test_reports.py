"""results.json and report.html from a run's records: versioned, reproducible, self-contained."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from kalshi_core.backtest.catalogue import data_caveats
from kalshi_core.backtest.compare import compare_rows, load_results
from kalshi_core.backtest.html_report import render
from kalshi_core.backtest.records import (
    FillRecord,
    ForecastRecord,
    Mark,
    MarketInfo,
    RunRecords,
    SettlementRecord,
)
from kalshi_core.backtest.results import SCHEMA_VERSION, build_results, dumps
from kalshi_core.errors import ConfigError

T0 = datetime(2026, 1, 5, 14, tzinfo=UTC)
SCHEMA = Path(__file__).parents[2] / "kalshi_core" / "backtest" / "results.schema.json"


def day_market(day: int, won: bool) -> tuple[MarketInfo, FillRecord, SettlementRecord]:
    """One market a day: 10 YES bought at 40c (fee 17c), settled yes or no at 21:00."""
    ticker = f"KXT-{day:02d}-T1"
    close = T0 + timedelta(days=day, hours=7)
    market = MarketInfo(
        ticker=ticker,
        event_ticker=f"KXT-{day:02d}",
        series_ticker="KXT",
        category="Financials",
        close_time=close,
        result="yes" if won else "no",
    )
    bought = FillRecord(
        ticker=ticker,
        bid=True,
        count=1000,
        yes_price=4000,
        fee=1700,
        time=T0 + timedelta(days=day),
        strategy="directional",
        is_taker=True,
    )
    settlement = SettlementRecord(
        ticker=ticker,
        result=market.result,
        yes_count=1000,
        no_count=0,
        revenue=100_000 if won else 0,
        time=close + timedelta(minutes=1),
    )
    return market, bought, settlement


def sample_records() -> RunRecords:
    """Eight settled markets (5 won) and one left open, marked at 55c."""
    days = [day_market(d, won) for d, won in enumerate([1, 0, 1, 1, 0, 1, 0, 1])]
    open_market, open_fill, _ = day_market(8, True)
    forecasts = [
        ForecastRecord(ticker=m.ticker, time=f.time, probability=0.6, market_price=0.4)
        for m, f, _ in days
    ]
    end = open_fill.time + timedelta(hours=2)
    return RunRecords(
        run_id="bt-test",
        start_equity=1000 * 10_000,
        fills=(*tuple(f for _, f, _ in days), open_fill),
        settlements=tuple(s for *_, s in days),
        forecasts=tuple(forecasts),
        markets={m.ticker: m for m, *_ in days} | {open_market.ticker: open_market},
        marks={
            open_fill.ticker: Mark(
                ticker=open_fill.ticker, price=5500, source="last recorded trade", time=end
            )
        },
        start_time=T0,
        end_time=end,
    )


RUN = {
    "run_id": "bt-test",
    "data_sets": ["kxt"],
    "from": None,
    "to": None,
    "seed": 0,
    "strategies": ["directional"],
    "forecasters": ["calibrated"],
    "overrides": {},
    "fill_model": None,
    "venue": "simulated",
}


def results() -> dict[str, Any]:
    return build_results(
        sample_records(),
        run=RUN,
        assumptions=["fills: a test"],
        resamples=300,
        caveats={"kxt": "made up for a test"},
    )


def test_the_figures_add_up_by_hand() -> None:
    found = results()
    pnl = found["pnl"]
    # won: 10 x 0.60 - 0.17 = 5.83; lost: -4.00 - 0.17 = -4.17; open: 10 x 0.15 - 0.17 = 1.33
    assert pnl["realised"] == 5 * 58_300 - 3 * 41_700
    assert pnl["unrealised"] == 13_300
    assert pnl["net"] == pnl["realised"] + pnl["unrealised"]
    assert pnl["fees"] == 9 * 1_700
    assert pnl["gross"] == pnl["net"] + pnl["fees"]
    assert pnl["win_rate"] == pytest.approx(6 / 9)
    assert pnl["net_interval"]["groups"] == 9
    assert found["markets"][-1]["status"] == "open"
    assert found["drawdown"]["max"] == 41_700 * 1  # the largest single fall is one lost market
    daily = found["drawdown"]["daily_interval"]  # no two losing days in a row: one loss
    assert daily["estimate"] == 41_700
    assert daily["low"] <= daily["estimate"] < daily["high"]  # other orders lose in a row
    assert sum(row["pnl"] for row in found["attribution"]["strategy"]) == pnl["net"]
    assert sum(row["pnl"] for row in found["attribution"]["time_to_close"]) == pnl["net"]
    assert found["forecasts"]["scored"] == 8


def test_results_json_is_versioned_and_byte_identical_for_the_same_run() -> None:
    first, second = dumps(results()), dumps(results())
    assert first == second
    document = json.loads(first)
    assert document["schema_version"] == SCHEMA_VERSION
    assert "NaN" not in first
    assert "Infinity" not in first
    assert list(document) == sorted(document)
    assert first.endswith("\n")


def test_results_json_follows_its_json_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text())
    jsonschema.validate(json.loads(dumps(results())), schema)


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_the_report_parses_holds_every_plot_and_loads_nothing_from_elsewhere() -> None:
    page = render(json.loads(dumps(results())))
    parser = Tags()
    parser.feed(page)
    classes = {a.get("class") for tag, a in parser.tags if tag == "svg"}
    for kind in ("equity", "drawdown", "calibration", "bars", "fills"):
        assert f"plot {kind}" in classes
    assert not [t for t, a in parser.tags if t in ("script", "link", "img", "iframe")]
    assert not [a for _, a in parser.tags if any(k in ("src", "href") for k in a)]
    assert "made up for a test" in page
    assert "fills: a test" in page
    assert render(json.loads(dumps(results()))) == page


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine")
def test_the_report_renders_headless_offline(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(render(json.loads(dumps(results()))))
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--proxy-server=0.0.0.0:1",
            f"--screenshot={shot}",
            "--window-size=1000,3000",
            page.as_uri(),
        ],
        check=True,
        timeout=120,
        capture_output=True,
    )
    assert shot.stat().st_size > 10_000


def test_compare_pairs_events_and_days(tmp_path: Path) -> None:
    a = json.loads(dumps(results()))
    b = json.loads(dumps(results()))
    for market in b["markets"]:
        market["pnl"] += 10_000  # B made $1 more in every market
    b["pnl"]["net"] += 10_000 * len(b["markets"])
    rows = {row.name: row for row in compare_rows(a, b, resamples=300)}
    assert rows["net P&L"].difference == "$9.00"
    assert rows["net P&L"].interval == "[$9.00, $9.00]"
    assert "an edge" in rows["net P&L"].reading
    assert rows["Sharpe"].interval == "[0, 0]"
    assert "no evidence of an edge" in rows["Sharpe"].reading


def test_compare_refuses_what_is_not_a_results_file(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match=r"no results\.json there"):
        load_results(tmp_path / "empty")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ConfigError, match="not a backtest results file"):
        load_results(tmp_path / "bad.json")
    (tmp_path / "future.json").write_text('{"schema_version": 99}')
    with pytest.raises(ConfigError, match="schema_version 99, this kalshi-core reads 1"):
        load_results(tmp_path / "future.json")


def test_data_caveats_come_from_the_readme_that_states_them(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text(
        "# Sets\n\n### alpha/ - one set\n- Source: somewhere.\n- Caveats: prices are\n"
        "  rebuilt.\n- Licence: MIT.\n\n### beta/ - another\n\nCaveats\n\n- times are late.\n"
        "- some labels guessed.\n\nChecks: run it.\n\n### gamma/\n- Source: quiet.\n"
    )
    (tmp_path / "delta").mkdir()
    (tmp_path / "delta" / "README.md").write_text("# delta\n* **Caveats**: its own file.\n")
    found = data_caveats(tmp_path, ["alpha", "beta", "gamma", "delta"])
    assert found == {
        "alpha": "prices are rebuilt.",
        "beta": "- times are late. - some labels guessed.",
        "delta": "its own file.",
    }
