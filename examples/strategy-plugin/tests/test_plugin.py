"""The plugin author's own tests: discovered by kalshi-core, and its pieces behave."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kalshi_core.app import App
from kalshi_core.models import Forecast, Market, MarketStatus, Side
from kalshi_core.protocols import PipelineContext, Portfolio

NOW = datetime(2026, 1, 2, 15, 0, tzinfo=UTC)


def _market(bid: int, ask: int) -> Market:
    return Market(
        ticker="KXTEST-26JAN02-T1",
        event_ticker="KXTEST-26JAN02",
        status=MarketStatus.ACTIVE,
        open_time=NOW - timedelta(hours=1),
        close_time=NOW + timedelta(hours=1),
        yes_bid=bid,
        yes_ask=ask,
    )


def _context() -> PipelineContext:
    return PipelineContext(now=NOW, portfolio=Portfolio(cash=1_000_000))


def test_my_plugin_is_discovered() -> None:
    app = App.create()
    names = {info.name: info for info in app.manager.plugins()}
    assert names["example_strategy"].status == "enabled"
    assert "fade_extremes" in app.registry("strategies")
    assert "max_spread" in app.registry("validators")


def test_strategy_buys_yes_when_forecast_is_far_above_the_ask() -> None:
    app = App.create()
    strategy = app.registry("strategies").create("fade_extremes", {"edge": 0.1, "contracts": 2})
    forecast = Forecast(ticker="KXTEST-26JAN02-T1", probability=3000, model="t", created_time=NOW)
    [intent] = strategy.propose(_market(500, 700), forecast, _context())
    assert (intent.side, intent.price, intent.count) == (Side.YES, 700, 200)


def test_validator_rejects_wide_spread_with_reason() -> None:
    app = App.create()
    validator = app.registry("validators").create("max_spread", {"max_spread_cents": 5})
    verdict = validator.validate(_market(4000, 5000), _context())
    assert not verdict.accepted
    assert "10c" in verdict.reason
