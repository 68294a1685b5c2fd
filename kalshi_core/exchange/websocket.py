"""The local exchange's WebSocket feed at ``/trade-api/ws/v2`` (Kalshi's §8 protocol).

The handshake must carry the three ``KALSHI-ACCESS-*`` headers signing
``ts + "GET" + "/trade-api/ws/v2"``; anything else is refused with HTTP 401 and the REST error
body. Commands (``subscribe``, ``unsubscribe``, ``list_subscriptions``,
``update_subscription``) are answered in Kalshi's reply shapes and error codes.

Channels: ``orderbook_delta`` (an ``orderbook_snapshot`` per market, then signed deltas),
``ticker`` (on a change of bid, ask, last price or volume), ``trade`` (new prints) and
``fill`` (the connection's own account). The venue has no event callbacks, so every
:meth:`StreamFeed.tick` compares what each subscription last saw with the venue's state,
reading each subscribed market once per tick. Everything a connection is sent goes through
one queue in the order it was produced, so a command's reply follows every data message
queued before it: clients may use ``list_subscriptions`` as a barrier.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs
from starlette.websockets import WebSocket

from kalshi_core.errors import ExchangeError
from kalshi_core.exchange.http.auth import Unauthorized, header_map
from kalshi_core.exchange.http.errors import error_response
from kalshi_core.models import Fill, Market, OrderBook, Trade
from kalshi_core.money import Count, Price, format_count, format_dollars

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, MutableMapping

    from kalshi_core.exchange.http.context import ServerContext
    from kalshi_core.exchange.venue import Venue

    Scope = MutableMapping[str, Any]
    Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
    Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

WS_PATH = "/trade-api/ws/v2"
CHANNELS = ("orderbook_delta", "ticker", "trade", "fill")
MAX_QUEUED = 10_000  # messages waiting for one slow client before it is disconnected
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MARKET_IDS = uuid.uuid5(uuid.NAMESPACE_URL, "kalshi-core-local-exchange/markets")
log = logging.getLogger(__name__)

Json = dict[str, Any]


class Code:
    """Kalshi's WebSocket error codes (§8)."""

    UNABLE_TO_PROCESS = 1
    PARAMS_REQUIRED = 2
    CHANNELS_REQUIRED = 3
    SIDS_REQUIRED = 4
    UNKNOWN_COMMAND = 5
    UNKNOWN_SID = 7
    UNKNOWN_CHANNEL = 8
    INVALID_PARAMETER = 11
    ONE_SID_REQUIRED = 12
    UNSUPPORTED_ACTION = 13
    MARKET_TICKER_REQUIRED = 14
    ACTION_REQUIRED = 15
    MARKET_NOT_FOUND = 16
    INTERNAL_ERROR = 17


class CommandError(Exception):
    """A command the feed refuses; becomes ``{"type": "error", "msg": {code, msg}}``."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


# ---- message shapes ---------------------------------------------------------------------------


def _ms(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def market_id(ticker: str) -> str:
    """A stable UUID per ticker: Kalshi's messages carry a market id the venue has not got."""
    return str(uuid.uuid5(_MARKET_IDS, ticker))


def _levels(levels: Iterable[tuple[Price, Count]]) -> list[list[str]]:
    return [[format_dollars(price), format_count(count)] for price, count in levels]


def snapshot_msg(book: OrderBook) -> Json:
    msg: Json = {"market_ticker": book.ticker, "market_id": market_id(book.ticker)}
    if book.yes:
        msg["yes_dollars_fp"] = _levels((lvl.price, lvl.count) for lvl in book.yes)
    if book.no:
        msg["no_dollars_fp"] = _levels((lvl.price, lvl.count) for lvl in book.no)
    return msg


def delta_msg(ticker: str, side: str, price: Price, delta: Count, now: datetime) -> Json:
    return {
        "market_ticker": ticker,
        "market_id": market_id(ticker),
        "price_dollars": format_dollars(price),
        "delta_fp": format_count(delta),
        "side": side,
        "ts_ms": _ms(now),
    }


