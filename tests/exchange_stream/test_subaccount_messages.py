"""The user channels and subaccounts: a member's connection hears every one of its subaccounts;
a message about subaccount N >= 1 names it, one about subaccount 0 is as it always was."""

from __future__ import annotations

import uuid

from kalshi_core.exchange import Venue, VenueOrder
from kalshi_core.exchange.changes import Change
from kalshi_core.exchange.websocket import (
    BookSubscription,
    FillSubscription,
    PositionSubscription,
    Subscription,
    UserOrderSubscription,
)
from kalshi_core.models import BookSide, TimeInForce
from kalshi_core.money import CONTRACT, DOLLAR

from .conftest import MM, START, TICKER

DEV = "dev"


def _trade(venue: Venue, account: str) -> list[Change]:
    """``account`` rests a bid that ``mm`` fills; the changes the venue told, in order."""
    seen: list[Change] = []
    venue.listeners.append(seen.append)
    bid = VenueOrder(account=account, ticker=TICKER, side=BookSide.BID, price=4000, count=CONTRACT)
    venue.place_order(bid)
    ioc = TimeInForce.IMMEDIATE_OR_CANCEL
    ask = VenueOrder(
        account=MM, ticker=TICKER, side=BookSide.ASK, price=4000, count=CONTRACT, time_in_force=ioc
    )
    venue.place_order(ask)
    venue.listeners.remove(seen.append)
    return seen


def _heard(venue: Venue, changes: list[Change]) -> dict[str, list[dict[str, object]]]:
    subscriptions: list[Subscription] = [
        FillSubscription(1, "fill", DEV, every_market=True),
        UserOrderSubscription(2, "user_orders", DEV, every_market=True),
        PositionSubscription(3, "market_positions", DEV, every_market=True),
        BookSubscription(4, "orderbook_delta", DEV, [TICKER], ready={TICKER}),
    ]
    heard: dict[str, list[dict[str, object]]] = {}
    for change in changes:
        for sub in subscriptions:
            for kind, msg in sub.changed(change, venue, START):
                heard.setdefault(kind, []).append(msg)
    return heard


def test_subaccount_messages_name_the_subaccount(venue: Venue) -> None:
    venue.deposit(DEV, 100 * DOLLAR)
    assert venue.create_subaccount(DEV) == 1
    assert venue.create_subaccount(DEV) == 2
    venue.transfer(DEV, str(uuid.uuid4()), (0, 2), 5_000)
    heard = _heard(venue, _trade(venue, venue.subaccount_id(DEV, 2)))
    assert [m["subaccount"] for m in heard["fill"]] == [2]
    assert [m["subaccount"] for m in heard["market_position"]] == [2]
    assert {m["user_id"] for m in heard["market_position"]} == {DEV}
    orders = heard["user_order"]
    assert {(m["subaccount_number"], m["user_id"]) for m in orders} == {(2, DEV)}
    mine = [m for m in heard["orderbook_delta"] if "client_order_id" in m]
    assert mine
    assert {m["subaccount"] for m in mine} == {2}
    others = [m for m in heard["orderbook_delta"] if "client_order_id" not in m]
    assert all("subaccount" not in m for m in others)


def test_primary_messages_are_unchanged(venue: Venue) -> None:
    venue.deposit(DEV, 100 * DOLLAR)
    venue.create_subaccount(DEV)
    heard = _heard(venue, _trade(venue, DEV))
    for kind in ("fill", "market_position", "orderbook_delta"):
        assert all("subaccount" not in m for m in heard[kind]), kind
    assert all("subaccount_number" not in m for m in heard["user_order"])
    assert {m["user_id"] for m in heard["user_order"]} == {DEV}


def test_another_members_subaccount_is_not_heard(venue: Venue) -> None:
    venue.create_subaccount(MM)
    venue.transfer(MM, str(uuid.uuid4()), (0, 1), 5_000)
    seen: list[Change] = []
    venue.listeners.append(seen.append)
    venue.place_order(
        VenueOrder(
            account=venue.subaccount_id(MM, 1),
            ticker=TICKER,
            side=BookSide.BID,
            price=3000,
            count=CONTRACT,
        )
    )
    heard = _heard(venue, seen)
    assert "user_order" not in heard
    assert all("subaccount" not in m for m in heard["orderbook_delta"])
