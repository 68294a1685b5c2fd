"""Helpers shared by the local exchange tests: markets and order requests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kalshi_core.exchange import VenueOrder
from kalshi_core.models import (
    BookSide,
    Market,
    MarketStatus,
    PriceLevelStructure,
    PriceRange,
    SelfTradePrevention,
    TimeInForce,
)
from kalshi_core.money import CONTRACT, DOLLAR

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TICKER = "KXTEST-26MAR01-T50"
DECI = "KXDECI-26MAR01-T50"
FUNDS = 1_000 * DOLLAR


def make_market(ticker: str = TICKER, **overrides: object) -> Market:
    fields: dict[str, object] = {
        "ticker": ticker,
        "event_ticker": ticker.rsplit("-", 1)[0],
        "status": MarketStatus.ACTIVE,
        "open_time": START - timedelta(days=1),
        "close_time": START + timedelta(days=30),
    }
    fields.update(overrides)
    return Market(**fields)  # type: ignore[arg-type]


def tapered_market(ticker: str = DECI) -> Market:
    ranges = (
        PriceRange(start=0, end=1000, step=10),
        PriceRange(start=1000, end=9000, step=100),
        PriceRange(start=9000, end=DOLLAR, step=10),
    )
    return make_market(
        ticker,
        price_level_structure=PriceLevelStructure.TAPERED_DECI_CENT,
        price_ranges=ranges,
    )


def order(
    account: str,
    side: BookSide,
    price: int,
    contracts: float | int = 1,
    *,
    ticker: str = TICKER,
    tif: TimeInForce = TimeInForce.GOOD_TILL_CANCELED,
    stp: SelfTradePrevention = SelfTradePrevention.TAKER_AT_CROSS,
    **kwargs: object,
) -> VenueOrder:
    """An order for ``contracts`` whole contracts (``count=`` in kwargs overrides)."""
    count = kwargs.pop("count", int(contracts * CONTRACT))
    return VenueOrder(
        account=account,
        ticker=ticker,
        side=side,
        price=price,
        count=count,  # type: ignore[arg-type]
        time_in_force=tif,
        self_trade_prevention_type=stp,
        **kwargs,  # type: ignore[arg-type]
    )


def bid(account: str, price: int, contracts: float | int = 1, **kwargs: object) -> VenueOrder:
    return order(account, BookSide.BID, price, contracts, **kwargs)  # type: ignore[arg-type]


def ask(account: str, price: int, contracts: float | int = 1, **kwargs: object) -> VenueOrder:
    return order(account, BookSide.ASK, price, contracts, **kwargs)  # type: ignore[arg-type]
