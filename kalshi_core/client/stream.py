"""Async client for Kalshi's WebSocket feed (``/trade-api/ws/v2``), and a book kept from it.

:class:`KalshiStream` connects with the signed handshake (``ts + "GET" + "/trade-api/ws/v2"``),
sends commands and waits for their replies, and yields data messages as small attrs types with
integer money and counts (:mod:`kalshi_core.money`)::

    async with KalshiStream(stream_url(base_url), signer) as stream:
        sid = await stream.subscribe("orderbook_delta", ["KXINX-26JAN02-T5000"])
        book = LocalBook("KXINX-26JAN02-T5000")
        async for update in stream:
            book.apply(update)

A data message whose ``seq`` skips a number raises :class:`SequenceGap` from the iteration
(the message is on the exception); resubscribe (or ``get_snapshot``) for a fresh snapshot.
When the server closes the connection, :meth:`KalshiStream.reconnect` opens a new one and
subscribes again to everything that was subscribed (new sids, fresh snapshots).
Only loopback hosts are accepted unless ``allow_remote=True``, as for the REST client.
Needs the ``websockets`` package.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import attrs
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import InvalidStatus, WebSocketException

from kalshi_core.client.auth import Signer
from kalshi_core.client.transport import error_code, is_loopback
from kalshi_core.errors import ConfigError, ExchangeError, KalshiCoreError, WireFormatError
from kalshi_core.models import BookSide, MarketResult, Order, OrderBook, PriceLevel, Side
from kalshi_core.money import Count, Money, Price
from kalshi_core.wire import from_wire, parse_wire_count, parse_wire_dollars

WS_PATH = "/trade-api/ws/v2"
REST_PREFIX = "/trade-api/v2"
_REPLY_TYPES = frozenset({"subscribed", "unsubscribed", "ok", "error"})

Json = dict[str, Any]


class StreamError(ExchangeError):
    """The feed refused a command (``number`` is Kalshi's WebSocket error code) or closed."""

    def __init__(self, message: str, *, number: int | None = None) -> None:
        super().__init__(message, code=None if number is None else f"ws_error_{number}")
        self.number = number


class SequenceGap(KalshiCoreError):
    """Messages of ``sid`` were lost: ``received`` came where ``expected`` should have."""

    def __init__(self, sid: int, expected: int, received: int, update: Update) -> None:
        super().__init__(f"sid {sid}: expected seq {expected}, received {received}")
        self.sid = sid
        self.expected = expected
        self.received = received
        self.update = update


# ---- message types ----------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class OrderbookSnapshot:
    sid: int
    seq: int
    market_ticker: str
    yes: tuple[PriceLevel, ...] = ()
    no: tuple[PriceLevel, ...] = ()


@attrs.frozen(kw_only=True)
class OrderbookDelta:
    """``delta`` contracts (signed, 1/100s) at a ``side`` bid of ``price``."""

    sid: int
    seq: int
    market_ticker: str
    side: Side
    price: Price
    delta: Count
    client_order_id: str | None = None
    ts_ms: int | None = None


@attrs.frozen(kw_only=True)
class TickerUpdate:
    sid: int
    market_ticker: str
    price: Price
    yes_bid: Price
    yes_ask: Price
    yes_bid_size: Count = 0
    yes_ask_size: Count = 0
    volume: Count = 0
    open_interest: Count = 0
    last_trade_size: Count = 0
    dollar_volume: int = 0  # whole dollars
    dollar_open_interest: int = 0
    ts_ms: int | None = None


@attrs.frozen(kw_only=True)
class TradeUpdate:
    sid: int
    seq: int | None
    trade_id: str
    market_ticker: str
    yes_price: Price
    no_price: Price
    count: Count
    taker_outcome_side: Side
    taker_book_side: BookSide
    is_block_trade: bool = False
    ts_ms: int | None = None


@attrs.frozen(kw_only=True)
class FillUpdate:
    sid: int
    trade_id: str
    order_id: str
    market_ticker: str
    is_taker: bool
    outcome_side: Side
    book_side: BookSide
    yes_price: Price
    count: Count
    fee_cost: Money
    client_order_id: str | None = None
    post_position: Count | None = None  # the position after this fill, signed (+YES, -NO)
    ts_ms: int | None = None


@attrs.frozen(kw_only=True)
class UserOrderUpdate:
    """``user_order``: one of our orders as it is after a change."""

    sid: int
    seq: int | None
    order: Order


@attrs.frozen(kw_only=True)
class PositionUpdate:
    """``market_position``: our position in one market after a fill or settlement."""

    sid: int
    seq: int | None
    market_ticker: str
    position: Count  # signed: + YES, - NO
    position_cost: Money
    realized_pnl: Money
    fees_paid: Money
    volume: Count


@attrs.frozen(kw_only=True)
class LifecycleUpdate:
    """``market_lifecycle_v2``: created, activated, deactivated, close_date_updated,
    determined or settled (times in Unix seconds)."""

    sid: int
    seq: int | None
    market_ticker: str
    event_type: str
    open_ts: int | None = None
    close_ts: int | None = None
    result: MarketResult | None = None
    settlement_value: Money | None = None
    determination_ts: int | None = None
    settled_ts: int | None = None
    is_deactivated: bool | None = None


@attrs.frozen(kw_only=True)
class OtherUpdate:
    """A data message of a channel this client does not parse, kept as its JSON."""

    type: str
    sid: int | None
    seq: int | None
    msg: Json = attrs.field(repr=False)


@attrs.frozen(kw_only=True)
class Subscription:
    channel: str
    sid: int


Update = (
    OrderbookSnapshot
    | OrderbookDelta
    | TickerUpdate
    | TradeUpdate
    | FillUpdate
    | UserOrderUpdate
    | PositionUpdate
    | LifecycleUpdate
    | OtherUpdate
)


# ---- parsing ----------------------------------------------------------------------------------


class _Fields:
    """Typed reads from one message's ``msg`` object; errors name the field."""

    def __init__(self, data: Json, where: str) -> None:
        msg = data.get("msg")
        if not isinstance(msg, dict):
            raise WireFormatError(f"{where}: msg must be a JSON object")
        self.msg, self.where = msg, where

    def _get(self, name: str) -> Any:
        if name not in self.msg:
            raise WireFormatError(f"{self.where}.{name}: required field missing")
        return self.msg[name]

    def text(self, name: str) -> str:
        value = self._get(name)
        if not isinstance(value, str):
            raise WireFormatError(f"{self.where}.{name}: expected a string")
        return value

    def optional_text(self, name: str) -> str | None:
        return self.text(name) if self.msg.get(name) is not None else None

    def dollars(self, name: str) -> Money:
        try:
            return parse_wire_dollars(self._get(name))
        except (TypeError, ValueError) as exc:
            raise WireFormatError(f"{self.where}.{name}: {exc}") from None

    def count(self, name: str, default: Count | None = None) -> Count:
        if default is not None and name not in self.msg:
            return default
        try:
            return parse_wire_count(self._get(name))
        except (TypeError, ValueError) as exc:
            raise WireFormatError(f"{self.where}.{name}: {exc}") from None

    def optional_count(self, name: str) -> Count | None:
        return self.count(name) if self.msg.get(name) is not None else None

    def optional_dollars(self, name: str) -> Money | None:
        return self.dollars(name) if self.msg.get(name) is not None else None

    def integer(self, name: str) -> int | None:
        """An optional JSON integer (a bool or a float is refused)."""
        value = self.msg.get(name)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            raise WireFormatError(f"{self.where}.{name}: expected an integer")
        return value

    def flag(self, name: str) -> bool:
        return self.msg.get(name) is True

    def optional_flag(self, name: str) -> bool | None:
        value = self.msg.get(name)
        if value is not None and not isinstance(value, bool):
            raise WireFormatError(f"{self.where}.{name}: expected true or false")
        return value

    def ts_ms(self) -> int | None:
        value = self.msg.get("ts_ms")
        return value if isinstance(value, int) else None

    def choice(self, name: str, kind: type[Side] | type[BookSide]) -> Any:
        try:
            return kind(self.text(name))
        except ValueError:
            raise WireFormatError(f"{self.where}.{name}: not a {kind.__name__}") from None

    def levels(self, name: str) -> tuple[PriceLevel, ...]:
        raw = self.msg.get(name) or []
        try:
            levels = [PriceLevel(parse_wire_dollars(p), parse_wire_count(c)) for p, c in raw]
        except (TypeError, ValueError) as exc:
            raise WireFormatError(f"{self.where}.{name}: {exc}") from None
        return tuple(sorted(levels, key=lambda level: level.price))


def _snapshot(f: _Fields, sid: int, seq: int | None) -> OrderbookSnapshot:
    return OrderbookSnapshot(
        sid=sid,
        seq=seq or 0,
        market_ticker=f.text("market_ticker"),
        yes=f.levels("yes_dollars_fp"),
        no=f.levels("no_dollars_fp"),
    )


def _delta(f: _Fields, sid: int, seq: int | None) -> OrderbookDelta:
    return OrderbookDelta(
        sid=sid,
        seq=seq or 0,
        market_ticker=f.text("market_ticker"),
        side=f.choice("side", Side),
        price=f.dollars("price_dollars"),
        delta=f.count("delta_fp"),
        client_order_id=f.optional_text("client_order_id"),
        ts_ms=f.ts_ms(),
    )


def _ticker(f: _Fields, sid: int, seq: int | None) -> TickerUpdate:
    return TickerUpdate(
        sid=sid,
        market_ticker=f.text("market_ticker"),
        price=f.dollars("price_dollars"),
        yes_bid=f.dollars("yes_bid_dollars"),
        yes_ask=f.dollars("yes_ask_dollars"),
        yes_bid_size=f.count("yes_bid_size_fp", 0),
        yes_ask_size=f.count("yes_ask_size_fp", 0),
        volume=f.count("volume_fp", 0),
        open_interest=f.count("open_interest_fp", 0),
        last_trade_size=f.count("last_trade_size_fp", 0),
        dollar_volume=f.integer("dollar_volume") or 0,
        dollar_open_interest=f.integer("dollar_open_interest") or 0,
        ts_ms=f.ts_ms(),
    )


def _trade(f: _Fields, sid: int, seq: int | None) -> TradeUpdate:
    return TradeUpdate(
        sid=sid,
        seq=seq,
        trade_id=f.text("trade_id"),
        market_ticker=f.text("market_ticker"),
        yes_price=f.dollars("yes_price_dollars"),
        no_price=f.dollars("no_price_dollars"),
        count=f.count("count_fp"),
        taker_outcome_side=f.choice("taker_outcome_side", Side),
        taker_book_side=f.choice("taker_book_side", BookSide),
        is_block_trade=f.flag("is_block_trade"),
        ts_ms=f.ts_ms(),
    )


def _fill(f: _Fields, sid: int, seq: int | None) -> FillUpdate:
    return FillUpdate(
        sid=sid,
        trade_id=f.text("trade_id"),
        order_id=f.text("order_id"),
        market_ticker=f.text("market_ticker"),
        is_taker=f.flag("is_taker"),
        outcome_side=f.choice("outcome_side", Side),
        book_side=f.choice("book_side", BookSide),
        yes_price=f.dollars("yes_price_dollars"),
        count=f.count("count_fp"),
        fee_cost=f.dollars("fee_cost"),
        client_order_id=f.optional_text("client_order_id"),
        post_position=f.optional_count("post_position_fp"),
        ts_ms=f.ts_ms(),
    )


def _user_order(f: _Fields, sid: int, seq: int | None) -> UserOrderUpdate:
    return UserOrderUpdate(sid=sid, seq=seq, order=from_wire(f.msg, Order, where=f.where))


def _position(f: _Fields, sid: int, seq: int | None) -> PositionUpdate:
    return PositionUpdate(
        sid=sid,
        seq=seq,
        market_ticker=f.text("market_ticker"),
        position=f.count("position_fp"),
        position_cost=f.dollars("position_cost_dollars"),
        realized_pnl=f.dollars("realized_pnl_dollars"),
        fees_paid=f.dollars("fees_paid_dollars"),
        volume=f.count("volume_fp", 0),
    )


def _result(f: _Fields) -> MarketResult | None:
    text = f.optional_text("result")
    if text is None:
        return None
    try:
        return MarketResult(text)
    except ValueError:
        raise WireFormatError(f"{f.where}.result: not a market result: {text!r}") from None


def _lifecycle(f: _Fields, sid: int, seq: int | None) -> LifecycleUpdate:
    return LifecycleUpdate(
        sid=sid,
        seq=seq,
        market_ticker=f.text("market_ticker"),
        event_type=f.text("event_type"),
        open_ts=f.integer("open_ts"),
        close_ts=f.integer("close_ts"),
        result=_result(f),
        settlement_value=f.optional_dollars("settlement_value"),
        determination_ts=f.integer("determination_ts"),
        settled_ts=f.integer("settled_ts"),
        is_deactivated=f.optional_flag("is_deactivated"),
    )


_PARSERS: dict[str, Callable[[_Fields, int, int | None], Update]] = {
    "orderbook_snapshot": _snapshot,
    "orderbook_delta": _delta,
    "ticker": _ticker,
    "trade": _trade,
    "fill": _fill,
    "user_order": _user_order,
    "market_position": _position,
    "market_lifecycle_v2": _lifecycle,
}


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_update(data: Json) -> Update:
    """One data message (``{"type", "sid", "seq"?, "msg"}``) -> its attrs type."""
    kind = data.get("type")
    sid, seq = _int_or_none(data.get("sid")), _int_or_none(data.get("seq"))
    parser = _PARSERS.get(kind) if isinstance(kind, str) else None
    if parser is None or sid is None:
        msg = data.get("msg")
        return OtherUpdate(
            type=str(kind), sid=sid, seq=seq, msg=msg if isinstance(msg, dict) else {}
        )
    return parser(_Fields(data, f"{kind} (sid {sid})"), sid, seq)


# ---- URLs -------------------------------------------------------------------------------------


def stream_url(base_url: str) -> str:
    """The feed's URL for a REST base URL: ``http://h:p/trade-api/v2`` -> ``ws://h:p/trade-api/ws/v2``."""
    parts = urlsplit(base_url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, WS_PATH, "", ""))