def ticker_msg(market: Market, now: datetime) -> Json:
    return {
        "market_id": market_id(market.ticker),
        "market_ticker": market.ticker,
        "price_dollars": format_dollars(market.last_price),
        "yes_bid_dollars": format_dollars(market.yes_bid),
        "yes_ask_dollars": format_dollars(market.yes_ask),
        "yes_bid_size_fp": format_count(market.yes_bid_size),
        "yes_ask_size_fp": format_count(market.yes_ask_size),
        "volume_fp": format_count(market.volume),
        "open_interest_fp": format_count(market.open_interest),
        "ts": _ms(now) // 1000,
        "ts_ms": _ms(now),
    }


def trade_msg(trade: Trade) -> Json:
    return {
        "trade_id": trade.trade_id,
        "market_ticker": trade.ticker,
        "yes_price_dollars": format_dollars(trade.yes_price),
        "no_price_dollars": format_dollars(trade.no_price),
        "count_fp": format_count(trade.count),
        "taker_side": trade.taker_outcome_side.value,
        "taker_outcome_side": trade.taker_outcome_side.value,
        "taker_book_side": trade.taker_book_side.value,
        "is_block_trade": trade.is_block_trade,
        "ts": _ms(trade.created_time) // 1000,
        "ts_ms": _ms(trade.created_time),
    }


def fill_msg(fill: Fill) -> Json:
    msg: Json = {
        "trade_id": fill.fill_id,
        "order_id": fill.order_id,
        "market_ticker": fill.ticker,
        "exchange_index": 0,
        "is_taker": fill.is_taker,
        "side": fill.outcome_side.value,
        "purchased_side": fill.outcome_side.value,
        "outcome_side": fill.outcome_side.value,
        "book_side": fill.book_side.value,
        "yes_price_dollars": format_dollars(fill.yes_price),
        "count_fp": format_count(fill.count),
        "fee_cost": format_dollars(fill.fee_cost),
        "action": "buy",
    }
    if fill.client_order_id:
        msg["client_order_id"] = fill.client_order_id
    if fill.created_time is not None:
        msg["ts"], msg["ts_ms"] = _ms(fill.created_time) // 1000, _ms(fill.created_time)
    return msg


# ---- what one tick reads from the venue -------------------------------------------------------


class VenueView:
    """The venue's state for one tick; each market, book and tape is read at most once."""

    def __init__(self, venue: Venue) -> None:
        self.venue = venue
        self.now = venue.clock.now()
        self._books: dict[str, OrderBook] = {}
        self._markets: dict[str, Market] | None = None
        self._one_market: dict[str, Market] = {}
        self._tapes: dict[str, list[Trade]] = {}
        self._fills: dict[str, list[Fill]] = {}

    def book(self, ticker: str) -> OrderBook:
        if ticker not in self._books:
            self._books[ticker] = self.venue.orderbook(ticker)
        return self._books[ticker]

    def markets(self) -> dict[str, Market]:
        if self._markets is None:
            self._markets = {m.ticker: m for m in self.venue.markets()}
        return self._markets

    def market(self, ticker: str) -> Market:
        if self._markets is not None and ticker in self._markets:
            return self._markets[ticker]
        if ticker not in self._one_market:
            self._one_market[ticker] = self.venue.market(ticker)
        return self._one_market[ticker]

    def tape(self, ticker: str) -> list[Trade]:
        if ticker not in self._tapes:
            self._tapes[ticker] = self.venue.trades(ticker)
        return self._tapes[ticker]

    def fills(self, account_id: str) -> list[Fill]:
        if account_id not in self._fills:
            self._fills[account_id] = self.venue.fills(account_id)
        return self._fills[account_id]

    def check_markets(self, tickers: Iterable[str]) -> None:
        for ticker in tickers:
            try:
                self.market(ticker)
            except ExchangeError:
                raise CommandError(Code.MARKET_NOT_FOUND, f"market {ticker} not found") from None


# ---- subscriptions ----------------------------------------------------------------------------


