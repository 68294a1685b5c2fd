"""One backtest run: simulated venue, a window, `--set` overrides validated like any layer."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kalshi_core.backtest.runner import BacktestSpec, backtest_app, parse_override, run_backtest
from kalshi_core.errors import ConfigError


def spec(isolated: Path, **fields: object) -> BacktestSpec:
    url = f"sqlite+aiosqlite:///{isolated / 'bt.sqlite3'}"
    return BacktestSpec(database_url=url, data_sets=("kxinxu",), **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("risk.max_position_pct=0.02", ("risk.max_position_pct", 0.02)),
        ("strategies.enabled=['directional']", ("strategies.enabled", ["directional"])),
        ("run.venue=simulated", ("run.venue", "simulated")),
        ("run.seed = 7", ("run.seed", 7)),
        ("forecast.enabled=true", ("forecast.enabled", True)),
    ],
)
def test_overrides_parse_as_toml_values(text: str, expected: tuple[str, object]) -> None:
    assert parse_override(text) == expected


@pytest.mark.parametrize("text", ["risk.max_position_pct", "=3", "risk..x=1", ""])
def test_a_malformed_override_is_refused_naming_it(text: str) -> None:
    with pytest.raises(ConfigError, match="expected key=value"):
        parse_override(text)


def test_an_override_out_of_range_is_refused_naming_the_set_layer(isolated: Path) -> None:
    with pytest.raises(ConfigError, match=r"risk.max_position_pct = 7 is out of range.*--set"):
        backtest_app(spec(isolated, overrides={"risk.max_position_pct": 7}))


def test_a_list_override_replaces_the_list_and_the_venue_is_always_simulated(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KALSHI_RUN__VENUE", "paper")
    app = backtest_app(spec(isolated, strategies=("directional",)))
    assert app.settings.strategies.enabled == ["directional"]
    assert app.section("run")["venue"] == "simulated"
    assert app.section("monitoring")["enabled"] is False


def test_an_unknown_strategy_is_refused(isolated: Path) -> None:
    with pytest.raises(ConfigError, match="no_such_strategy"):
        backtest_app(spec(isolated, strategies=("no_such_strategy",)))


@pytest.mark.slow
@pytest.mark.usefixtures("trade_unproven_edges")  # needs orders to check
async def test_a_backtest_stores_its_run_under_its_id(isolated: Path) -> None:
    window = {
        "start": datetime(2026, 1, 5, 12, tzinfo=UTC),
        "end": datetime(2026, 1, 7, tzinfo=UTC),
    }
    run = await run_backtest(spec(isolated, run_id="bt-1", **window))
    assert run.run_id == "bt-1"
    with sqlite3.connect(isolated / "bt.sqlite3") as db:
        runs = db.execute("select distinct run_id from orders").fetchall()
    assert runs == [("bt-1",)]
    assert run.report.pnl_check.matches
