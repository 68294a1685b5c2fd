"""The channels sent from the venue's changes: their wire shapes (per ../shared/kalshi-api.md
§8), what each change sends, the ticker's dollar fields, a fill's post-trade position, the
server's ping frames, and changes made on another thread."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path
from typing import Any

import attrs
import websockets
from websockets.client import ClientProtocol
from websockets.frames import Opcode
from websockets.uri import parse_uri

from kalshi_core.client import Signer
from kalshi_core.client.stream import (
    FillUpdate,
    KalshiStream,
    LifecycleUpdate,
    OrderbookDelta,
    PositionUpdate,
    TickerUpdate,
    UserOrderUpdate,
    stream_url,
)
from kalshi_core.exchange import Venue
from kalshi_core.exchange.local import LocalExchange
from kalshi_core.exchange.websocket import StreamFeed
from kalshi_core.models import BookSide, MarketResult, MarketStatus, OrderStatus, TimeInForce
from kalshi_core.money import CENT, CONTRACT, DOLLAR

from .conftest import MM, TAKER, TICKER, TICKERS, make_market, order

IOC = TimeInForce.IMMEDIATE_OR_CANCEL


async def raw_messages(
    exchange: LocalExchange, signer: Signer, act: Any, **params: Any
) -> list[Any]:
    """Subscribe over a raw socket, run ``act``, and return the data messages it caused."""
    headers = signer.headers("GET", "/trade-api/ws/v2")
    url = stream_url(exchange.base_url)
    async with websockets.connect(url, additional_headers=headers, proxy=None) as ws:
        await ws.send(json.dumps({"id": 1, "cmd": "subscribe", "params": params}))
        for _channel in params["channels"]:
            assert json.loads(await ws.recv())["type"] == "subscribed"
        act()
        await ws.send(json.dumps({"id": 2, "cmd": "list_subscriptions"}))
        out = []
        while (message := json.loads(await ws.recv())).get("id") != 2:
            out.append(message)
        return out


def fill_dev_order(venue: Venue, dev: str) -> None:
    venue.place_order(attrs.evolve(order(BookSide.ASK, 40 * CENT, 3), client_order_id="mm-1"))
    mine = order(BookSide.BID, 40 * CENT, 2, account=dev, tif=IOC)
    venue.place_order(attrs.evolve(mine, client_order_id="dev-1"))


async def test_the_private_channels_wire_shapes(exchange: LocalExchange, signer: Signer) -> None:
    venue, dev = exchange.venue, exchange.account_id
    channels = ["fill", "user_orders", "market_positions"]
    messages = await raw_messages(
        exchange, signer, lambda: fill_dev_order(venue, dev), channels=channels
    )
    kinds = [m["type"] for m in messages]
    assert kinds == ["user_order", "fill", "user_order", "market_position"]
    created, fill, executed, position = (m["msg"] for m in messages)
    assert {"order_id", "ticker", "status", "outcome_side", "book_side", "client_order_id"} <= set(
        created
    )
    assert (created["status"], created["remaining_count_fp"]) == ("resting", "2.00")
    assert (executed["status"], executed["fill_count_fp"]) == ("executed", "2.00")
    assert {"created_ts_ms", "last_updated_ts_ms", "yes_price_dollars"} <= set(executed)
    assert fill["post_position_fp"] == "2.00"
    assert fill["client_order_id"] == "dev-1"
    assert position == {
        "user_id": dev,
        "market_ticker": TICKER,
        "position_fp": "2.00",
        "position_cost_dollars": "0.8000",
        "realized_pnl_dollars": "0.0000",
        "fees_paid_dollars": position["fees_paid_dollars"],
        "position_fee_cost_dollars": position["fees_paid_dollars"],
        "volume_fp": "2.00",
    }
    assert [m["seq"] for m in messages if m["type"] == "user_order"] == [1, 2]
    assert "seq" not in messages[1]  # fill messages carry no seq, as on Kalshi


async def test_ticker_dollar_fields_last_trade_size_and_time(
    exchange: LocalExchange, feed: StreamFeed, stream: KalshiStream
) -> None:
    venue = exchange.venue
    await stream.subscribe("ticker", [TICKER])
    venue.place_order(order(BookSide.ASK, 40 * CENT, 30))
    venue.place_order(order(BookSide.BID, 40 * CENT, 25, account=TAKER, tif=IOC))
    venue.place_order(order(BookSide.BID, 40 * CENT, 5, account=TAKER, tif=IOC))
    feed.tick()
    (update,) = await stream.flush()
    assert isinstance(update, TickerUpdate)
    assert update.last_trade_size == 5 * CONTRACT
    assert update.volume == 30 * CONTRACT
    assert update.dollar_volume == 12  # 30 contracts at $0.40
    assert update.dollar_open_interest == 12  # 30 open at the last price


async def test_post_position_follows_each_fill(
    exchange: LocalExchange, stream: KalshiStream
) -> None:
    venue, dev = exchange.venue, exchange.account_id
    await stream.subscribe("fill")
    venue.place_order(order(BookSide.ASK, 40 * CENT, 3))
    venue.place_order(order(BookSide.BID, 40 * CENT, 3, account=dev, tif=IOC))
    venue.place_order(order(BookSide.BID, 45 * CENT, 5))
    venue.place_order(order(BookSide.ASK, 45 * CENT, 5, account=dev, tif=IOC))
    fills = [u for u in await stream.flush() if isinstance(u, FillUpdate)]
    assert [f.post_position for f in fills] == [3 * CONTRACT, -2 * CONTRACT]


async def test_user_orders_follow_decrease_amend_and_cancel(
    exchange: LocalExchange, stream: KalshiStream
) -> None:
    venue, dev = exchange.venue, exchange.account_id
    await stream.subscribe("user_orders", [TICKER])
    placed = venue.place_order(order(BookSide.BID, 30 * CENT, 4, account=dev))
    venue.place_order(order(BookSide.BID, 30 * CENT, 4, TICKERS[1], account=dev))  # not watched
    venue.decrease(dev, placed.order_id, reduce_by=1 * CONTRACT)
    venue.amend(dev, placed.order_id, price=31 * CENT)
    venue.cancel(dev, placed.order_id)
    seen = [u.order for u in await stream.flush() if isinstance(u, UserOrderUpdate)]
    assert [(o.status, o.yes_price, o.remaining_count) for o in seen] == [
        (OrderStatus.RESTING, 30 * CENT, 4 * CONTRACT),
        (OrderStatus.RESTING, 30 * CENT, 3 * CONTRACT),
        (OrderStatus.RESTING, 31 * CENT, 3 * CONTRACT),
        (OrderStatus.CANCELED, 31 * CENT, 0),
    ]
    assert all(o.ticker == TICKER for o in seen)


async def test_lifecycle_events_and_settlement_positions(
    exchange: LocalExchange, stream: KalshiStream
) -> None:
    venue, dev = exchange.venue, exchange.account_id
    await stream.subscribe("market_lifecycle_v2")
    await stream.subscribe("market_positions", [TICKERS[2]])
    fresh = "KXTEST-26MAR01-T80"
    venue.list_market(make_market(fresh))
    venue.set_status(fresh, MarketStatus.INACTIVE)
    venue.set_status(fresh, MarketStatus.ACTIVE)
    venue.place_order(order(BookSide.ASK, 30 * CENT, 2, TICKERS[2]))
    venue.place_order(order(BookSide.BID, 30 * CENT, 2, TICKERS[2], account=dev, tif=IOC))
    venue.determine(TICKERS[2], MarketResult.SCALAR, settlement_value=DOLLAR // 4)
    venue.finalize(TICKERS[2])
    updates = await stream.flush()
    events = [u for u in updates if isinstance(u, LifecycleUpdate)]
    assert [(e.market_ticker, e.event_type) for e in events] == [
        (fresh, "created"),
        (fresh, "deactivated"),
        (fresh, "activated"),
        (TICKERS[2], "close_date_updated"),
        (TICKERS[2], "determined"),
        (TICKERS[2], "settled"),
    ]
    assert [e.is_deactivated for e in events[1:3]] == [True, False]
    determined = events[4]
    assert (determined.result, determined.settlement_value) == (
        MarketResult.SCALAR,
        DOLLAR // 4,
    )
    assert determined.determination_ts is not None
    assert events[5].settled_ts is not None
    positions = [u for u in updates if isinstance(u, PositionUpdate)]
    assert [(p.position, p.volume) for p in positions] == [
        (2 * CONTRACT, 2 * CONTRACT),  # the fill
        (0, 2 * CONTRACT),  # the settlement paid it out
    ]
    assert positions[1].realized_pnl == 2 * (DOLLAR // 4) - 2 * 30 * CENT


async def test_a_change_made_on_another_thread_reaches_the_client(
    exchange: LocalExchange, stream: KalshiStream
) -> None:
    await stream.subscribe("orderbook_delta", [TICKER])
    await stream.flush()
    await asyncio.to_thread(exchange.venue.place_order, order(BookSide.BID, 33 * CENT, 2))
    (delta,) = await stream.flush()
    assert isinstance(delta, OrderbookDelta)
    assert (delta.price, delta.delta) == (33 * CENT, 2 * CONTRACT)


async def test_nothing_is_sent_for_other_accounts_or_unwatched_markets(
    exchange: LocalExchange, stream: KalshiStream
) -> None:
    venue = exchange.venue
    await stream.subscribe("user_orders")
    await stream.subscribe("fill")
    await stream.subscribe("market_positions")
    venue.place_order(order(BookSide.ASK, 40 * CENT, 3))
    venue.place_order(order(BookSide.BID, 40 * CENT, 3, account=TAKER, tif=IOC))
    assert await stream.flush() == []
    assert exchange.account_id != MM


# ---- ping frames ------------------------------------------------------------------------------


def _first_control_frame(exchange: LocalExchange, signer: Signer) -> Opcode:
    """Open the feed over a plain socket (websockets' sans-I/O protocol) and return the
    opcode of the first frame the server sends unasked."""
    uri = parse_uri(stream_url(exchange.base_url))
    protocol = ClientProtocol(uri)
    request = protocol.connect()
    for name, value in signer.headers("GET", "/trade-api/ws/v2").items():
        request.headers[name] = value
    protocol.send_request(request)
    with socket.create_connection((uri.host, uri.port), timeout=10) as sock:
        for chunk in protocol.data_to_send():
            sock.sendall(chunk)
        while True:
            protocol.receive_data(sock.recv(65536))
            frames = [e for e in protocol.events_received() if hasattr(e, "opcode")]
            if frames:
                return frames[0].opcode


async def test_the_server_sends_ping_frames(venue: Venue, key_dir: Path) -> None:
    async with LocalExchange.running(
        venue=venue, key_dir=key_dir, starting_balance=DOLLAR, ping_seconds=0.05
    ) as exchange:
        assert exchange.private_key_path is not None
        signer = Signer.from_file(exchange.api_key_id, exchange.private_key_path)
        opcode = await asyncio.to_thread(_first_control_frame, exchange, signer)
    assert opcode is Opcode.PING


async def test_an_order_group_trigger_streams_its_cancels(
    exchange: LocalExchange, stream: KalshiStream
) -> None:
    venue, dev = exchange.venue, exchange.account_id
    await stream.subscribe("orderbook_delta", [TICKER])
    await stream.subscribe("user_orders")
    await stream.flush()
    group = venue.order_groups.create(dev, 10 * CONTRACT)
    grouped = attrs.evolve(
        order(BookSide.BID, 35 * CENT, 2, account=dev), order_group_id=group.group_id
    )
    placed = venue.place_order(attrs.evolve(grouped, client_order_id="grouped-1"))
    venue.order_groups.trigger(dev, group.group_id, venue.clock.now())
    updates = await stream.flush()
    deltas = [(u.delta, u.client_order_id) for u in updates if isinstance(u, OrderbookDelta)]
    assert deltas == [(2 * CONTRACT, "grouped-1"), (-2 * CONTRACT, "grouped-1")]
    orders = [u.order for u in updates if isinstance(u, UserOrderUpdate)]
    assert [(o.order_id, o.status) for o in orders] == [
        (placed.order_id, OrderStatus.RESTING),
        (placed.order_id, OrderStatus.CANCELED),
    ]
