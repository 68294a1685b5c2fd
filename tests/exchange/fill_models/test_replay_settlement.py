"""Recorded history end to end: results yes/no/scalar/void, a dispute, an early close, fee
terms and waivers, quotes with sizes, all through a replay with a fill model."""

from __future__ import annotations

import functools
import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kalshi_core.clock import ManualClock
from kalshi_core.errors import WireFormatError
from kalshi_core.exchange import Venue, VenueOrder
from kalshi_core.exchange.fill_models.recorded import TradeThrough, builder
from kalshi_core.exchange.replay import Replay, load_history
from kalshi_core.models import BookSide, MarketResult, MarketStatus, TimeInForce
from kalshi_core.money import CENT, CONTRACT, DOLLAR

OPEN = datetime(2026, 3, 1, 10, tzinfo=UTC)


def market(ticker: str, **fields: object) -> dict[str, object]:
    record: dict[str, object] = {
        "ticker": ticker,
        "event_ticker": ticker.rsplit("-", 1)[0],
        "series_ticker": ticker.split("-", 1)[0],
        "title": ticker,
        "open_time": "2026-03-01T10:00:00Z",
        "close_time": "2026-03-01T12:00:00Z",
        "status": "finalized",
        "result": "yes",
    }
    record.update(fields)
    return record


def quote(ticker: str, minute: int, bid: int, ask: int, size: int) -> dict[str, object]:
    ts = (OPEN + timedelta(minutes=minute)).isoformat().replace("+00:00", "Z")
    return {
        "ticker": ticker,
        "ts": ts,
        "yes_bid": bid,
        "yes_ask": ask,
        "yes_bid_size": size,
        "yes_ask_size": size,
    }


def write(folder: Path, markets: list[dict[str, object]], quotes: list[dict[str, object]]) -> Path:
    folder.mkdir(parents=True)
    (folder / "markets.jsonl").write_text("".join(json.dumps(m) + "\n" for m in markets))
    with gzip.open(folder / "quotes.jsonl.gz", "wt") as out:
        out.writelines(json.dumps(q) + "\n" for q in quotes)
    return folder.parent


TICKERS = ("KXA-1-YES", "KXB-1-SCALAR", "KXC-1-VOID", "KXD-1-DISPUTED", "KXE-1-EARLY")


@pytest.fixture
def history_dir(tmp_path: Path) -> Path:
    markets = [
        market("KXA-1-YES", fee_multiplier=2, fee_waiver_until="2026-03-01T10:30:00Z"),
        market("KXB-1-SCALAR", result="scalar", settlement_value=37),
        market("KXC-1-VOID", result="void"),
        market("KXD-1-DISPUTED", result="", status="disputed"),
        market("KXE-1-EARLY", closed_time="2026-03-01T10:45:00Z", result="no"),
    ]
    quotes = [quote(t, minute, 45, 50, 1000) for t in TICKERS for minute in (10, 40, 50)]
    return write(tmp_path / "hist" / "mixed", markets, quotes)


def replay_with_buys(history_dir: Path, minute: int = 20) -> Replay:
    history = load_history(history_dir, ["mixed"])
    venue = Venue(ManualClock(history.start_time))
    replay = Replay(venue, history, fill_model=functools.partial(builder(TradeThrough), {}))
    venue.deposit("user", 1000 * DOLLAR)
    replay.advance(OPEN + timedelta(minutes=minute))
    for ticker in TICKERS:  # take 10 YES at the recorded 50 c ask
        request = VenueOrder(
            account="user",
            ticker=ticker,
            side=BookSide.BID,
            price=50 * CENT,
            count=10 * CONTRACT,
            time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL,
        )
        assert venue.place_order(request).fill_count == 10 * CONTRACT
    return replay


def test_each_market_settles_as_recorded(history_dir: Path) -> None:
    replay = replay_with_buys(history_dir)
    replay.advance(OPEN + timedelta(days=1))
    venue = replay.venue
    paid = {s.ticker: s.revenue for s in venue.settlements("user")}
    assert paid == {
        "KXA-1-YES": 10 * DOLLAR,
        "KXB-1-SCALAR": 370 * CENT,  # 10 x $0.37
        "KXC-1-VOID": 500 * CENT,  # cost back: 10 x $0.50
        "KXE-1-EARLY": 0,
    }
    assert venue.market("KXD-1-DISPUTED").status is MarketStatus.DISPUTED  # never guessed
    assert venue.position("user", "KXD-1-DISPUTED").position == 10 * CONTRACT
    assert venue.market("KXA-1-YES").status is MarketStatus.FINALIZED
    assert venue.market("KXC-1-VOID").result is MarketResult.VOID
    assert venue.ledger().balanced


def test_an_early_close_closes_then_and_cancels_resting_orders(history_dir: Path) -> None:
    replay = replay_with_buys(history_dir)
    venue = replay.venue
    resting = venue.place_order(
        VenueOrder(
            account="user", ticker="KXE-1-EARLY", side=BookSide.BID, price=10 * CENT, count=CONTRACT
        )
    )
    replay.advance(OPEN + timedelta(minutes=45))
    assert venue.market("KXE-1-EARLY").status is MarketStatus.CLOSED
    assert venue.market("KXE-1-EARLY").close_time == OPEN + timedelta(hours=2)  # as scheduled
    assert venue.get_order(resting.order_id).status.value == "canceled"
    assert venue.market("KXA-1-YES").status is MarketStatus.ACTIVE


def test_fees_follow_the_series_multiplier_and_the_waiver_in_force_at_fill_time(
    history_dir: Path,
) -> None:
    during = {f.ticker: f.fee_cost for f in replay_with_buys(history_dir, 20).venue.fills("user")}
    after = {f.ticker: f.fee_cost for f in replay_with_buys(history_dir, 41).venue.fills("user")}
    assert during["KXA-1-YES"] == 0  # waived until 10:30
    assert after["KXA-1-YES"] == 35 * CENT  # 2 x 0.07 x 10 x 0.25 = 0.35
    assert after["KXB-1-SCALAR"] == 18 * CENT  # Kalshi's vector: 10 @ $0.50 -> $0.18


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"result": "scalar"}, "settlement_value 0-100"),
        ({"result": "scalar", "settlement_value": 101}, "settlement_value 0-100"),
        ({"result": "yes", "status": "disputed"}, "disputed market .* has no result"),
        ({"status": "active"}, "must be one of finalized, determined, disputed"),
        ({"closed_time": "2026-03-01T09:00:00Z"}, "closed_time: .* not after its open_time"),
    ],
)
def test_bad_market_records_name_the_file_and_line(
    tmp_path: Path, fields: dict[str, Any], message: str
) -> None:
    root = write(tmp_path / "hist" / "bad", [market("KXA-1-YES", **fields)], [])
    with pytest.raises(WireFormatError, match=f"markets.jsonl:1: .*{message}"):
        load_history(root, ["bad"])


def test_a_negative_quote_size_is_rejected(tmp_path: Path) -> None:
    bad = quote("KXA-1-YES", 10, 45, 50, -3)
    root = write(tmp_path / "hist" / "bad", [market("KXA-1-YES")], [bad])
    with pytest.raises(WireFormatError, match=r"quotes\.jsonl\.gz:1: yes_bid_size: negative size"):
        load_history(root, ["bad"])
