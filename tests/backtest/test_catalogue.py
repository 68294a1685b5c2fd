"""What the results read back from the recorded history: markets, results and marks."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kalshi_core.backtest.catalogue import market_infos, read_history, recorded_marks

TICKER = "KXT-26JAN05-T1"


def write_set(folder: Path) -> None:
    folder.mkdir(parents=True)
    market = {
        "ticker": TICKER,
        "event_ticker": "KXT-26JAN05",
        "series_ticker": "KXT",
        "category": "Financials",
        "title": "t",
        "open_time": "2026-01-05T14:00:00Z",
        "close_time": "2026-01-05T21:00:00Z",
        "status": "finalized",
        "result": "yes",
    }
    (folder / "markets.jsonl").write_text(json.dumps(market) + "\n")
    trades = [
        {
            "trade_id": f"t{n}",
            "ticker": TICKER,
            "created_time": at,
            "yes_price": p,
            "no_price": 100 - p,
            "count": 5,
            "taker_side": "yes",
        }
        for n, (at, p) in enumerate([("2026-01-05T15:00:00Z", 40), ("2026-01-05T16:00:00Z", 45)])
    ]
    quotes = [
        {"ticker": TICKER, "ts": "2026-01-05T15:30:00Z", "yes_bid": 41, "yes_ask": 43},
        {"ticker": TICKER, "ts": "2026-01-05T16:30:00Z", "yes_bid": 0, "yes_ask": 50},
    ]
    for name, rows in (("trades.jsonl.gz", trades), ("quotes.jsonl.gz", quotes)):
        with gzip.open(folder / name, "wt") as out:
            out.write("".join(json.dumps(r) + "\n" for r in rows))


@pytest.mark.parametrize(
    ("end", "price", "source"),
    [
        ("2026-01-05T16:45", 4500, "last recorded trade"),  # a one-sided quote gives no mid
        ("2026-01-05T15:45", 4200, "last recorded quote's mid"),
    ],
)
def test_an_open_position_is_marked_at_the_last_recorded_price_before_the_end(
    tmp_path: Path, end: str, price: int, source: str
) -> None:
    write_set(tmp_path / "mini")
    history = read_history(tmp_path, ["mini"])
    when = datetime.fromisoformat(end).replace(tzinfo=UTC)
    mark = recorded_marks(history, [TICKER], when)[TICKER]
    assert (mark.price, mark.source) == (price, source)
    assert mark.time is not None
    assert mark.time <= when


def test_no_price_before_the_end_no_mark_and_markets_keep_their_result(tmp_path: Path) -> None:
    write_set(tmp_path / "mini")
    history = read_history(tmp_path, ["mini"])
    assert recorded_marks(history, [TICKER], datetime(2026, 1, 5, 14, 30, tzinfo=UTC)) == {}
    info = market_infos(history)[TICKER]
    assert (info.result, info.category, info.event_ticker) == ("yes", "Financials", "KXT-26JAN05")
