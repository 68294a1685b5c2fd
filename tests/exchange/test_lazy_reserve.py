"""The account's reserve is settled lazily: read at any moment it equals every holding's
requirement, and the ceiling that spares the recomputation never falls below it."""

from __future__ import annotations

import random

from kalshi_core.clock import ManualClock
from kalshi_core.errors import ExchangeError
from kalshi_core.exchange import Venue
from kalshi_core.exchange.accounts import Account
from kalshi_core.money import DOLLAR

from .support import START, ask, bid, make_market

NAMES = ("alice", "bob", "carol")


def assert_settled(account: Account) -> None:
    held = account.holdings.values()
    assert account.reserved == sum(h.requirement() for h in held)
    assert account.ceiling == sum(h.bid_need + h.ask_need + h.fee_reserve for h in held)
    assert account.ceiling >= account.reserved


def test_reserved_is_every_holdings_requirement_after_each_step() -> None:
    venue = Venue(ManualClock(START))
    venue.list_market(make_market())
    for name in NAMES:
        venue.deposit(name, 40 * DOLLAR)  # little enough that some orders are refused
    rng = random.Random(3)
    live: list[tuple[str, str]] = []
    for _ in range(400):
        name = rng.choice(NAMES)
        try:
            if live and rng.random() < 0.25:
                venue.submit_cancel(*live.pop(rng.randrange(len(live))))
            else:
                new = bid if rng.random() < 0.5 else ask
                live.append((name, venue.submit(new(name, rng.randint(30, 70) * 100, 5))))
        except ExchangeError:
            pass  # refused for buying power, or no longer resting
        for checked in NAMES:
            assert_settled(venue.account(checked))


def test_an_order_over_the_ceiling_is_accepted_when_it_closes_a_position() -> None:
    venue = Venue(ManualClock(START))
    venue.list_market(make_market())
    venue.deposit("alice", 10 * DOLLAR)
    venue.deposit("bob", 100 * DOLLAR)
    venue.submit(bid("bob", 6000, 10))
    venue.submit(ask("alice", 6000, 10))  # alice now holds 10 NO, paid 10 x $0.40
    alice = venue.account("alice")
    venue.submit(bid("alice", 9000, 10))  # closes the NO: needs no cash, though $9 is open
    assert alice.ceiling > alice.cash
    assert alice.reserved <= alice.cash
    assert_settled(alice)
