"""The stale_quote validator: accepts a fresh quote, refuses a stale one with its reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import stale_quote

from kalshi_core.errors import ConfigError
from kalshi_core.models import Market, MarketStatus
from kalshi_core.protocols import PipelineContext, Portfolio

NOW = datetime(2026, 1, 2, 15, 0, tzinfo=UTC)


def _market(last_price: int) -> Market:
    return Market(
        ticker="KXTEST-26JAN02-T1",
        event_ticker="KXTEST-26JAN02",
        status=MarketStatus.ACTIVE,
        open_time=NOW - timedelta(hours=1),
        close_time=NOW + timedelta(hours=5),
        yes_bid=4000,
        yes_ask=4200,
        last_price=last_price,
    )


def _verdict(app_factory: Any, last_price: int) -> Any:
    validator = app_factory(stale_quote).build("validators", "stale_quote")
    context = PipelineContext(now=NOW, portfolio=Portfolio(cash=1_000_000))
    return validator.validate(_market(last_price), context)


def test_a_trade_near_the_mid_is_accepted(kalshi_app_factory: Any) -> None:
    assert _verdict(kalshi_app_factory, 4150).accepted


def test_a_trade_far_from_the_mid_is_refused_with_the_figures(kalshi_app_factory: Any) -> None:
    verdict = _verdict(kalshi_app_factory, 2000)
    assert not verdict.accepted
    assert "last trade $0.2000 is $0.2100 from the mid $0.4100" in verdict.reason


def test_a_gap_over_one_dollar_is_refused_at_start_up(kalshi_app_factory: Any) -> None:
    app = kalshi_app_factory(stale_quote, settings={"validators.stale_quote.max_gap": 1.5})
    with pytest.raises(ConfigError, match=r"validators\.stale_quote\.max_gap"):
        app.check()
