"""Small builders of markets, forecasts, positions and contexts for the engine's tests."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

from kalshi_core.models import Action, Forecast, Market, MarketStatus, OrderIntent, Position, Side
from kalshi_core.money import CONTRACT, DOLLAR
from kalshi_core.protocols import PipelineContext, Portfolio

NOW = datetime(2025, 7, 1, 12, 0, tzinfo=UTC)


def market(ticker: str = "KXTEST-25JUL01-A", **fields: Any) -> Market:
    values: dict[str, Any] = {
        "event_ticker": ticker.rsplit("-", 1)[0],
        "status": MarketStatus.ACTIVE,
        "open_time": NOW - timedelta(days=1),
        "close_time": NOW + timedelta(days=2),
        "yes_bid": 4800,
        "yes_ask": 5200,
        "volume": 1000 * CONTRACT,
        "volume_24h": 500 * CONTRACT,
        "open_interest": 300 * CONTRACT,
    }
    values.update(fields)
    return Market(ticker=ticker, **values)


def forecast(
    probability: int, ticker: str = "KXTEST-25JUL01-A", stderr: int | None = 0
) -> Forecast:
    """A test forecast; ``stderr`` 0 (certain) unless a test is about uncertainty."""
    return Forecast(
        ticker=ticker, probability=probability, model="test", created_time=NOW, stderr=stderr
    )


def position(ticker: str, contracts: int, cost_each: int) -> Position:
    """``contracts`` > 0 is YES, < 0 is NO, bought at ``cost_each`` per contract."""
    return Position(
        ticker=ticker, position=contracts * CONTRACT, market_exposure=abs(contracts) * cost_each
    )


def portfolio(cash: int = 1000 * DOLLAR, **fields: Any) -> Portfolio:
    return Portfolio(cash=cash, **fields)


def context(port: Portfolio | None = None, now: datetime = NOW, **fields: Any) -> PipelineContext:
    return PipelineContext(now=now, portfolio=port or portfolio(), **fields)


def buy(
    price: int,
    contracts: int = 10,
    *,
    ticker: str = "KXTEST-25JUL01-A",
    side: Side = Side.YES,
    **fields: Any,
) -> OrderIntent:
    fields.setdefault("action", Action.BUY)
    return OrderIntent(
        ticker=ticker,
        side=side,
        price=price,
        count=contracts * CONTRACT,
        strategy="test",
        **fields,
    )


def positions(*held: Position) -> Mapping[str, Position]:
    return {p.ticker: p for p in held}


def unless_installed(module: ModuleType) -> tuple[ModuleType, ...]:
    """``(module,)`` to register by hand, or ``()`` once it is a declared entry point (the
    built-ins are loaded from entry points, and registering a module twice is an error)."""
    declared = {ep.value for ep in entry_points(group="kalshi_core")}
    return () if module.__name__ in declared else (module,)
