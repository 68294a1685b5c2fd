"""Cash, collateral, netted positions, realised P&L, settlement and the market lifecycle."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kalshi_core.clock import ManualClock
from kalshi_core.errors import ExchangeError
from kalshi_core.exchange import NoFees, Venue
from kalshi_core.models import MarketResult, MarketStatus, OrderStatus
from kalshi_core.money import CONTRACT, DOLLAR

from .support import DECI, FUNDS, START, TICKER, ask, bid, make_market, tapered_market


@pytest.fixture
def free(clock: ManualClock) -> Venue:
    """A venue without fees, so cash arithmetic is easy to read."""
    v = Venue(clock, fee_model=NoFees())
    v.list_market(make_market())
    v.list_market(tapered_market(), fractional=True)
    for name in ("alice", "bob", "carol"):
        v.deposit(name, FUNDS)
    return v


def test_buying_yes_and_no_locks_collateral(free: Venue) -> None:
    free.place_order(ask("alice", 4000, 10))  # alice buys 10 NO at 0.60
    free.place_order(bid("bob", 4000, 10))  # bob buys 10 YES at 0.40
    assert free.account("alice").cash == FUNDS - 6 * DOLLAR
    assert free.account("bob").cash == FUNDS - 4 * DOLLAR
    assert free.ledger().escrow == 10 * DOLLAR
    assert free.market(TICKER).open_interest == 10 * CONTRACT
    assert free.ledger().balanced


def test_buying_no_while_long_yes_closes_and_returns_collateral(free: Venue) -> None:
    free.place_order(ask("alice", 4000, 10))
    free.place_order(bid("bob", 4000, 10))  # bob long 10 YES, basis $4
    free.place_order(bid("carol", 7000, 4))
    free.place_order(ask("bob", 7000, 4))  # bob buys NO at 0.30: pair redeemed, gets 0.70 each
    bob = free.position("bob", TICKER)
    assert bob.position == 6 * CONTRACT
    assert free.account("bob").cash == FUNDS - 4 * DOLLAR + 4 * 7000
    assert bob.realized_pnl == 4 * (7000 - 4000)
    assert bob.market_exposure == 6 * 4000
    assert free.market(TICKER).open_interest == 10 * CONTRACT  # carol took bob's YES
    assert free.ledger().balanced


def test_both_sides_closing_releases_escrow(free: Venue) -> None:
    free.place_order(ask("alice", 4000, 5))
    free.place_order(bid("bob", 4000, 5))  # alice 5 NO, bob 5 YES
    free.place_order(bid("alice", 5500, 5))  # alice buys YES back (closes NO)
    free.place_order(ask("bob", 5500, 5))  # bob sells YES
    assert free.position("alice", TICKER).position == 0
    assert free.position("bob", TICKER).position == 0
    assert free.market(TICKER).open_interest == 0
    assert free.ledger().escrow == 0
    assert free.account("alice").cash == FUNDS - 5 * 6000 + 5 * 4500
    assert free.account("bob").cash == FUNDS - 5 * 4000 + 5 * 5500
    assert free.position("bob", TICKER).realized_pnl == 5 * 1500
    assert free.ledger().balanced


def test_settlement_pays_a_dollar_per_winning_contract(free: Venue) -> None:
    free.place_order(ask("alice", 3000, 3))
    free.place_order(bid("bob", 3000, 3))
    free.place_order(bid("carol", 2000, 1))  # resting, canceled at close
    records = free.determine(TICKER, MarketResult.YES)
    by_count = {r.yes_count: r for r in records}
    bob = by_count[3 * CONTRACT]
    assert bob.revenue == 3 * DOLLAR
    assert bob.yes_total_cost == 3 * 3000
    alice = next(r for r in records if r.no_count)
    assert alice.revenue == 0
    assert alice.no_total_cost == 3 * 7000
    assert free.account("bob").cash == FUNDS - 3 * 3000 + 3 * DOLLAR
    assert free.position("bob", TICKER).realized_pnl == 3 * 7000
    assert free.position("alice", TICKER).realized_pnl == -3 * 7000
    assert free.position("bob", TICKER).position == 0
    assert free.orders("carol")[0].status is OrderStatus.CANCELED
    assert free.account("carol").reserved == 0
    assert free.settlements("bob") == [bob]
    market = free.market(TICKER)
    assert market.status is MarketStatus.DETERMINED
    assert market.result is MarketResult.YES
    assert market.open_interest == 0
    ledger = free.ledger()
    assert ledger.balanced
    assert ledger.escrow == 0
    assert ledger.cash == 3 * FUNDS


def test_no_result_pays_no_holders(free: Venue) -> None:
    free.place_order(ask("alice", 3000, 2))
    free.place_order(bid("bob", 3000, 2))
    free.determine(TICKER, MarketResult.NO)
    assert free.account("alice").cash == FUNDS + 2 * 3000
    assert free.account("bob").cash == FUNDS - 2 * 3000


def test_scalar_settlement_and_fractional_rounding(free: Venue) -> None:
    free.place_order(ask("alice", 330, count=37, ticker=DECI))  # 0.37 NO at 0.967: pays 0.3578
    free.place_order(bid("bob", 330, count=37, ticker=DECI))  # 0.37 YES at 0.033: pays 0.0123
    assert free.ledger().balanced
    assert free.ledger().rounding == 1
    free.determine(DECI, MarketResult.SCALAR, settlement_value=3333)
    ledger = free.ledger()
    assert ledger.balanced
    assert ledger.escrow == 0


def test_lifecycle_transitions(free: Venue) -> None:
    free.list_market(make_market("KXLC-1", status=MarketStatus.INITIALIZED))
    with pytest.raises(ExchangeError) as bad:
        free.determine("KXLC-1", MarketResult.YES)
    assert bad.value.code == "invalid_market_status_transition"
    free.open_market("KXLC-1")
    free.close_market("KXLC-1")
    with pytest.raises(ExchangeError):
        free.open_market("KXLC-1")
    free.determine("KXLC-1", MarketResult.NO)
    free.finalize("KXLC-1")
    assert free.market("KXLC-1").status is MarketStatus.FINALIZED


def test_market_closes_at_close_time(free: Venue, clock: ManualClock) -> None:
    free.list_market(make_market("KXSHORT-1", close_time=START + timedelta(hours=1)))
    resting = free.place_order(bid("alice", 5000, ticker="KXSHORT-1"))
    clock.advance(timedelta(hours=1))
    assert free.market("KXSHORT-1").status is MarketStatus.CLOSED
    assert free.get_order(resting.order_id).status is OrderStatus.CANCELED
    with pytest.raises(ExchangeError) as closed:
        free.place_order(bid("alice", 5000, ticker="KXSHORT-1"))
    assert closed.value.code == "market_closed"


def test_selling_held_contracts_needs_no_cash(free: Venue) -> None:
    free.deposit("dave", 4000)
    free.place_order(ask("alice", 4000, 1))
    free.place_order(bid("dave", 4000, 1))  # all of dave's cash now in YES
    assert free.account("dave").available == 0
    exit_order = free.place_order(ask("dave", 6000, 1))  # closing sale: nothing to pay
    assert exit_order.status is OrderStatus.RESTING
    with pytest.raises(ExchangeError):
        free.place_order(ask("dave", 6000, 1))  # a second one would open NO: unaffordable
    free.place_order(bid("carol", 6000, 1))
    assert free.account("dave").cash == 6000
    assert free.position("dave", TICKER).realized_pnl == 2000


def test_balance_and_positions_reports(venue: Venue) -> None:
    venue.place_order(ask("alice", 5000, 1))
    venue.place_order(bid("bob", 5000, 1))
    venue.place_order(bid("bob", 4000, 1))
    balance = venue.balance("bob")
    assert balance.portfolio_value == 5000
    assert balance.balance == FUNDS - 5000 - 200 - (4000 + 200)  # fee paid; resting reserve
    (position,) = venue.positions("bob")
    assert position.position == CONTRACT
    assert position.fees_paid == 200
    assert venue.positions("nobody") == []


def test_withdraw(free: Venue) -> None:
    free.withdraw("alice", DOLLAR)
    assert free.ledger().balanced
    assert free.ledger().withdrawals == DOLLAR
    with pytest.raises(ExchangeError):
        free.withdraw("alice", FUNDS)
