"""bench_matching's accounting floor: the Book's trades, and its money adds up.

The floor only means something if it does the work it claims: the same matching as the Book
row, every hold released when its order stops resting, and every unit of cash accounted for.
"""

from __future__ import annotations

import pytest
from accounting_floor import Ledger, run_floor
from bench_matching import ACCOUNTS, make_flow, run_book, run_naive, tickers

from kalshi_core.money import CONTRACT, DOLLAR

DEPOSIT = 10**6 * DOLLAR


@pytest.mark.parametrize("seed", [3, 4])
def test_the_floor_matches_as_the_book_and_the_naive_book_do(seed: int) -> None:
    flow = make_flow(5_000, 4, seed)
    floor = run_floor(flow, tickers(4), Ledger(ACCOUNTS, DEPOSIT))
    assert floor == run_book(flow, 4) == run_naive(flow, 4)


def test_every_hold_is_what_the_resting_orders_could_still_cost() -> None:
    ledger = Ledger(ACCOUNTS, DEPOSIT)
    run_floor(make_flow(5_000, 4, 8), tickers(4), ledger)
    still_held = dict.fromkeys(ACCOUNTS, 0)
    for account, unit, remaining, _ in ledger.orders.values():
        still_held[account] += unit * remaining // CONTRACT
    assert ledger.held == still_held
    assert any(still_held.values())  # some orders rest at the end: the check saw holds


def test_cash_paid_is_the_escrow_of_every_fill_plus_the_fees() -> None:
    ledger = Ledger(ACCOUNTS, DEPOSIT)
    trades, _ = run_floor(make_flow(5_000, 4, 9), tickers(4), ledger)
    paid = sum(DEPOSIT - cash for cash in ledger.cash.values())
    taker_fills = [fill for fill in ledger.fills if fill[4]]
    assert len(taker_fills) == trades > 0
    escrow = sum(count for _, _, count, _, _ in taker_fills) * DOLLAR // CONTRACT
    assert paid == escrow + sum(fee for _, _, _, fee, _ in taker_fills)


def test_an_order_the_account_cannot_pay_for_is_refused_and_not_recorded() -> None:
    ledger = Ledger(["poor"], 50 * DOLLAR // 100)  # $0.50
    assert not ledger.admit(1, "poor", True, 6_000, CONTRACT)  # one YES at $0.60
    assert ledger.admit(2, "poor", False, 6_000, CONTRACT)  # one NO at $0.40
    assert ledger.held == {"poor": 4_000}
    assert list(ledger.orders) == [2]
