"""The kinds of value the cache holds, each with its key prefix and codec."""

from __future__ import annotations

from kalshi_core.cache.codec import BOOK_CODEC, list_codec, model_codec
from kalshi_core.cache.store import Kind
from kalshi_core.client.types import EventDetail, ExchangeStatus
from kalshi_core.models import (
    Balance,
    Fill,
    Forecast,
    Market,
    Order,
    OrderBook,
    Position,
    Series,
    Settlement,
)

MARKETS: Kind[list[Market]] = Kind("markets", list_codec(Market))
MARKET: Kind[Market] = Kind("market", model_codec(Market))
ORDERBOOK: Kind[OrderBook] = Kind("orderbook", BOOK_CODEC)
# ``None`` (an unknown series) is never stored: see SharedCache._load.
SERIES: Kind[Series | None] = Kind("series", model_codec(Series))
EVENT: Kind[EventDetail] = Kind("event", model_codec(EventDetail))
STATUS: Kind[ExchangeStatus] = Kind("status", model_codec(ExchangeStatus))
FORECAST: Kind[Forecast] = Kind("forecast", model_codec(Forecast))

# The account snapshot, shared by workers only when ``cache.account_ttl_seconds`` > 0.
BALANCE: Kind[Balance] = Kind("balance", model_codec(Balance))
POSITIONS: Kind[list[Position]] = Kind("positions", list_codec(Position))
RESTING: Kind[list[Order]] = Kind("resting", list_codec(Order))
#: Dropped after any of our own orders, cancels or fills, on every worker sharing the backend.
# Our fills since a UTC day's start: each worker takes those at or after its own cursor.
FILLS: Kind[list[Fill]] = Kind("fills", list_codec(Fill))

# The account's settlements: the reconciler reads them rarely, so one worker's read serves all.
SETTLEMENTS: Kind[list[Settlement]] = Kind("settlements", list_codec(Settlement))

ACCOUNT = (BALANCE, POSITIONS, RESTING, FILLS, SETTLEMENTS)

#: Kinds holding one market's data, keyed by its ticker: dropped after our own order or fill.
PER_TICKER = (MARKET, ORDERBOOK)
