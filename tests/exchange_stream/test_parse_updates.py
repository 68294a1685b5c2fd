"""Parsing the new data messages: integer money and counts, and clear errors naming the field
for hostile input (never a half-built update)."""

from __future__ import annotations

from typing import Any

import pytest

from kalshi_core.client.stream import (
    FillUpdate,
    LifecycleUpdate,
    OtherUpdate,
    PositionUpdate,
    TickerUpdate,
    UserOrderUpdate,
    parse_update,
)
from kalshi_core.errors import WireFormatError
from kalshi_core.models import MarketResult, OrderStatus
from kalshi_core.money import CENT, CONTRACT, DOLLAR

ORDER = {
    "order_id": "o-1",
    "client_order_id": "c-1",
    "user_id": "u",
    "ticker": "KX-1",
    "outcome_side": "yes",
    "book_side": "bid",
    "status": "resting",
    "yes_price_dollars": "0.4200",
    "no_price_dollars": "0.5800",
    "initial_count_fp": "3.00",
    "fill_count_fp": "1.00",
    "remaining_count_fp": "2.00",
    "created_ts_ms": 1,
}
POSITION = {
    "user_id": "u",
    "market_ticker": "KX-1",
    "position_fp": "-2.00",
    "position_cost_dollars": "1.1600",
    "realized_pnl_dollars": "0.0100",
    "fees_paid_dollars": "0.0200",
    "position_fee_cost_dollars": "0.0200",
    "volume_fp": "5.00",
}
LIFECYCLE = {
    "market_ticker": "KX-1",
    "event_type": "determined",
    "open_ts": 10,
    "close_ts": 20,
    "result": "scalar",
    "settlement_value": "0.2500",
    "determination_ts": 30,
}


def message(kind: str, msg: Any, seq: int | None = 1) -> dict[str, Any]:
    return {"type": kind, "sid": 4, "seq": seq, "msg": msg}


def test_user_order_parses_into_an_order_with_integer_money() -> None:
    update = parse_update(message("user_order", ORDER))
    assert isinstance(update, UserOrderUpdate)
    assert (update.sid, update.seq) == (4, 1)
    assert update.order.status is OrderStatus.RESTING
    assert (update.order.yes_price, update.order.remaining_count) == (42 * CENT, 2 * CONTRACT)


def test_market_position_and_lifecycle_parse() -> None:
    position = parse_update(message("market_position", POSITION))
    assert position == PositionUpdate(
        sid=4,
        seq=1,
        market_ticker="KX-1",
        position=-2 * CONTRACT,
        position_cost=DOLLAR + 16 * CENT,
        realized_pnl=CENT,
        fees_paid=2 * CENT,
        volume=5 * CONTRACT,
    )
    lifecycle = parse_update(message("market_lifecycle_v2", LIFECYCLE))
    assert isinstance(lifecycle, LifecycleUpdate)
    assert (lifecycle.result, lifecycle.settlement_value) == (MarketResult.SCALAR, DOLLAR // 4)
    assert (lifecycle.open_ts, lifecycle.close_ts, lifecycle.settled_ts) == (10, 20, None)


def test_ticker_and_fill_extras_are_optional() -> None:
    ticker = {
        "market_ticker": "KX-1",
        "price_dollars": "0.5000",
        "yes_bid_dollars": "0.4900",
        "yes_ask_dollars": "0.5100",
    }
    plain = parse_update(message("ticker", ticker, seq=None))
    assert isinstance(plain, TickerUpdate)
    assert (plain.dollar_volume, plain.last_trade_size) == (0, 0)
    extras = {**ticker, "dollar_volume": 12, "last_trade_size_fp": "3.00"}
    full = parse_update(message("ticker", extras, seq=None))
    assert isinstance(full, TickerUpdate)
    assert (full.dollar_volume, full.last_trade_size) == (12, 3 * CONTRACT)
    fill = {
        "trade_id": "t",
        "order_id": "o",
        "market_ticker": "KX-1",
        "outcome_side": "no",
        "book_side": "ask",
        "yes_price_dollars": "0.4000",
        "count_fp": "1.00",
        "fee_cost": "0.0100",
        "post_position_fp": "-1.00",
    }
    parsed = parse_update(message("fill", fill, seq=None))
    assert isinstance(parsed, FillUpdate)
    assert parsed.post_position == -CONTRACT


@pytest.mark.parametrize(
    ("kind", "msg", "names"),
    [
        ("user_order", {**ORDER, "yes_price_dollars": 0.42}, "yes_price_dollars"),
        ("user_order", {**ORDER, "status": "pending"}, "status"),
        ("user_order", {k: v for k, v in ORDER.items() if k != "order_id"}, "order_id"),
        ("market_position", {**POSITION, "position_fp": "1e2"}, "position_fp"),
        ("market_position", {**POSITION, "realized_pnl_dollars": None}, "realized_pnl_dollars"),
        ("market_lifecycle_v2", {**LIFECYCLE, "result": "maybe"}, "result"),
        ("market_lifecycle_v2", {**LIFECYCLE, "open_ts": "10"}, "open_ts"),
        ("market_lifecycle_v2", {**LIFECYCLE, "open_ts": True}, "open_ts"),
        ("market_lifecycle_v2", {**LIFECYCLE, "is_deactivated": "no"}, "is_deactivated"),
        ("market_lifecycle_v2", {**LIFECYCLE, "event_type": 3}, "event_type"),
        ("market_lifecycle_v2", ["not", "an", "object"], "msg"),
    ],
)
def test_hostile_messages_name_the_field(kind: str, msg: Any, names: str) -> None:
    with pytest.raises(WireFormatError, match=names) as refused:
        parse_update(message(kind, msg))
    assert "sid 4" in str(refused.value)


def test_an_unknown_channel_is_kept_as_json() -> None:
    update = parse_update(message("order_group_updates", {"order_group_id": "g"}))
    assert update == OtherUpdate(
        type="order_group_updates", sid=4, seq=1, msg={"order_group_id": "g"}
    )