@attrs.define(eq=False)
class Subscription:
    """One ``sid``: a channel over some markets (none listed: every market, where allowed).

    ``poll`` returns ``(type, msg)`` pairs for what changed since the last call; ``start``
    records the baseline (and returns the snapshots a new subscriber gets first).
    """

    sid: int
    channel: str
    account_id: str
    tickers: list[str] = attrs.field(factory=list)
    every_market: bool = False
    seq: int = 0
    sequenced: bool = False

    def start(self, view: VenueView, tickers: list[str], initial: bool) -> list[tuple[str, Json]]:
        return []

    def poll(self, view: VenueView) -> list[tuple[str, Json]]:
        return []

    def forget(self, tickers: Iterable[str]) -> None:
        return None

    def snapshot(self, view: VenueView, tickers: list[str]) -> list[tuple[str, Json]]:
        raise CommandError(Code.UNSUPPORTED_ACTION, f"{self.channel} has no snapshot")

    def envelope(self, kind: str, msg: Json) -> Json:
        if not self.sequenced:
            return {"type": kind, "sid": self.sid, "msg": msg}
        self.seq += 1
        return {"type": kind, "sid": self.sid, "seq": self.seq, "msg": msg}


def _book_state(book: OrderBook) -> dict[tuple[str, Price], Count]:
    state = {("yes", lvl.price): lvl.count for lvl in book.yes}
    state.update({("no", lvl.price): lvl.count for lvl in book.no})
    return state


@attrs.define(eq=False)
class BookSubscription(Subscription):
    """``orderbook_delta``: a snapshot per market, then one delta per changed level."""

    sequenced: bool = True
    seen: dict[str, dict[tuple[str, Price], Count]] = attrs.field(factory=dict)

    def start(self, view: VenueView, tickers: list[str], initial: bool) -> list[tuple[str, Json]]:
        return self.snapshot(view, tickers)

    def snapshot(self, view: VenueView, tickers: list[str]) -> list[tuple[str, Json]]:
        out = []
        for ticker in tickers:
            book = view.book(ticker)
            self.seen[ticker] = _book_state(book)
            out.append(("orderbook_snapshot", snapshot_msg(book)))
        return out

    def poll(self, view: VenueView) -> list[tuple[str, Json]]:
        out = []
        for ticker in self.tickers:
            before, after = self.seen[ticker], _book_state(view.book(ticker))
            for side, price in sorted(before.keys() | after.keys()):
                change = after.get((side, price), 0) - before.get((side, price), 0)
                if change:
                    out.append(
                        ("orderbook_delta", delta_msg(ticker, side, price, change, view.now))
                    )
            self.seen[ticker] = after
        return out

    def forget(self, tickers: Iterable[str]) -> None:
        for ticker in tickers:
            self.seen.pop(ticker, None)


def _quote(market: Market) -> tuple[int, ...]:
    return (market.yes_bid, market.yes_ask, market.last_price, market.volume)


@attrs.define(eq=False)
class TickerSubscription(Subscription):
    """``ticker``: the market's quote whenever bid, ask, last price or volume changed."""

    seen: dict[str, tuple[int, ...]] = attrs.field(factory=dict)

    def _watched(self, view: VenueView) -> list[Market]:
        if self.every_market:
            return list(view.markets().values())
        return [view.market(t) for t in self.tickers]

    def start(self, view: VenueView, tickers: list[str], initial: bool) -> list[tuple[str, Json]]:
        markets = [view.market(t) for t in tickers] if tickers else self._watched(view)
        self.seen.update({m.ticker: _quote(m) for m in markets})
        return [("ticker", ticker_msg(m, view.now)) for m in markets] if initial else []

    def poll(self, view: VenueView) -> list[tuple[str, Json]]:
        out = []
        for market in self._watched(view):
            quote = _quote(market)
            if self.seen.get(market.ticker) != quote:
                self.seen[market.ticker] = quote
                out.append(("ticker", ticker_msg(market, view.now)))
        return out

    def forget(self, tickers: Iterable[str]) -> None:
        for ticker in tickers:
            self.seen.pop(ticker, None)


@attrs.define(eq=False)
class TradeSubscription(Subscription):
    """``trade``: every print added to the watched tapes, oldest first."""

    sequenced: bool = True
    read: dict[str, int] = attrs.field(factory=dict)  # ticker -> prints already sent

    def _watched(self, view: VenueView) -> list[str]:
        return list(view.markets()) if self.every_market else self.tickers

    def start(self, view: VenueView, tickers: list[str], initial: bool) -> list[tuple[str, Json]]:
        for ticker in tickers or self._watched(view):
            self.read[ticker] = len(view.tape(ticker))
        return []

    def poll(self, view: VenueView) -> list[tuple[str, Json]]:
        new: list[Trade] = []
        for ticker in self._watched(view):
            tape = view.tape(ticker)
            new.extend(tape[self.read.get(ticker, 0) :])
            self.read[ticker] = len(tape)
        # Trade ids carry the venue's counter, so this is the order the prints happened in.
        new.sort(key=lambda t: (t.created_time, t.trade_id))
        return [("trade", trade_msg(t)) for t in new]

    def forget(self, tickers: Iterable[str]) -> None:
        for ticker in tickers:
            self.read.pop(ticker, None)


