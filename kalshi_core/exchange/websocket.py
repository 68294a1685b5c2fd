"""The local exchange's WebSocket feed at ``/trade-api/ws/v2`` (Kalshi's §8 protocol).

The handshake must carry the three ``KALSHI-ACCESS-*`` headers signing
``ts + "GET" + "/trade-api/ws/v2"``; anything else is refused with HTTP 401 and the REST error
body. Commands (``subscribe``, ``unsubscribe``, ``list_subscriptions``,
``update_subscription``) are answered in Kalshi's reply shapes and error codes.

Channels, as they happen (the feed listens to the venue, :mod:`kalshi_core.exchange.changes`):

* ``orderbook_delta``: an ``orderbook_snapshot`` per market, then one signed delta per change
  of a price level (an order placed and canceled at once is two deltas); a delta our own
  order caused carries its ``client_order_id``, on the owner's connection only;
* ``fill`` (with ``post_position_fp``), ``user_orders`` (``user_order``: the order after each
  change) and ``market_positions`` (``market_position``), for the connection's own account;
* ``market_lifecycle_v2``: created, activated, deactivated, close_date_updated (closed before
  its close time), determined and settled.

``ticker`` (on a change of bid, ask, last price or volume) and ``trade`` (new prints, replayed
ones included) are read on each :meth:`StreamFeed.tick`. Sequenced channels (all but
``ticker`` and ``fill``) number their messages per ``sid``. Everything a connection is sent
goes through one queue in the order it was produced, so a command's reply follows every data
message queued before it: clients may use ``list_subscriptions`` as a barrier. Ping frames
are the server's (``LocalExchange.serving(ping_seconds=...)``, 10 s by default).
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
from kalshi_core.exchange.changes import (
    Change,
    Filled,
    LevelChanged,
    MarketChanged,
    OrderChanged,
    PositionChanged,
)
from kalshi_core.exchange.http.auth import Unauthorized, header_map
from kalshi_core.exchange.http.errors import error_response
from kalshi_core.models import (
    BookSide,
    Fill,
    Market,
    MarketStatus,
    Order,
    OrderBook,
    Position,
    Trade,
)
from kalshi_core.money import CONTRACT, DOLLAR, Count, Price, format_count, format_dollars
from kalshi_core.wire import format_time, to_wire

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, MutableMapping

    from kalshi_core.exchange.http.context import ServerContext
    from kalshi_core.exchange.venue import Venue

    Scope = MutableMapping[str, Any]
    Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
    Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

WS_PATH = "/trade-api/ws/v2"
CHANNELS = (
    "orderbook_delta",
    "ticker",
    "trade",
    "fill",
    "user_orders",
    "market_positions",
    "market_lifecycle_v2",
)
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


def delta_msg(change: LevelChanged, now: datetime, *, owner: bool) -> Json:
    """A YES bid's level is the ``yes`` side at its price; an ask is a NO bid at $1 - price."""
    is_bid = change.side is BookSide.BID
    msg: Json = {
        "market_ticker": change.ticker,
        "market_id": market_id(change.ticker),
        "price_dollars": format_dollars(change.price if is_bid else DOLLAR - change.price),
        "delta_fp": format_count(change.delta),
        "side": "yes" if is_bid else "no",
        "ts_ms": _ms(now),
    }
    if owner:
        msg["client_order_id"] = change.client_order_id
    return msg


def _whole_dollars(count: Count, price: Price) -> int:
    return count * price // (CONTRACT * DOLLAR)


