"""Fills and prints are kept as rows and built into records when read: the same records, in
the same order, as building them at once."""

from __future__ import annotations

from kalshi_core.exchange import Venue
from kalshi_core.exchange.records import FillLog, Tape, fill_of, trade_of
from kalshi_core.models import BookSide, Side, Trade

from .support import START, TICKER, ask, bid

FILL_ROW = ("f1", "o1", TICKER, False, 300, 4200, True, 7, START, "c1")


def test_a_fill_row_builds_the_fill_the_account_sees() -> None:
    fill = fill_of(FILL_ROW)
    assert (fill.fill_id, fill.order_id, fill.client_order_id) == ("f1", "o1", "c1")
    assert (fill.book_side, fill.outcome_side) == (BookSide.ASK, Side.NO)
    assert (fill.yes_price, fill.no_price, fill.count, fill.fee_cost) == (4200, 5800, 300, 7)
    assert fill.is_taker
    assert fill.created_time == START


def test_a_log_builds_each_fill_once_and_keeps_the_order() -> None:
    log = FillLog()
    log.append(FILL_ROW)
    first = log.records()
    log.append(("f2", *FILL_ROW[1:]))
    assert len(log) == 2
    built = log.records()
    assert [f.fill_id for f in built] == ["f1", "f2"]
    assert built[0] is first[0]


def test_an_outside_print_lands_after_the_rows_before_it() -> None:
    tape = Tape()
    tape.append_row(("t1", TICKER, 100, 4500, True, START))
    outside = Trade(
        trade_id="x",
        ticker=TICKER,
        count=200,
        yes_price=4400,
        no_price=5600,
        created_time=START,
        is_block_trade=True,
    )
    tape.append(outside)
    tape.append_row(("t2", TICKER, 100, 4600, False, START))
    assert [t.trade_id for t in tape.records()] == ["t1", "x", "t2"]
    assert tape.records()[1] is outside
    assert tape.records()[2] == trade_of(("t2", TICKER, 100, 4600, False, START))
    assert tape.records()[2].taker_book_side is BookSide.ASK


def test_the_venue_reports_its_fills_and_tape_from_the_rows(venue: Venue) -> None:
    venue.submit(bid("alice", 4500, 2))
    venue.submit(ask("bob", 4500, 1))
    (trade,) = venue.trades(TICKER)
    (fill,) = venue.fills("bob")
    assert fill.fill_id == trade.trade_id
    assert (fill.is_taker, trade.taker_book_side) == (True, BookSide.ASK)
    assert venue.fills("alice")[0].is_taker is False
    assert venue.fills("nobody") == []