@attrs.define(eq=False)
class FillSubscription(Subscription):
    """``fill``: the connection's account's new fills (in the listed markets, if any)."""

    read: int = 0

    def start(self, view: VenueView, tickers: list[str], initial: bool) -> list[tuple[str, Json]]:
        self.read = len(view.fills(self.account_id))
        return []

    def poll(self, view: VenueView) -> list[tuple[str, Json]]:
        fills = view.fills(self.account_id)
        new, self.read = fills[self.read :], len(fills)
        wanted = set(self.tickers)
        return [("fill", fill_msg(f)) for f in new if self.every_market or f.ticker in wanted]


_KINDS: dict[str, type[Subscription]] = {
    "orderbook_delta": BookSubscription,
    "ticker": TickerSubscription,
    "trade": TradeSubscription,
    "fill": FillSubscription,
}


# ---- command parsing --------------------------------------------------------------------------


def _params(command: Json) -> Json:
    params = command.get("params")
    if not isinstance(params, dict) or not params:
        raise CommandError(Code.PARAMS_REQUIRED, f"{command.get('cmd')}: params are required")
    return params


def _tickers(params: Json) -> list[str]:
    """``market_ticker`` and/or ``market_tickers``, in order, without repeats."""
    found: list[Any] = []
    if "market_ticker" in params:
        found.append(params["market_ticker"])
    listed = params.get("market_tickers", [])
    if not isinstance(listed, list):
        raise CommandError(Code.INVALID_PARAMETER, "market_tickers must be a list of tickers")
    found.extend(listed)
    if not all(isinstance(t, str) and t for t in found):
        raise CommandError(Code.INVALID_PARAMETER, "market tickers must be non-empty strings")
    return list(dict.fromkeys(found))


def _channels(params: Json) -> list[str]:
    channels = params.get("channels")
    if not channels:
        raise CommandError(Code.CHANNELS_REQUIRED, "subscribe: params.channels is required")
    if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
        raise CommandError(Code.INVALID_PARAMETER, "channels must be a list of channel names")
    unknown = [c for c in channels if c not in _KINDS]
    if unknown:
        served = ", ".join(CHANNELS)
        raise CommandError(
            Code.UNKNOWN_CHANNEL, f"unknown channel {unknown[0]!r}; this exchange serves {served}"
        )
    return list(dict.fromkeys(channels))


def _sid_list(params: Json) -> list[int]:
    sids = params.get("sids")
    if sids is None and "sid" in params:
        sids = [params["sid"]]
    if not sids:
        raise CommandError(Code.SIDS_REQUIRED, "params.sids is required")
    if not isinstance(sids, list) or not all(
        isinstance(s, int) and not isinstance(s, bool) for s in sids
    ):
        raise CommandError(Code.INVALID_PARAMETER, "sids must be a list of integers")
    return sids


# ---- one connection ---------------------------------------------------------------------------


