"""Kalshi's historical section (``/historical/*``) over what the replay has played so far.

Kalshi archives data older than a cutoff and serves it from ``/historical``: markets settled
before ``market_settled_ts``, trades and fills before ``trades_created_ts``, orders canceled or
executed before ``orders_updated_ts``. The local exchange keeps one cutoff for all three: its
own clock rounded down to the hour (recorded time, or shifted time under ``exchange.time =
"present"``), so the section grows as the replay goes on and never holds what has not happened
yet. The live routes keep serving everything, archived or not; a downloader that splits its
requests at the cutoff, as Kalshi asks, sees each item once.

Lists page with keyset cursors of their own (a live route's cursor is refused here), in the
live routes' orders: markets by ticker, trades, fills and orders newest first.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, ClassVar

from starlette.requests import Request
from starlette.responses import Response

from kalshi_core.exchange import rules
from kalshi_core.exchange.http.base import Handlers, RouteSpec
from kalshi_core.exchange.http.candles import build_candles, candle_query
from kalshi_core.exchange.http.market_index import Predicate, listing_response, market_page
from kalshi_core.exchange.http.markets import SETTLED, market_filters
from kalshi_core.exchange.http.pages import (
    MARKET_LIMITS,
    PORTFOLIO_LIMITS,
    Listing,
    micros,
    paginate,
)
from kalshi_core.exchange.http.params import EPOCH, query_bool, query_csv, time_window
from kalshi_core.exchange.http.shapes import (
    fill_json,
    json_body,
    market_json,
    trade_json,
)
from kalshi_core.models import Fill, Market, Order, OrderStatus, Trade
from kalshi_core.wire import format_time

CUTOFF_STEP = timedelta(hours=1)
MARKETS: Listing[Market] = Listing("historical_markets", lambda m: (m.ticker,), (str,))
TRADES: Listing[Trade] = Listing(
    "historical_trades",
    lambda t: (micros(t.created_time), t.trade_id),
    (int, str),
    newest_first=True,
)
# Fills are listed with their subaccount number: (number, fill).
FILLS: Listing[tuple[int, Fill]] = Listing(
    "historical_fills",
    lambda p: (micros(p[1].created_time), p[1].fill_id),
    (int, str),
    newest_first=True,
)
ORDERS: Listing[Order] = Listing(
    "historical_orders",
    lambda o: (micros(o.created_time), o.order_id),
    (int, str),
    newest_first=True,
)
PRICE_KEYS = ("open", "low", "high", "close", "mean", "previous")


def historical_cutoff(now: datetime) -> datetime:
    """The exchange's time rounded down to a whole hour (UTC)."""
    return EPOCH + (now - EPOCH) // CUTOFF_STEP * CUTOFF_STEP


def before(moment: datetime | None, cutoff: datetime) -> bool:
    return moment is not None and moment < cutoff


def archived_market(market: Market, cutoff: datetime) -> bool:
    """A market settled before the cutoff: Kalshi serves it from ``/historical/markets``."""
    return market.status in SETTLED and before(market.settlement_ts, cutoff)


def archived_before(cutoff: datetime) -> Predicate:
    """:func:`archived_market` at ``cutoff``, as a ``GET /historical/markets`` filter."""
    return lambda market: archived_market(market, cutoff)


def archived_order(order: Order, cutoff: datetime) -> bool:
    """An order canceled or fully executed before the cutoff (resting ones stay live)."""
    finished = order.status is not OrderStatus.RESTING
    return finished and before(order.last_update_time or order.created_time, cutoff)