def ticker_msg(market: Market, tape: list[Trade], now: datetime) -> Json:
    """``dollar_volume``: whole dollars paid for YES over the tape; ``dollar_open_interest``:
    open interest at the last price, in whole dollars."""
    return {
        "market_id": market_id(market.ticker),
        "market_ticker": market.ticker,
        "price_dollars": format_dollars(market.last_price),
        "yes_bid_dollars": format_dollars(market.yes_bid),
        "yes_ask_dollars": format_dollars(market.yes_ask),
        "yes_bid_size_fp": format_count(market.yes_bid_size),
        "yes_ask_size_fp": format_count(market.yes_ask_size),
        "last_trade_size_fp": format_count(tape[-1].count if tape else 0),
        "volume_fp": format_count(market.volume),
        "open_interest_fp": format_count(market.open_interest),
        "dollar_volume": sum(t.count * t.yes_price for t in tape) // (CONTRACT * DOLLAR),
        "dollar_open_interest": _whole_dollars(market.open_interest, market.last_price),
        "ts": _ms(now) // 1000,
        "ts_ms": _ms(now),
        "time": format_time(now),
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


def fill_msg(fill: Fill, post_position: Count) -> Json:
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
        "post_position_fp": format_count(post_position),
    }
    if fill.client_order_id:
        msg["client_order_id"] = fill.client_order_id
    if fill.created_time is not None:
        msg["ts"], msg["ts_ms"] = _ms(fill.created_time) // 1000, _ms(fill.created_time)
    return msg


def user_order_msg(order: Order) -> Json:
    """The REST Order shape plus the feed's millisecond times."""
    msg = to_wire(order)
    msg["side"] = order.outcome_side.value
    msg["is_yes"] = order.outcome_side.value == "yes"
    for name, moment in (
        ("created_ts_ms", order.created_time),
        ("last_updated_ts_ms", order.last_update_time),
        ("expiration_ts_ms", order.expiration_time),
    ):
        if moment is not None:
            msg[name] = _ms(moment)
    return msg


def position_msg(account_id: str, position: Position, volume: Count) -> Json:
    return {
        "user_id": account_id,
        "market_ticker": position.ticker,
        "position_fp": format_count(position.position),
        "position_cost_dollars": format_dollars(position.market_exposure),
        "realized_pnl_dollars": format_dollars(position.realized_pnl),
        "fees_paid_dollars": format_dollars(position.fees_paid),
        "position_fee_cost_dollars": format_dollars(position.fees_paid),
        "volume_fp": format_count(volume),
    }


_LIFECYCLE_EVENTS = {
    MarketStatus.ACTIVE: "activated",
    MarketStatus.INACTIVE: "deactivated",
    MarketStatus.DETERMINED: "determined",
    MarketStatus.FINALIZED: "settled",
}


def lifecycle_event(change: MarketChanged, now: datetime) -> str | None:
    """Kalshi's ``event_type`` for a change, None where Kalshi sends nothing (a market
    closing at its close time, a dispute)."""
    market = change.market
    if change.previous is None:
        return "created"
    if market.status is MarketStatus.CLOSED:
        return "close_date_updated" if now < market.close_time else None
    return _LIFECYCLE_EVENTS.get(market.status)


def lifecycle_msg(change: MarketChanged, event_type: str, now: datetime) -> Json:
    market = change.market
    closed_early = event_type == "close_date_updated"
    msg: Json = {
        "market_ticker": market.ticker,
        "event_type": event_type,
        "open_ts": _ms(market.open_time) // 1000,
        "close_ts": _ms(now if closed_early else market.close_time) // 1000,
    }
    if event_type == "created":
        msg["additional_metadata"] = _metadata(market)
    elif event_type in ("activated", "deactivated"):
        msg["is_deactivated"] = event_type == "deactivated"
    elif event_type == "determined":
        msg["result"] = market.result.value
        msg["determination_ts"] = _ms(now) // 1000
        if market.settlement_value is not None:
            msg["settlement_value"] = format_dollars(market.settlement_value)
    elif event_type == "settled":
        msg["settled_ts"] = _ms(now) // 1000
    return msg


