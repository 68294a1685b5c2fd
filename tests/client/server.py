"""A small Kalshi-shaped HTTP server for the client tests, with faults on demand.

It verifies every signature it is sent (``verify_signature`` with the registered public keys),
requires one on ``/portfolio``, serves canned Kalshi JSON (paged markets, an order book,
trades, ...) and keeps an order store that enforces ``client_order_id`` uniqueness with
409 ``order_already_exists``. ``FakeKalshi.inject`` queues faults for the next matching
requests: an error status, a dropped connection, a response that never comes, an order that is
applied but whose response is lost, or a malformed body.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from decimal import Decimal
from typing import Any

import attrs
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kalshi_core.client.auth import KEY_HEADER, verify_signature

PREFIX = "/trade-api/v2"
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class DroppedConnection(Exception):
    """Raised after the response started: uvicorn then closes the socket mid-response."""


@attrs.define(kw_only=True)
class Fault:
    """One injected fault. ``kind``: status | drop | slow | apply_then_drop | apply_then_slow
    | body. ``method``/``path`` (relative to the API prefix) restrict which request it hits."""

    kind: str
    status: int = 500
    code: str = "internal_error"
    retry_after: str | None = None
    body: bytes = b""
    method: str | None = None
    path: str | None = None

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path is None or self.path == path
        )


def error(status: int, code: str, message: str = "") -> JSONResponse:
    body = {"error": {"code": code, "message": message or code, "service": "exchange"}}
    return JSONResponse(body, status_code=status)


def dollars(value: Decimal) -> str:
    return f"{value:.4f}"


def market_json(
    ticker: str, event_ticker: str = "KXTEST-26", status: str = "active"
) -> dict[str, Any]:
    return {
        "ticker": ticker,
        "event_ticker": event_ticker,
        "market_type": "binary",
        "title": f"Market {ticker}",
        "yes_sub_title": "Yes",
        "no_sub_title": "No",
        "created_time": "2026-01-01T00:00:00Z",
        "updated_time": "2026-01-02T00:00:00Z",
        "open_time": "2026-01-01T00:00:00Z",
        "close_time": "2026-12-31T00:00:00.123Z",
        "latest_expiration_time": "2027-01-01T00:00:00Z",
        "settlement_timer_seconds": 60,
        "status": status,
        "yes_bid_dollars": "0.4200",
        "yes_bid_size_fp": "10.00",
        "yes_ask_dollars": "0.4400",
        "yes_ask_size_fp": "5.50",
        "no_bid_dollars": "0.5600",
        "no_ask_dollars": "0.5800",
        "last_price_dollars": "0.4300",
        "volume_fp": "100.00",
        "volume_24h_fp": "10.00",
        "open_interest_fp": "50.00",
        "result": "",
        "can_close_early": True,
        "notional_value_dollars": "1.0000",
        "previous_yes_bid_dollars": "0.4000",
        "previous_yes_ask_dollars": "0.4500",
        "previous_price_dollars": "0.4100",
        "settlement_bounds_type": "default",
        "expiration_value": "",
        "rules_primary": "rules",
        "rules_secondary": "",
        "price_level_structure": "linear_cent",
        "price_ranges": [{"start": "0.0000", "end": "1.0000", "step": "0.0100"}],
        "fractional_trading_enabled": False,  # legacy extra key: must be ignored
    }


def _page(items: list[Any], request: Request, default_limit: int = 100) -> tuple[list[Any], str]:
    """Offset cursors: ``cursor`` is the index of the first item of the page."""
    limit = int(request.query_params.get("limit", default_limit))
    start = int(request.query_params.get("cursor") or 0)
    end = start + limit
    return items[start:end], (str(end) if end < len(items) else "")


class FakeKalshi:
    """The ASGI app. Attributes tests read: ``hits``, ``queries``, ``orders``, ``auth_failures``."""

    def __init__(self, public_keys: dict[str, bytes], market_count: int = 7) -> None:
        self.public_keys = public_keys
        self.hits: Counter[tuple[str, str]] = Counter()
        self.queries: list[tuple[str, str, list[tuple[str, str]]]] = []
        self.bodies: list[Any] = []
        self.faults: list[Fault] = []
        self.auth_failures = 0
        self.markets = [market_json(f"KXTEST-26-M{i:02d}") for i in range(market_count)]
        self.orders: dict[str, dict[str, Any]] = {}
        self.release = asyncio.Event()  # lets "slow" responses finish (at teardown)
        self.hold: asyncio.Event | None = None  # when set, requests wait for it
        self.received = asyncio.Event()
        self.app = Starlette(routes=self._routes())

    # ---- fault injection and auth (raw ASGI, so a connection can really be dropped) ----

    def inject(self, kind: str, times: int = 1, **options: Any) -> None:
        self.faults.extend(Fault(kind=kind, **options) for _ in range(times))

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for index, fault in enumerate(self.faults):
            if fault.matches(method, path):
                return self.faults.pop(index)
        return None

    def _authorized(self, scope: Scope, path: str) -> bool:
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        key_id = next((v for k, v in headers.items() if k.lower() == KEY_HEADER.lower()), None)
        if key_id is None:
            return not path.startswith("/portfolio")
        public_key = self.public_keys.get(key_id)
        raw_path = scope.get("raw_path") or scope["path"].encode()
        full_path = raw_path.decode("ascii").split("?", 1)[0]
        return public_key is not None and verify_signature(
            public_key, headers, scope["method"], full_path
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"].removeprefix(PREFIX)
        method = scope["method"]
        self.hits[(method, path)] += 1
        self.received.set()
        if self.hold is not None:
            await self.hold.wait()
        if not self._authorized(scope, path):
            self.auth_failures += 1
            await error(401, "unauthorized", "bad signature")(scope, receive, send)
            return
        fault = self._take_fault(method, path)
        if fault is None:
            await self.app(scope, receive, send)
        else:
            await self._fault(fault, scope, receive, send)

    async def _fault(self, fault: Fault, scope: Scope, receive: Receive, send: Send) -> None:
        if fault.kind == "status":
            response = error(fault.status, fault.code)
            if fault.retry_after is not None:
                response.headers["Retry-After"] = fault.retry_after
            await response(scope, receive, send)
        elif fault.kind == "body":
            response = Response(fault.body, fault.status, media_type="application/json")
            await response(scope, receive, send)
        elif fault.kind in ("apply_then_drop", "apply_then_slow"):
            await self.app(scope, receive, _discard)
            await self._lose_response(fault.kind.removeprefix("apply_then_"), send)
        else:
            await self._lose_response(fault.kind, send)

    async def _lose_response(self, how: str, send: Send) -> None:
        if how == "slow":
            await self.release.wait()
            return
        headers = [(b"content-type", b"application/json"), (b"content-length", b"100")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        raise DroppedConnection("test server drops this connection on purpose")

    # ---- routes ----

    def _routes(self) -> list[Route]:
        def route(path: str, endpoint: Any, method: str = "GET") -> Route:
            return Route(PREFIX + path, self._recorded(endpoint), methods=[method])

        return [
            route("/exchange/status", self.exchange_status),
            route("/markets", self.list_markets),
            route("/markets/orderbooks", self.orderbooks),
            route("/markets/trades", self.trades),
            route("/markets/{ticker}", self.get_market),
            route("/markets/{ticker}/orderbook", self.orderbook),
            route("/series/{series}/markets/{ticker}/candlesticks", self.candlesticks),
            route("/series/{series}", self.series),
            route("/events", self.events),
            route("/events/{event}", self.get_event),
            route("/portfolio/balance", self.balance),
            route("/portfolio/positions", self.positions),
            route("/portfolio/fills", self.fills),
            route("/portfolio/settlements", self.settlements),
            route("/portfolio/orders", self.list_orders),
            route("/portfolio/orders/{order_id}", self.get_order),
            route("/portfolio/events/orders", self.create_order, "POST"),
            route("/portfolio/events/orders", self.cancel_all, "DELETE"),
            route("/portfolio/events/orders/batched", self.batch_create, "POST"),
            route("/portfolio/events/orders/batched", self.batch_cancel, "DELETE"),
            route("/portfolio/events/orders/{order_id}", self.cancel_order, "DELETE"),
            route("/portfolio/events/orders/{order_id}/amend", self.amend, "POST"),
            route("/portfolio/events/orders/{order_id}/decrease", self.decrease, "POST"),
        ]

    def _recorded(self, endpoint: Callable[[Request], Awaitable[Response]]) -> Any:
        async def handle(request: Request) -> Response:
            path = request.url.path.removeprefix(PREFIX)
            self.queries.append((request.method, path, list(request.query_params.multi_items())))
            return await endpoint(request)

        return handle

    async def exchange_status(self, request: Request) -> Response:
        return JSONResponse({"exchange_active": True, "trading_active": False})

    async def list_markets(self, request: Request) -> Response:
        markets = self.markets
        if "tickers" in request.query_params:
            wanted = request.query_params["tickers"].split(",")
            markets = [m for m in markets if m["ticker"] in wanted]
        page, cursor = _page(markets, request)
        return JSONResponse({"markets": page, "cursor": cursor})

    def _market(self, ticker: str) -> dict[str, Any] | None:
        return next((m for m in self.markets if m["ticker"] == ticker), None)

    async def get_market(self, request: Request) -> Response:
        market = self._market(request.path_params["ticker"])
        if market is None:
            return error(404, "not_found", "market not found")
        return JSONResponse({"market": market})

    @staticmethod
    def book_json() -> dict[str, Any]:
        return {
            "yes_dollars": [["0.4000", "3.00"], ["0.4200", "10.00"]],
            "no_dollars": [["0.5500", "1.50"], ["0.5600", "2.00"]],
        }

    async def orderbook(self, request: Request) -> Response:
        if self._market(request.path_params["ticker"]) is None:
            return error(404, "not_found")
        return JSONResponse({"orderbook_fp": self.book_json()})

    async def orderbooks(self, request: Request) -> Response:
        tickers = request.query_params.getlist("tickers")
        books = [{"ticker": t, "orderbook_fp": self.book_json()} for t in tickers]
        return JSONResponse({"orderbooks": books})

    async def trades(self, request: Request) -> Response:
        trades = [
            {
                "trade_id": f"t{i}",
                "ticker": "KXTEST-26-M00",
                "count_fp": "2.00",
                "yes_price_dollars": "0.4300",
                "no_price_dollars": "0.5700",
                "taker_outcome_side": "yes",
                "taker_book_side": "bid",
                "taker_side": "yes",
                "created_time": "2026-03-01T12:00:00Z",
                "is_block_trade": False,
            }
            for i in range(3)
        ]
        page, cursor = _page(trades, request)
        return JSONResponse({"trades": page, "cursor": cursor})

    async def candlesticks(self, request: Request) -> Response:
        ohlc = {
            "open_dollars": "0.4000",
            "low_dollars": "0.3900",
            "high_dollars": "0.4500",
            "close_dollars": "0.4200",
        }
        nulls = dict.fromkeys(("open_dollars", "low_dollars", "high_dollars", "close_dollars"))
        candle = {
            "end_period_ts": 1767225600,
            "yes_bid": ohlc,
            "yes_ask": ohlc,
            "price": nulls,
            "volume_fp": "0.00",
            "open_interest_fp": "12.00",
        }
        return JSONResponse({"ticker": request.path_params["ticker"], "candlesticks": [candle]})

    async def series(self, request: Request) -> Response:
        return JSONResponse(
            {
                "series": {
                    "ticker": request.path_params["series"],
                    "frequency": "daily",
                    "title": "Test series",
                    "category": "Testing",
                    "categories": ["Testing"],
                    "tags": None,
                    "contract_url": "",
                    "contract_terms_url": "",
                    "fee_type": "quadratic_with_maker_fees",
                    "fee_multiplier": 1,
                }
            }
        )

    @staticmethod
    def event_json(ticker: str) -> dict[str, Any]:
        return {
            "event_ticker": ticker,
            "series_ticker": ticker.split("-", maxsplit=1)[0],
            "sub_title": "sub",
            "title": f"Event {ticker}",
            "collateral_return_type": "MECNET",
            "mutually_exclusive": True,
        }

    async def events(self, request: Request) -> Response:
        events = [self.event_json(f"KXTEST-{i}") for i in range(5)]
        page, cursor = _page(events, request, default_limit=200)
        return JSONResponse({"events": page, "cursor": cursor})

    async def get_event(self, request: Request) -> Response:
        ticker = request.path_params["event"]
        markets = [m for m in self.markets if m["event_ticker"] == ticker]
        return JSONResponse({"event": self.event_json(ticker), "markets": markets})

    async def balance(self, request: Request) -> Response:
        return JSONResponse(
            {
                "balance": 12345,
                "balance_dollars": "123.4500",
                "portfolio_value": 500,
                "updated_ts": 1767225600,
            }
        )

    async def positions(self, request: Request) -> Response:
        position = {
            "ticker": "KXTEST-26-M00",
            "exchange_index": 0,
            "total_traded_dollars": "4.2000",
            "position_fp": "-10.00",
            "market_exposure_dollars": "5.8000",
            "realized_pnl_dollars": "0.0000",
            "fees_paid_dollars": "0.0200",
            "last_updated_ts": "2026-03-01T12:00:00Z",
        }
        # No cursor key at all: it is optional on this endpoint.
        return JSONResponse({"market_positions": [position], "event_positions": []})

    async def fills(self, request: Request) -> Response:
        fill = {
            "fill_id": "f1",
            "trade_id": "f1",
            "order_id": "o1",
            "ticker": "KXTEST-26-M00",
            "market_ticker": "KXTEST-26-M00",
            "exchange_index": 0,
            "outcome_side": "no",
            "book_side": "ask",
            "count_fp": "1.00",
            "yes_price_dollars": "0.4200",
            "no_price_dollars": "0.5800",
            "is_taker": True,
            "fee_cost": "0.0200",
            "created_time": "2026-03-01T12:00:00Z",
        }
        return JSONResponse({"fills": [fill], "cursor": ""})

    async def settlements(self, request: Request) -> Response:
        settlement = {
            "ticker": "KXTEST-26-M00",
            "exchange_index": 0,
            "event_ticker": "KXTEST-26",
            "market_result": "no",
            "yes_count_fp": "0.00",
            "yes_total_cost_dollars": "0.0000",
            "no_count_fp": "10.00",
            "no_total_cost_dollars": "5.8000",
            "revenue": 1000,
            "settled_time": "2026-03-02T00:00:00Z",
            "fee_cost": "0.0000",
        }
        return JSONResponse({"settlements": [settlement]})

    # ---- the order store ----

    def find_by_client_id(self, client_order_id: str) -> dict[str, Any] | None:
        return next(
            (o for o in self.orders.values() if o["client_order_id"] == client_order_id), None
        )

    def _place(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if body.get("side") not in ("bid", "ask"):
            return 400, {"code": "invalid_parameters", "message": "side must be bid or ask"}
        coid = body.get("client_order_id", "")
        if coid and self.find_by_client_id(coid) is not None:
            return 409, {"code": "order_already_exists", "message": "duplicate client_order_id"}
        price = Decimal(body["price"])
        order_id = str(uuid.uuid4())
        self.orders[order_id] = {
            "order_id": order_id,
            "user_id": "u1",
            "client_order_id": coid,
            "ticker": body["ticker"],
            "outcome_side": "yes" if body["side"] == "bid" else "no",
            "book_side": body["side"],
            "type": "limit",
            "status": "resting",
            "yes_price_dollars": dollars(price),
            "no_price_dollars": dollars(1 - price),
            "initial_count_fp": body["count"],
            "fill_count_fp": "0.00",
            "remaining_count_fp": body["count"],
            "taker_fill_cost_dollars": "0.0000",
            "maker_fill_cost_dollars": "0.0000",
            "taker_fees_dollars": "0.0000",
            "maker_fees_dollars": "0.0000",
            "created_time": "2026-03-01T12:00:00Z",
        }
        ack = {
            "order_id": order_id,
            "client_order_id": coid,
            "fill_count": "0.00",
            "remaining_count": body["count"],
            "ts_ms": 1772366400000,
        }
        return 201, ack

    async def _json(self, request: Request) -> Any:
        body = json.loads(await request.body())
        self.bodies.append(body)
        return body

    async def create_order(self, request: Request) -> Response:
        status, result = self._place(await self._json(request))
        if status != 201:
            return error(status, result["code"], result["message"])
        return JSONResponse(result, status_code=201)

    async def batch_create(self, request: Request) -> Response:
        results = []
        for item in (await self._json(request))["orders"]:
            status, result = self._place(item)
            if status == 201:
                results.append(result)
            else:
                results.append({"client_order_id": item.get("client_order_id"), "error": result})
        return JSONResponse({"orders": results}, status_code=201)

    def _cancel(self, order_id: str) -> dict[str, Any] | None:
        order = self.orders.get(order_id)
        if order is None or order["status"] != "resting":
            return None
        reduced = order["remaining_count_fp"]
        order.update(status="canceled", remaining_count_fp="0.00")
        return {
            "order_id": order_id,
            "client_order_id": order["client_order_id"],
            "reduced_by": reduced,
            "ts_ms": 1772366400000,
        }

    async def cancel_order(self, request: Request) -> Response:
        result = self._cancel(request.path_params["order_id"])
        if result is None:
            return error(404, "not_found", "no resting order with this id")
        return JSONResponse(result)

    async def batch_cancel(self, request: Request) -> Response:
        results = []
        for item in (await self._json(request))["orders"]:
            result = self._cancel(item["order_id"])
            if result is None:
                results.append(
                    {
                        "order_id": item["order_id"],
                        "reduced_by": "0.00",
                        "error": {"code": "not_found"},
                    }
                )
            else:
                results.append(result)
        return JSONResponse({"orders": results})

    async def cancel_all(self, request: Request) -> Response:
        for order_id in list(self.orders):
            self._cancel(order_id)
        return Response(status_code=204)

    async def amend(self, request: Request) -> Response:
        order = self.orders.get(request.path_params["order_id"])
        if order is None or order["status"] != "resting":
            return error(404, "not_found")
        body = await self._json(request)
        price = Decimal(body["price"])
        order.update(
            yes_price_dollars=dollars(price),
            no_price_dollars=dollars(1 - price),
            remaining_count_fp=body["count"],
            initial_count_fp=body["count"],
        )
        return JSONResponse(
            {
                "order_id": order["order_id"],
                "client_order_id": order["client_order_id"],
                "remaining_count": order["remaining_count_fp"],
                "fill_count": "0.00",
                "ts_ms": 1772366400000,
            }
        )

    async def decrease(self, request: Request) -> Response:
        order = self.orders.get(request.path_params["order_id"])
        if order is None or order["status"] != "resting":
            return error(404, "not_found")
        body = await self._json(request)
        remaining = Decimal(order["remaining_count_fp"])
        if "reduce_by" in body:
            remaining -= Decimal(body["reduce_by"])
        else:
            remaining = Decimal(body["reduce_to"])
        order["remaining_count_fp"] = f"{max(remaining, Decimal(0)):.2f}"
        return JSONResponse(
            {
                "order_id": order["order_id"],
                "client_order_id": order["client_order_id"],
                "remaining_count": order["remaining_count_fp"],
                "ts_ms": 1772366400000,
            }
        )

    async def list_orders(self, request: Request) -> Response:
        orders = list(self.orders.values())
        ticker = request.query_params.get("ticker")
        if ticker:
            orders = [o for o in orders if o["ticker"] == ticker]
        page, cursor = _page(orders, request)
        return JSONResponse({"orders": page, "cursor": cursor})

    async def get_order(self, request: Request) -> Response:
        order = self.orders.get(request.path_params["order_id"])
        if order is None:
            return error(404, "not_found")
        return JSONResponse({"order": order})


async def _discard(message: Message) -> None:
    """A ``send`` that throws the response away: the order is applied, the answer is lost."""
