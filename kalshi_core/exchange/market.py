"""One listed market's data inside the venue: its terms, book, status, result and tape."""

from __future__ import annotations

from datetime import datetime, timedelta

from kalshi_core.exchange import rules
from kalshi_core.exchange.book import Book
from kalshi_core.exchange.records import Tape
from kalshi_core.exchange.reports import MarketActivity
from kalshi_core.fees import FeeSchedule
from kalshi_core.models import Market, MarketResult, Trade
from kalshi_core.money import Count, Money, Price

DAY = timedelta(days=1)


class MarketState:
    """One listed market inside the venue."""

    __slots__ = (
        "book",
        "fees",
        "fractional",
        "grid",
        "last_price",
        "listed",
        "open_interest",
        "result",
        "settlement_ts",
        "settlement_value",
        "status",
        "tape",
        "updated_time",
        "volume",
    )

    def __init__(self, listed: Market, fees: FeeSchedule, fractional: bool) -> None:
        self.listed = listed
        self.status = listed.status
        self.book = Book(listed.ticker)
        self.fees = fees
        self.fractional = fractional
        self.grid = rules.price_grid(listed.price_ranges)
        self.last_price: Price = 0
        self.volume: Count = 0
        self.open_interest: Count = 0
        self.result = MarketResult.NONE
        self.settlement_value: Money | None = None
        self.settlement_ts: datetime | None = None
        self.updated_time: datetime | None = None
        self.tape = Tape()

    @property
    def trades(self) -> list[Trade]:
        """The tape, oldest first (read only)."""
        return self.tape.records()

    def volume_since(self, since: datetime) -> Count:
        """Contracts traded at or after ``since`` (the tape is in time order)."""
        total = 0
        for trade in reversed(self.trades):
            if trade.created_time < since:
                break
            total += trade.count
        return total

    def activity(self, now: datetime | None = None) -> MarketActivity:
        return MarketActivity(
            status=self.status,
            result=self.result,
            last_price=self.last_price,
            volume=self.volume,
            volume_24h=self.volume_since(now - DAY) if now else self.volume,
            open_interest=self.open_interest,
            settlement_value=self.settlement_value,
            settlement_ts=self.settlement_ts,
            updated_time=self.updated_time,
        )

    def record_print(self, trade: Trade) -> None:
        """Put ``trade`` on the tape and move last price, volume and update time."""
        self.tape.append(trade)
        self.last_price = trade.yes_price
        self.volume += trade.count
        self.updated_time = trade.created_time

    def record_execution(
        self, trade_id: str, count: Count, price: Price, taker_bids: bool, now: datetime
    ) -> None:
        """:meth:`record_print` for the venue's own trade, without building the Trade yet."""
        self.tape.append_row((trade_id, self.listed.ticker, count, price, taker_bids, now))
        self.last_price = price
        self.volume += count
        self.updated_time = now