def _distribution(data: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """A live candle's ``{open_dollars, ...}`` in the historical shape ``{open, ...}``."""
    return {key: data.get(f"{key}_dollars") for key in keys}


def historical_candle(candle: dict[str, Any]) -> dict[str, Any]:
    """``MarketCandlestick`` as ``MarketCandlestickHistorical``: plain keys, price nullable."""
    ohlc = PRICE_KEYS[:4]
    return {
        "end_period_ts": candle["end_period_ts"],
        "yes_bid": _distribution(candle["yes_bid"], ohlc),
        "yes_ask": _distribution(candle["yes_ask"], ohlc),
        "price": _distribution(candle.get("price") or {}, PRICE_KEYS),
        "volume": candle["volume_fp"],
        "open_interest": candle["open_interest_fp"],
    }


class HistoricalHandlers(Handlers):
    ROUTES: ClassVar[tuple[RouteSpec, ...]] = (
        ("GET", "/historical/cutoff", "cutoff"),
        ("GET", "/historical/markets", "markets"),
        ("GET", "/historical/markets/{ticker}", "market"),
        ("GET", "/historical/markets/{ticker}/candlesticks", "candlesticks"),
        ("GET", "/historical/trades", "trades"),
        ("GET", "/historical/fills", "fills"),
        ("GET", "/historical/orders", "orders"),
    )

    def _cutoff(self) -> datetime:
        return historical_cutoff(self._now())

    def _archived(self, ticker: str) -> Market:
        market = self.venue.market(ticker)  # 404 for a ticker never listed
        if not archived_market(market, self._cutoff()):
            message = f"market {ticker} did not settle before the historical cutoff"
            raise rules.reject(rules.NOT_FOUND, f"{message}; GET /markets/{ticker} serves it")
        return market

    async def cutoff(self, request: Request) -> Response:
        stamp = format_time(self._cutoff())
        return json_body(
            {
                "market_settled_ts": stamp,
                "trades_created_ts": stamp,
                "orders_updated_ts": stamp,
                "market_positions_last_updated_ts": stamp,
            }
        )

    async def markets(self, request: Request) -> Response:
        cutoff, predicates = self._cutoff(), market_filters(request)
        keep, index = [archived_before(cutoff), *predicates], self.context.market_index()
        page, cursor = market_page(index, request, keep, MARKET_LIMITS, MARKETS)
        return listing_response(page, cursor)

    async def market(self, request: Request) -> Response:
        return json_body({"market": market_json(self._archived(request.path_params["ticker"]))})

    async def candlesticks(self, request: Request) -> Response:
        ticker = request.path_params["ticker"]
        market = self._archived(ticker)
        candles = build_candles(self.venue.trades(ticker), market, candle_query(request))
        return json_body({"ticker": ticker, "candlesticks": list(map(historical_candle, candles))})

    async def trades(self, request: Request) -> Response:
        ticker = request.query_params.get("ticker") or None
        index = self.context.market_index()
        index.sweep()
        known = ticker is None or index.knows(ticker)
        tape = self.venue.trades(ticker) if known else []
        cutoff, in_time = self._cutoff(), time_window(request)
        block = query_bool(request, "is_block_trade")
        chosen = [
            t
            for t in tape
            if before(t.created_time, cutoff)
            and in_time(t.created_time)
            and block in (None, t.is_block_trade)
        ]
        page, cursor = paginate(chosen, request, MARKET_LIMITS, TRADES)
        return json_body({"trades": [trade_json(t) for t in page], "cursor": cursor})

    async def fills(self, request: Request) -> Response:
        keep = self._account_filter(request, lambda f: f.created_time)
        chosen = [
            (self.venue.owner(account_id)[1], f)
            for account_id in self._scope(request)
            for f in self.venue.fills(account_id)
            if keep(f.ticker, f)
        ]
        page, cursor = paginate(chosen, request, PORTFOLIO_LIMITS, FILLS)
        return json_body({"fills": [fill_json(f, n) for n, f in page], "cursor": cursor})

    async def orders(self, request: Request) -> Response:
        cutoff = self._cutoff()
        keep = self._account_filter(request, lambda o: o.created_time)
        chosen = [
            o
            for account_id in self._scope(request)
            for o in self.venue.orders(account_id)
            if archived_order(o, cutoff) and keep(o.ticker, o)
        ]
        page, cursor = paginate(chosen, request, PORTFOLIO_LIMITS, ORDERS)
        return json_body({"orders": [self._order_json(o) for o in page], "cursor": cursor})

    def _account_filter(
        self, request: Request, when: Callable[[Any], datetime | None]
    ) -> Callable[[str, Any], bool]:
        """``ticker``, ``min_ts``/``max_ts`` (on ``when``); fills must also precede the cutoff
        (an order's own test is :func:`archived_order`)."""
        tickers = set(query_csv(request, "ticker", 100))
        in_time, cutoff = time_window(request), self._cutoff()

        def keep(ticker: str, item: Any) -> bool:
            moment = when(item)
            return (not tickers or ticker in tickers) and in_time(moment) and before(moment, cutoff)

        return keep
