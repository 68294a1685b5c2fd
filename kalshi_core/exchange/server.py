"""The local exchange's HTTP face: Kalshi's Trade API v2 under ``/trade-api/v2`` (Starlette).

Every response body has the shape the official SDK 3.34 requires (money and counts as
strings, valid enums, ``cursor: ""`` on the last page, 201 for creates, 204 for cancel-all)
and is built with the project's one wire converter (:mod:`kalshi_core.wire`). Errors are
``{"error": {"code", "message", "service": "exchange"}}`` with Kalshi's statuses.

Authentication: a request carrying ``KALSHI-ACCESS-KEY`` must be signed by that key
(:func:`kalshi_core.client.verify_signature` over ``ts + METHOD + path``) with a timestamp
within ``max_skew_seconds`` of the server's *wall* clock; ``/portfolio`` routes require it.
Public routes also accept unsigned requests (the SDK signs everything once configured).

Before a request is served the ASGI wrapper adds latency, acts out any injected fault
(:mod:`kalshi_core.exchange.faults`) and lets the owner advance its replay (``sync``).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import attrs
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kalshi_core.client.auth import (
    KEY_HEADER,
    TIMESTAMP_HEADER,
    PublicKey,
    load_public_key,
    verify_signature,
)
from kalshi_core.errors import ExchangeError
from kalshi_core.exchange import rules
from kalshi_core.exchange.faults import Fault, FaultInjector, FaultKind
from kalshi_core.exchange.venue import OrderRequest, Venue
from kalshi_core.exchange.websocket import StreamFeed
from kalshi_core.models import (
    BookSide,
    Event,
    Fill,
    Market,
    MarketStatus,
    Order,
    OrderStatus,
    Position,
    SelfTradePrevention,
    Series,
    Settlement,
    TimeInForce,
    Trade,
)
from kalshi_core.money import (
    CENT,
    CONTRACT,
    DOLLAR,
    Count,
    Money,
    format_count,
    format_dollars,
    parse_count,
    parse_dollars,
)
from kalshi_core.wire import format_time, orderbook_to_wire, to_wire

PREFIX = "/trade-api/v2"
SERVICE = "exchange"
MAX_BATCH = 20
T = TypeVar("T")
E = TypeVar("E", bound=enum.Enum)
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Handler = Callable[[Request], Awaitable[Response]]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SETTLED = frozenset(
    {MarketStatus.DETERMINED, MarketStatus.DISPUTED, MarketStatus.AMENDED, MarketStatus.FINALIZED}
)
# The /markets and /events ``status`` filter takes these words, not the object's statuses.
STATUS_FILTER: dict[str, frozenset[MarketStatus]] = {
    "unopened": frozenset({MarketStatus.INITIALIZED}),
    "open": frozenset({MarketStatus.ACTIVE, MarketStatus.INACTIVE}),
    "closed": frozenset({MarketStatus.CLOSED}),
    "settled": _SETTLED,
}
log = logging.getLogger(__name__)


class DroppedConnection(Exception):
    """Raised after a response has started: uvicorn then closes the socket mid-response."""


class _QuietDrops(logging.Filter):
    """Keeps uvicorn from logging the connections this server drops on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, DroppedConnection)


logging.getLogger("uvicorn.error").addFilter(_QuietDrops())


# ---- accounts, catalog, context ---------------------------------------------------------------


@attrs.frozen
class ApiKey:
    """An API key: its id, the account it trades for and its public key (never the private)."""

    key_id: str
    account_id: str
    public_key: PublicKey = attrs.field(repr=False)


class KeyRegistry:
    """API key id -> account id + public key."""

    def __init__(self) -> None:
        self._keys: dict[str, ApiKey] = {}

    def add(self, key_id: str, account_id: str, public_key_pem: str | bytes) -> ApiKey:
        key = ApiKey(key_id, account_id, load_public_key(public_key_pem))
        self._keys[key_id] = key
        return key

    def get(self, key_id: str) -> ApiKey | None:
        return self._keys.get(key_id)

    def __len__(self) -> int:
        return len(self._keys)


@attrs.define(kw_only=True)
class Catalog:
    """Series and events known beyond what the listed markets imply."""

    series: dict[str, Series] = attrs.field(factory=dict)
    events: dict[str, Event] = attrs.field(factory=dict)


@attrs.define(kw_only=True)
class ServerContext:
    """Everything the HTTP face serves from. ``sync`` runs before each request."""

    venue: Venue
    keys: KeyRegistry
    faults: FaultInjector = attrs.field(factory=FaultInjector)
    catalog: Catalog = attrs.field(factory=Catalog)
    sync: Callable[[], None] = lambda: None
    max_skew_seconds: float = 60.0
    wall_clock: Callable[[], float] = time.time


# ---- errors and query parsing -----------------------------------------------------------------


def error_response(status: int, code: str, message: str) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "service": SERVICE}}
    return JSONResponse(body, status_code=status)


def bad(message: str, code: str = rules.INVALID_PARAMETERS) -> ExchangeError:
    return rules.reject(code, message)


def _query_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    text = request.query_params.get(name)
    if text is None or text == "":
        return default
    if not text.lstrip("-").isdigit():
        raise bad(f"query parameter {name}={text!r} is not an integer")
    value = int(text)
    if not low <= value <= high:
        raise bad(f"query parameter {name}={value} must be between {low} and {high}")
    return value


