"""Recorded history lines (legacy integer cents) read into the domain model."""

from __future__ import annotations

import gzip
import itertools
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kalshi_core.errors import WireFormatError
from kalshi_core.history_format import (
    Quote,
    market_from_history,
    quote_from_history,
    read_history,
    trade_from_legacy,
)
from kalshi_core.models import BookSide, MarketResult, MarketStatus, Side
from kalshi_core.money import CENT, CONTRACT, DOLLAR
from kalshi_core.wire import from_wire, to_wire

TRADE_LINE: dict[str, Any] = {
    "trade_id": "dfdaff43-c467-5e2d-a3dd-d0885c13d9dc",
    "ticker": "KXINXU-26JAN02H1600-T6924.9999",
    "created_time": "2026-01-02T00:49:43.055Z",
    "yes_price": 10,
    "no_price": 90,
    "count": 48,
    "taker_side": "yes",
}
MARKET_LINE: dict[str, Any] = {
    "ticker": "KXINXU-26FEB02H1600-T6924.9999",
    "event_ticker": "KXINXU-26FEB02H1600",
    "series_ticker": "KXINXU",
    "category": "Financials",
    "title": "Will the S&P 500 close above 6,925 at 4pm ET on 2026-02-02?",
    "strike_type": "greater",
    "floor_strike": 6924.9999,
    "open_time": "2026-02-02T00:04:08.372Z",
    "close_time": "2026-02-02T21:00:00.000Z",
    "status": "finalized",
    "result": "yes",
}


def test_trade_from_legacy() -> None:
    trade = trade_from_legacy(TRADE_LINE)
    assert trade.trade_id == TRADE_LINE["trade_id"]
    assert (trade.yes_price, trade.no_price, trade.count) == (1000, 9000, 4800)
    assert trade.taker_outcome_side is Side.YES
    assert trade.taker_book_side is BookSide.BID
    assert trade.created_time == datetime(2026, 1, 2, 0, 49, 43, 55_000, tzinfo=UTC)


def test_no_taker_sold_yes() -> None:
    trade = trade_from_legacy({**TRADE_LINE, "taker_side": "no"})
    assert trade.taker_outcome_side is Side.NO
    assert trade.taker_book_side is BookSide.ASK


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"yes_price": "10"}, "yes_price: expected an integer number of cents"),
        ({"count": -1}, "count: negative contract count"),
        ({"count": 1.5}, "count: expected a JSON integer"),
        ({"taker_side": "buy"}, "taker_side: string 'buy' is not a valid Side"),
        ({"created_time": "2026-01-02"}, "created_time: '2026-01-02' is not an RFC3339 time"),
    ],
)
def test_bad_legacy_trade(change: dict[str, Any], problem: str) -> None:
    with pytest.raises(WireFormatError, match=f"trades.jsonl.gz:7: {problem}"):
        trade_from_legacy({**TRADE_LINE, **change}, where="trades.jsonl.gz:7")


def test_missing_legacy_field_is_named() -> None:
    record = {k: v for k, v in TRADE_LINE.items() if k != "no_price"}
    with pytest.raises(WireFormatError, match="history trade: no_price: required field missing"):
        trade_from_legacy(record)


def test_market_from_history() -> None:
    market = market_from_history(MARKET_LINE)
    assert market.status is MarketStatus.FINALIZED
    assert market.result is MarketResult.YES
    assert market.settlement_value == DOLLAR
    assert market.series_ticker == "KXINXU"
    assert market.floor_strike == 6924.9999
    assert market.close_time == datetime(2026, 2, 2, 21, tzinfo=UTC)
    assert market_from_history({**MARKET_LINE, "result": "no"}).settlement_value == 0


def test_unsettled_history_market_rejected() -> None:
    with pytest.raises(
        WireFormatError, match=r"result: recorded market .* settled yes, no, void or scalar"
    ):
        market_from_history({**MARKET_LINE, "result": ""})


def test_quote_from_history() -> None:
    line = {"ticker": "KXZEC15M-26AUG150630-30", "ts": "2026-08-15T10:21:52.727Z",
            "yes_bid": 16, "yes_ask": 25}  # fmt: skip
    quote = quote_from_history(line)
    assert (quote.yes_bid, quote.yes_ask) == (1600, 2500)
    assert quote.ts == datetime(2026, 8, 15, 10, 21, 52, 727_000, tzinfo=UTC)
    assert to_wire(quote) == line


@given(
    ticker=st.text(max_size=10),
    ts=st.datetimes(timezones=st.just(UTC)),
    bid=st.integers(0, 100),
    ask=st.integers(0, 100),
)
def test_quote_round_trip(ticker: str, ts: datetime, bid: int, ask: int) -> None:
    quote = Quote(ticker=ticker, ts=ts, yes_bid=bid * CENT, yes_ask=ask * CENT)
    assert from_wire(json.loads(json.dumps(to_wire(quote))), Quote, where="t") == quote


def test_read_history_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "trades.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.write(json.dumps(TRADE_LINE) + "\n\n" + json.dumps({**TRADE_LINE, "count": "3"}) + "\n")
    reader = read_history(path, trade_from_legacy)
    assert next(reader).count == 48 * CONTRACT
    with pytest.raises(WireFormatError, match=r"trades\.jsonl\.gz:3: count: expected a JSON int"):
        next(reader)
    broken = tmp_path / "markets.jsonl"
    broken.write_text("{not json\n", encoding="utf-8")
    with pytest.raises(WireFormatError, match=r"markets\.jsonl:1: not JSON"):
        list(read_history(broken, market_from_history))


# ---- the real recorded files ----


@pytest.mark.parametrize("data_set", ["kxinxu", "crypto15m"])
def test_recorded_markets_parse(shared_data_dir: Path, data_set: str) -> None:
    markets = list(read_history(shared_data_dir / data_set / "markets.jsonl", market_from_history))
    assert len(markets) == 173
    assert all(m.status is MarketStatus.FINALIZED for m in markets)
    assert {m.settlement_value for m in markets} == {0, DOLLAR}
    assert all(m.open_time < m.close_time for m in markets)


def test_recorded_trades_parse(shared_data_dir: Path) -> None:
    path = shared_data_dir / "kxinxu" / "trades.jsonl.gz"
    trades = list(itertools.islice(read_history(path, trade_from_legacy), 2000))
    assert len(trades) == 2000
    assert all(t.yes_price + t.no_price == DOLLAR for t in trades)
    assert all(t.count > 0 and t.count % CONTRACT == 0 for t in trades)
    assert [t.created_time for t in trades] == sorted(t.created_time for t in trades)
    assert {t.taker_book_side for t in trades} == {BookSide.BID, BookSide.ASK}


def test_recorded_quotes_parse(shared_data_dir: Path) -> None:
    path = shared_data_dir / "crypto15m" / "quotes.jsonl.gz"
    quotes = list(itertools.islice(read_history(path, quote_from_history), 2000))
    assert len(quotes) == 2000
    assert all(0 <= q.yes_bid < q.yes_ask <= DOLLAR for q in quotes)
    assert all(q.ts.utcoffset() is not None for q in quotes)