def _metadata(market: Market) -> Json:
    metadata: Json = {
        "name": market.title,
        "title": market.title,
        "yes_sub_title": market.yes_sub_title,
        "no_sub_title": market.no_sub_title,
        "rules_primary": market.rules_primary,
        "rules_secondary": market.rules_secondary,
        "can_close_early": market.can_close_early,
        "event_ticker": market.event_ticker,
    }
    if market.expiration_time is not None:
        metadata["expected_expiration_ts"] = _ms(market.expiration_time) // 1000
    return metadata


# ---- what one tick reads from the venue -------------------------------------------------------


class VenueView:
    """The venue's state for one tick (or command); each market and tape is read at most once."""

    def __init__(self, venue: Venue) -> None:
        self.venue = venue
        self.now = venue.clock.now()
        self._markets: dict[str, Market] | None = None
        self._one_market: dict[str, Market] = {}
        self._tapes: dict[str, list[Trade]] = {}

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

    def check_markets(self, tickers: Iterable[str]) -> None:
        for ticker in tickers:
            try:
                self.market(ticker)
            except ExchangeError:
                raise CommandError(Code.MARKET_NOT_FOUND, f"market {ticker} not found") from None


# ---- subscriptions ----------------------------------------------------------------------------


Messages = list[tuple[str, Json]]


@attrs.define(eq=False)
class Subscription:
    """One ``sid``: a channel over some markets (none listed: every market, where allowed).

    ``start`` records the baseline (and returns the snapshots a new subscriber gets first);
    ``poll`` returns what changed since the last tick, ``changed`` what one venue change means
    for this subscriber, as ``(type, msg)`` pairs.
    """

    sid: int
    channel: str
    account_id: str
    tickers: list[str] = attrs.field(factory=list)
    every_market: bool = False
    seq: int = 0
    sequenced: bool = False

    def start(self, view: VenueView, tickers: list[str], initial: bool) -> Messages:
        return []

    def poll(self, view: VenueView) -> Messages:
        return []

    def changed(self, change: Change, venue: Venue, now: datetime) -> Messages:
        return []

    def forget(self, tickers: Iterable[str]) -> None:
        return None

    def snapshot(self, view: VenueView, tickers: list[str]) -> Messages:
        raise CommandError(Code.UNSUPPORTED_ACTION, f"{self.channel} has no snapshot")

    def watches(self, ticker: str) -> bool:
        return self.every_market or ticker in self.tickers

    def envelope(self, kind: str, msg: Json) -> Json:
        if not self.sequenced:
            return {"type": kind, "sid": self.sid, "msg": msg}
        self.seq += 1
        return {"type": kind, "sid": self.sid, "seq": self.seq, "msg": msg}


@attrs.define(eq=False)
class BookSubscription(Subscription):
    """``orderbook_delta``: a snapshot per market, then a delta per change of a level.

    A market's deltas start once its snapshot has been read (``ready``): a change the venue
    makes while the snapshot is being read is in the snapshot, never sent twice.
    """

    sequenced: bool = True
    ready: set[str] = attrs.field(factory=set)

    def start(self, view: VenueView, tickers: list[str], initial: bool) -> Messages:
        return self.snapshot(view, tickers)

    def snapshot(self, view: VenueView, tickers: list[str]) -> Messages:
        out = []
        for ticker in tickers:
            book = view.venue.orderbook(ticker)  # read now: deltas start from this point
            self.ready.add(ticker)
            out.append(("orderbook_snapshot", snapshot_msg(book)))
        return out

    def changed(self, change: Change, venue: Venue, now: datetime) -> Messages:
        if not isinstance(change, LevelChanged) or change.ticker not in self.ready:
            return []
        user, number = venue.owner(change.account_id)
        owner = user == self.account_id
        return [("orderbook_delta", _tagged(delta_msg(change, now, owner=owner), owner, number))]

    def forget(self, tickers: Iterable[str]) -> None:
        self.ready.difference_update(tickers)


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

    def _msg(self, view: VenueView, market: Market) -> tuple[str, Json]:
        return ("ticker", ticker_msg(market, view.tape(market.ticker), view.now))

    def start(self, view: VenueView, tickers: list[str], initial: bool) -> Messages:
        markets = [view.market(t) for t in tickers] if tickers else self._watched(view)
        self.seen.update({m.ticker: _quote(m) for m in markets})
        return [self._msg(view, m) for m in markets] if initial else []

    def poll(self, view: VenueView) -> Messages:
        out = []
        for market in self._watched(view):
            quote = _quote(market)
            if self.seen.get(market.ticker) != quote:
                self.seen[market.ticker] = quote
                out.append(self._msg(view, market))
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

    def start(self, view: VenueView, tickers: list[str], initial: bool) -> Messages:
        for ticker in tickers or self._watched(view):
            self.read[ticker] = len(view.tape(ticker))
        return []

    def poll(self, view: VenueView) -> Messages:
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
    """``fill``: each fill of the connection's account (in the listed markets, if any)."""

    def changed(self, change: Change, venue: Venue, now: datetime) -> Messages:
        if not isinstance(change, Filled):
            return []
        user, number = venue.owner(change.order.user_id)
        if user != self.account_id or not self.watches(change.fill.ticker):
            return []
        return [("fill", _tagged(fill_msg(change.fill, change.position.position), True, number))]


