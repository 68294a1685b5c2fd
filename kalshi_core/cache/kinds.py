"""The kinds of value the cache holds, each with its key prefix and codec."""

from __future__ import annotations

from kalshi_core.cache.codec import BOOK_CODEC, list_codec, model_codec
from kalshi_core.cache.store import Kind
from kalshi_core.client.types import EventDetail, ExchangeStatus
from kalshi_core.models import Forecast, Market, OrderBook, Series

MARKETS: Kind[list[Market]] = Kind("markets", list_codec(Market))
MARKET: Kind[Market] = Kind("market", model_codec(Market))
ORDERBOOK: Kind[OrderBook] = Kind("orderbook", BOOK_CODEC)
# ``None`` (an unknown series) is never stored: see SharedCache._load.
SERIES: Kind[Series | None] = Kind("series", model_codec(Series))
EVENT: Kind[EventDetail] = Kind("event", model_codec(EventDetail))
STATUS: Kind[ExchangeStatus] = Kind("status", model_codec(ExchangeStatus))
FORECAST: Kind[Forecast] = Kind("forecast", model_codec(Forecast))

#: Kinds holding one market's data, keyed by its ticker: dropped after our own order or fill.
PER_TICKER = (MARKET, ORDERBOOK)