class Connection:
    """One authenticated client: its subscriptions and its outgoing queue."""

    def __init__(self, websocket: WebSocket, account_id: str) -> None:
        self.websocket = websocket
        self.account_id = account_id
        self.queue: asyncio.Queue[str | None] = asyncio.Queue(MAX_QUEUED + 1)
        self.subscriptions: dict[int, Subscription] = {}
        self._next_sid = 1
        self.overflowed = False

    def push(self, message: Json) -> None:
        if self.overflowed:
            return
        if self.queue.qsize() >= MAX_QUEUED:
            # A client this far behind would only get stale books: close it instead.
            self.overflowed = True
            self.queue.put_nowait(None)
            return
        self.queue.put_nowait(json.dumps(message, separators=(",", ":")))

    def tick(self, view: VenueView) -> None:
        for sub in list(self.subscriptions.values()):
            for kind, msg in sub.poll(view):
                self.push(sub.envelope(kind, msg))

    def handle(self, text: str, view: VenueView) -> None:
        """Run one command; every outcome, errors included, is a reply on the queue."""
        command_id: Any = 0
        try:
            command = json.loads(text)
            if not isinstance(command, dict):
                raise CommandError(Code.UNABLE_TO_PROCESS, "a command must be a JSON object")
            command_id = command.get("id", 0)
            self._dispatch(command, command_id, view)
        except CommandError as exc:
            self._error(command_id, exc.code, str(exc))
        except json.JSONDecodeError:
            self._error(command_id, Code.UNABLE_TO_PROCESS, "the command is not valid JSON")
        except Exception:
            log.exception("websocket feed: command failed")
            self._error(command_id, Code.INTERNAL_ERROR, "internal error in the local exchange")

    def _error(self, command_id: Any, code: int, message: str) -> None:
        self.push({"id": command_id, "type": "error", "msg": {"code": code, "msg": message}})

    def _dispatch(self, command: Json, command_id: Any, view: VenueView) -> None:
        name = command.get("cmd")
        if name == "subscribe":
            self.subscribe(command_id, _params(command), view)
        elif name == "unsubscribe":
            self.unsubscribe(command_id, _params(command))
        elif name == "list_subscriptions":
            listing = [{"channel": s.channel, "sid": s.sid} for s in self.subscriptions.values()]
            self.push({"id": command_id, "type": "ok", "msg": listing})
        elif name == "update_subscription":
            self.update(command_id, _params(command), view)
        else:
            raise CommandError(Code.UNKNOWN_COMMAND, f"unknown command {name!r}")

    def subscribe(self, command_id: Any, params: Json, view: VenueView) -> None:
        channels, tickers = _channels(params), _tickers(params)
        if "orderbook_delta" in channels and not tickers:
            raise CommandError(Code.MARKET_TICKER_REQUIRED, "orderbook_delta needs market tickers")
        view.check_markets(tickers)
        initial = params.get("send_initial_snapshot") is True
        for channel in channels:
            sub = _KINDS[channel](self._next_sid, channel, self.account_id, list(tickers))
            sub.every_market = not tickers
            self._next_sid += 1
            self.subscriptions[sub.sid] = sub
            first = sub.start(view, sub.tickers, initial)
            reply = {"channel": channel, "sid": sub.sid}
            self.push({"id": command_id, "type": "subscribed", "msg": reply})
            for kind, msg in first:
                self.push(sub.envelope(kind, msg))

    def unsubscribe(self, command_id: Any, params: Json) -> None:
        sids = _sid_list(params)
        for sid in sids:
            if sid not in self.subscriptions:
                raise CommandError(Code.UNKNOWN_SID, f"unknown sid {sid}")
        for sid in dict.fromkeys(sids):
            sub = self.subscriptions.pop(sid)
            self.push({"id": command_id, "sid": sid, "seq": sub.seq, "type": "unsubscribed"})

    def _one_sub(self, params: Json) -> Subscription:
        sids = _sid_list(params)
        if len(sids) != 1:
            raise CommandError(Code.ONE_SID_REQUIRED, "update_subscription takes exactly one sid")
        sub = self.subscriptions.get(sids[0])
        if sub is None:
            raise CommandError(Code.UNKNOWN_SID, f"unknown sid {sids[0]}")
        return sub

    def update(self, command_id: Any, params: Json, view: VenueView) -> None:
        sub, action, tickers = self._one_sub(params), params.get("action"), _tickers(params)
        if not action:
            raise CommandError(Code.ACTION_REQUIRED, "update_subscription: action is required")
        if action not in ("add_markets", "delete_markets", "get_snapshot"):
            raise CommandError(Code.UNSUPPORTED_ACTION, f"unsupported action {action!r}")
        if sub.every_market:
            raise CommandError(Code.INVALID_PARAMETER, f"sid {sub.sid} covers every market")
        if action == "get_snapshot":
            chosen = tickers or list(sub.tickers)
            if any(t not in sub.tickers for t in chosen):
                raise CommandError(Code.INVALID_PARAMETER, "get_snapshot: market not subscribed")
            messages = sub.snapshot(view, chosen)
        else:
            messages = self._change_markets(sub, action, tickers, view)
        reply = {"market_tickers": list(sub.tickers)}
        self.push({"id": command_id, "sid": sub.sid, "seq": sub.seq, "type": "ok", "msg": reply})
        for kind, msg in messages:
            self.push(sub.envelope(kind, msg))

    def _change_markets(
        self, sub: Subscription, action: str, tickers: list[str], view: VenueView
    ) -> list[tuple[str, Json]]:
        if not tickers:
            raise CommandError(Code.MARKET_TICKER_REQUIRED, f"{action}: market_tickers required")
        if action == "delete_markets":
            sub.tickers[:] = [t for t in sub.tickers if t not in tickers]
            sub.forget(tickers)
            return []
        view.check_markets(tickers)
        added = [t for t in tickers if t not in sub.tickers]
        sub.tickers.extend(added)
        return sub.start(view, added, False)

    async def write(self) -> None:
        """Send the queue's messages in order until cancelled or the client is gone."""
        try:
            while True:
                text = await self.queue.get()
                if text is None:
                    await self.websocket.close(code=1008, reason="client too slow")
                    return
                await self.websocket.send_text(text)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the client went away; the reader cleans up
            log.debug("websocket feed: send failed: %s", type(exc).__name__)