def _query_time(request: Request, name: str) -> datetime | None:
    text = request.query_params.get(name)
    if not text:
        return None
    if not text.isdigit():
        raise bad(f"query parameter {name}={text!r} must be Unix seconds")
    return _EPOCH + timedelta(seconds=int(text))


def _query_bool(request: Request, name: str) -> bool | None:
    text = request.query_params.get(name)
    if not text:
        return None
    if text not in ("true", "false"):
        raise bad(f"query parameter {name}={text!r} must be true or false")
    return text == "true"


def _query_csv(request: Request, name: str, most: int = 1000) -> list[str]:
    values = [
        item
        for raw in request.query_params.getlist(name)
        for item in raw.split(",")
        if item.strip()
    ]
    if len(values) > most:
        raise bad(f"query parameter {name} takes at most {most} values, got {len(values)}")
    return values


def _in_range(moment: datetime | None, low: datetime | None, high: datetime | None) -> bool:
    if low is None and high is None:
        return True
    if moment is None:
        return False
    return (low is None or moment >= low) and (high is None or moment <= high)


@attrs.frozen
class Limits:
    """A list endpoint's ``limit``: default, minimum and maximum (0 means the default)."""

    default: int
    minimum: int
    maximum: int


MARKET_LIMITS = Limits(100, 0, 1000)
EVENT_LIMITS = Limits(200, 1, 200)
PORTFOLIO_LIMITS = Limits(100, 1, 1000)


def _cursor(request: Request, size: int) -> int | None:
    text = request.query_params.get("cursor") or ""
    if not text:
        return None
    if not text.isdigit() or int(text) > size:
        raise bad(f"cursor {text!r} is not one this exchange handed out")
    return int(text)