def check_stream_url(url: str, *, allow_remote: bool) -> str:
    """``url`` if it is ws(s)://host/... without credentials, on loopback unless allowed."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    shown = f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")
    if parts.scheme not in ("ws", "wss") or not host:
        raise ConfigError(f"Kalshi stream URL must be ws(s)://host/..., got {shown}")
    if parts.username or parts.password:
        raise ConfigError(f"Kalshi stream URL {shown} must not carry credentials")
    if not allow_remote and not is_loopback(host):
        raise ConfigError(
            f"refusing non-loopback Kalshi stream URL {shown}: pass allow_remote=True "
            "to talk to a remote exchange (live trading is an explicit opt-in)"
        )
    return url


# ---- the client -------------------------------------------------------------------------------


@attrs.define
class _Pending:
    expected: int
    future: asyncio.Future[list[Json]]
    replies: list[Json] = attrs.field(factory=list)


@attrs.define
class _Subscribed:
    """What :meth:`KalshiStream.reconnect` subscribes to again."""

    channel: str
    tickers: list[str]
    options: Json


_CLOSED = object()


class KalshiStream:
    """One WebSocket connection to the feed; see the module docstring."""

    def __init__(
        self,
        url: str,
        signer: Signer,
        *,
        allow_remote: bool = False,
        open_timeout: float = 10.0,
        reply_timeout: float = 10.0,
    ) -> None:
        self.url = check_stream_url(url, allow_remote=allow_remote)
        self._signer = signer
        self._open_timeout = open_timeout
        self._reply_timeout = reply_timeout
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._updates: asyncio.Queue[Json | object] = asyncio.Queue()
        self._pending: dict[int, _Pending] = {}
        self._last_seq: dict[int, int] = {}
        self._next_id = 1
        self._subscribed: dict[int, _Subscribed] = {}
        self._held_gap: SequenceGap | None = None
        self.close_reason = ""

    def __repr__(self) -> str:
        return f"KalshiStream(url={self.url!r}, key_id={self._signer.key_id!r})"

    async def __aenter__(self) -> KalshiStream:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def connect(self) -> None:
        headers = self._signer.headers("GET", urlsplit(self.url).path)
        try:
            self._ws = await websockets.connect(
                self.url,
                additional_headers=headers,
                proxy=None,
                open_timeout=self._open_timeout,
                max_size=None,
            )
        except InvalidStatus as exc:
            raise _refusal(exc, self.url) from None
        except (OSError, TimeoutError, WebSocketException) as exc:
            raise StreamError(f"cannot open the Kalshi stream {self.url}: {exc}") from None
        self._reader = asyncio.create_task(self._read(self._ws))

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    async def reconnect(self) -> dict[int, int]:
        """Open a new connection and subscribe again to everything subscribed before.

        Returns each old sid's new sid. Data messages not yet read from the old connection are
        discarded; the new subscriptions start with fresh snapshots.
        """
        await self.close()
        previous, self._subscribed = self._subscribed, {}
        self._updates, self._last_seq, self.close_reason = asyncio.Queue(), {}, ""
        self._held_gap = None
        await self.connect()
        renamed = {}
        for old_sid, sub in previous.items():
            renamed[old_sid] = await self.subscribe(sub.channel, sub.tickers, **sub.options)
        return renamed

    # ---- commands ----

    async def command(
        self, cmd: str, params: Json | None = None, *, replies: int = 1
    ) -> list[Json]:
        """Send ``cmd`` and wait for its ``replies`` answers; an error reply raises."""
        if self._ws is None:
            raise StreamError("the stream is not connected")
        command_id, self._next_id = self._next_id, self._next_id + 1
        pending = _Pending(replies, asyncio.get_running_loop().create_future())
        self._pending[command_id] = pending
        body: Json = {"id": command_id, "cmd": cmd}
        if params is not None:
            body["params"] = params
        try:
            await self._ws.send(json.dumps(body))
            return await asyncio.wait_for(pending.future, self._reply_timeout)
        except WebSocketException as exc:
            raise StreamError(f"{cmd}: the stream closed ({exc})") from None
        finally:
            self._pending.pop(command_id, None)

    async def subscribe(self, channel: str, tickers: Sequence[str] = (), **options: Any) -> int:
        """Subscribe to one channel (for ``tickers``, or every market) and return its sid."""
        params: Json = {"channels": [channel], **options}
        if tickers:
            params["market_tickers"] = list(tickers)
        (reply,) = await self.command("subscribe", params)
        sid: int = reply["msg"]["sid"]
        self._subscribed[sid] = _Subscribed(channel, list(tickers), dict(options))
        return sid

    async def unsubscribe(self, *sids: int) -> None:
        unique = list(dict.fromkeys(sids))
        await self.command("unsubscribe", {"sids": unique}, replies=len(unique))
        for sid in unique:
            self._subscribed.pop(sid, None)

    async def list_subscriptions(self) -> list[Subscription]:
        (reply,) = await self.command("list_subscriptions")
        return [Subscription(channel=s["channel"], sid=s["sid"]) for s in reply["msg"]]

    async def update_subscription(
        self, sid: int, action: str, tickers: Sequence[str] = ()
    ) -> list[str]:
        """``add_markets``, ``delete_markets`` or ``get_snapshot``; returns the sid's markets."""
        params: Json = {"sids": [sid], "action": action}
        if tickers:
            params["market_tickers"] = list(tickers)
        (reply,) = await self.command("update_subscription", params)
        markets: list[str] = reply["msg"]["market_tickers"]
        if sid in self._subscribed:
            self._subscribed[sid].tickers = list(markets)
        return markets

    # ---- data ----

    def __aiter__(self) -> KalshiStream:
        return self

    async def __anext__(self) -> Update:
        self._raise_held_gap()
        item = await self._updates.get()
        if item is _CLOSED:
            self._updates.put_nowait(_CLOSED)  # later readers stop too
            raise StopAsyncIteration
        return self._checked(item)

    async def receive(self) -> Update:
        """The next data message; raises StreamError once the stream has closed."""
        try:
            return await self.__anext__()
        except StopAsyncIteration:
            raise StreamError(f"the Kalshi stream closed: {self.close_reason}") from None

    def drain(self) -> list[Update]:
        """Every data message already received, without waiting.

        At a :class:`SequenceGap` it returns what came before the gap; the next call raises it.
        """
        self._raise_held_gap()
        out: list[Update] = []
        while not self._updates.empty():
            item = self._updates.get_nowait()
            if item is _CLOSED:
                self._updates.put_nowait(_CLOSED)
                break
            try:
                out.append(self._checked(item))
            except SequenceGap as gap:
                if not out:
                    raise
                self._held_gap = gap
                break
        return out

    def _raise_held_gap(self) -> None:
        gap, self._held_gap = self._held_gap, None
        if gap is not None:
            raise gap

    async def flush(self) -> list[Update]:
        """Every data message the server sent before now: ``list_subscriptions`` is answered
        after everything queued before it, so its reply marks the point."""
        await self.list_subscriptions()
        return self.drain()

    def _checked(self, item: Any) -> Update:
        update = parse_update(item)
        sid, seq = update.sid, item.get("seq")
        if sid is None or not isinstance(seq, int) or sid not in self._last_seq:
            return update
        expected = self._last_seq[sid] + 1
        self._last_seq[sid] = seq
        if seq != expected:
            raise SequenceGap(sid, expected, seq, update)
        return update

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                data = json.loads(raw)
                if isinstance(data, dict):
                    self._route(data)
        except (WebSocketException, json.JSONDecodeError) as exc:
            self.close_reason = f"{type(exc).__name__}: {exc}"
        finally:
            self.close_reason = self.close_reason or f"closed (code {ws.close_code})"
            for pending in self._pending.values():
                if not pending.future.done():
                    pending.future.set_exception(StreamError(self.close_reason))
            self._updates.put_nowait(_CLOSED)

    def _route(self, data: Json) -> None:
        pending = self._pending.get(data.get("id", 0))
        if data.get("type") not in _REPLY_TYPES or pending is None:
            self._updates.put_nowait(data)
            return
        if pending.future.done():
            return
        if data["type"] == "error":
            error = data.get("msg") or {}
            text = f"{error.get('msg', 'error')} (code {error.get('code')})"
            pending.future.set_exception(StreamError(text, number=error.get("code")))
            return
        self._track(data)
        pending.replies.append(data)
        if len(pending.replies) >= pending.expected:
            pending.future.set_result(pending.replies)

    def _track(self, reply: Json) -> None:
        """Start (or stop) gap detection for a sid as its subscription begins (or ends)."""
        if reply["type"] == "subscribed":
            self._last_seq[reply["msg"]["sid"]] = 0
        elif reply["type"] == "unsubscribed":
            self._last_seq.pop(reply.get("sid", 0), None)