@attrs.define(eq=False)
class UserOrderSubscription(Subscription):
    """``user_orders``: the account's order after each change (placed, filled, canceled,
    decreased, amended)."""

    sequenced: bool = True

    def changed(self, change: Change, venue: Venue, now: datetime) -> Messages:
        if not isinstance(change, OrderChanged | Filled):
            return []
        order = change.order
        user, number = venue.owner(order.user_id)
        if user != self.account_id or not self.watches(order.ticker):
            return []
        msg = user_order_msg(order)
        if number:  # the Order shape names its owner and subaccount
            msg["user_id"], msg["subaccount_number"] = user, number
        return [("user_order", msg)]


def _tagged(msg: Json, mine: bool, subaccount: int) -> Json:
    """``msg`` with ``subaccount`` when it is about one of the user's numbered subaccounts;
    a message about subaccount 0 (the primary) stays as it always was."""
    if mine and subaccount:
        msg["subaccount"] = subaccount
    return msg


def _traded_volume(venue: Venue, account_id: str, ticker: str) -> Count:
    return sum(fill.count for fill in venue.fills(account_id, ticker))


@attrs.define(eq=False)
class PositionSubscription(Subscription):
    """``market_positions``: the account's position after each fill or settlement."""

    sequenced: bool = True

    def changed(self, change: Change, venue: Venue, now: datetime) -> Messages:
        if isinstance(change, Filled):
            account_id = change.order.user_id
        elif isinstance(change, PositionChanged):
            account_id = change.account_id
        else:
            return []
        ticker = change.position.ticker
        user, number = venue.owner(account_id)
        if user != self.account_id or not self.watches(ticker):
            return []
        volume = _traded_volume(venue, account_id, ticker)
        msg = position_msg(user, change.position, volume)
        return [("market_position", _tagged(msg, True, number))]


@attrs.define(eq=False)
class LifecycleSubscription(Subscription):
    """``market_lifecycle_v2``: every market's lifecycle events (Kalshi has no filter)."""

    sequenced: bool = True

    def changed(self, change: Change, venue: Venue, now: datetime) -> Messages:
        if not isinstance(change, MarketChanged) or not self.watches(change.market.ticker):
            return []
        event_type = lifecycle_event(change, now)
        if event_type is None:
            return []
        return [("market_lifecycle_v2", lifecycle_msg(change, event_type, now))]


