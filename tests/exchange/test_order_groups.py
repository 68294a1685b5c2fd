"""Order groups inside the venue: the paths HTTP does not reach (a fill model's
``cross_resting``, amends, maker fills in another account's sweep) and the ledger around them."""

from __future__ import annotations

import pytest

from kalshi_core.errors import ExchangeError
from kalshi_core.exchange import Venue
from kalshi_core.exchange.order_groups import GROUP_TRIGGERED
from kalshi_core.models import OrderStatus, TimeInForce
from kalshi_core.money import CONTRACT

from .support import DECI, ask, bid

IOC = TimeInForce.IMMEDIATE_OR_CANCEL


def test_a_fill_models_cross_triggers_the_group(venue: Venue) -> None:
    group = venue.order_groups.create("alice", 2 * CONTRACT).group_id
    crossed = venue.place_order(bid("alice", 4000, 3, order_group_id=group))
    sibling = venue.place_order(bid("alice", 3000, 1, order_group_id=group))
    venue.cross_resting(crossed.order_id, 2 * CONTRACT, "carol")
    assert venue.get_order(crossed.order_id).status is OrderStatus.CANCELED
    assert venue.get_order(sibling.order_id).status is OrderStatus.CANCELED
    assert venue.order_groups.get("alice", group).triggered
    assert venue.account("alice").reserved == 0
    assert venue.ledger().balanced


def test_makers_in_a_group_trigger_during_another_accounts_sweep(venue: Venue) -> None:
    group = venue.order_groups.create("alice", 2 * CONTRACT).group_id
    first = venue.place_order(ask("alice", 5000, 1, order_group_id=group))
    second = venue.place_order(ask("alice", 5100, 1, order_group_id=group))
    third = venue.place_order(ask("alice", 5200, 1, order_group_id=group))
    elsewhere = venue.place_order(ask("alice", 5000, 1, ticker=DECI, order_group_id=group))
    venue.place_order(bid("bob", 5200, 3, tif=IOC))
    # Cancellation waits for bob's order to finish, so it took all three asks.
    statuses = [venue.get_order(o.order_id).status for o in (first, second, third, elsewhere)]
    assert statuses == [OrderStatus.EXECUTED] * 3 + [OrderStatus.CANCELED]
    assert venue.ledger().balanced


def test_an_amend_that_crosses_counts_and_a_refusal_changes_nothing(venue: Venue) -> None:
    group = venue.order_groups.create("alice", CONTRACT).group_id
    venue.place_order(ask("bob", 4500, 1))
    resting = venue.place_order(bid("alice", 4000, 2, order_group_id=group))
    venue.amend("alice", resting.order_id, price=4500)
    assert venue.get_order(resting.order_id).status is OrderStatus.CANCELED
    before = (venue.ledger(), venue.balance("alice"), len(venue.orders("alice")))
    with pytest.raises(ExchangeError) as refused:
        venue.place_order(bid("alice", 1000, 1, order_group_id=group))
    assert (refused.value.code, refused.value.status) == (GROUP_TRIGGERED, 409)
    assert (venue.ledger(), venue.balance("alice"), len(venue.orders("alice"))) == before


def test_limits_outside_the_range_are_refused(venue: Venue) -> None:
    for limit in (0, -CONTRACT, 1_000_000 * CONTRACT + 1):
        with pytest.raises(ExchangeError, match="contracts_limit"):
            venue.order_groups.create("alice", limit)
    assert venue.order_groups.of_account("alice") == []
    assert venue.order_groups.create("alice", 1).contracts_limit == 1  # 0.01 contract
