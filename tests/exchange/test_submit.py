"""``Venue.submit`` / ``submit_cancel``: the same orders, fills and money as ``place_order`` /
``cancel``, with no report built."""

from __future__ import annotations

import pytest

from kalshi_core.clock import ManualClock
from kalshi_core.errors import ExchangeError
from kalshi_core.exchange import Venue, VenueOrder
from kalshi_core.exchange.rules import INSUFFICIENT_BALANCE, ORDER_NOT_RESTING
from kalshi_core.models import OrderStatus, TimeInForce

from .support import FUNDS, START, ask, bid, make_market, tapered_market

FLOW = [
    bid("alice", 4000, 5),
    bid("bob", 4100, 3),
    ask("carol", 4200, 2),
    ask("alice", 4000, 6, tif=TimeInForce.IMMEDIATE_OR_CANCEL),
    bid("carol", 4300, 4),
    ask("bob", 3900, 10),
]


def fresh() -> Venue:
    venue = Venue(ManualClock(START))
    venue.list_market(make_market())
    venue.list_market(tapered_market(), fractional=True)
    for name in ("alice", "bob", "carol"):
        venue.deposit(name, FUNDS)
    return venue


def play(venue: Venue, flow: list[VenueOrder], *, reports: bool) -> list[str]:
    if reports:
        return [venue.place_order(request).order_id for request in flow]
    return [venue.submit(request) for request in flow]


def test_submit_leaves_the_venue_as_place_order_does() -> None:
    quiet, loud = fresh(), fresh()
    ids = play(quiet, FLOW, reports=False)
    assert ids == play(loud, FLOW, reports=True)
    for account in ("alice", "bob", "carol"):
        assert quiet.orders(account) == loud.orders(account)
        assert quiet.fills(account) == loud.fills(account)
        assert quiet.positions(account) == loud.positions(account)
        assert quiet.balance(account) == loud.balance(account)
    assert quiet.ledger() == loud.ledger()
    assert quiet.ledger().balanced
    assert quiet.trades() == loud.trades()


def test_submit_cancel_cancels_and_refuses_what_is_not_resting(venue: Venue) -> None:
    order_id = venue.submit(bid("alice", 4000, 5))
    venue.submit_cancel("alice", order_id)
    assert venue.get_order(order_id).status is OrderStatus.CANCELED
    assert venue.account("alice").reserved == 0
    with pytest.raises(ExchangeError) as refused:
        venue.submit_cancel("alice", order_id)
    assert refused.value.code == ORDER_NOT_RESTING


def test_a_rejected_submit_changes_nothing(venue: Venue) -> None:
    before = venue.ledger()
    with pytest.raises(ExchangeError) as refused:
        venue.submit(bid("alice", 5000, 100_000))
    assert refused.value.code == INSUFFICIENT_BALANCE
    assert venue.ledger() == before
    assert venue.orders("alice") == []
