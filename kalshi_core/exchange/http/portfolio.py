"""Portfolio reads: balance, positions, orders, one order, queue position, fills and
settlements of the account that signed the request."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from starlette.requests import Request
from starlette.responses import Response

from kalshi_core.exchange.http.base import Handlers, RouteSpec, account
from kalshi_core.exchange.http.errors import bad
from kalshi_core.exchange.http.markets import SETTLED
from kalshi_core.exchange.http.pages import PORTFOLIO_LIMITS, Listing, micros, paginate
from kalshi_core.exchange.http.params import choice_field, query_csv, time_window
from kalshi_core.exchange.http.shapes import (
    epoch_seconds,
    fill_json,
    json_body,
    position_json,
    settlement_json,
)
from kalshi_core.models import BookSide, Fill, Market, Order, OrderStatus, Position, Settlement
from kalshi_core.money import CENT, DOLLAR, Money, format_count, format_dollars, notional

POSITION_LIST: Listing[Position] = Listing("positions", lambda p: (p.ticker,), (str,))
ORDER_LIST: Listing[Order] = Listing(
    "orders", lambda o: (micros(o.created_time), o.order_id), (int, str), newest_first=True
)
# Fills are listed with their subaccount number: (number, fill).
FILL_LIST: Listing[tuple[int, Fill]] = Listing(
    "fills", lambda p: (micros(p[1].created_time), p[1].fill_id), (int, str), newest_first=True
)
# Two subaccounts can settle one market at one moment: the number keeps their keys apart.
SETTLEMENT_LIST: Listing[tuple[int, Settlement]] = Listing(
    "settlements",
    lambda p: (micros(p[1].settled_time), p[1].ticker, p[0]),
    (int, str, int),
    newest_first=True,
)


def resting_value(order: Order) -> Money:
    """The cost of an order's remaining contracts at its price (a NO buy pays $1 - YES)."""
    paid = order.yes_price if order.book_side is BookSide.BID else DOLLAR - order.yes_price
    return notional(paid, order.remaining_count, round_up=True)


def position_filter(
    request: Request, market_of: Callable[[str], Market]
) -> Callable[[Position], bool]:
    ticker = request.query_params.get("ticker")
    events = set(query_csv(request, "event_ticker"))
    settlement = request.query_params.get("settlement_status") or "unsettled"
    if settlement not in ("unsettled", "settled", "all"):
        raise bad(f"settlement_status={settlement!r} must be unsettled, settled or all")
    counts = set(query_csv(request, "count_filter"))
    if not counts <= {"position", "total_traded"}:
        raise bad(f"count_filter={sorted(counts)} may hold only position and total_traded")

    def keep(position: Position) -> bool:
        market = market_of(position.ticker)
        settled = market.status in SETTLED
        return (
            (not ticker or position.ticker == ticker)
            and (not events or market.event_ticker in events)
            and (settlement == "all" or settled == (settlement == "settled"))
            and ("position" not in counts or position.position != 0)
            and ("total_traded" not in counts or position.total_traded != 0)
        )

    return keep


def event_positions(positions: Iterable[Position], market_of: Callable[[str], Market]) -> list[Any]:
    """Per-event sums of the market positions, in ``EventPosition``'s wire shape."""
    sums: dict[str, list[int]] = {}
    for p in positions:
        row = sums.setdefault(market_of(p.ticker).event_ticker, [0, 0, 0, 0])
        row[0] += p.market_exposure
        row[1] += abs(p.position)
        row[2] += p.realized_pnl
        row[3] += p.fees_paid
    return [
        {
            "event_ticker": event,
            "total_cost_dollars": format_dollars(cost),
            "total_cost_shares_fp": format_count(shares),
            "event_exposure_dollars": format_dollars(cost),
            "realized_pnl_dollars": format_dollars(pnl),
            "fees_paid_dollars": format_dollars(fees),
        }
        for event, (cost, shares, pnl, fees) in sums.items()
    ]


