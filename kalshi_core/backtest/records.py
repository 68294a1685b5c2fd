"""What a backtest's results are computed from: plain records of one run's rows.

:mod:`kalshi_core.backtest.rows` reads them from the database (every row scoped to the run's
id) and :mod:`kalshi_core.backtest.catalogue` from the recorded history (each market's result,
close time and category, and the last recorded price of a market still open at the end).
:mod:`kalshi_core.backtest.metrics` is pure functions over them, so the figures can be checked
by hand on a few records.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import attrs

from kalshi_core.money import DOLLAR, Count, Money, Price


@attrs.frozen(kw_only=True)
class FillRecord:
    """One of our fills. ``bid`` buys YES (or sells NO); an ask sells YES (or buys NO)."""

    ticker: str
    bid: bool
    count: Count
    yes_price: Price
    fee: Money
    time: datetime
    strategy: str = ""
    is_taker: bool = False

    @property
    def no_price(self) -> Price:
        return DOLLAR - self.yes_price

    @property
    def outcome_price(self) -> Price:
        """What one contract of the side bought cost: YES on a bid, NO on an ask."""
        return self.yes_price if self.bid else self.no_price


@attrs.frozen(kw_only=True)
class SettlementRecord:
    """The venue's settlement of our position in one market (its ``revenue`` is the payout)."""

    ticker: str
    result: str
    yes_count: Count
    no_count: Count
    revenue: Money
    time: datetime


@attrs.frozen(kw_only=True)
class ForecastRecord:
    """A forecast made at a decision, and the market's price the decision saw then."""

    ticker: str
    time: datetime
    probability: float
    market_price: float | None


@attrs.frozen(kw_only=True)
class MarketInfo:
    """A recorded market: its event, series, category, close time and recorded result."""

    ticker: str
    event_ticker: str
    series_ticker: str
    category: str
    close_time: datetime
    result: str


@attrs.frozen(kw_only=True)
class Mark:
    """The price an open position is valued at when the run ends, and where it came from."""

    ticker: str
    price: Price
    source: str
    time: datetime | None = None


@attrs.frozen(kw_only=True)
class RunRecords:
    """Everything the results of one run are a function of."""

    run_id: str
    start_equity: Money
    fills: tuple[FillRecord, ...] = ()
    settlements: tuple[SettlementRecord, ...] = ()
    forecasts: tuple[ForecastRecord, ...] = ()
    markets: Mapping[str, MarketInfo] = attrs.field(factory=dict)
    marks: Mapping[str, Mark] = attrs.field(factory=dict)
    start_time: datetime | None = None
    end_time: datetime | None = None