# ---- the feed ---------------------------------------------------------------------------------


def authenticate(context: ServerContext, scope: Scope) -> tuple[str | None, str]:
    """(account id, "") for a correctly signed handshake, else (None, why it was refused)."""
    try:
        account_id = context.signed_account(header_map(scope["headers"]), "GET", WS_PATH)
    except Unauthorized as exc:
        return None, str(exc)
    if account_id is None:
        return None, "the WebSocket handshake needs KALSHI-ACCESS-* headers"
    return account_id, ""


async def _deny(websocket: WebSocket, status: int, code: str, message: str) -> None:
    if "websocket.http.response" not in websocket.scope.get("extensions", {}):
        await websocket.close(code=1008, reason=message)
        return
    await websocket.send_denial_response(error_response(status, code, message))


class StreamFeed:
    """The ASGI WebSocket endpoint and its subscriptions, for every connection.

    ``tick_seconds`` (None: never) is how often a background task, running while any client
    is connected, advances the replay and calls :meth:`tick`; tests set it to None and call
    :meth:`tick` themselves.
    """

    def __init__(self, context: ServerContext, *, tick_seconds: float | None = 0.25) -> None:
        self.context = context
        self.tick_seconds = tick_seconds
        self.connections: list[Connection] = []
        self.idle = asyncio.Event()  # set while no client is connected
        self.idle.set()
        self._ticking: asyncio.Task[None] | None = None

    def tick(self) -> None:
        """Queue, for every connection in order, what changed since the previous tick."""
        view = VenueView(self.context.venue)
        for connection in list(self.connections):
            try:
                connection.tick(view)
            except Exception:
                log.exception("websocket feed: tick failed for a connection")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive, send)
        if scope["path"] != WS_PATH:
            await _deny(websocket, 404, "not_found", f"no WebSocket endpoint at {scope['path']}")
            return
        account_id, problem = authenticate(self.context, scope)
        if account_id is None:
            await _deny(websocket, 401, "unauthorized", problem)
            return
        await websocket.accept()
        connection = Connection(websocket, account_id)
        self._attach(connection)
        writer = asyncio.create_task(connection.write())
        try:
            await self._read(connection)
        finally:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            await self._detach(connection)

    async def _read(self, connection: Connection) -> None:
        while True:
            message = await connection.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:
                text = (message.get("bytes") or b"").decode("utf-8", "replace")
            self.context.sync()
            connection.handle(text, VenueView(self.context.venue))

    def _attach(self, connection: Connection) -> None:
        self.connections.append(connection)
        self.idle.clear()
        if self.tick_seconds is not None and self._ticking is None:
            self._ticking = asyncio.create_task(self._run(self.tick_seconds))

    async def _detach(self, connection: Connection) -> None:
        self.connections.remove(connection)
        if not self.connections:
            self.idle.set()
        if not self.connections and self._ticking is not None:
            ticking, self._ticking = self._ticking, None
            ticking.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticking

    async def _run(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                self.context.sync()
                self.tick()
            except Exception:
                log.exception("websocket feed: tick failed")
