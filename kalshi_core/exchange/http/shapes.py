"""Kalshi's JSON shapes for the venue's objects, as SDK 3.34 requires them.

Built with the project's one wire converter (:mod:`kalshi_core.wire`); these add the fields
the SDK insists on that the domain model leaves optional.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import attrs
from starlette.responses import JSONResponse

from kalshi_core.exchange.http.params import EPOCH
from kalshi_core.models import (
    BookSide,
    Event,
    Fill,
    Market,
    Order,
    Position,
    Series,
    Settlement,
    Trade,
)
from kalshi_core.money import CENT, CONTRACT, DOLLAR, Count, Money, format_count, format_dollars
from kalshi_core.wire import format_time, to_wire


def json_body(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status)


def epoch_seconds(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(seconds=1)


def epoch_ms(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(milliseconds=1)


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


def order_json(order: Order, owner: tuple[str, int]) -> dict[str, Any]:
    """``owner`` is (user, subaccount number) of the order's account (``Venue.owner``)."""
    data = to_wire(order)
    data["side"] = order.outcome_side.value  # deprecated twins of outcome_side / book_side
    data["action"] = "buy"
    data["user_id"], data["subaccount_number"] = owner
    return data


def fill_json(fill: Fill, subaccount: int) -> dict[str, Any]:
    data = to_wire(fill)
    data.update(
        trade_id=fill.fill_id,
        market_ticker=fill.ticker,
        exchange_index=0,
        side=fill.outcome_side.value,
        action="buy",
        subaccount_number=subaccount,
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