_KINDS: dict[str, type[Subscription]] = {
    "orderbook_delta": BookSubscription,
    "ticker": TickerSubscription,
    "trade": TradeSubscription,
    "fill": FillSubscription,
    "user_orders": UserOrderSubscription,
    "market_positions": PositionSubscription,
    "market_lifecycle_v2": LifecycleSubscription,
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


@attrs.frozen
class Closing:
    """The writer's last item: close the socket with this code and reason."""

    code: int
    reason: str


class Connection:
    """One authenticated client: its subscriptions and its outgoing queue."""

    def __init__(self, websocket: WebSocket, account_id: str) -> None:
        self.websocket = websocket
        self.account_id = account_id
        self.queue: asyncio.Queue[str | Closing] = asyncio.Queue(MAX_QUEUED + 1)
        self.subscriptions: dict[int, Subscription] = {}
        self._next_sid = 1
        self.closing = False
        self.to_lose: dict[str, int] = {}  # channel -> data messages to lose (a test's fault)

    def push(self, message: Json) -> None:
        if self.closing:
            return
        if self.queue.qsize() >= MAX_QUEUED:
            # A client this far behind would only get stale books: close it instead.
            self.close(1008, "client too slow")
            return
        self.queue.put_nowait(json.dumps(message, separators=(",", ":")))

    def close(self, code: int, reason: str) -> None:
        """Close once everything queued so far is sent; nothing queued later is."""
        if not self.closing:
            self.closing = True
            self.queue.put_nowait(Closing(code, reason))

    def tick(self, view: VenueView) -> None:
        for sub in list(self.subscriptions.values()):
            for kind, msg in sub.poll(view):
                self._data(sub, kind, msg)

    def changed(self, change: Change, venue: Venue, now: datetime) -> None:
        for sub in list(self.subscriptions.values()):
            for kind, msg in sub.changed(change, venue, now):
                self._data(sub, kind, msg)

    def _data(self, sub: Subscription, kind: str, msg: Json) -> None:
        message = sub.envelope(kind, msg)  # a lost message still uses up its seq
        if self.to_lose.get(sub.channel):
            self.to_lose[sub.channel] -= 1
            return
        self.push(message)

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
                if isinstance(text, Closing):
                    await self.websocket.close(code=text.code, reason=text.reason)
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
    is connected, advances the replay and calls :meth:`tick` (for ``ticker`` and ``trade``);
    tests set it to None and call :meth:`tick` themselves. Every other channel is sent from
    the venue's changes as they happen.
    """

    def __init__(self, context: ServerContext, *, tick_seconds: float | None = 0.25) -> None:
        self.context = context
        self.tick_seconds = tick_seconds
        self.connections: list[Connection] = []
        self.idle = asyncio.Event()  # set while no client is connected
        self.idle.set()
        self._ticking: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        context.venue.listeners.append(self.changed)

    def changed(self, change: Change) -> None:
        """The venue's listener: queue what ``change`` means for every connection, now.

        A change made on another thread (a venue driven beside the server) is handed to the
        server's event loop, which owns the queues.
        """
        if not self.connections:
            return
        now = self.context.venue.clock.now()
        if self._loop is not None and not _running_in(self._loop):
            try:
                self._loop.call_soon_threadsafe(self._deliver, change, now)
            except RuntimeError:  # the server's loop is gone: nobody is listening
                log.debug("websocket feed: a change after the server stopped")
            return
        self._deliver(change, now)

    def _deliver(self, change: Change, now: datetime) -> None:
        for connection in list(self.connections):
            try:
                connection.changed(change, self.context.venue, now)
            except Exception:
                log.exception("websocket feed: a change failed for a connection")

    def drop_connections(self, code: int = 1012, reason: str = "dropped by the exchange") -> None:
        """Close every connection once what it was already sent is out (a fault to test
        reconnects with; 1012 is "service restart")."""
        for connection in list(self.connections):
            connection.close(code, reason)

    def lose_messages(self, count: int, channel: str = "orderbook_delta") -> None:
        """Each connection silently loses its next ``count`` data messages of ``channel``, so
        its client sees a ``seq`` gap (a fault to test recovery with)."""
        for connection in self.connections:
            connection.to_lose[channel] = connection.to_lose.get(channel, 0) + count

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
        self._loop = asyncio.get_running_loop()
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


def _running_in(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