def _refusal(exc: InvalidStatus, url: str) -> ExchangeError:
    response = exc.response
    try:
        code, message = error_code(json.loads(response.body or b"{}"))
    except ValueError:
        code, message = None, ""
    return ExchangeError(
        f"the Kalshi stream {url} refused the connection: {message or 'no reason given'}",
        code=code,
        status=response.status_code,
    )


# ---- a book kept from the feed ----------------------------------------------------------------


class LocalBook:
    """One market's book from ``orderbook_snapshot`` + ``orderbook_delta`` messages; equal to
    ``GET /markets/{ticker}/orderbook`` at the same point in time."""

    def __init__(self, ticker: str) -> None:
        self.ticker = ticker
        self.ready = False
        self._sides: dict[Side, dict[Price, Count]] = {Side.YES: {}, Side.NO: {}}

    def apply(self, update: Update) -> bool:
        """Apply a snapshot or delta of this market; False for anything else."""
        if not isinstance(update, OrderbookSnapshot | OrderbookDelta):
            return False
        if update.market_ticker != self.ticker:
            return False
        if isinstance(update, OrderbookSnapshot):
            self._sides[Side.YES] = {lvl.price: lvl.count for lvl in update.yes}
            self._sides[Side.NO] = {lvl.price: lvl.count for lvl in update.no}
            self.ready = True
            return True
        self._apply_delta(update)
        return True

    def _apply_delta(self, delta: OrderbookDelta) -> None:
        if not self.ready:
            raise StreamError(f"{self.ticker}: a delta arrived before the snapshot")
        levels = self._sides[delta.side]
        size = levels.get(delta.price, 0) + delta.delta
        if size < 0:
            raise StreamError(f"{self.ticker}: delta left {delta.side} {delta.price} negative")
        if size:
            levels[delta.price] = size
        else:
            levels.pop(delta.price, None)

    def orderbook(self) -> OrderBook:
        def side(which: Side) -> tuple[PriceLevel, ...]:
            return tuple(PriceLevel(p, c) for p, c in sorted(self._sides[which].items()))

        return OrderBook(ticker=self.ticker, yes=side(Side.YES), no=side(Side.NO))