def paginate(
    items: Sequence[T], request: Request, limits: Limits, *, newest_first: bool = False
) -> tuple[list[T], str]:
    """One page and the next cursor (``""`` on the last page).

    ``items`` are in their append order; a cursor is a position in it, so items added while
    a client pages do not shift the pages it has yet to read.
    """
    limit = _query_int(request, "limit", limits.default, limits.minimum, limits.maximum)
    limit = limit or limits.default
    cursor = _cursor(request, len(items))
    if newest_first:
        end = len(items) if cursor is None else cursor
        start = max(0, end - limit)
        return list(reversed(items[start:end])), (str(start) if start > 0 else "")
    start = cursor or 0
    end = start + limit
    return list(items[start:end]), (str(end) if end < len(items) else "")


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        raise bad("request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise bad("request body must be a JSON object")
    return data


# ---- JSON shapes ------------------------------------------------------------------------------


def epoch_seconds(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(seconds=1)


def epoch_ms(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def market_json(market: Market) -> dict[str, Any]:
    """A Market with every field SDK 3.34 requires, even those our model leaves optional."""
    data = to_wire(market)
    created = market.created_time or market.open_time
    latest = market.latest_expiration_time or market.expiration_time or market.close_time
    data.setdefault("created_time", format_time(created))
    data.setdefault("updated_time", format_time(market.updated_time or created))
    data.setdefault("latest_expiration_time", format_time(latest))
    data.setdefault("settlement_bounds_type", "default")
    return data


def order_json(order: Order) -> dict[str, Any]:
    data = to_wire(order)
    data["side"] = order.outcome_side.value  # deprecated twins of outcome_side / book_side
    data["action"] = "buy"
    return data


def fill_json(fill: Fill) -> dict[str, Any]:
    data = to_wire(fill)
    data.update(
        trade_id=fill.fill_id,
        market_ticker=fill.ticker,
        exchange_index=0,
        side=fill.outcome_side.value,
        action="buy",
    )
    if fill.created_time is not None:
        data["ts"] = epoch_seconds(fill.created_time)
    return data


def trade_json(trade: Trade) -> dict[str, Any]:
    data = to_wire(trade)
    data["taker_side"] = trade.taker_outcome_side.value
    return data


def position_json(position: Position, now: datetime) -> dict[str, Any]:
    data = to_wire(position)
    data["exchange_index"] = 0
    data.setdefault("last_updated_ts", format_time(now))
    return data


def settlement_json(settlement: Settlement, value: Money | None, now: datetime) -> dict[str, Any]:
    # revenue and value are integer cents on the wire: whole cents, rounded down.
    whole = attrs.evolve(settlement, revenue=settlement.revenue - settlement.revenue % CENT)
    data = to_wire(whole)
    data["exchange_index"] = 0
    data.setdefault("settled_time", format_time(now))
    if value is not None:
        data["value"] = value // CENT
    return data


def series_json(series: Series) -> dict[str, Any]:
    data = to_wire(series)
    data["tags"] = list(series.tags) or None
    return data


def event_json(event: Event, markets: Iterable[Market] | None = None) -> dict[str, Any]:
    data = to_wire(event)
    if markets is not None:
        data["markets"] = [market_json(m) for m in markets]
    return data


def _average(total: Money, count: Count) -> Money:
    return total * CONTRACT // count


def order_ack(order: Order, now: datetime) -> dict[str, Any]:
    """The V2 create/amend response: counts, averages (YES-leg price) and ``ts_ms``."""
    data: dict[str, Any] = {
        "order_id": order.order_id,
        "client_order_id": order.client_order_id,
        "fill_count": format_count(order.fill_count),
        "remaining_count": format_count(order.remaining_count),
        "ts_ms": epoch_ms(now),
    }
    if order.fill_count:
        unit = _average(order.taker_fill_cost + order.maker_fill_cost, order.fill_count)
        yes_price = unit if order.book_side is BookSide.BID else DOLLAR - unit
        fees = _average(order.taker_fees + order.maker_fees, order.fill_count)
        data["average_fill_price"] = format_dollars(yes_price)
        data["average_fee_paid"] = format_dollars(fees)
    return data


# ---- order-entry request parsing --------------------------------------------------------------


def _text(data: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise bad(f"field {name} must be a non-empty string, got {value!r}")
    return value


def _choice(data: dict[str, Any], name: str, kind: type[E]) -> E:
    value = data.get(name)
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(str(member.value) for member in kind)
        raise bad(f"field {name}={value!r} must be one of {allowed}") from None


def _flag(data: dict[str, Any], name: str) -> bool:
    value = data.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise bad(f"field {name} must be true or false, got {value!r}")
    return value


def parse_price(value: Any, name: str = "price") -> Money:
    if not isinstance(value, str):
        raise bad(f'field {name} must be a dollar string like "0.42"', rules.INVALID_PRICE)
    try:
        return parse_dollars(value, name)
    except ValueError as exc:
        raise bad(str(exc), rules.INVALID_PRICE) from None


def parse_count_field(value: Any, name: str = "count") -> Count:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise bad(f'field {name} must be a count string like "10.00"', rules.INVALID_COUNT)
    try:
        return parse_count(value, name)
    except ValueError as exc:
        raise bad(str(exc), rules.INVALID_COUNT) from None


def _expiration(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise bad(f"expiration_time must be Unix seconds, got {value!r}")
    return _EPOCH + timedelta(seconds=value)


def parse_create(data: Any, account_id: str) -> OrderRequest:
    """A ``CreateOrderV2Request`` body -> the venue's :class:`OrderRequest`."""
    if not isinstance(data, dict):
        raise bad("each order must be a JSON object")
    subaccount = data.get("subaccount")
    if subaccount not in (None, 0):
        raise bad(f"subaccount {subaccount!r}: the local exchange has only subaccount 0")
    return OrderRequest(
        account=account_id,
        ticker=str(_text(data, "ticker")),
        side=_choice(data, "side", BookSide),
        price=parse_price(data.get("price")),
        count=parse_count_field(data.get("count")),
        time_in_force=_choice(data, "time_in_force", TimeInForce),
        self_trade_prevention_type=_choice(data, "self_trade_prevention_type", SelfTradePrevention),
        post_only=_flag(data, "post_only"),
        reduce_only=_flag(data, "reduce_only"),
        expiration_time=_expiration(data.get("expiration_time")),
        client_order_id=_text(data, "client_order_id", required=False),
    )


# ---- the ASGI wrapper: latency, faults, sync, authentication ----------------------------------


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


async def _discard(message: Message) -> None:
    return None


class ExchangeApp:
    """The ASGI application. ``app`` is the inner Starlette app with the routes."""

    def __init__(self, context: ServerContext) -> None:
        self.context = context
        self.app = build_routes(context)
        self.feed = StreamFeed(context)  # the WebSocket feed at /trade-api/ws/v2

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self.feed(scope, receive, send)
            return
        if scope["type"] != "http":
            return
        path = scope["path"].removeprefix(PREFIX)
        if self.context.faults.latency_seconds:
            await asyncio.sleep(self.context.faults.latency_seconds)
        fault = self.context.faults.take(scope["method"], path)
        if fault is not None and not fault.kind.applies:
            await self._act_out(fault, scope, receive, send)
            return
        problem = self._authenticate(scope, path)
        if problem is not None:
            await error_response(401, "unauthorized", problem)(scope, receive, send)
            return
        if fault is None:
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, _discard)
        await self._act_out(fault, scope, receive, send)

    async def _act_out(self, fault: Fault, scope: Scope, receive: Receive, send: Send) -> None:
        if fault.kind is FaultKind.STATUS:
            response = error_response(fault.status, fault.error_code, "injected fault")
            if fault.retry_after is not None:
                response.headers["Retry-After"] = f"{fault.retry_after:g}"
            await response(scope, receive, send)
        elif fault.kind in (FaultKind.TIMEOUT, FaultKind.APPLY_THEN_TIMEOUT):
            await self._hold()
            await error_response(504, "gateway_timeout", "injected timeout")(scope, receive, send)
        else:
            headers = [(b"content-type", b"application/json"), (b"content-length", b"100")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            raise DroppedConnection("the local exchange drops this connection on purpose")

    async def _hold(self) -> None:
        released = self.context.faults.released
        limit = self.context.faults.settings.timeout_seconds
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(released.wait(), timeout=limit)

    def _authenticate(self, scope: Scope, path: str) -> str | None:
        """Why the request is refused, or None; stores the account in ``scope["state"]``."""
        headers = _headers(scope)
        key_id = headers.get(KEY_HEADER.lower())
        if key_id is None:
            if path.startswith("/portfolio"):
                return "this endpoint needs a signed request (KALSHI-ACCESS-* headers)"
            return None
        key = self.context.keys.get(key_id)
        if key is None:
            return "unknown API key id"
        stamp = headers.get(TIMESTAMP_HEADER.lower(), "")
        skew = self.context.max_skew_seconds * 1000
        if not stamp.isdigit() or abs(self.context.wall_clock() * 1000 - int(stamp)) > skew:
            return "KALSHI-ACCESS-TIMESTAMP is missing or too far from the server's clock"
        raw_path = scope.get("raw_path") or scope["path"].encode()
        full_path = raw_path.decode("latin-1").split("?", 1)[0]
        if not verify_signature(key.public_key, headers, scope["method"], full_path):
            return "invalid KALSHI-ACCESS-SIGNATURE"
        scope.setdefault("state", {})["account_id"] = key.account_id
        return None


# ---- routes -----------------------------------------------------------------------------------


def _account(request: Request) -> str:
    account: str = request.state.account_id
    return account


def plain_message(exc: ExchangeError) -> str:
    """The error's message without the ``(status code)`` tag ExchangeError appends."""
    text = str(exc)
    tag = f" ({exc.status} {exc.code})" if exc.status or exc.code else ""
    return text.removesuffix(tag) if tag else text


def error_item(exc: ExchangeError) -> dict[str, str]:
    return {"code": exc.code or "error", "message": plain_message(exc), "service": SERVICE}


async def _exchange_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ExchangeError)
    return error_response(exc.status or 400, exc.code or "error", plain_message(exc))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "error")
    return error_response(exc.status_code, code, f"{request.method} {request.url.path}: {code}")


async def _internal_error(request: Request, exc: Exception) -> Response:
    log.exception("local exchange failed on %s %s", request.method, request.url.path)
    return error_response(500, "internal_error", f"{type(exc).__name__} in the local exchange")


def build_routes(context: ServerContext) -> Starlette:
    """The Starlette app with every route; ``context.sync`` runs before each handler."""
    handlers = Handlers(context)

    def route(path: str, handler: Handler, method: str = "GET") -> Route:
        async def endpoint(request: Request) -> Response:
            context.sync()
            return await handler(request)

        return Route(PREFIX + path, endpoint, methods=[method])

    return Starlette(
        routes=[route(path, getattr(handlers, name), method) for method, path, name in ROUTES],
        exception_handlers={
            ExchangeError: _exchange_error,
            HTTPException: _http_error,
            Exception: _internal_error,
        },
    )


ROUTES: tuple[tuple[str, str, str], ...] = (
    ("GET", "/exchange/status", "exchange_status"),
    ("GET", "/exchange/schedule", "exchange_schedule"),
    ("GET", "/markets", "markets"),
    ("GET", "/markets/orderbooks", "orderbooks"),
    ("GET", "/markets/trades", "trades"),
    ("GET", "/markets/candlesticks", "batch_candlesticks"),
    ("GET", "/markets/{ticker}", "market"),
    ("GET", "/markets/{ticker}/orderbook", "orderbook"),
    ("GET", "/series/{series}/markets/{ticker}/candlesticks", "candlesticks"),
    ("GET", "/series/{series}", "series"),
    ("GET", "/events", "events"),
    ("GET", "/events/{event}", "event"),
    ("GET", "/portfolio/balance", "balance"),
    ("GET", "/portfolio/positions", "positions"),
    ("GET", "/portfolio/fills", "fills"),
    ("GET", "/portfolio/settlements", "settlements"),
    ("GET", "/portfolio/orders", "orders"),
    ("GET", "/portfolio/orders/{order_id}", "order"),
    ("GET", "/portfolio/orders/{order_id}/queue_position", "queue_position"),
    ("POST", "/portfolio/events/orders", "create_order"),
    ("DELETE", "/portfolio/events/orders", "cancel_all"),
    ("POST", "/portfolio/events/orders/batched", "batch_create"),
    ("DELETE", "/portfolio/events/orders/batched", "batch_cancel"),
    ("DELETE", "/portfolio/events/orders/{order_id}", "cancel_order"),
    ("POST", "/portfolio/events/orders/{order_id}/amend", "amend_order"),
    ("POST", "/portfolio/events/orders/{order_id}/decrease", "decrease_order"),
)


DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
PERIODS = (1, 60, 1440)
MAX_CANDLES = 10_000


def json_body(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status)


def in_time(moment: datetime | None, request: Request) -> bool:
    """``min_ts <= moment <= max_ts`` for the request's (optional) bounds."""
    return _in_range(moment, _query_time(request, "min_ts"), _query_time(request, "max_ts"))


# ---- filters ----------------------------------------------------------------------------------


def _status_words(request: Request) -> frozenset[MarketStatus] | None:
    word = request.query_params.get("status")
    if not word:
        return None
    statuses = STATUS_FILTER.get(word)
    if statuses is None:
        raise bad(f"status={word!r} must be one of {', '.join(STATUS_FILTER)}")
    return statuses


def _created(market: Market) -> datetime:
    return market.created_time or market.open_time


def _updated(market: Market) -> datetime:
    return market.updated_time or _created(market)


_TIME_FAMILIES: dict[str, Callable[[Market], datetime | None]] = {
    "created": _created,
    "updated": _updated,
    "close": lambda m: m.close_time,
    "settled": lambda m: m.settlement_ts,
}


def _between(
    when: Callable[[Market], datetime | None], low: datetime | None, high: datetime | None
) -> Callable[[Market], bool]:
    return lambda market: _in_range(when(market), low, high)


def _time_filters(request: Request) -> list[Callable[[Market], bool]]:
    """``min/max_{created,updated,close,settled}_ts``: at most one family per request."""
    found: list[Callable[[Market], bool]] = []
    for family, when in _TIME_FAMILIES.items():
        low = _query_time(request, f"min_{family}_ts")
        high = _query_time(request, f"max_{family}_ts")
        if low is not None or high is not None:
            found.append(_between(when, low, high))
    if len(found) > 1:
        raise bad("the created, updated, close and settled timestamp filters are exclusive")
    return found


def market_filters(request: Request) -> list[Callable[[Market], bool]]:
    """The predicates of a ``GET /markets`` query."""
    query = request.query_params
    found = _time_filters(request)
    statuses = _status_words(request)
    if statuses is not None:
        found.append(lambda m: m.status in statuses)
    if query.get("event_ticker"):
        found.append(lambda m: m.event_ticker == query["event_ticker"])
    if query.get("series_ticker"):
        found.append(lambda m: m.series_ticker == query["series_ticker"])
    tickers = set(_query_csv(request, "tickers"))
    if tickers:
        found.append(lambda m: m.ticker in tickers)
    mve = query.get("mve_filter") or "exclude"
    if mve not in ("only", "exclude"):
        raise bad(f"mve_filter={mve!r} must be only or exclude")
    if mve == "only":  # the local exchange lists no multivariate markets
        found.append(lambda m: False)
    return found


def event_filter(request: Request) -> Callable[[Event, list[Market]], bool]:
    statuses = _status_words(request)
    series = request.query_params.get("series_ticker")
    tickers = set(_query_csv(request, "tickers"))
    min_close = _query_time(request, "min_close_ts")

    def keep(event: Event, markets: list[Market]) -> bool:
        return (
            (statuses is None or any(m.status in statuses for m in markets))
            and (not series or event.series_ticker == series)
            and (not tickers or event.event_ticker in tickers)
            and (min_close is None or any(m.close_time >= min_close for m in markets))
        )

    return keep


def position_filter(request: Request, markets: dict[str, Market]) -> Callable[[Position], bool]:
    ticker = request.query_params.get("ticker")
    events = set(_query_csv(request, "event_ticker"))
    settlement = request.query_params.get("settlement_status") or "unsettled"
    if settlement not in ("unsettled", "settled", "all"):
        raise bad(f"settlement_status={settlement!r} must be unsettled, settled or all")
    counts = set(_query_csv(request, "count_filter"))
    if not counts <= {"position", "total_traded"}:
        raise bad(f"count_filter={sorted(counts)} may hold only position and total_traded")

    def keep(position: Position) -> bool:
        market = markets[position.ticker]
        settled = market.status in _SETTLED
        return (
            (not ticker or position.ticker == ticker)
            and (not events or market.event_ticker in events)
            and (settlement == "all" or settled == (settlement == "settled"))
            and ("position" not in counts or position.position != 0)
            and ("total_traded" not in counts or position.total_traded != 0)
        )

    return keep


def event_positions(positions: Iterable[Position], markets: dict[str, Market]) -> list[Any]:
    """Per-event sums of the market positions, in ``EventPosition``'s wire shape."""
    sums: dict[str, list[int]] = {}
    for p in positions:
        row = sums.setdefault(markets[p.ticker].event_ticker, [0, 0, 0, 0])
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


# ---- candlesticks (from the venue's trade tape) -----------------------------------------------


@attrs.frozen
class CandleQuery:
    start: datetime
    end: datetime
    period: timedelta
    include_latest_before_start: bool


def candle_query(request: Request) -> CandleQuery:
    start, end = _query_time(request, "start_ts"), _query_time(request, "end_ts")
    if start is None or end is None or end < start:
        raise bad("start_ts and end_ts (Unix seconds, start <= end) are required")
    minutes = _query_int(request, "period_interval", 0, 0, 1440)
    if minutes not in PERIODS:
        raise bad(f"period_interval must be one of {PERIODS} minutes, got {minutes}")
    period = timedelta(minutes=minutes)
    if (end - start) / period > MAX_CANDLES:
        raise bad(f"at most {MAX_CANDLES} candlesticks per request")
    latest = _query_bool(request, "include_latest_before_start") or False
    return CandleQuery(start, end, period, latest)


def _ohlc(values: Sequence[Money]) -> dict[str, str]:
    return {
        "open_dollars": format_dollars(values[0]),
        "low_dollars": format_dollars(min(values)),
        "high_dollars": format_dollars(max(values)),
        "close_dollars": format_dollars(values[-1]),
    }


def _bucket_end(moment: datetime, period: timedelta) -> datetime:
    seconds = int(period.total_seconds())
    since = epoch_seconds(moment)
    return _EPOCH + timedelta(seconds=-(-since // seconds) * seconds)


@attrs.define
class _Quotes:
    """Best bid/ask inferred from prints: a YES-buying taker paid the ask, a seller hit
    the bid. Without a print on a side the last known value carries on."""

    bid: Money
    ask: Money

    def candle(self, trades: Sequence[Trade]) -> tuple[dict[str, str], dict[str, str]]:
        bids, asks = [self.bid], [self.ask]
        for trade in trades:
            if trade.taker_book_side is BookSide.BID:
                asks.append(trade.yes_price)
            else:
                bids.append(trade.yes_price)
        bids, asks = bids[1:] or bids, asks[1:] or asks
        self.bid, self.ask = bids[-1], asks[-1]
        return _ohlc(bids), _ohlc(asks)


def _candle(
    end: datetime, trades: Sequence[Trade], quotes: _Quotes, previous: Money | None, oi: Count
) -> dict[str, Any]:
    prices = [t.yes_price for t in trades]
    volume = sum(t.count for t in trades)
    mean = sum(t.yes_price * t.count for t in trades) // volume
    price = {**_ohlc(prices), "mean_dollars": format_dollars(mean)}
    price.update(min_dollars=price["low_dollars"], max_dollars=price["high_dollars"])
    if previous is not None:
        price["previous_dollars"] = format_dollars(previous)
    yes_bid, yes_ask = quotes.candle(trades)
    return {
        "end_period_ts": epoch_seconds(end),
        "yes_bid": yes_bid,
        "yes_ask": yes_ask,
        "price": price,
        "volume_fp": format_count(volume),
        "open_interest_fp": format_count(oi),
    }


def build_candles(trades: Sequence[Trade], market: Market, query: CandleQuery) -> list[Any]:
    """Candles for the periods that have trades, ending in ``[start, end]`` (plus the last
    one before ``start`` when asked). Open interest is the market's current one."""
    buckets: dict[datetime, list[Trade]] = {}
    for trade in trades:
        if trade.created_time <= query.end:
            buckets.setdefault(_bucket_end(trade.created_time, query.period), []).append(trade)
    first = trades[0].yes_price if trades else 0
    quotes, previous = _Quotes(first, first), None
    before = [end for end in buckets if end < query.start]
    keep_from = max(before) if before and query.include_latest_before_start else query.start
    candles = []
    for end in sorted(buckets):
        candle = _candle(end, buckets[end], quotes, previous, market.open_interest)
        previous = buckets[end][-1].yes_price
        if end >= keep_from:
            candles.append(candle)
    return candles


# ---- the handlers -----------------------------------------------------------------------------


def derived_event(event_ticker: str, markets: Sequence[Market]) -> Event:
    """An event the catalog does not know, described from its markets."""
    first = markets[0]
    return Event(
        event_ticker=event_ticker,
        series_ticker=first.series_ticker,
        title=first.title or event_ticker,
        mutually_exclusive=False,
    )


class Handlers:
    """One async method per route; each returns Kalshi's JSON for the venue's state."""

    def __init__(self, context: ServerContext) -> None:
        self.context = context
        self.venue = context.venue

    def _now(self) -> datetime:
        return self.venue.clock.now()

    def _markets(self) -> dict[str, Market]:
        return {m.ticker: m for m in self.venue.markets()}

    # ---- exchange ----

    async def exchange_status(self, request: Request) -> Response:
        return json_body({"exchange_active": True, "trading_active": not self.venue.paused})

    async def exchange_schedule(self, request: Request) -> Response:
        always = [{"open_time": "00:00", "close_time": "24:00"}]
        hours = {
            "start_time": "2020-01-01T00:00:00Z",
            "end_time": "2100-01-01T00:00:00Z",
            **{day: always for day in DAYS},
        }
        schedule = {"standard_hours": [hours], "maintenance_windows": []}
        return json_body({"schedule": schedule})

    # ---- markets ----

    async def markets(self, request: Request) -> Response:
        predicates = market_filters(request)
        chosen = [m for m in self.venue.markets() if all(p(m) for p in predicates)]
        page, cursor = paginate(chosen, request, MARKET_LIMITS)
        return json_body({"markets": [market_json(m) for m in page], "cursor": cursor})

    async def market(self, request: Request) -> Response:
        market = self.venue.market(request.path_params["ticker"])
        return json_body({"market": market_json(market)})

    async def orderbook(self, request: Request) -> Response:
        depth = _query_int(request, "depth", 0, 0, 100)
        book = self.venue.orderbook(request.path_params["ticker"], depth)
        return json_body(orderbook_to_wire(book))

    async def orderbooks(self, request: Request) -> Response:
        tickers = _query_csv(request, "tickers", 100)
        if not tickers:
            raise bad("tickers is required")
        books = [{"ticker": t, **orderbook_to_wire(self.venue.orderbook(t))} for t in tickers]
        return json_body({"orderbooks": books})

    async def trades(self, request: Request) -> Response:
        ticker = request.query_params.get("ticker") or None
        if ticker is not None and ticker not in self._markets():
            tape: list[Trade] = []
        else:
            tape = self.venue.trades(ticker)
        block = _query_bool(request, "is_block_trade")
        chosen = [
            t
            for t in tape
            if in_time(t.created_time, request) and block in (None, t.is_block_trade)
        ]
        page, cursor = paginate(chosen, request, MARKET_LIMITS, newest_first=True)
        return json_body({"trades": [trade_json(t) for t in page], "cursor": cursor})

    async def candlesticks(self, request: Request) -> Response:
        ticker = request.path_params["ticker"]
        market = self.venue.market(ticker)
        candles = build_candles(self.venue.trades(ticker), market, candle_query(request))
        return json_body({"ticker": ticker, "candlesticks": candles})

    async def batch_candlesticks(self, request: Request) -> Response:
        tickers = _query_csv(request, "market_tickers", 100)
        if not tickers:
            raise bad("market_tickers is required")
        query = candle_query(request)
        found = [
            {
                "market_ticker": t,
                "candlesticks": build_candles(self.venue.trades(t), self.venue.market(t), query),
            }
            for t in tickers
        ]
        return json_body({"markets": found})

    # ---- series and events ----

    async def series(self, request: Request) -> Response:
        name = request.path_params["series"]
        known = self.context.catalog.series.get(name)
        if known is None:
            if not any(m.series_ticker == name for m in self.venue.markets()):
                raise rules.reject(rules.NOT_FOUND, f"series {name} not found")
            known = Series(ticker=name, title=name, category="", frequency="custom")
        return json_body({"series": series_json(known)})

    def _events(self) -> dict[str, tuple[Event, list[Market]]]:
        grouped: dict[str, list[Market]] = {}
        for market in self.venue.markets():
            grouped.setdefault(market.event_ticker, []).append(market)
        known = self.context.catalog.events
        found = {
            ticker: (known.get(ticker) or derived_event(ticker, markets), markets)
            for ticker, markets in grouped.items()
        }
        for ticker, event in known.items():
            found.setdefault(ticker, (event, []))
        return found

    async def events(self, request: Request) -> Response:
        keep = event_filter(request)
        nested = _query_bool(request, "with_nested_markets")
        chosen = [pair for pair in self._events().values() if keep(*pair)]
        page, cursor = paginate(chosen, request, EVENT_LIMITS)
        events = [event_json(event, markets if nested else None) for event, markets in page]
        return json_body({"events": events, "cursor": cursor})

    async def event(self, request: Request) -> Response:
        ticker = request.path_params["event"]
        found = self._events().get(ticker)
        if found is None:
            raise rules.reject(rules.NOT_FOUND, f"event {ticker} not found")
        event, markets = found
        nested = _query_bool(request, "with_nested_markets")
        return json_body(
            {
                "event": event_json(event, markets if nested else None),
                "markets": [market_json(m) for m in markets],
            }
        )

    # ---- portfolio reads ----

    async def balance(self, request: Request) -> Response:
        balance = self.venue.balance(_account(request))
        return json_body(
            {
                "balance": balance.balance // CENT,
                "balance_dollars": format_dollars(balance.balance),
                "portfolio_value": balance.portfolio_value // CENT,
                "updated_ts": epoch_seconds(self._now()),
            }
        )

    async def positions(self, request: Request) -> Response:
        markets = self._markets()
        keep = position_filter(request, markets)
        chosen = [p for p in self.venue.positions(_account(request)) if keep(p)]
        page, cursor = paginate(chosen, request, PORTFOLIO_LIMITS)
        now = self._now()
        return json_body(
            {
                "market_positions": [position_json(p, now) for p in page],
                "event_positions": event_positions(chosen, markets),
                "cursor": cursor,
            }
        )

    async def orders(self, request: Request) -> Response:
        word = request.query_params.get("status")
        status = _choice({"status": word}, "status", OrderStatus) if word else None
        ticker = request.query_params.get("ticker") or None
        events = set(_query_csv(request, "event_ticker", 10))
        markets = self._markets() if events else {}
        chosen = [
            o
            for o in self.venue.orders(_account(request), ticker=ticker, status=status)
            if in_time(o.created_time, request)
            and (not events or markets[o.ticker].event_ticker in events)
        ]
        page, cursor = paginate(chosen, request, PORTFOLIO_LIMITS, newest_first=True)
        return json_body({"orders": [order_json(o) for o in page], "cursor": cursor})

    async def order(self, request: Request) -> Response:
        order = self.venue.get_order(request.path_params["order_id"], _account(request))
        return json_body({"order": order_json(order)})

    async def queue_position(self, request: Request) -> Response:
        order = self.venue.get_order(request.path_params["order_id"], _account(request))
        ahead = self.venue.queue_position(order.order_id)
        return json_body({"queue_position_fp": format_count(ahead)})

    async def fills(self, request: Request) -> Response:
        tickers = set(_query_csv(request, "ticker", 100))
        order_id = request.query_params.get("order_id")
        chosen = [
            f
            for f in self.venue.fills(_account(request))
            if (not tickers or f.ticker in tickers)
            and (not order_id or f.order_id == order_id)
            and in_time(f.created_time, request)
        ]
        page, cursor = paginate(chosen, request, PORTFOLIO_LIMITS, newest_first=True)
        return json_body({"fills": [fill_json(f) for f in page], "cursor": cursor})

    async def settlements(self, request: Request) -> Response:
        ticker = request.query_params.get("ticker")
        event = request.query_params.get("event_ticker")
        chosen = [
            s
            for s in self.venue.settlements(_account(request))
            if (not ticker or s.ticker == ticker)
            and (not event or s.event_ticker == event)
            and in_time(s.settled_time, request)
        ]
        page, cursor = paginate(chosen, request, PORTFOLIO_LIMITS, newest_first=True)
        markets, now = self._markets(), self._now()
        shaped = [settlement_json(s, markets[s.ticker].settlement_value, now) for s in page]
        return json_body({"settlements": shaped, "cursor": cursor})

    # ---- order entry (V2) ----

    async def create_order(self, request: Request) -> Response:
        body = await _json_body(request)
        order = self.venue.place_order(parse_create(body, _account(request)))
        return json_body(order_ack(order, self._now()), 201)

    def _cancel(self, account_id: str, order_id: str) -> tuple[Count, Order]:
        before = self.venue.get_order(order_id, account_id)
        if before.status is not OrderStatus.RESTING:
            # 404 as Kalshi answers: the client then checks the order instead of trusting it.
            raise rules.reject(rules.NOT_FOUND, f"order {order_id} is {before.status}")
        return before.remaining_count, self.venue.cancel(account_id, order_id)

    def _cancel_ack(self, reduced: Count, order: Order) -> dict[str, Any]:
        return {
            "order_id": order.order_id,
            "client_order_id": order.client_order_id,
            "reduced_by": format_count(reduced),
            "ts_ms": epoch_ms(self._now()),
        }

    async def cancel_order(self, request: Request) -> Response:
        reduced, order = self._cancel(_account(request), request.path_params["order_id"])
        return json_body(self._cancel_ack(reduced, order))

    async def amend_order(self, request: Request) -> Response:
        body = await _json_body(request)
        account, order_id = _account(request), request.path_params["order_id"]
        current = self.venue.get_order(order_id, account)
        if body.get("ticker") != current.ticker or body.get("side") != current.book_side.value:
            raise bad(f"amend of {order_id}: ticker and side must be the order's own")
        order = self.venue.amend(
            account,
            order_id,
            price=parse_price(body.get("price")),
            count=parse_count_field(body.get("count")),
            updated_client_order_id=_text(body, "updated_client_order_id", required=False),
        )
        return json_body(order_ack(order, self._now()))

    async def decrease_order(self, request: Request) -> Response:
        body = await _json_body(request)
        by, to = body.get("reduce_by"), body.get("reduce_to")
        order = self.venue.decrease(
            _account(request),
            request.path_params["order_id"],
            reduce_by=None if by is None else parse_count_field(by, "reduce_by"),
            reduce_to=None if to is None else parse_count_field(to, "reduce_to"),
        )
        ack = {
            "order_id": order.order_id,
            "client_order_id": order.client_order_id,
            "remaining_count": format_count(order.remaining_count),
            "ts_ms": epoch_ms(self._now()),
        }
        return json_body(ack)

    async def batch_create(self, request: Request) -> Response:
        items = _batch(await _json_body(request), "orders")
        account = _account(request)
        return json_body({"orders": [self._create_item(item, account) for item in items]}, 201)

    def _create_item(self, item: Any, account_id: str) -> dict[str, Any]:
        try:
            order = self.venue.place_order(parse_create(item, account_id))
        except ExchangeError as exc:
            result: dict[str, Any] = {"error": error_item(exc)}
            if isinstance(item, dict) and isinstance(item.get("client_order_id"), str):
                result["client_order_id"] = item["client_order_id"]
            return result
        return order_ack(order, self._now())

    async def batch_cancel(self, request: Request) -> Response:
        body = await _json_body(request)
        ids = body.get("ids") if "ids" in body else _batch(body, "orders")
        account = _account(request)
        return json_body({"orders": [self._cancel_item(account, item) for item in ids or ()]})

    def _cancel_item(self, account_id: str, item: Any) -> dict[str, Any]:
        order_id = item.get("order_id") if isinstance(item, dict) else item
        if not isinstance(order_id, str):
            return {
                "order_id": str(order_id),
                "reduced_by": "0.00",
                "error": error_item(bad(f"batch cancel item {item!r} has no order_id")),
            }
        try:
            reduced, order = self._cancel(account_id, order_id)
        except ExchangeError as exc:
            return {"order_id": order_id, "reduced_by": "0.00", "error": error_item(exc)}
        return self._cancel_ack(reduced, order)

    async def cancel_all(self, request: Request) -> Response:
        self.venue.cancel_all(_account(request))
        return Response(status_code=204)


def _batch(body: dict[str, Any], key: str) -> list[Any]:
    items = body.get(key)
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH:
        raise bad(f"{key} must be a list of 1 to {MAX_BATCH} items")
    return items


__all__ = [
    "MAX_BATCH",
    "PREFIX",
    "ApiKey",
    "Catalog",
    "ExchangeApp",
    "Handlers",
    "KeyRegistry",
    "ServerContext",
    "build_candles",
    "error_response",
    "market_json",
    "order_ack",
    "paginate",
    "parse_create",
]
