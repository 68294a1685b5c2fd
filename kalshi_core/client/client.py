"""``KalshiClient``: the Kalshi Trade API v2 endpoints as async methods on domain objects.

Reads return :mod:`kalshi_core.models` objects (cursor-paginated lists as ``iter_*`` async
iterators plus ``get_*`` page methods); writes use the V2 order endpoints
(``/portfolio/events/orders*``). Retry rules for writes:

* create: retried with the same ``client_order_id``; a 409 ``order_already_exists`` after an
  attempt with unknown outcome means "already placed", and the placed order is looked up;
  any other 4xx after such an attempt (``market_closed``, ``trading_is_paused``, ...) speaks
  only of the retry, so the outcome is :class:`~kalshi_core.client.errors.OrderStateUnknown`;
* cancel, batch cancel, cancel-all: idempotent, retried; a 404 on a retried cancel is checked
  against the order's status;
* amend, decrease, batch create: never retried on an unknown outcome;
  :class:`~kalshi_core.client.errors.OrderStateUnknown` tells the engine to reconcile.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote

from kalshi_core.client.errors import OrderStateUnknown
from kalshi_core.client.metrics import ClientMetrics
from kalshi_core.client.order_groups import (
    CreatedOrderGroup,
    OrderGroupDetail,
    OrderGroupSummary,
    QueueAhead,
    QueuePosition,
)
from kalshi_core.client.transport import (
    Call,
    Params,
    Reply,
    Transport,
    error_code,
    exchange_error,
    unreadable_success,
)
from kalshi_core.client.types import (
    AmendAck,
    BatchCancelResult,
    Candlestick,
    DecreaseAck,
    EventDetail,
    ExchangeStatus,
    LocalClock,
    Page,
)
from kalshi_core.errors import ExchangeError, WireFormatError
from kalshi_core.gateway import (
    BatchOrderResult,
    CancelAck,
    OrderAck,
    OrderRequest,
)
from kalshi_core.models import (
    Balance,
    BookSide,
    Event,
    Fill,
    Market,
    Order,
    OrderBook,
    OrderStatus,
    Position,
    Series,
    Settlement,
    Trade,
)
from kalshi_core.money import Count, Price, format_count, format_dollars
from kalshi_core.wire import from_wire, many_from_wire, orderbook_from_wire

T = TypeVar("T")
ParamValue = str | int | bool | datetime | enum.Enum | Sequence[str] | None

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ORDERS_V2 = "/portfolio/events/orders"
ORDER_GROUPS = "/portfolio/order_groups"
LOCAL_CLOCK = "/local/clock"  # the local exchange only: its time, stepped or not
BATCH_CANCEL_COST = 0.2  # write tokens per cancelled order in a batch
DEFAULT_MAX_PAGES = 10_000  # a server handing out fresh cursors forever must not loop forever


def _encode_value(name: str, value: ParamValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            raise WireFormatError(f"query parameter {name}: naive datetime; give it a timezone")
        return str((value - _EPOCH) // timedelta(seconds=1))
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, str | int):
        return str(value)
    if isinstance(value, Sequence):
        return ",".join(str(item) for item in value)
    raise WireFormatError(f"query parameter {name}: cannot encode {type(value).__name__}")


def encode_params(**params: ParamValue) -> Params:
    """Query parameters the SDK's way: ``None`` left out, booleans ``true``/``false``,
    datetimes as Unix seconds, sequences comma-joined."""
    return tuple(
        (name, _encode_value(name, value)) for name, value in params.items() if value is not None
    )


def _segment(value: str) -> str:
    return quote(value, safe="")


def _convert(where: str, convert: Callable[[], T]) -> T:
    try:
        return convert()
    except WireFormatError as exc:
        raise ExchangeError(f"malformed response: {exc}", endpoint=where) from exc


def _convert_write(call: Call, convert: Callable[[], T]) -> T:
    try:
        return convert()
    except WireFormatError as exc:
        raise unreadable_success(call, str(exc)) from exc


def _envelope(data: Any, where: str, key: str) -> Any:
    if not isinstance(data, dict):
        raise ExchangeError(
            f"malformed response: expected a JSON object, got {type(data).__name__}",
            endpoint=where,
        )
    if key not in data:
        raise ExchangeError(f"malformed response: {key}: required field missing", endpoint=where)
    return data[key]


def order_body(order: OrderRequest) -> dict[str, Any]:
    """``CreateOrderV2Request`` JSON; ``None`` fields are left out, as the SDK does."""
    body: dict[str, Any] = {
        "ticker": order.ticker,
        "client_order_id": order.client_order_id,
        "side": order.book_side.value,
        "count": format_count(order.count),
        "price": format_dollars(order.price),
        "time_in_force": order.time_in_force.value,
        "self_trade_prevention_type": order.self_trade_prevention_type.value,
        "post_only": order.post_only,
        "reduce_only": order.reduce_only,
    }
    if order.expiration_time is not None:
        body["expiration_time"] = int(_encode_value("expiration_time", order.expiration_time))
    if order.cancel_order_on_pause is not None:
        body["cancel_order_on_pause"] = order.cancel_order_on_pause
    if order.subaccount is not None:
        body["subaccount"] = order.subaccount
    if order.order_group_id is not None:
        body["order_group_id"] = order.order_group_id
    return body


class KalshiClient:
    """Async client for one Kalshi (or Kalshi-compatible) REST base URL.

    ``base_url`` must be loopback unless ``allow_remote=True``: talking to Kalshi itself
    (:data:`~kalshi_core.client.PRODUCTION_BASE_URL`) is an explicit opt-in.
    """

    def __init__(
        self,
        base_url: str,
        *,
        transport: Transport | None = None,
        allow_remote: bool = False,
        max_pages: int = DEFAULT_MAX_PAGES,
        **options: Any,
    ) -> None:
        if max_pages < 1:
            raise ValueError(f"max_pages must be at least 1, got {max_pages}")
        self.max_pages = max_pages
        self.transport = transport or Transport(base_url, allow_remote=allow_remote, **options)

    async def __aenter__(self) -> KalshiClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.transport.aclose()

    @property
    def metrics(self) -> ClientMetrics:
        return self.transport.metrics

    def __repr__(self) -> str:
        return f"KalshiClient({self.transport!r})"

    # ---- plumbing ----

    async def _get(self, path: str, endpoint: str, params: Params = ()) -> tuple[Any, str]:
        call = Call(method="GET", path=path, endpoint=f"GET {endpoint}", params=params)
        return await self.transport.get(call), call.where

    async def _get_one(
        self, path: str, endpoint: str, key: str, cls: type[T], params: Params = ()
    ) -> T:
        data, where = await self._get(path, endpoint, params)
        body = _envelope(data, where, key)
        return _convert(where, lambda: from_wire(body, cls, where=f"{where}: {key}"))

    async def _page(
        self, path: str, key: str, cls: type[T], params: Params, cursor: str | None
    ) -> Page[T]:
        query = (*params, ("cursor", cursor)) if cursor else params
        data, where = await self._get(path, path, query)
        _envelope(data, where, key)
        items = _convert(where, lambda: many_from_wire(data, cls, where=where, key=key))
        next_cursor = data.get("cursor") or ""
        if not isinstance(next_cursor, str):
            raise ExchangeError("malformed response: cursor: expected a string", endpoint=where)
        return Page(items=tuple(items), cursor=next_cursor)

    async def _iterate(self, path: str, key: str, cls: type[T], params: Params) -> AsyncIterator[T]:
        cursor: str | None = None
        seen: set[str] = set()
        for _ in range(self.max_pages):
            page = await self._page(path, key, cls, params, cursor)
            for item in page.items:
                yield item
            if not page.cursor:
                return
            if page.cursor in seen:
                raise ExchangeError(f"pagination cursor {page.cursor!r} repeated", endpoint=path)
            seen.add(page.cursor)
            cursor = page.cursor
        raise ExchangeError(
            f"pagination still not finished after {self.max_pages} pages (kalshi.max_pages)",
            endpoint=f"GET {path}",
        )

    async def _write(self, call: Call, cls: type[T]) -> T:
        reply = await self.transport.request(call)
        return _convert_write(call, lambda: from_wire(reply.data, cls, where=call.where))

    # ---- exchange and market data (public) ----

    async def get_exchange_status(self) -> ExchangeStatus:
        data, where = await self._get("/exchange/status", "/exchange/status")
        return _convert(where, lambda: from_wire(data, ExchangeStatus, where=where))

    async def get_local_clock(self) -> LocalClock | None:
        """The local exchange's clock; ``None`` where the exchange publishes none (Kalshi)."""
        try:
            data, where = await self._get(LOCAL_CLOCK, LOCAL_CLOCK)
        except ExchangeError as error:
            if error.status == 404:
                return None
            raise
        return _convert(where, lambda: from_wire(data, LocalClock, where=where))

    async def advance_local_clock(self, seconds: float) -> LocalClock:
        """Step a stepped local exchange ``seconds`` on. Never retried blindly: a second
        attempt would step twice (read :meth:`get_local_clock` after an unknown outcome)."""
        path = f"{LOCAL_CLOCK}/advance"
        call = Call(
            method="POST",
            path=path,
            endpoint=f"POST {path}",
            body={"seconds": seconds},
            write_cost=1,
            retry_unknown=False,
        )
        return await self._write(call, LocalClock)

    async def get_markets(
        self, *, cursor: str | None = None, limit: int | None = None, **filters: ParamValue
    ) -> Page[Market]:
        """One page of ``GET /markets``. Filters: ``status``, ``event_ticker``,
        ``series_ticker``, ``tickers`` (list), ``min/max_{created,updated,close,settled}_ts``
        (datetimes), ``mve_filter``."""
        params = encode_params(limit=limit, **filters)
        return await self._page("/markets", "markets", Market, params, cursor)

    def iter_markets(
        self, *, limit: int | None = None, **filters: ParamValue
    ) -> AsyncIterator[Market]:
        """Every market matching ``filters`` (see :meth:`get_markets`), page after page."""
        return self._iterate("/markets", "markets", Market, encode_params(limit=limit, **filters))

    async def get_market(self, ticker: str) -> Market:
        path = f"/markets/{_segment(ticker)}"
        return await self._get_one(path, "/markets/{ticker}", "market", Market)

    async def get_orderbook(self, ticker: str, depth: int | None = None) -> OrderBook:
        path = f"/markets/{_segment(ticker)}/orderbook"
        data, where = await self._get(
            path, "/markets/{ticker}/orderbook", encode_params(depth=depth)
        )
        return _convert(where, lambda: orderbook_from_wire(ticker, data, where=where))

    async def get_orderbooks(self, tickers: Iterable[str]) -> list[OrderBook]:
        params = tuple(("tickers", ticker) for ticker in tickers)  # the key repeats
        data, where = await self._get("/markets/orderbooks", "/markets/orderbooks", params)
        _envelope(data, where, "orderbooks")
        return _convert(
            where, lambda: many_from_wire(data, OrderBook, where=where, key="orderbooks")
        )

    async def get_trades(
        self, *, cursor: str | None = None, limit: int | None = None, **filters: ParamValue
    ) -> Page[Trade]:
        """One page of ``GET /markets/trades``; filters ``ticker``, ``min_ts``, ``max_ts``,
        ``is_block_trade``."""
        params = encode_params(limit=limit, **filters)
        return await self._page("/markets/trades", "trades", Trade, params, cursor)

    def iter_trades(
        self, *, limit: int | None = None, **filters: ParamValue
    ) -> AsyncIterator[Trade]:
        params = encode_params(limit=limit, **filters)
        return self._iterate("/markets/trades", "trades", Trade, params)

    async def get_candlesticks(
        self,
        series_ticker: str,
        ticker: str,
        *,
        start: datetime,
        end: datetime,
        period_interval: int,
        include_latest_before_start: bool | None = None,
    ) -> list[Candlestick]:
        path = f"/series/{_segment(series_ticker)}/markets/{_segment(ticker)}/candlesticks"
        params = encode_params(
            start_ts=start,
            end_ts=end,
            period_interval=period_interval,
            include_latest_before_start=include_latest_before_start,
        )
        endpoint = "/series/{series_ticker}/markets/{ticker}/candlesticks"
        data, where = await self._get(path, endpoint, params)
        _envelope(data, where, "candlesticks")
        return _convert(
            where, lambda: many_from_wire(data, Candlestick, where=where, key="candlesticks")
        )

    async def get_event(
        self, event_ticker: str, *, with_nested_markets: bool | None = None
    ) -> EventDetail:
        path = f"/events/{_segment(event_ticker)}"
        params = encode_params(with_nested_markets=with_nested_markets)
        data, where = await self._get(path, "/events/{event_ticker}", params)
        body = _envelope(data, where, "event")
        event = _convert(where, lambda: from_wire(body, Event, where=f"{where}: event"))
        markets = data.get("markets") or []
        parsed = _convert(
            where, lambda: many_from_wire(markets, Market, where=where, key="markets")
        )
        return EventDetail(event=event, markets=tuple(parsed))

    async def get_events(
        self, *, cursor: str | None = None, limit: int | None = None, **filters: ParamValue
    ) -> Page[Event]:
        params = encode_params(limit=limit, **filters)
        return await self._page("/events", "events", Event, params, cursor)

    def iter_events(
        self, *, limit: int | None = None, **filters: ParamValue
    ) -> AsyncIterator[Event]:
        return self._iterate("/events", "events", Event, encode_params(limit=limit, **filters))

    async def get_series(self, series_ticker: str) -> Series:
        path = f"/series/{_segment(series_ticker)}"
        return await self._get_one(path, "/series/{series_ticker}", "series", Series)

    # ---- portfolio reads (authenticated) ----

    async def get_balance(self) -> Balance:
        data, where = await self._get("/portfolio/balance", "/portfolio/balance")
        return _convert(where, lambda: from_wire(data, Balance, where=where))

    async def get_positions(
        self, *, cursor: str | None = None, limit: int | None = None, **filters: ParamValue
    ) -> Page[Position]:
        params = encode_params(limit=limit, **filters)
        return await self._page(
            "/portfolio/positions", "market_positions", Position, params, cursor
        )

    def iter_positions(
        self, *, limit: int | None = None, **filters: ParamValue
    ) -> AsyncIterator[Position]:
        """Market positions (``market_positions``); filters ``ticker``, ``event_ticker``,
        ``count_filter``, ``settlement_status``."""
        params = encode_params(limit=limit, **filters)
        return self._iterate("/portfolio/positions", "market_positions", Position, params)

    async def get_orders(
        self, *, cursor: str | None = None, limit: int | None = None, **filters: ParamValue
    ) -> Page[Order]:
        params = encode_params(limit=limit, **filters)
        return await self._page("/portfolio/orders", "orders", Order, params, cursor)

    def iter_orders(
        self, *, limit: int | None = None, **filters: ParamValue
    ) -> AsyncIterator[Order]:
        """Our orders; filters ``ticker``, ``event_ticker``, ``status``, ``min_ts``, ``max_ts``."""
        return self._iterate(
            "/portfolio/orders", "orders", Order, encode_params(limit=limit, **filters)
        )

    async def get_order(self, order_id: str) -> Order:
        path = f"/portfolio/orders/{_segment(order_id)}"
        return await self._get_one(path, "/portfolio/orders/{order_id}", "order", Order)

    async def queue_position(self, order_id: str) -> Count:
        """Contracts resting ahead of our order at its price (0 once it is not resting)."""
        path = f"/portfolio/orders/{_segment(order_id)}/queue_position"
        data, where = await self._get(path, "/portfolio/orders/{order_id}/queue_position")
        return _convert(where, lambda: from_wire(data, QueueAhead, where=where)).queue_position

    async def queue_positions(
        self, *, market_tickers: Sequence[str] | None = None, event_ticker: str | None = None
    ) -> list[QueuePosition]:
        """Queue positions of our resting orders, in these markets and/or this event."""
        params = encode_params(market_tickers=market_tickers, event_ticker=event_ticker)
        path = "/portfolio/orders/queue_positions"
        data, where = await self._get(path, path, params)
        _envelope(data, where, "queue_positions")
        return _convert(
            where, lambda: many_from_wire(data, QueuePosition, where=where, key="queue_positions")
        )

    async def find_order(self, client_order_id: str, *, ticker: str | None = None) -> Order | None:
        """Our order with this ``client_order_id`` (the API cannot filter on it), or None."""
        async for order in self.iter_orders(ticker=ticker):
            if order.client_order_id == client_order_id:
                return order
        return None

    async def get_fills(
        self, *, cursor: str | None = None, limit: int | None = None, **filters: ParamValue
    ) -> Page[Fill]:
        params = encode_params(limit=limit, **filters)
        return await self._page("/portfolio/fills", "fills", Fill, params, cursor)

    def iter_fills(self, *, limit: int | None = None, **filters: ParamValue) -> AsyncIterator[Fill]:
        return self._iterate(
            "/portfolio/fills", "fills", Fill, encode_params(limit=limit, **filters)
        )

    async def get_settlements(
        self, *, cursor: str | None = None, limit: int | None = None, **filters: ParamValue
    ) -> Page[Settlement]:
        params = encode_params(limit=limit, **filters)
        return await self._page("/portfolio/settlements", "settlements", Settlement, params, cursor)

    def iter_settlements(
        self, *, limit: int | None = None, **filters: ParamValue
    ) -> AsyncIterator[Settlement]:
        params = encode_params(limit=limit, **filters)
        return self._iterate("/portfolio/settlements", "settlements", Settlement, params)

    # ---- order entry (V2) ----

    async def create_order(self, order: OrderRequest) -> OrderAck:
        """Place ``order``; safe to call again with the same ``client_order_id``."""
        call = Call(
            method="POST",
            path=ORDERS_V2,
            endpoint=f"POST {ORDERS_V2}",
            body=order_body(order),
            write_cost=1,
            client_order_id=order.client_order_id,
        )
        reply = await self.transport.execute(call)
        if reply.ok:
            return _convert_write(call, lambda: from_wire(reply.data, OrderAck, where=call.where))
        if reply.after_unknown and _is_duplicate(reply):
            return await self._recover_order(order, call)
        if reply.after_unknown and 400 <= reply.status < 500:
            # The refusal is of the retry; the first attempt may have placed the order.
            code = error_code(reply.data)[0]
            raise OrderStateUnknown(
                f"a retry was refused ({_describe_status(reply)}) after an attempt whose "
                "outcome is unknown; look the order up before writing to this market",
                client_order_id=order.client_order_id,
                code=code,
                status=reply.status,
                endpoint=call.where,
            )
        raise exchange_error(call, reply)

    async def _recover_order(self, order: OrderRequest, call: Call) -> OrderAck:
        """An earlier attempt did place the order; fetch it instead of placing another."""
        try:
            found = await self.find_order(order.client_order_id, ticker=order.ticker)
        except ExchangeError as exc:
            raise OrderStateUnknown(
                f"order already placed but the lookup failed: {exc}",
                client_order_id=order.client_order_id,
                endpoint=call.where,
            ) from exc
        if found is None:
            raise OrderStateUnknown(
                "exchange reports order_already_exists but no order with this id was found",
                client_order_id=order.client_order_id,
                endpoint=call.where,
            )
        return OrderAck(
            order_id=found.order_id,
            client_order_id=found.client_order_id,
            fill_count=found.fill_count,
            remaining_count=found.remaining_count,
            average_fee_paid=None,
            ts=found.created_time,
            recovered=True,
        )

    async def cancel_order(self, order_id: str) -> CancelAck:
        """Cancel a resting order. Retried; a 404 after a lost attempt is checked, not trusted."""
        call = Call(
            method="DELETE",
            path=f"{ORDERS_V2}/{_segment(order_id)}",
            endpoint=f"DELETE {ORDERS_V2}/{{order_id}}",
            write_cost=1,
            order_id=order_id,
        )
        reply = await self.transport.execute(call)
        if reply.ok:
            return _convert_write(call, lambda: from_wire(reply.data, CancelAck, where=call.where))
        if reply.status == 404 and reply.after_unknown:
            return await self._confirm_canceled(order_id, call, reply)
        raise exchange_error(call, reply)

    async def _confirm_canceled(self, order_id: str, call: Call, reply: Reply) -> CancelAck:
        try:
            order = await self.get_order(order_id)
        except ExchangeError as exc:
            if exc.status == 404:
                raise exchange_error(call, reply) from exc
            raise OrderStateUnknown(
                f"cancel retry got 404 and the order lookup failed: {exc}",
                order_id=order_id,
                endpoint=call.where,
            ) from exc
        if order.status is OrderStatus.RESTING:
            raise OrderStateUnknown(
                "cancel retry got 404 yet the order is still resting",
                order_id=order_id,
                client_order_id=order.client_order_id,
                endpoint=call.where,
            )
        return CancelAck(
            order_id=order_id, client_order_id=order.client_order_id, already_canceled=True
        )

    async def amend_order(
        self,
        order_id: str,
        *,
        ticker: str,
        book_side: BookSide,
        price: Price,
        count: Count,
        client_order_id: str | None = None,
        updated_client_order_id: str | None = None,
    ) -> AmendAck:
        """Change price and/or total ``count`` (filled plus remaining). Never retried blindly."""
        body: dict[str, Any] = {
            "ticker": ticker,
            "side": book_side.value,
            "price": format_dollars(price),
            "count": format_count(count),
        }
        if client_order_id is not None:
            body["client_order_id"] = client_order_id
        if updated_client_order_id is not None:
            body["updated_client_order_id"] = updated_client_order_id
        call = Call(
            method="POST",
            path=f"{ORDERS_V2}/{_segment(order_id)}/amend",
            endpoint=f"POST {ORDERS_V2}/{{order_id}}/amend",
            body=body,
            write_cost=1,
            retry_unknown=False,
            client_order_id=client_order_id,
            order_id=order_id,
        )
        return await self._write(call, AmendAck)

    async def decrease_order(
        self,
        order_id: str,
        *,
        reduce_by: Count | None = None,
        reduce_to: Count | None = None,
        client_order_id: str | None = None,
    ) -> DecreaseAck:
        """Reduce a resting order by, or to, a count (exactly one). Never retried blindly."""
        if (reduce_by is None) == (reduce_to is None):
            raise ValueError(f"decrease_order {order_id}: give exactly one of reduce_by, reduce_to")
        body = (
            {"reduce_by": format_count(reduce_by)}
            if reduce_by is not None
            else {"reduce_to": format_count(reduce_to or 0)}
        )
        call = Call(
            method="POST",
            path=f"{ORDERS_V2}/{_segment(order_id)}/decrease",
            endpoint=f"POST {ORDERS_V2}/{{order_id}}/decrease",
            body=body,
            write_cost=1,
            retry_unknown=False,
            client_order_id=client_order_id,
            order_id=order_id,
        )
        return await self._write(call, DecreaseAck)

    async def batch_create_orders(self, orders: Sequence[OrderRequest]) -> list[BatchOrderResult]:
        """Place several orders; each result carries an ack or its own ``error``."""
        call = Call(
            method="POST",
            path=f"{ORDERS_V2}/batched",
            endpoint=f"POST {ORDERS_V2}/batched",
            body={"orders": [order_body(order) for order in orders]},
            write_cost=len(orders),
            retry_unknown=False,
            client_order_ids=tuple(order.client_order_id for order in orders),
        )
        reply = await self.transport.request(call)
        results = _convert_write(
            call,
            lambda: many_from_wire(reply.data, BatchOrderResult, where=call.where, key="orders"),
        )
        _check_batch_matches(call, results)
        return results

    async def batch_cancel_orders(self, order_ids: Sequence[str]) -> list[BatchCancelResult]:
        call = Call(
            method="DELETE",
            path=f"{ORDERS_V2}/batched",
            endpoint=f"DELETE {ORDERS_V2}/batched",
            body={"orders": [{"order_id": order_id} for order_id in order_ids]},
            write_cost=BATCH_CANCEL_COST * len(order_ids),
        )
        reply = await self.transport.request(call)
        return _convert_write(
            call,
            lambda: many_from_wire(reply.data, BatchCancelResult, where=call.where, key="orders"),
        )

    async def cancel_all_orders(self, *, subaccount: int | None = None) -> None:
        """Cancel every resting order (the exchange answers 204)."""
        call = Call(
            method="DELETE",
            path=ORDERS_V2,
            endpoint=f"DELETE {ORDERS_V2}",
            params=encode_params(subaccount=subaccount),
            write_cost=1,
        )
        await self.transport.request(call)

    # ---- order groups (a venue-side kill switch) ----

    async def create_order_group(self, contracts_limit: Count) -> str:
        """A new group that cancels its orders once ``contracts_limit`` match within 15 s;
        returns its id. Not retried on an unknown outcome (a retry would make a second one)."""
        call = Call(
            method="POST",
            path=f"{ORDER_GROUPS}/create",
            endpoint=f"POST {ORDER_GROUPS}/create",
            body={"contracts_limit_fp": format_count(contracts_limit)},
            write_cost=1,
            retry_unknown=False,
        )
        return (await self._write(call, CreatedOrderGroup)).order_group_id

    async def get_order_groups(self) -> list[OrderGroupSummary]:
        data, where = await self._get(ORDER_GROUPS, ORDER_GROUPS)
        _envelope(data, where, "order_groups")
        return _convert(
            where,
            lambda: many_from_wire(data, OrderGroupSummary, where=where, key="order_groups"),
        )

    async def get_order_group(self, order_group_id: str) -> OrderGroupDetail:
        path = f"{ORDER_GROUPS}/{_segment(order_group_id)}"
        data, where = await self._get(path, f"{ORDER_GROUPS}/{{order_group_id}}")
        return _convert(where, lambda: from_wire(data, OrderGroupDetail, where=where))

    async def _group_write(
        self, method: str, order_group_id: str, action: str = "", **body: Any
    ) -> None:
        suffix = f"/{action}" if action else ""
        call = Call(
            method=method,
            path=f"{ORDER_GROUPS}/{_segment(order_group_id)}{suffix}",
            endpoint=f"{method} {ORDER_GROUPS}/{{order_group_id}}{suffix}",
            body=body if method == "PUT" else None,
            write_cost=1,
        )
        await self.transport.request(call)

    async def trigger_order_group(self, order_group_id: str) -> None:
        """Cancel every order of the group and refuse new ones until it is reset."""
        await self._group_write("PUT", order_group_id, "trigger")

    async def reset_order_group(self, order_group_id: str) -> None:
        """Clear a triggered group and its rolling count: it takes orders again."""
        await self._group_write("PUT", order_group_id, "reset")

    async def update_order_group_limit(self, order_group_id: str, contracts_limit: Count) -> None:
        """A new limit; one the last 15 s of matches already reach triggers the group."""
        limit = format_count(contracts_limit)
        await self._group_write("PUT", order_group_id, "limit", contracts_limit_fp=limit)

    async def delete_order_group(self, order_group_id: str) -> None:
        """Cancel every order of the group and remove it."""
        await self._group_write("DELETE", order_group_id)


def _describe_status(reply: Reply) -> str:
    code = error_code(reply.data)[0]
    return f"HTTP {reply.status}" + (f" {code}" if code else "")


def _check_batch_matches(call: Call, results: Sequence[BatchOrderResult]) -> None:
    """One result per order sent, in order; anything else leaves the batch's outcome unknown
    (the engine then looks every order up by ``client_order_id``)."""
    sent = call.client_order_ids
    answered = tuple(result.client_order_id for result in results)
    if len(answered) == len(sent) and all(
        a in (None, s) for a, s in zip(answered, sent, strict=True)
    ):
        return
    missing = [cid for cid in sent if cid not in answered]
    raise OrderStateUnknown(
        f"batch reply has {len(results)} result(s) for {len(sent)} order(s)"
        + (f"; no result for {', '.join(missing)}" if missing else "; results out of order"),
        client_order_ids=sent,
        endpoint=call.where,
    )


def _is_duplicate(reply: Reply) -> bool:
    return reply.status == 409 and error_code(reply.data)[0] == "order_already_exists"