class PortfolioHandlers(Handlers):
    ROUTES: ClassVar[tuple[RouteSpec, ...]] = (
        ("GET", "/portfolio/balance", "balance"),
        ("GET", "/portfolio/positions", "positions"),
        ("GET", "/portfolio/fills", "fills"),
        ("GET", "/portfolio/settlements", "settlements"),
        ("GET", "/portfolio/orders", "orders"),
        ("GET", "/portfolio/orders/queue_positions", "queue_positions"),  # before {order_id}
        ("GET", "/portfolio/orders/{order_id}", "order"),
        ("GET", "/portfolio/orders/{order_id}/queue_position", "queue_position"),
        ("GET", "/portfolio/summary/total_resting_order_value", "resting_order_value"),
    )

    async def resting_order_value(self, request: Request) -> Response:
        """What the account's resting orders would cost if they all filled at their price."""
        resting = self.venue.orders(self._queried(request), status=OrderStatus.RESTING)
        total = sum(resting_value(o) for o in resting)
        return json_body(
            {
                "total_resting_order_value": total // CENT,
                "resting_order_value_breakdown": [
                    {"exchange_index": 0, "balance": format_dollars(total)}
                ],
            }
        )

    async def balance(self, request: Request) -> Response:
        balance = self.venue.balance(self._queried(request))
        return json_body(
            {
                "balance": balance.balance // CENT,
                "balance_dollars": format_dollars(balance.balance),
                "portfolio_value": balance.portfolio_value // CENT,
                "updated_ts": epoch_seconds(self._now()),
            }
        )

    async def positions(self, request: Request) -> Response:
        market_of = self.context.market_reports()  # only the positions' markets are made
        keep = position_filter(request, market_of)
        chosen = [p for p in self.venue.positions(self._queried(request)) if keep(p)]
        page, cursor = paginate(chosen, request, PORTFOLIO_LIMITS, POSITION_LIST)
        now = self._now()
        return json_body(
            {
                "market_positions": [position_json(p, now) for p in page],
                "event_positions": event_positions(chosen, market_of),
                "cursor": cursor,
            }
        )

    async def orders(self, request: Request) -> Response:
        word = request.query_params.get("status")
        status = choice_field({"status": word}, "status", OrderStatus) if word else None
        ticker = request.query_params.get("ticker") or None
        events = set(query_csv(request, "event_ticker", 10))
        market_of = self.context.market_reports() if events else None
        in_time = time_window(request)
        chosen = [
            o
            for account_id in self._scope(request)
            for o in self.venue.orders(account_id, ticker=ticker, status=status)
            if in_time(o.created_time)
            and (market_of is None or market_of(o.ticker).event_ticker in events)
        ]
        page, cursor = paginate(chosen, request, PORTFOLIO_LIMITS, ORDER_LIST)
        return json_body({"orders": [self._order_json(o) for o in page], "cursor": cursor})

    async def order(self, request: Request) -> Response:
        order = self._mine(request, request.path_params["order_id"])
        return json_body({"order": self._order_json(order)})

    async def queue_position(self, request: Request) -> Response:
        order = self._mine(request, request.path_params["order_id"])
        ahead = self.venue.queue_position(order.order_id)
        return json_body({"queue_position_fp": format_count(ahead)})

    async def queue_positions(self, request: Request) -> Response:
        """Queue positions of the account's resting orders, filtered by ``market_tickers``
        (CSV) and/or ``event_ticker``; in the order the orders were placed."""
        tickers = set(query_csv(request, "market_tickers"))
        event = request.query_params.get("event_ticker")
        market_of = self.context.market_reports()
        chosen = [
            o.order_id
            for o in self.venue.orders(self._queried(request), status=OrderStatus.RESTING)
            if (not tickers or o.ticker in tickers)
            and (not event or market_of(o.ticker).event_ticker == event)
            and self.venue.order_state(o.order_id).in_book
        ]
        return json_body({"queue_positions": [self._queue_entry(i) for i in chosen]})

    def _queue_entry(self, order_id: str) -> dict[str, str]:
        return {
            "order_id": order_id,
            "market_ticker": self.venue.order_state(order_id).ticker,
            "queue_position_fp": format_count(self.venue.queue_position(order_id)),
        }

    async def fills(self, request: Request) -> Response:
        tickers = set(query_csv(request, "ticker", 100))
        order_id = request.query_params.get("order_id")
        in_time = time_window(request)
        chosen = [
            (self.venue.owner(account_id)[1], f)
            for account_id in self._scope(request)
            for f in self.venue.fills(account_id)
            if (not tickers or f.ticker in tickers)
            and (not order_id or f.order_id == order_id)
            and in_time(f.created_time)
        ]
        page, cursor = paginate(chosen, request, PORTFOLIO_LIMITS, FILL_LIST)
        return json_body({"fills": [fill_json(f, n) for n, f in page], "cursor": cursor})

    async def settlements(self, request: Request) -> Response:
        ticker = request.query_params.get("ticker")
        event = request.query_params.get("event_ticker")
        in_time = time_window(request)
        chosen = [
            (self.venue.owner(account_id)[1], s)
            for account_id in self._scope(request)
            for s in self.venue.settlements(account_id)
            if (not ticker or s.ticker == ticker)
            and (not event or s.event_ticker == event)
            and in_time(s.settled_time)
        ]
        page, cursor = paginate(chosen, request, PORTFOLIO_LIMITS, SETTLEMENT_LIST)
        market_of, now = self.context.market_reports(), self._now()
        shaped = [settlement_json(s, market_of(s.ticker).settlement_value, now) for _, s in page]
        return json_body({"settlements": shaped, "cursor": cursor})


# Kalshi's basic tier (tokens per second; a request costs 10 by default). The local exchange
# enforces no rate limit except injected 429s: these are what a client should plan for.
BASIC_READ = {"refill_rate": 200, "bucket_capacity": 200}
BASIC_WRITE = {"refill_rate": 100, "bucket_capacity": 100}


class AccountHandlers(Handlers):
    ROUTES: ClassVar[tuple[RouteSpec, ...]] = (("GET", "/account/limits", "limits"),)

    async def limits(self, request: Request) -> Response:
        account(request)  # signed requests only
        body = {"usage_tier": "basic", "read": BASIC_READ, "write": BASIC_WRITE, "grants": []}
        return json_body(body)
