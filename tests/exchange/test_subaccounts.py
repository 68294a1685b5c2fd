"""Subaccounts in the venue: money is conserved across random transfers, orders and cancels,
refused transfers change nothing, and self-trade prevention spans a user's subaccounts."""

from __future__ import annotations

import uuid

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings

from kalshi_core.clock import ManualClock
from kalshi_core.errors import ExchangeError
from kalshi_core.exchange import Venue, VenueOrder
from kalshi_core.models import BookSide, OrderStatus, SelfTradePrevention
from kalshi_core.money import CENT, CONTRACT

from .support import FUNDS, START, TICKER, make_market

USER = "alice"
SUBS = 3

Transfer = tuple[str, int, int, int, int]  # "transfer", from, to, cents, id seed
Place = tuple[str, int, bool, int, int]  # "place", subaccount, is bid, price (cents), count
Cancel = tuple[str, int, int, int, int]  # "cancel", index of an order, ...

ACTION = st.one_of(
    st.tuples(
        st.just("transfer"),
        st.integers(0, SUBS),
        st.integers(0, SUBS),
        st.integers(-5, 150_000),
        st.integers(0, 5),  # few seeds: many actions are retries of an earlier transfer
    ),
    st.tuples(
        st.just("place"),
        st.integers(0, SUBS),
        st.booleans(),
        st.integers(1, 99),
        st.integers(1, 400),
    ),
    st.tuples(st.just("cancel"), st.integers(0, 50), st.just(0), st.just(0), st.just(0)),
)


def _venue() -> Venue:
    venue = Venue(ManualClock(START))
    venue.list_market(make_market())
    venue.deposit(USER, FUNDS)
    for _ in range(SUBS):
        venue.create_subaccount(USER)
    return venue


def _accounts(venue: Venue) -> list[str]:
    return [venue.subaccount_id(USER, n) for n in venue.subaccounts(USER)]


def _act(venue: Venue, action: tuple[str, int, int | bool, int, int], ids: list[str]) -> None:
    kind, first, second, third, fourth = action
    if kind == "transfer":
        client_id = str(uuid.UUID(int=fourth))
        venue.transfer(USER, client_id, (first, int(second)), third)
    elif kind == "place":
        side = BookSide.BID if second else BookSide.ASK
        account = venue.subaccount_id(USER, first)
        order = VenueOrder(
            account=account, ticker=TICKER, side=side, price=third * CENT, count=fourth * CONTRACT
        )
        ids.append(venue.place_order(order).order_id)
    elif ids:
        order_id = ids[first % len(ids)]
        venue.cancel(venue.get_order(order_id).user_id, order_id)


@settings(max_examples=60, deadline=None, database=None)
@given(actions=st.lists(ACTION, max_size=40))
def test_random_transfers_and_orders_conserve_the_users_cash(
    actions: list[tuple[str, int, int | bool, int, int]],
) -> None:
    venue = _venue()
    ids: list[str] = []
    for action in actions:
        before = [(venue.account(a).cash, venue.account(a).reserved) for a in _accounts(venue)]
        try:
            _act(venue, action, ids)
        except ExchangeError:
            after = [(venue.account(a).cash, venue.account(a).reserved) for a in _accounts(venue)]
            assert after == before  # a refused action changes nothing
        accounts = [venue.account(a) for a in _accounts(venue)]
        # Only this user trades, so nothing fills: every cent is still one of its subaccounts'.
        assert sum(a.cash for a in accounts) == FUNDS
        assert all(0 <= a.reserved <= a.cash for a in accounts)
        assert venue.ledger().balanced
    moved = {t.client_transfer_id for t in venue.transfers(USER)}
    assert len(moved) == len(venue.transfers(USER))  # one transfer per client id, retries or not


@pytest.mark.parametrize("stp", list(SelfTradePrevention))
def test_self_trade_prevention_treats_subaccounts_as_one_user(stp: SelfTradePrevention) -> None:
    venue = _venue()
    venue.transfer(USER, str(uuid.uuid4()), (0, 2), 10_000)
    maker = venue.place_order(
        VenueOrder(
            account=venue.subaccount_id(USER, 2),
            ticker=TICKER,
            side=BookSide.BID,
            price=40 * CENT,
            count=CONTRACT,
        )
    )
    taker = venue.place_order(
        VenueOrder(
            account=USER,
            ticker=TICKER,
            side=BookSide.ASK,
            price=40 * CENT,
            count=CONTRACT,
            self_trade_prevention_type=stp,
        )
    )
    canceled = taker if stp is SelfTradePrevention.TAKER_AT_CROSS else maker
    assert venue.get_order(canceled.order_id).status is OrderStatus.CANCELED
    assert venue.fills(USER) == venue.fills(venue.subaccount_id(USER, 2)) == []


def test_a_member_named_like_a_subaccount_is_not_one() -> None:
    venue = _venue()
    venue.deposit("alice#4", FUNDS)  # another member whose id merely looks like one
    assert venue.owner("alice#4") == ("alice#4", 0)
    with pytest.raises(ExchangeError, match="subaccount 4 does not exist"):
        venue.subaccount_id(USER, 4)
    assert venue.create_subaccount(USER) == 4
    fourth = venue.subaccount_id(USER, 4)
    assert fourth != "alice#4"
    assert venue.owner(fourth) == (USER, 4)
    assert venue.account(fourth).cash == 0
    assert venue.account("alice#4").cash == FUNDS
