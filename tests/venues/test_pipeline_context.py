"""The engine fills the pipeline context from the venue: each series' category (so a
``categories`` allow-list trades the allowed markets) and its fee terms."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from kalshi_core.app import App
from kalshi_core.engine.session import Session, SessionOptions

# Whole runs over recorded history: the full suite on one Python (tox.ini).
# these runs need orders: forecasts without a stderr trade as if certain
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("trade_unproven_edges")]

VALIDATORS = (
    '["market_status", "categories", "ai_budget", "dedup", "liquidity", "time_to_close", '
    '"positions", "spread", "exposure", "cash_reserve", "min_edge"]'
)


async def run_with_categories(
    isolated: Path, monkeypatch: pytest.MonkeyPatch, venue: str, allowed: str
) -> tuple[int, list[str]]:
    monkeypatch.setenv("KALSHI_RUN__VENUE", venue)
    monkeypatch.setenv("KALSHI_PIPELINE__VALIDATORS", VALIDATORS)
    monkeypatch.setenv("KALSHI_VALIDATORS__CATEGORIES__ALLOW_CATEGORIES", allowed)
    report = await Session(App.create(), SessionOptions(cycles=150)).run()
    with sqlite3.connect(isolated / "run.sqlite3") as db:
        reasons = [
            r[0] for r in db.execute("select reason from verdicts where validator = 'categories'")
        ]
    return report.orders_placed, reasons


@pytest.mark.parametrize("venue", ["simulated", "paper"])
async def test_a_category_allow_list_trades_the_allowed_markets(
    isolated: Path, monkeypatch: pytest.MonkeyPatch, venue: str
) -> None:
    placed, reasons = await run_with_categories(isolated, monkeypatch, venue, '["Financials"]')
    assert placed > 0
    assert not [r for r in reasons if "not in the allow list" in r]


async def test_a_category_allow_list_refuses_the_others(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    placed, reasons = await run_with_categories(isolated, monkeypatch, "simulated", '["Sports"]')
    assert placed == 0
    assert any("category 'Financials' is not in the allow list: sports" in r for r in reasons)
