"""Settlement as Kalshi does it: yes, no, scalar, void; disputes; P&L computed by hand."""

from __future__ import annotations

import pytest

from kalshi_core.errors import ExchangeError
from kalshi_core.exchange import Venue
from kalshi_core.models import MarketResult, MarketStatus
from kalshi_core.money import CENT, DOLLAR

from .support import FUNDS, TICKER, ask, bid


def trade_ten_at_40(venue: Venue) -> None:
    """alice buys 10 YES at 40 c from bob (bob buys 10 NO at 60 c); alice pays the taker fee."""
    venue.place_order(ask("bob", 40 * CENT, 10))
    venue.place_order(bid("alice", 40 * CENT, 10))


FEE_10_AT_40 = 17 * CENT  # 0.07 x 10 x 0.4 x 0.6 = 0.168 -> 0.17 (taker; no maker fee)


@pytest.mark.parametrize(
    ("result", "value", "alice_gets", "bob_gets"),
    [
        (MarketResult.YES, None, 10 * DOLLAR, 0),
        (MarketResult.NO, None, 0, 10 * DOLLAR),
        (MarketResult.SCALAR, 37 * CENT, 370 * CENT, 630 * CENT),  # fractional payout
        (MarketResult.VOID, None, 400 * CENT, 600 * CENT),  # each side its cost back
    ],
)
def test_settlement_pays_each_holder_by_hand(
    venue: Venue, result: MarketResult, value: int | None, alice_gets: int, bob_gets: int
) -> None:
    trade_ten_at_40(venue)
    settled = venue.determine(TICKER, result, settlement_value=value)
    records = {("alice" if r.yes_count else "bob"): r for r in settled}
    assert records["alice"].revenue == alice_gets
    assert records["bob"].revenue == bob_gets
    # P&L = revenue - cost - fees, to the unit
    assert venue.account("alice").cash == FUNDS - 400 * CENT - FEE_10_AT_40 + alice_gets
    assert venue.account("bob").cash == FUNDS - 600 * CENT + bob_gets
    assert venue.position("alice", TICKER).realized_pnl == alice_gets - 400 * CENT
    assert venue.market(TICKER).result is result
    assert venue.ledger().balanced


def test_a_scalar_result_needs_a_value_between_0_and_1_dollar(venue: Venue) -> None:
    for value in (None, -1, DOLLAR + 1):
        with pytest.raises(ExchangeError, match="cannot settle"):
            venue.determine(TICKER, MarketResult.SCALAR, settlement_value=value)
    assert venue.market(TICKER).status is MarketStatus.ACTIVE


def test_a_disputed_market_pays_nothing_until_it_is_determined(venue: Venue) -> None:
    trade_ten_at_40(venue)
    venue.close_market(TICKER)
    venue.dispute(TICKER)
    assert venue.market(TICKER).status is MarketStatus.DISPUTED
    assert venue.settlements("alice") == []
    with pytest.raises(ExchangeError, match="cannot go from"):
        venue.finalize(TICKER)
    venue.determine(TICKER, MarketResult.NO)
    assert venue.settlements("bob")[0].revenue == 10 * DOLLAR
    venue.finalize(TICKER)
    assert venue.market(TICKER).status is MarketStatus.FINALIZED


def test_a_determined_market_cannot_be_disputed_or_settled_twice(venue: Venue) -> None:
    trade_ten_at_40(venue)
    venue.determine(TICKER, MarketResult.YES)
    with pytest.raises(ExchangeError, match="cannot go from"):
        venue.dispute(TICKER)
    with pytest.raises(ExchangeError, match="cannot go from"):
        venue.determine(TICKER, MarketResult.NO)
    assert venue.account("alice").cash == FUNDS - 400 * CENT - FEE_10_AT_40 + 10 * DOLLAR
